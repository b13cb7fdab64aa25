//! Converting an ontleed transformer model (the candle format, see
//! [`ontleed::ner::transformer::files`]: a model directory, or the embedded accurate model's
//! [`ModelFiles`] in memory) into the layout rust-bert's XLM-RoBERTa token classifier loads,
//! without Python.
//!
//! The exported directory holds
//! - `config.json`: an XLM-RoBERTa config (`model_type` `xlm-roberta`,
//!   `XLMRobertaForTokenClassification`, `id2label`/`label2id`, `pad_token_id` 1) that keeps the
//!   `ontleed` section (`max_len`, `context_sentences`);
//! - `rust_model.ot`: the weights as a libtorch archive (`Tensor::save_multi`), f32, named as
//!   rust-bert's `RobertaForTokenClassification` names them (`roberta.*`, `classifier.*`);
//! - `sentencepiece.bpe.model`: the trimmed SentencePiece vocabulary ([`crate::spm`]);
//! - `tokenizer.json` and `labels.json`, written unchanged (ontleed's own backend tokenizes with
//!   them, exactly as the candle backend does).
//!
//! Adjustments to the weights:
//! - RoBERTa numbers positions from `padding_idx + 1` = 2 (rust-bert computes them from the
//!   input ids: `cumsum(ids != 1) * (ids != 1) + 1`), our BERT encoder from 0: two zero rows are
//!   prepended to the position table (`max_position_embeddings` + 2, as XLM-R's 514).
//! - Token types: rust-bert passes type 0 everywhere, which is the row our encoder uses; the
//!   table is kept as it is.
//! - The word-embedding table gets one more (zero) row when the vocabulary has no `<mask>`,
//!   because rust_tokenizers appends `<mask>` after the last piece.
//! - LayerNorm eps: rust-bert's BERT layers use 1e-12, as our model does (checked).
//! - The pooler, if any, is dropped (the token classifier has none).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use candle_core::Device as CandleDevice;
use serde_json::{Value, json};

use ontleed::ner::transformer::files::{
    CONFIG_FILE, LABELS_FILE, ModelFiles, TOKENIZER_FILE, is_model_dir,
};

use crate::spm::{self, SpmModel};

/// The weights file of an exported directory.
pub const RB_WEIGHTS_FILE: &str = "rust_model.ot";

/// The SentencePiece vocabulary of an exported directory (XLM-R's file name).
pub const SPM_FILE: &str = "sentencepiece.bpe.model";

/// Rows prepended to the position table (RoBERTa's `padding_idx + 1`).
pub const POSITION_OFFSET: usize = 2;

/// A converted model, in memory.
pub struct Converted {
    /// rust-bert's `config.json`.
    pub config: Value,
    /// Weights by rust-bert name.
    pub tensors: Vec<(String, tch::Tensor)>,
    /// The SentencePiece vocabulary.
    pub spm: SpmModel,
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// Number of weight tensors.
    pub tensors: usize,
    /// Number of parameters.
    pub parameters: usize,
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
}

/// Whether `dir` is an exported rust-bert directory.
pub fn is_export_dir(dir: &Path) -> bool {
    [
        CONFIG_FILE,
        RB_WEIGHTS_FILE,
        SPM_FILE,
        TOKENIZER_FILE,
        LABELS_FILE,
    ]
    .iter()
    .all(|f| dir.join(f).is_file())
}

/// Converts the model `files` (read from a directory or embedded) in memory.
pub fn convert(files: &ModelFiles) -> Result<Converted> {
    let config_name = files.name_of(CONFIG_FILE);
    let config: Value = serde_json::from_str(&files.config)
        .with_context(|| format!("{config_name} is not JSON"))?;
    let tokenizer: Value = serde_json::from_slice(&files.tokenizer)
        .with_context(|| format!("{} is not JSON", files.name_of(TOKENIZER_FILE)))?;
    let labels = files.labels()?;
    ensure!(
        config.get("ontleed").is_some(),
        "{config_name} has no \"ontleed\" section (is it a token-classification model?)"
    );
    let act = config["hidden_act"].as_str().unwrap_or("gelu");
    ensure!(
        act == "gelu",
        "hidden_act {act:?}: only exact GELU maps onto rust-bert's BERT layers"
    );
    let eps = config["layer_norm_eps"].as_f64().unwrap_or(1e-12);
    ensure!(
        (eps - 1e-12).abs() < 1e-15,
        "layer_norm_eps {eps}: rust-bert's BERT layers use 1e-12"
    );
    let spm = spm::from_tokenizer_json(&tokenizer)?;

    let weights = files.load_f32(&CandleDevice::Cpu)?;
    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    let (mut vocab_rows, mut positions) = (0usize, 0usize);
    for name in names {
        if name.starts_with("bert.pooler.") {
            continue;
        }
        let t = &weights[name];
        let mut dims: Vec<usize> = t.dims().to_vec();
        let mut data: Vec<f32> = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .with_context(|| format!("cannot read weight {name}"))?;
        let rb_name = if let Some(rest) = name.strip_prefix("bert.") {
            format!("roberta.{rest}")
        } else if name.starts_with("classifier.") {
            name.clone()
        } else {
            bail!("unexpected weight {name} (expected bert.* and classifier.*)");
        };
        if rb_name == "roberta.embeddings.position_embeddings.weight" {
            ensure!(dims.len() == 2, "{name} is not a matrix");
            let mut padded = vec![0f32; POSITION_OFFSET * dims[1]];
            padded.extend_from_slice(&data);
            data = padded;
            dims[0] += POSITION_OFFSET;
            positions = dims[0];
        }
        if rb_name == "roberta.embeddings.word_embeddings.weight" {
            ensure!(dims.len() == 2, "{name} is not a matrix");
            if dims[0] < spm.vocab_size {
                data.resize(spm.vocab_size * dims[1], 0.0);
                dims[0] = spm.vocab_size;
            }
            vocab_rows = dims[0];
        }
        let shape: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        tensors.push((rb_name, tch::Tensor::from_slice(&data).reshape(&shape)));
    }
    ensure!(
        vocab_rows > 0 && positions > 0,
        "the model has no word or position embeddings"
    );
    if let Some(h) = weights.get("classifier.weight") {
        ensure!(
            h.dims()[0] == labels.len(),
            "the classifier has {} outputs but labels.json lists {} tags",
            h.dims()[0],
            labels.len()
        );
    } else {
        bail!("the model has no classifier.weight");
    }

    let mut rb = config.clone();
    let obj = rb.as_object_mut().context("config.json is not an object")?;
    let id2label: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, t)| (i.to_string(), Value::String(t.to_string())))
        .collect();
    let label2id: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), json!(i)))
        .collect();
    for (k, v) in [
        ("architectures", json!(["XLMRobertaForTokenClassification"])),
        ("model_type", json!("xlm-roberta")),
        ("vocab_size", json!(vocab_rows)),
        ("max_position_embeddings", json!(positions)),
        ("pad_token_id", json!(1)),
        ("bos_token_id", json!(0)),
        ("eos_token_id", json!(2)),
        ("layer_norm_eps", json!(1e-12)),
        ("hidden_act", json!("gelu")),
        ("id2label", Value::Object(id2label)),
        ("label2id", Value::Object(label2id)),
    ] {
        obj.insert(k.to_string(), v);
    }
    obj.remove("tokenizer_vocab_size");
    obj.insert("tokenizer_class".into(), json!("XLMRobertaTokenizer"));
    Ok(Converted {
        config: rb,
        tensors,
        spm,
    })
}

/// Exports the candle model directory `dir` into `out` (created when missing; it must not be
/// `dir`).
pub fn export_dir(dir: &Path, out: &Path) -> Result<ExportReport> {
    ensure!(
        is_model_dir(dir),
        "{} is not a transformer model directory (config.json, model.safetensors or model.gguf, tokenizer.json, labels.json)",
        dir.display()
    );
    ensure!(
        std::fs::canonicalize(dir).ok() != std::fs::canonicalize(out).ok(),
        "the export directory must differ from the model directory"
    );
    export(&ModelFiles::read(dir)?, out)
}

/// Exports the model `files` (read from a directory or embedded) into `out` (created when
/// missing): nothing but `out` is written.
pub fn export(files: &ModelFiles, out: &Path) -> Result<ExportReport> {
    let c = convert(files)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let parameters = c.tensors.iter().map(|(_, t)| t.numel()).sum();
    let vocab_size = c.config["vocab_size"].as_u64().unwrap_or(0) as usize;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let p = out.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))
    };
    tch::Tensor::save_multi(&c.tensors, out.join(RB_WEIGHTS_FILE))
        .with_context(|| format!("cannot write {}", out.join(RB_WEIGHTS_FILE).display()))?;
    write(SPM_FILE, &c.spm.bytes)?;
    write(
        CONFIG_FILE,
        (serde_json::to_string_pretty(&c.config)? + "\n").as_bytes(),
    )?;
    write(TOKENIZER_FILE, &files.tokenizer)?;
    write(LABELS_FILE, files.labels.as_bytes())?;
    Ok(ExportReport {
        tensors: c.tensors.len(),
        parameters,
        vocab_size,
    })
}

/// Reads the weights of an exported directory by rust-bert name.
pub fn read_export_weights(dir: &Path) -> Result<HashMap<String, tch::Tensor>> {
    let path = dir.join(RB_WEIGHTS_FILE);
    Ok(tch::Tensor::load_multi(&path)
        .with_context(|| format!("cannot load {}", path.display()))?
        .into_iter()
        .collect())
}
