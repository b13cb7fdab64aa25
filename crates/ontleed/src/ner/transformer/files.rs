//! The files of a token-classification model directory, read from disk or embedded in the
//! binary, and its two weight formats:
//!
//! - `model.safetensors`: every weight in f32 or f16 (what `ontleed train` writes);
//! - `model.gguf`: the large matrices (word embeddings, the six projections of each encoder
//!   layer) quantized to Q8_0 blocks (32 int8 values and one f16 scale: 8.5 bits a weight), the
//!   rest in f32 (what `ontleed quantize` writes, and what `models/accurate/` ships).
//!
//! Quantized matrices are expanded to f32 when a model is loaded: candle's quantized matmul was
//! slower than its f32 matmul on every shape of this model (see `models/accurate/README.md`), so
//! the format saves disk and binary size, not compute.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use super::ner::{Settings, Transitions};
use crate::ner::Tag;

// The files of a model directory, named here and nowhere else.
/// f32 weights (safetensors): the converter's and the trainer's output.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Quantized weights (GGUF), used instead of [`WEIGHTS_FILE`] where present.
pub const QUANT_WEIGHTS_FILE: &str = "model.gguf";
/// The encoder's configuration, the NER settings and the files' checksums (JSON).
pub const CONFIG_FILE: &str = "config.json";
/// The tokenizer (the `tokenizers` crate's JSON).
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The label list.
pub const LABELS_FILE: &str = "labels.json";

/// How the weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// `model.safetensors`.
    Safetensors,
    /// `model.gguf`.
    Gguf,
}

impl WeightsFormat {
    /// The file name of this format in a model directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Safetensors => WEIGHTS_FILE,
            Self::Gguf => QUANT_WEIGHTS_FILE,
        }
    }
}

/// The contents of a model directory.
#[derive(Debug, Clone)]
pub struct ModelFiles<'a> {
    /// Where the files come from, for messages (a directory, or `"embedded accurate model"`).
    pub origin: String,
    /// `config.json`.
    pub config: Cow<'a, str>,
    /// `labels.json`.
    pub labels: Cow<'a, str>,
    /// `tokenizer.json`.
    pub tokenizer: Cow<'a, [u8]>,
    /// The weights file.
    pub weights: Cow<'a, [u8]>,
    /// Its format.
    pub format: WeightsFormat,
}

/// The weights file of `dir` and its format (`model.gguf` first), if there is one.
pub fn weights_file(dir: &Path) -> Option<(std::path::PathBuf, WeightsFormat)> {
    [WeightsFormat::Gguf, WeightsFormat::Safetensors]
        .into_iter()
        .map(|f| (dir.join(f.file_name()), f))
        .find(|(p, _)| p.is_file())
}

/// Whether `dir` looks like a transformer model directory.
pub fn is_model_dir(dir: &Path) -> bool {
    weights_file(dir).is_some()
        && [CONFIG_FILE, TOKENIZER_FILE, LABELS_FILE]
            .iter()
            .all(|f| dir.join(f).is_file())
}

impl ModelFiles<'static> {
    /// Reads the files of `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let text = |name: &str| -> Result<Cow<'static, str>> {
            let p = dir.join(name);
            Ok(Cow::Owned(
                std::fs::read_to_string(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?,
            ))
        };
        let Some((weights_path, format)) = weights_file(dir) else {
            bail!(
                "{} holds neither {QUANT_WEIGHTS_FILE} nor {WEIGHTS_FILE}",
                dir.display()
            );
        };
        let tok_path = dir.join(TOKENIZER_FILE);
        Ok(Self {
            origin: dir.display().to_string(),
            config: text(CONFIG_FILE)?,
            labels: text(LABELS_FILE)?,
            tokenizer: Cow::Owned(
                std::fs::read(&tok_path)
                    .with_context(|| format!("cannot read {}", tok_path.display()))?,
            ),
            weights: Cow::Owned(
                std::fs::read(&weights_path)
                    .with_context(|| format!("cannot read {}", weights_path.display()))?,
            ),
            format,
        })
        .and_then(|files| files.verify().map(|()| files))
    }
}

impl ModelFiles<'_> {
    /// Checks the files against the SHA-256 checksums in `config.json` (`"ontleed": {"sha256":
    /// {"model.gguf": "…", …}}`), when it has them: a damaged or replaced weights file fails
    /// loudly instead of tagging nothing. Files not in use here (another weights format) are
    /// not checked.
    pub fn verify(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Wrapper {
            ontleed: Option<Section>,
        }
        #[derive(Deserialize)]
        struct Section {
            sha256: Option<std::collections::BTreeMap<String, String>>,
        }
        let origin = self.name_of(CONFIG_FILE);
        let w: Wrapper = serde_json::from_str(&self.config)
            .with_context(|| format!("{origin} is not a model config"))?;
        for (file, expected) in w.ontleed.and_then(|s| s.sha256).into_iter().flatten() {
            let bytes: &[u8] = match file.as_str() {
                f if f == self.format.file_name() => &self.weights,
                TOKENIZER_FILE => &self.tokenizer,
                LABELS_FILE => self.labels.as_bytes(),
                _ => continue,
            };
            let actual = crate::io::sha256_hex(bytes);
            ensure!(
                actual.eq_ignore_ascii_case(expected.trim()),
                "{} does not match its checksum in {origin} (sha256 {actual}, expected {expected}): the file is damaged or was replaced; restore it, or remove its entry from \"ontleed\".\"sha256\"",
                self.name_of(&file)
            );
        }
        Ok(())
    }

    /// `origin/name`, for messages.
    pub fn name_of(&self, file: &str) -> String {
        format!("{}/{file}", self.origin)
    }

    /// The IOB2 tags of `labels.json`.
    pub fn labels(&self) -> Result<Vec<Tag>> {
        parse_labels(&self.labels, &self.name_of(LABELS_FILE))
    }

    /// The `ontleed` section of `config.json`.
    pub fn settings(&self) -> Result<Settings> {
        parse_settings(&self.config, &self.name_of(CONFIG_FILE))
    }

    /// The tag-bigram prior of `config.json`, if it has one, checked against `n` labels.
    pub fn transitions(&self, n: usize) -> Result<Option<Transitions>> {
        parse_transitions(&self.config, &self.name_of(CONFIG_FILE), n)
    }

    /// Every weight as an f32 tensor (quantized matrices dequantized).
    pub fn load_f32(&self, device: &Device) -> Result<HashMap<String, Tensor>> {
        let origin = self.name_of(self.format.file_name());
        match self.format {
            WeightsFormat::Safetensors => {
                let tensors = candle_core::safetensors::load_buffer(&self.weights, device)
                    .with_context(|| format!("cannot load {origin}"))?;
                tensors
                    .into_iter()
                    .map(|(k, t)| Ok((k, t.to_dtype(DType::F32)?)))
                    .collect()
            }
            WeightsFormat::Gguf => {
                let mut r = Cursor::new(self.weights.as_ref());
                let content = gguf_file::Content::read(&mut r)
                    .with_context(|| format!("{origin} is not a GGUF file"))?;
                content
                    .tensor_infos
                    .keys()
                    .map(|name| {
                        let q = content
                            .tensor(&mut r, name, device)
                            .with_context(|| format!("cannot read tensor {name} of {origin}"))?;
                        Ok((name.clone(), q.dequantize(device)?))
                    })
                    .collect()
            }
        }
    }
}

/// Parses the text of a `labels.json`: a JSON array of IOB2 tags.
pub fn parse_labels(text: &str, origin: &str) -> Result<Vec<Tag>> {
    let names: Vec<String> = serde_json::from_str(text)
        .with_context(|| format!("{origin} is not a JSON array of tags"))?;
    let tags = names
        .iter()
        .map(|n| {
            n.parse::<Tag>()
                .map_err(|e| anyhow::anyhow!("{origin}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    ensure!(!tags.is_empty(), "{origin} lists no tags");
    Ok(tags)
}

/// Parses the `ontleed` section of the text of a model's `config.json`.
pub fn parse_settings(text: &str, origin: &str) -> Result<Settings> {
    #[derive(Deserialize)]
    struct Wrapper {
        ontleed: Option<Settings>,
    }
    let w: Wrapper =
        serde_json::from_str(text).with_context(|| format!("{origin} is not a model config"))?;
    w.ontleed.with_context(|| {
        format!("{origin} has no \"ontleed\" section (is it a token-classification model?)")
    })
}

/// Parses the tag-bigram prior (`ontleed.transitions`) of the text of a model's `config.json`
/// with `n` labels; `None` when there is none.
pub fn parse_transitions(text: &str, origin: &str, n: usize) -> Result<Option<Transitions>> {
    #[derive(Deserialize)]
    struct Section {
        transitions: Option<Transitions>,
    }
    #[derive(Deserialize)]
    struct Wrapper {
        ontleed: Option<Section>,
    }
    let w: Wrapper =
        serde_json::from_str(text).with_context(|| format!("{origin} is not a model config"))?;
    let t = w.ontleed.and_then(|s| s.transitions);
    if let Some(t) = &t {
        t.check(n, origin)?;
    }
    Ok(t)
}
