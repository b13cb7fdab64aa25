//! `ontleed export --format rust-bert`: write the accurate model in the layout rust-bert loads;
//! and `--ner-backend` of `annotate` (candle, or rust-bert with the `rust-bert` feature).

use anyhow::Result;
use ontleed::ner::Recognizer;
use ontleed::pipeline::NerModel;
use std::path::PathBuf;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// rust-bert's XLM-RoBERTa token classifier: config.json, rust_model.ot (libtorch),
    /// sentencepiece.bpe.model, plus tokenizer.json and labels.json.
    RustBert,
}

/// Arguments of `ontleed export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// The transformer model to export: accurate, or a model directory.
    #[arg(long, default_value = "accurate")]
    ner_model: NerModel,
    /// Directory to write (created when missing).
    out: PathBuf,
}

/// Which implementation runs a transformer NER model (`annotate --ner-backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum NerBackend {
    /// candle (pure Rust, the `transformer` feature).
    #[default]
    Candle,
    /// rust-bert on libtorch (the `rust-bert` feature); --ner-model is a directory written by
    /// `ontleed export --format rust-bert`, a transformer model directory, or accurate.
    RustBert,
}

pub(super) fn export(args: ExportArgs) -> Result<i32> {
    match args.format {
        ExportFormat::RustBert => export_rust_bert(&args.ner_model, &args.out),
    }
}

#[cfg(feature = "rust-bert")]
fn model_dir(model: &NerModel) -> Result<PathBuf> {
    match model {
        NerModel::Fast => anyhow::bail!(
            "the fast model is not a transformer; use --ner-model accurate or a model directory"
        ),
        NerModel::Accurate => match ontleed::ner::rustbert::ner::accurate_dir() {
            Some(dir) => Ok(dir),
            // An installed binary has no source tree: write the embedded files out.
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("ontleed-accurate-{}", env!("CARGO_PKG_VERSION")));
                ontleed::pipeline::write_accurate_files(&dir)?;
                Ok(dir)
            }
        },
        NerModel::Path(p) => Ok(p.clone()),
    }
}

#[cfg(feature = "rust-bert")]
fn export_rust_bert(model: &NerModel, out: &std::path::Path) -> Result<i32> {
    let dir = model_dir(model)?;
    let report = ontleed::ner::rustbert::export::export(&dir, out)?;
    eprintln!(
        "ontleed: exported {} for rust-bert into {} ({} tensors, {} parameters, vocabulary {})",
        dir.display(),
        out.display(),
        report.tensors,
        report.parameters,
        report.vocab_size
    );
    Ok(super::EXIT_OK)
}

#[cfg(not(feature = "rust-bert"))]
fn export_rust_bert(_: &NerModel, _: &std::path::Path) -> Result<i32> {
    anyhow::bail!("this build has no rust-bert support (rebuild with --features rust-bert)")
}

/// The recognizer of `--ner-backend` when it is not the default (candle, loaded by the
/// pipeline from `--ner-model` itself).
pub(super) fn recognizer(
    backend: NerBackend,
    model: &NerModel,
) -> Result<Option<Box<dyn Recognizer>>> {
    match backend {
        NerBackend::Candle => Ok(None),
        NerBackend::RustBert => rust_bert_recognizer(model).map(Some),
    }
}

#[cfg(feature = "rust-bert")]
fn rust_bert_recognizer(model: &NerModel) -> Result<Box<dyn Recognizer>> {
    use anyhow::Context;
    let dir = model_dir(model)?;
    let name = match model {
        NerModel::Accurate => "accurate".to_string(),
        _ => dir.display().to_string(),
    };
    let ner = ontleed::ner::rustbert::RustBertNer::load(&dir)
        .with_context(|| format!("cannot load {} with rust-bert", dir.display()))?;
    Ok(Box::new(ner.with_name(name)))
}

#[cfg(not(feature = "rust-bert"))]
fn rust_bert_recognizer(_: &NerModel) -> Result<Box<dyn Recognizer>> {
    anyhow::bail!(
        "--ner-backend rust-bert needs a build with the rust-bert feature (see the README, \"rust-bert backend (optional)\")"
    )
}
