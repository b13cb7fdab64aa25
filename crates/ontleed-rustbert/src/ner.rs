//! The accurate model run by rust-bert (libtorch) as a [`Recognizer`]: [`RustBertNer`].
//!
//! The encoder and head are rust-bert's `RobertaForTokenClassification` (what its
//! `XLMRobertaForTokenClassification`/`ModelType::XLMRoberta` token classifier is), loaded from
//! an exported directory ([`crate::export`]) or converted in memory from a candle model (a
//! directory, or [`ModelFiles`] such as the embedded accurate model's). The input side is ontleed's own, shared with the candle backend: words are
//! tokenized one by one with `tokenizer.json`, sequences are built by
//! [`ontleed::ner::transformer::window::segments`] (FLERT context, overlapping windows for long
//! sentences), each word is labelled at its first piece, and mentions of one name in a document
//! get one label (`harmonize_labels`), all as in the candle backend. rust-bert's
//! `TokenClassificationModel::predict` is not used for tagging because
//! - it takes raw strings and re-tokenizes them, while the pipeline hands the recognizer words
//!   from its own tokenizer (a word's pieces could differ: rust_tokenizers normalizes with NFKC,
//!   our tokenizer with XLM-R's precompiled charsmap);
//! - it has no document context and windows long inputs differently (stride `max_length / 4`);
//! - its batched predict attaches the tokens of every batch after the first to the features of
//!   the first batch (see [`crate::pipeline`] and `tests/rust_bert.rs`).
//!
//! With the same input ids, logits agree with candle's to about 1e-5 (f32), so the tags and the
//! rounded scores of the JSONL records are the same.
//!
//! Threads: libtorch tensors are not `Sync`, so the model sits behind a mutex and concurrent
//! documents are tagged one at a time. Loading sets libtorch to one intra-op thread unless
//! `OMP_NUM_THREADS` is set: with libtorch's default (all cores) its OpenMP threads spin at every
//! op, and on the shared 2-core machine, with another job running, tagging the samples one
//! document at a time fell from 1,121 to 39 tokens/s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail, ensure};
use rust_bert::bert::BertConfig;
use rust_bert::roberta::RobertaForTokenClassification;
use tch::{Device, Kind, Tensor, nn::VarStore};
use tokenizers::Tokenizer;

use ontleed::ner::transformer::files::{
    CONFIG_FILE, LABELS_FILE, ModelFiles, TOKENIZER_FILE, is_model_dir, parse_labels,
    parse_settings, parse_transitions,
};
use ontleed::ner::transformer::ner::{
    Decoding, Settings, Specials, doc_pieces, layout_of, tag_batched,
};
use ontleed::ner::transformer::window::{Layout, Segment, WordPieces};
use ontleed::ner::{Recognizer, RecognizerError, Tag, TokenTag};

use crate::export::{self, Converted, RB_WEIGHTS_FILE};

struct Model {
    // Owns the weights the model's tensors point into.
    _vs: VarStore,
    net: RobertaForTokenClassification,
}

/// The transformer NER model on rust-bert.
pub struct RustBertNer {
    name: String,
    model: Mutex<Model>,
    tokenizer: Tokenizer,
    settings: Settings,
    specials: Specials,
    labels: Vec<Tag>,
    device: Device,
    /// How label probabilities become tags, as in the candle backend (the model's tag-bigram
    /// prior, one label per name and document).
    pub decoding: Decoding,
}

impl std::fmt::Debug for RustBertNer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustBertNer")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

fn bert_config(config: &serde_json::Value, origin: &str) -> Result<BertConfig> {
    serde_json::from_value(config.clone())
        .with_context(|| format!("{origin} is not a rust-bert BERT config"))
}

/// Where the weights come from.
enum Weights {
    /// `rust_model.ot` of an exported directory.
    Export(PathBuf),
    /// Converted in memory ([`export::convert`]).
    Converted(Vec<(String, Tensor)>),
}

/// The texts of a model's `config.json`, `labels.json` and `tokenizer.json`.
struct Texts<'a> {
    /// Where they come from, for messages (a directory, or the embedded model).
    origin: &'a str,
    config: &'a str,
    labels: &'a str,
    tokenizer: &'a [u8],
}

impl Texts<'_> {
    fn name_of(&self, file: &str) -> String {
        format!("{}/{file}", self.origin)
    }
}

fn set_threads() {
    if std::env::var_os("OMP_NUM_THREADS").is_none() {
        tch::set_num_threads(1);
    }
}

impl RustBertNer {
    /// Loads an exported directory or converts a candle model directory, onto the CPU.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_on(dir, Device::Cpu)
    }

    /// Loads an exported directory (`rust_model.ot`) or converts a candle model directory
    /// (`model.gguf` or `model.safetensors`) in memory, onto `device`.
    pub fn load_on(dir: &Path, device: Device) -> Result<Self> {
        if export::is_export_dir(dir) {
            let read = |name: &str| {
                let p = dir.join(name);
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
            };
            let text = |name: &str| -> Result<String> {
                String::from_utf8(read(name)?)
                    .with_context(|| format!("{} is not UTF-8", dir.join(name).display()))
            };
            let (config, labels, tokenizer) = (
                text(CONFIG_FILE)?,
                text(LABELS_FILE)?,
                read(TOKENIZER_FILE)?,
            );
            let origin = dir.display().to_string();
            let texts = Texts {
                origin: &origin,
                config: &config,
                labels: &labels,
                tokenizer: &tokenizer,
            };
            let rb_config = serde_json::from_str(&config)
                .with_context(|| format!("{} is not JSON", texts.name_of(CONFIG_FILE)))?;
            Self::build(
                &texts,
                &rb_config,
                Weights::Export(dir.join(RB_WEIGHTS_FILE)),
                device,
            )
        } else if is_model_dir(dir) {
            Self::from_files_on(&ModelFiles::read(dir)?, device)
        } else {
            bail!(
                "{} is neither a rust-bert export (ontleed export --format rust-bert) nor a transformer model directory",
                dir.display()
            );
        }
    }

    /// Converts a candle model's files (read from a directory, or embedded like the accurate
    /// model's: `ontleed::pipeline::accurate_files`) in memory, onto the CPU. Nothing is written.
    pub fn from_files(files: &ModelFiles) -> Result<Self> {
        Self::from_files_on(files, Device::Cpu)
    }

    /// [`Self::from_files`] onto `device`.
    pub fn from_files_on(files: &ModelFiles, device: Device) -> Result<Self> {
        let Converted {
            config, tensors, ..
        } = export::convert(files)?;
        let texts = Texts {
            origin: &files.origin,
            config: &files.config,
            labels: &files.labels,
            tokenizer: &files.tokenizer,
        };
        Self::build(&texts, &config, Weights::Converted(tensors), device)
    }

    /// The model of `rb_config` (rust-bert's config.json) with `weights`; settings, labels, the
    /// tag prior and the tokenizer from `texts`.
    fn build(
        texts: &Texts,
        rb_config: &serde_json::Value,
        weights: Weights,
        device: Device,
    ) -> Result<Self> {
        set_threads();
        let config_name = texts.name_of(CONFIG_FILE);
        let mut vs = VarStore::new(device);
        let bc = bert_config(rb_config, &config_name)?;
        let net = RobertaForTokenClassification::new(vs.root(), &bc)
            .map_err(|e| anyhow::anyhow!("cannot build the rust-bert model: {e}"))?;
        match weights {
            Weights::Export(path) => vs
                .load(&path)
                .with_context(|| format!("cannot load {}", path.display()))?,
            Weights::Converted(tensors) => {
                let src: HashMap<String, Tensor> = tensors.into_iter().collect();
                let mut vars = vs.variables();
                for (name, var) in vars.iter_mut() {
                    let Some(t) = src.get(name) else {
                        bail!("the converted model has no weight {name}");
                    };
                    ensure!(
                        var.size() == t.size(),
                        "{name}: shape {:?} but rust-bert expects {:?}",
                        t.size(),
                        var.size()
                    );
                    tch::no_grad(|| var.copy_(t));
                }
            }
        }
        let settings = parse_settings(texts.config, &config_name)?;
        let labels = parse_labels(texts.labels, &texts.name_of(LABELS_FILE))?;
        let transitions = parse_transitions(texts.config, &config_name, labels.len())?;
        ensure!(
            bc.id2label.as_ref().map(|m| m.len()) == Some(labels.len()),
            "{config_name}: id2label does not match labels.json"
        );
        let tokenizer = Tokenizer::from_bytes(texts.tokenizer)
            .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", texts.name_of(TOKENIZER_FILE)))?;
        let specials = Specials::of(&tokenizer)?;
        ensure!(
            (specials.bos, specials.pad, specials.eos) == (0, 1, 2),
            "rust-bert's RoBERTa needs <s> 0, <pad> 1, </s> 2"
        );
        ensure!(
            settings.max_len + export::POSITION_OFFSET <= bc.max_position_embeddings as usize,
            "max_len {} does not fit {} positions",
            settings.max_len,
            bc.max_position_embeddings
        );
        Ok(Self {
            name: texts.origin.to_string(),
            model: Mutex::new(Model { _vs: vs, net }),
            tokenizer,
            settings,
            specials,
            labels,
            device,
            decoding: Decoding {
                transitions,
                harmonize: true,
            },
        })
    }

    /// Sets the name written into output records.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The tag of each output.
    pub fn labels(&self) -> &[Tag] {
        &self.labels
    }

    /// The layout of input sequences (the candle backend's).
    pub fn layout(&self) -> Layout {
        layout_of(&self.specials, &self.settings)
    }

    /// Word pieces of every word of a document (`tokenizer.json`, word by word).
    pub fn doc_pieces(&self, sentences: &[Vec<&str>]) -> Result<Vec<WordPieces>> {
        doc_pieces(&self.tokenizer, self.specials.unk, sentences)
    }

    /// Logits `[labels]` of each labelled piece of `segments` (one batch), in segment order.
    pub fn logits(&self, segments: &[&Segment]) -> Result<Vec<Vec<f32>>> {
        ensure!(!segments.is_empty(), "empty batch");
        let seq = segments.iter().map(|s| s.ids.len()).max().unwrap_or(0);
        let mut ids: Vec<i64> = Vec::with_capacity(segments.len() * seq);
        let mut mask: Vec<i64> = Vec::with_capacity(segments.len() * seq);
        let mut positions: Vec<i64> = Vec::new();
        for (row, s) in segments.iter().enumerate() {
            ids.extend(s.ids.iter().map(|&i| i64::from(i)));
            ids.extend(std::iter::repeat_n(
                i64::from(self.specials.pad),
                seq - s.ids.len(),
            ));
            mask.extend((0..seq).map(|j| i64::from(j < s.ids.len())));
            positions.extend(s.targets.iter().map(|t| (row * seq + t.pos) as i64));
        }
        let shape = [segments.len() as i64, seq as i64];
        let ids = Tensor::from_slice(&ids).reshape(shape).to(self.device);
        let mask = Tensor::from_slice(&mask).reshape(shape).to(self.device);
        let positions = Tensor::from_slice(&positions).to(self.device);
        let n_labels = self.labels.len();
        let model = self
            .model
            .lock()
            .map_err(|_| anyhow::anyhow!("the rust-bert model is poisoned"))?;
        let flat: Vec<f32> = tch::no_grad(|| -> Result<Vec<f32>> {
            let out = model
                .net
                .forward_t(Some(&ids), Some(&mask), None, None, None, false);
            let picked = out
                .logits
                .reshape([-1, n_labels as i64])
                .index_select(0, &positions)
                .to_kind(Kind::Float)
                .to(Device::Cpu)
                .contiguous()
                .view([-1]);
            Ok(Vec::<f32>::try_from(&picked)?)
        })?;
        Ok(flat.chunks(n_labels).map(<[f32]>::to_vec).collect())
    }

    /// Tags several documents given as word pieces (batched like the candle backend).
    pub fn tag_documents(&self, docs: &[Vec<WordPieces>]) -> Result<Vec<Vec<Vec<TokenTag>>>> {
        tag_batched(docs, &self.layout(), &self.labels, &self.decoding, |segs| {
            Ok(self.logits(segs)?.iter().map(|l| softmax(l)).collect())
        })
    }

    /// Tags one document; fails only on an internal (libtorch) error.
    pub fn try_tag_document(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<TokenTag>>> {
        let pieces = self.doc_pieces(sentences)?;
        let mut all = self.tag_documents(std::slice::from_ref(&pieces))?;
        Ok(all.pop().unwrap_or_default())
    }
}

/// Arg-max of `logits` and its softmax probability.
/// Label probabilities of one row of logits.
fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

impl Recognizer for RustBertNer {
    fn name(&self) -> &str {
        &self.name
    }

    /// Tags a document; an internal (libtorch) error is the article's error.
    fn tag_document(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<TokenTag>>, RecognizerError> {
        self.try_tag_document(sentences)
            .map_err(|e| RecognizerError::new(&self.name, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_of_logits() {
        let p = softmax(&[0.0, 2.0, 1.0]);
        let e = [(-2f32).exp(), 1.0, (-1f32).exp()];
        let sum: f32 = e.iter().sum();
        for (got, want) in p.iter().zip(e) {
            assert!((got - want / sum).abs() < 1e-6);
        }
    }
}
