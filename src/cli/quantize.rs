//! `ontleed quantize`: stores a transformer model's large matrices in 8-bit (or 4-bit) blocks.

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
    let r = crate::ner::transformer::files::quantize_dir(&a.ner_model, &a.out, dtype)?;
    eprintln!(
        "wrote {}: {} matrices in {dtype:?}, {} tensors in f32, {:.1} MB",
        a.out
            .join(crate::ner::transformer::files::QUANT_WEIGHTS_FILE)
            .display(),
        r.quantized,
        r.kept,
        r.bytes as f64 / 1e6
    );
    Ok(super::EXIT_OK)
}
