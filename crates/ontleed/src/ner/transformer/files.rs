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
                let mut names: Vec<&String> = content.tensor_infos.keys().collect();
                names.sort();
                for name in names {
                    check_gguf_tensor(
                        &content.tensor_infos[name],
                        content.tensor_data_offset,
                        self.weights.len() as u64,
                    )
                    .with_context(|| format!("tensor {name} of {origin}"))?;
                }
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

/// Checks the shape and place of a tensor of a GGUF file of `file_len` bytes whose tensor data
/// start at `data_offset`, before candle reads it: candle multiplies the dimensions and the
/// block count unchecked (found by fuzzing: an overflow panics in a build with overflow checks
/// and wraps in a release build, which then reads the wrong bytes), and reads an empty tensor
/// through a dangling pointer (undefined behaviour).
fn check_gguf_tensor(info: &gguf_file::TensorInfo, data_offset: u64, file_len: u64) -> Result<()> {
    let elements = info
        .shape
        .dims()
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .context("its dimensions multiply beyond the address space")?;
    ensure!(elements > 0, "it has no elements");
    let block = info.ggml_dtype.block_size();
    ensure!(
        elements.is_multiple_of(block),
        "its {elements} elements are not whole blocks of {block}"
    );
    let bytes = (elements / block)
        .checked_mul(info.ggml_dtype.type_size())
        .context("its size is beyond the address space")?;
    let start = data_offset.checked_add(info.offset);
    ensure!(
        start
            .and_then(|s| s.checked_add(bytes as u64))
            .is_some_and(|end| end <= file_len),
        "its {bytes} bytes at offset {} + {} lie outside the file ({file_len} bytes)",
        data_offset,
        info.offset
    );
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A GGUF file (version 3, no metadata) with one tensor `t` of `dims` (GGML order) and
    /// type `dtype` (0: f32) at `offset` in the tensor data, followed by `data_len` bytes.
    fn gguf(dims: &[u64], dtype: u32, offset: u64, data_len: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"GGUF");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.push(b't');
        b.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            b.extend_from_slice(&d.to_le_bytes());
        }
        b.extend_from_slice(&dtype.to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.resize(b.len().next_multiple_of(32), 0);
        b.resize(b.len() + data_len, 7);
        b
    }

    fn load_gguf(weights: Vec<u8>) -> Result<HashMap<String, Tensor>> {
        let files = ModelFiles {
            origin: "test".into(),
            config: Cow::Borrowed("{}"),
            labels: Cow::Borrowed("[]"),
            tokenizer: Cow::Borrowed(b""),
            weights: Cow::Owned(weights),
            format: WeightsFormat::Gguf,
        };
        files.load_f32(&Device::Cpu)
    }

    /// Tensors found by fuzzing (`fuzz/`, target `transformer_model`) that made candle's GGUF
    /// reader panic on an overflow or read an empty tensor through a dangling pointer: each is
    /// an error now.
    #[test]
    fn malformed_gguf_tensors_are_errors_not_panics() {
        // A well-formed 2 × 3 f32 tensor loads.
        let t = load_gguf(gguf(&[3, 2], 0, 0, 24)).expect("loads");
        assert_eq!(t["t"].dims(), [2, 3]);
        for (dims, dtype, offset, what) in [
            (vec![1u64 << 40, 1 << 40], 0, 0, "beyond the address space"),
            (vec![1u64 << 62], 0, 0, "beyond the address space"),
            (vec![0u64, 4], 0, 0, "no elements"),
            (vec![3u64], 0, u64::MAX - 4, "outside the file"),
            (vec![1000u64], 0, 0, "outside the file"),
            // Q8_0: blocks of 32.
            (vec![20u64], 8, 0, "not whole blocks"),
        ] {
            let err = load_gguf(gguf(&dims, dtype, offset, 24)).expect_err(what);
            assert!(format!("{err:#}").contains(what), "{dims:?}: {err:#}");
        }
    }
}
