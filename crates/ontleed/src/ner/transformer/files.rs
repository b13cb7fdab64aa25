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
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use super::model::quantize_matrices;
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

/// Removes the file checksums (`ontleed.sha256`) from a copied `config.json`, whose files are
/// about to change.
fn strip_checksums(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a model config", path.display()))?;
    let removed = config
        .get_mut("ontleed")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|s| s.remove("sha256"));
    if removed.is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&config)? + "\n")?;
    }
    Ok(())
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

/// Writes `transitions` into the `ontleed` section of `dir/config.json` (replacing any there).
pub fn write_transitions(dir: &Path, transitions: &Transitions) -> Result<()> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a model config", path.display()))?;
    let Some(section) = config
        .get_mut("ontleed")
        .and_then(serde_json::Value::as_object_mut)
    else {
        bail!("{} has no \"ontleed\" section", path.display());
    };
    let mut value = serde_json::to_value(transitions)?;
    // The weight is an f32: written in its shortest decimal form (0.8, not 0.800000011920929),
    // which reads back as the same f32.
    if let Some(w) = value.get_mut("weight")
        && let Some(n) = transitions
            .weight
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    {
        *w = serde_json::Value::Number(n);
    }
    section.insert("transitions".into(), value);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&config)? + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// What [`quantize_dir`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeReport {
    /// Tensors stored quantized.
    pub quantized: usize,
    /// Tensors stored in f32.
    pub kept: usize,
    /// Size of the written `model.gguf` in bytes.
    pub bytes: u64,
}

/// Writes a copy of the model directory `from` into `to` with its weights in `model.gguf`: the
/// large matrices in `dtype` (Q8_0, Q4_0, …), every other tensor in f32.
pub fn quantize_dir(from: &Path, to: &Path, dtype: GgmlDType) -> Result<QuantizeReport> {
    ensure!(
        from != to,
        "the output directory must differ from the input"
    );
    let files = ModelFiles::read(from)?;
    let tensors = files.load_f32(&Device::Cpu)?;
    let quant = quantize_matrices(&tensors, dtype)?;
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let mut stored: Vec<(String, Arc<QTensor>)> = Vec::with_capacity(names.len());
    for name in names {
        let q = match quant.get(name) {
            Some(q) => Arc::clone(q),
            None => Arc::new(QTensor::quantize(&tensors[name], GgmlDType::F32)?),
        };
        stored.push((name.clone(), q));
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for f in [CONFIG_FILE, TOKENIZER_FILE, LABELS_FILE] {
        std::fs::copy(from.join(f), to.join(f))
            .with_context(|| format!("cannot copy {} into {}", f, to.display()))?;
    }
    // The checksums of the copied config are those of the old weights.
    strip_checksums(&to.join(CONFIG_FILE))?;
    // A stale f32 file next to the new one would be ignored (gguf is read first), but it
    // would double the directory's size.
    let stale = to.join(WEIGHTS_FILE);
    if stale.exists() {
        std::fs::remove_file(&stale)?;
    }
    let path = to.join(QUANT_WEIGHTS_FILE);
    let tmp = to.join(format!("{QUANT_WEIGHTS_FILE}.tmp"));
    {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?,
        );
        let refs: Vec<(&str, &QTensor)> = stored.iter().map(|(n, q)| (n.as_str(), &**q)).collect();
        let meta = gguf_file::Value::String("ontleed token classifier".into());
        gguf_file::write(&mut f, &[("general.name", &meta)], &refs)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        use std::io::Write;
        f.flush()?;
    }
    std::fs::rename(&tmp, &path)?;
    let quantized = stored
        .iter()
        .filter(|(_, q)| q.dtype() == dtype && dtype != GgmlDType::F32)
        .count();
    Ok(QuantizeReport {
        quantized,
        kept: stored.len() - quantized,
        bytes: std::fs::metadata(&path)?.len(),
    })
}

/// What [`average_dirs`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AverageReport {
    /// Models averaged.
    pub models: usize,
    /// Tensors in each.
    pub tensors: usize,
}

/// Writes into `to` the uniform average of the weights of the model directories `from` (a
/// "model soup" of fine-tunes of the same base): `model.safetensors` in f32, and the first
/// model's config, tokenizer and labels. Every model must have the same tokenizer, labels,
/// config (tag-bigram prior aside) and tensor shapes. The average gets no tag-bigram prior:
/// the priors were fitted to the models' own outputs (`ontleed fit-transitions` fits one).
pub fn average_dirs(from: &[&Path], to: &Path) -> Result<AverageReport> {
    ensure!(from.len() >= 2, "averaging needs at least two models");
    ensure!(
        from.iter().all(|&f| f != to),
        "the output directory must differ from the inputs"
    );
    let config_without_prior = |files: &ModelFiles| -> Result<serde_json::Value> {
        let origin = files.name_of(CONFIG_FILE);
        let mut config: serde_json::Value = serde_json::from_str(&files.config)
            .with_context(|| format!("{origin} is not a model config"))?;
        if let Some(s) = config
            .get_mut("ontleed")
            .and_then(serde_json::Value::as_object_mut)
        {
            s.remove("transitions");
            s.remove("sha256");
        }
        Ok(config)
    };
    let first = ModelFiles::read(from[0])?;
    let config = config_without_prior(&first)?;
    let mut sum = first.load_f32(&Device::Cpu)?;
    for &dir in &from[1..] {
        let files = ModelFiles::read(dir)?;
        ensure!(
            files.tokenizer == first.tokenizer && files.labels()? == first.labels()?,
            "{} and {} differ in tokenizer or labels",
            files.origin,
            first.origin
        );
        ensure!(
            config_without_prior(&files)? == config,
            "{} and {} differ in config.json",
            files.origin,
            first.origin
        );
        let tensors = files.load_f32(&Device::Cpu)?;
        ensure!(
            tensors.len() == sum.len(),
            "{} has {} tensors, {} has {}",
            files.origin,
            tensors.len(),
            first.origin,
            sum.len()
        );
        for (name, acc) in sum.iter_mut() {
            let t = tensors
                .get(name)
                .with_context(|| format!("{} has no tensor {name}", files.origin))?;
            ensure!(
                t.dims() == acc.dims(),
                "tensor {name}: {:?} in {}, {:?} in {}",
                t.dims(),
                files.origin,
                acc.dims(),
                first.origin
            );
            *acc = (&*acc + t)?;
        }
    }
    let n = from.len() as f64;
    let mean = sum
        .into_iter()
        .map(|(k, t)| Ok((k, (t / n)?)))
        .collect::<Result<HashMap<String, Tensor>>>()?;
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    std::fs::write(
        to.join(CONFIG_FILE),
        serde_json::to_string_pretty(&config)? + "\n",
    )
    .with_context(|| format!("cannot write {}", to.join(CONFIG_FILE).display()))?;
    std::fs::write(to.join(TOKENIZER_FILE), &first.tokenizer)?;
    std::fs::write(to.join(LABELS_FILE), first.labels.as_bytes())?;
    // A gguf file left in `to` would be read instead of the new weights.
    let stale = to.join(QUANT_WEIGHTS_FILE);
    if stale.exists() {
        std::fs::remove_file(&stale)?;
    }
    let path = to.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&mean, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(AverageReport {
        models: from.len(),
        tensors: mean.len(),
    })
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

    #[test]
    fn the_prior_weight_is_written_in_its_shortest_form() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(CONFIG_FILE), r#"{"ontleed": {}}"#).expect("config");
        let t = Transitions {
            weight: 0.8,
            log_probs: vec![vec![0.0]],
        };
        write_transitions(dir.path(), &t).expect("writes");
        let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).expect("reads");
        assert!(
            text.contains("\"weight\": 0.8\n") || text.contains("\"weight\": 0.8,"),
            "{text}"
        );
        let back = super::super::ner::read_transitions(&dir.path().join(CONFIG_FILE), 1)
            .expect("reads back");
        assert_eq!(back.map(|t| t.weight), Some(0.8f32));
    }
}
