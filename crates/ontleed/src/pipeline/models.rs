//! Choosing and loading the NER model: `fast` (embedded), `accurate`, or a path.

use crate::ner::Recognizer;
use crate::ner::fast::FastModel;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::str::FromStr;

/// The fast model's file, compiled into the binary.
static FAST_MODEL: &[u8] = include_bytes!("../../../../models/fast/model.bin");

/// Which NER model to use (`--ner-model`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NerModel {
    /// The embedded averaged-perceptron model (`models/fast/`).
    Fast,
    /// The embedded transformer model (`models/accurate/`; needs the `transformer` feature,
    /// on by default).
    Accurate,
    /// A model file, a directory holding `model.bin`, or a transformer model directory
    /// (`config.json`, `model.safetensors`, `tokenizer.json`, `labels.json`; needs the
    /// `transformer` feature).
    Path(PathBuf),
}

impl Default for NerModel {
    /// `accurate` in builds with the `transformer` feature (the default), else `fast`.
    fn default() -> Self {
        if cfg!(feature = "transformer") {
            NerModel::Accurate
        } else {
            NerModel::Fast
        }
    }
}

impl NerModel {
    /// The name of the default model (`--ner-model`'s default).
    pub fn default_name() -> &'static str {
        if cfg!(feature = "transformer") {
            "accurate"
        } else {
            "fast"
        }
    }
}

/// Arithmetic of a transformer model's linear layers (`--ner-precision`); the fast model is
/// not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NerPrecision {
    /// Int8 weights and activations where the CPU has AVX-512 VNNI or AVX2 (about twice as
    /// fast; F1 in the model card), f32 elsewhere.
    #[default]
    Int8,
    /// f32 throughout: the numbers of training and of the rust-bert backend.
    F32,
}

impl FromStr for NerPrecision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "int8" => Ok(NerPrecision::Int8),
            "f32" => Ok(NerPrecision::F32),
            other => Err(format!("unknown precision {other:?} (int8 or f32)")),
        }
    }
}

impl FromStr for NerModel {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "fast" => NerModel::Fast,
            "accurate" => NerModel::Accurate,
            path => NerModel::Path(PathBuf::from(path)),
        })
    }
}

/// Loads the chosen model, a transformer with the default [`NerPrecision`].
pub fn load_recognizer(model: &NerModel) -> Result<Box<dyn Recognizer>> {
    load_recognizer_with(model, NerPrecision::default())
}

/// Loads the chosen model; a transformer runs with `precision`.
pub fn load_recognizer_with(
    model: &NerModel,
    precision: NerPrecision,
) -> Result<Box<dyn Recognizer>> {
    match model {
        NerModel::Fast => Ok(Box::new(
            FastModel::from_bytes(FAST_MODEL)?.with_name("fast"),
        )),
        NerModel::Accurate => load_accurate(precision),
        NerModel::Path(path) => {
            if path.is_dir() && is_transformer_dir(path) {
                return load_transformer(path, precision);
            }
            let file = if path.is_dir() {
                path.join("model.bin")
            } else {
                path.clone()
            };
            if !file.exists() {
                bail!(
                    "no NER model at {} (use fast, accurate, or a model file/directory)",
                    file.display()
                );
            }
            let name = path.display().to_string();
            Ok(Box::new(FastModel::load(&file)?.with_name(name)))
        }
    }
}

/// Whether `dir` holds a transformer model rather than a `model.bin`.
#[cfg(feature = "transformer")]
fn is_transformer_dir(dir: &std::path::Path) -> bool {
    !dir.join("model.bin").exists() && crate::ner::transformer::files::is_model_dir(dir)
}

/// Without transformer support a directory with a `config.json` and no `model.bin` is taken
/// for a transformer model, so that loading it says what is missing.
#[cfg(not(feature = "transformer"))]
fn is_transformer_dir(dir: &std::path::Path) -> bool {
    !dir.join("model.bin").exists() && dir.join("config.json").is_file()
}

/// The accurate model's files (`models/accurate/`), compiled into the binary.
#[cfg(feature = "transformer")]
mod embedded {
    pub static CONFIG: &str = include_str!("../../../../models/accurate/config.json");
    pub static LABELS: &str = include_str!("../../../../models/accurate/labels.json");
    pub static TOKENIZER: &[u8] = include_bytes!("../../../../models/accurate/tokenizer.json");
    pub static WEIGHTS: &[u8] = include_bytes!("../../../../models/accurate/model.gguf");
}

/// The embedded accurate model's files (`models/accurate/`), in memory: for the candle
/// backend here and for other backends (the rust-bert export and recognizer).
#[cfg(feature = "transformer")]
pub fn accurate_files() -> crate::ner::transformer::files::ModelFiles<'static> {
    use crate::ner::transformer::files::{ModelFiles, WeightsFormat};
    use std::borrow::Cow;
    ModelFiles {
        origin: "the embedded accurate model".into(),
        config: Cow::Borrowed(embedded::CONFIG),
        labels: Cow::Borrowed(embedded::LABELS),
        tokenizer: Cow::Borrowed(embedded::TOKENIZER),
        weights: Cow::Borrowed(embedded::WEIGHTS),
        format: WeightsFormat::Gguf,
    }
}

/// Loads the embedded accurate model.
#[cfg(feature = "transformer")]
fn load_accurate(precision: NerPrecision) -> Result<Box<dyn Recognizer>> {
    let model = crate::ner::transformer::TransformerNer::from_files(
        &accurate_files(),
        &candle_core::Device::Cpu,
    )?;
    Ok(Box::new(
        with_precision(model, precision)?.with_name("accurate"),
    ))
}

/// `model` switched to int8 where `precision` asks for it (and the CPU can).
#[cfg(feature = "transformer")]
fn with_precision(
    model: crate::ner::transformer::TransformerNer,
    precision: NerPrecision,
) -> Result<crate::ner::transformer::TransformerNer> {
    match precision {
        NerPrecision::Int8 => model.with_int8(),
        NerPrecision::F32 => Ok(model),
    }
}

#[cfg(not(feature = "transformer"))]
fn load_accurate(_: NerPrecision) -> Result<Box<dyn Recognizer>> {
    bail!(
        "this build has no transformer support, so no accurate model (rebuild with the default features, or use --ner-model fast)"
    )
}

#[cfg(feature = "transformer")]
fn load_transformer(dir: &std::path::Path, precision: NerPrecision) -> Result<Box<dyn Recognizer>> {
    use anyhow::Context;
    let model = crate::ner::transformer::TransformerNer::load(dir)
        .with_context(|| format!("cannot load the transformer model in {}", dir.display()))?;
    Ok(Box::new(
        with_precision(model, precision)?.with_name(dir.display().to_string()),
    ))
}

#[cfg(not(feature = "transformer"))]
fn load_transformer(dir: &std::path::Path, _: NerPrecision) -> Result<Box<dyn Recognizer>> {
    bail!(
        "{} holds a transformer model, but this build has no transformer support (rebuild with --features transformer)",
        dir.display()
    )
}
