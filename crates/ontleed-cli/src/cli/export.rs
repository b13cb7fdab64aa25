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

/// The fast model is no transformer.
#[cfg(feature = "rust-bert")]
const NOT_A_TRANSFORMER: &str =
    "the fast model is not a transformer; use --ner-model accurate or a model directory";

/// Exports `model`: the embedded accurate model from memory (nothing but `out` is written), or
/// a model directory.
#[cfg(feature = "rust-bert")]
fn export_rust_bert(model: &NerModel, out: &std::path::Path) -> Result<i32> {
    use ontleed_rustbert::export;
    let (origin, report) = match model {
        NerModel::Fast => anyhow::bail!(NOT_A_TRANSFORMER),
        NerModel::Accurate => {
            let files = ontleed::pipeline::accurate_files();
            (files.origin.clone(), export::export(&files, out)?)
        }
        NerModel::Path(dir) => (dir.display().to_string(), export::export_dir(dir, out)?),
    };
    eprintln!(
        "ontleed: exported {origin} for rust-bert into {} ({} tensors, {} parameters, vocabulary {})",
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

/// `model` on rust-bert: the embedded accurate model converted in memory, an export
/// directory, or a model directory (converted in memory).
#[cfg(feature = "rust-bert")]
fn rust_bert_recognizer(model: &NerModel) -> Result<Box<dyn Recognizer>> {
    use anyhow::Context;
    use ontleed_rustbert::RustBertNer;
    let ner = match model {
        NerModel::Fast => anyhow::bail!(NOT_A_TRANSFORMER),
        NerModel::Accurate => RustBertNer::from_files(&ontleed::pipeline::accurate_files())
            .context("cannot load the embedded accurate model with rust-bert")?
            .with_name("accurate"),
        NerModel::Path(dir) => RustBertNer::load(dir)
            .with_context(|| format!("cannot load {} with rust-bert", dir.display()))?
            .with_name(dir.display().to_string()),
    };
    Ok(Box::new(ner))
}

#[cfg(not(feature = "rust-bert"))]
fn rust_bert_recognizer(_: &NerModel) -> Result<Box<dyn Recognizer>> {
    anyhow::bail!(
        "--ner-backend rust-bert needs a build with the rust-bert feature (see the README, \"rust-bert backend (optional)\")"
    )
}
