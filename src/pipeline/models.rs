//! Choosing and loading the NER model: `fast` (embedded), `accurate`, or a path.

use crate::ner::Recognizer;
use crate::ner::fast::FastModel;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::str::FromStr;

/// The fast model's file, compiled into the binary.
static FAST_MODEL: &[u8] = include_bytes!("../../models/fast/model.bin");

/// Which NER model to use (`--ner-model`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NerModel {
    /// The embedded averaged-perceptron model (`models/fast/`).
    #[default]
    Fast,
    /// The embedded transformer model (`models/accurate/`).
    Accurate,
    /// A model file, a directory holding `model.bin`, or a transformer model directory
    /// (`config.json`, `model.safetensors`, `tokenizer.json`, `labels.json`; needs the
    /// `transformer` feature).
    Path(PathBuf),
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

/// Loads the chosen model.
pub fn load_recognizer(model: &NerModel) -> Result<Box<dyn Recognizer>> {
    match model {
        NerModel::Fast => Ok(Box::new(
            FastModel::from_bytes(FAST_MODEL)?.with_name("fast"),
        )),
        NerModel::Accurate => bail!(
            "the accurate (transformer) model is not part of this build yet; use --ner-model fast"
        ),
        NerModel::Path(path) => {
            if path.is_dir() && is_transformer_dir(path) {
                return load_transformer(path);
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
fn is_transformer_dir(dir: &std::path::Path) -> bool {
    !dir.join("model.bin").exists()
        && [
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "labels.json",
        ]
        .iter()
        .all(|f| dir.join(f).is_file())
}

#[cfg(feature = "transformer")]
fn load_transformer(dir: &std::path::Path) -> Result<Box<dyn Recognizer>> {
    use anyhow::Context;
    let model = crate::ner::transformer::TransformerNer::load(dir)
        .with_context(|| format!("cannot load the transformer model in {}", dir.display()))?;
    Ok(Box::new(model.with_name(dir.display().to_string())))
}

#[cfg(not(feature = "transformer"))]
fn load_transformer(dir: &std::path::Path) -> Result<Box<dyn Recognizer>> {
    bail!(
        "{} holds a transformer model, but this build has no transformer support (rebuild with --features transformer)",
        dir.display()
    )
}
