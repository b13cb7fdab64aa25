//! Commands over transformer model files: `ontleed quantize` stores a model's large matrices in
//! 8-bit (or 4-bit) blocks, `ontleed average` averages the weights of several fine-tunes.

use std::path::PathBuf;

use anyhow::Result;

/// Block formats `ontleed quantize` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum QuantDType {
    /// 32 int8 values and an f16 scale per block (8.5 bits a weight).
    Q8_0,
    /// 32 4-bit values and an f16 scale per block (4.5 bits a weight).
    Q4_0,
}

/// Arguments of `ontleed quantize`.
#[derive(Debug, clap::Args)]
pub struct QuantizeArgs {
    /// Transformer model directory (config.json, model.safetensors, tokenizer.json, labels.json).
    #[arg(long)]
    ner_model: PathBuf,
    /// Output directory: the same files, with the weights in model.gguf.
    #[arg(long)]
    out: PathBuf,
    /// Block format of the word embeddings and the encoder's projections.
    #[arg(long, value_enum, default_value = "q8-0")]
    dtype: QuantDType,
}

pub(super) fn quantize(a: QuantizeArgs) -> Result<i32> {
    use candle_core::quantized::GgmlDType;
    let dtype = match a.dtype {
        QuantDType::Q8_0 => GgmlDType::Q8_0,
        QuantDType::Q4_0 => GgmlDType::Q4_0,
    };
    let r = ontleed_train::transformer::modeldir::quantize_dir(&a.ner_model, &a.out, dtype)?;
    eprintln!(
        "wrote {}: {} matrices in {dtype:?}, {} tensors in f32, {:.1} MB",
        a.out
            .join(ontleed::ner::transformer::files::QUANT_WEIGHTS_FILE)
            .display(),
        r.quantized,
        r.kept,
        r.bytes as f64 / 1e6
    );
    Ok(super::EXIT_OK)
}

/// Arguments of `ontleed average`.
#[derive(Debug, clap::Args)]
pub struct AverageArgs {
    /// Transformer model directories fine-tuned from the same base with the same vocabulary
    /// (e.g. runs with different seeds); safetensors or gguf.
    #[arg(long, num_args = 2.., required = true)]
    ner_model: Vec<PathBuf>,
    /// Output directory: the first model's files, with the averaged weights in model.safetensors (f32).
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn average(a: AverageArgs) -> Result<i32> {
    use ontleed::ner::transformer::files::WEIGHTS_FILE;
    use ontleed_train::transformer::modeldir::average_dirs;
    let dirs: Vec<&std::path::Path> = a.ner_model.iter().map(PathBuf::as_path).collect();
    let r = average_dirs(&dirs, &a.out)?;
    eprintln!(
        "wrote {}: the mean of {} models, {} tensors; fit its tag-bigram prior with `ontleed fit-transitions`",
        a.out.join(WEIGHTS_FILE).display(),
        r.models,
        r.tensors
    );
    Ok(super::EXIT_OK)
}
