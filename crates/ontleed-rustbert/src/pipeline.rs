//! rust-bert's own token-classification pipeline (`TokenClassificationModel`) on an exported
//! directory, fully offline (local resources only), and a work-around for its batching bug.
//!
//! The bug (rust-bert 0.23.0, `pipelines/token_classification.rs`, `predict`): features are
//! batched `batch_size` at a time, but the loop over a batch's rows looks each row's feature up
//! as `features[sentence_idx]` with `sentence_idx` counting from 0 in every batch. The rows of
//! the second and later batches are therefore decoded with the offsets, masks and example index
//! of the first batch's features: their tokens are appended to the first inputs' outputs (with
//! the wrong text), the inputs they belong to get no tokens at all, and when a later batch is
//! wider than the first the lookup can even index past the end of the logits and panic.
//! `tests/rust_bert.rs` (`pipeline_batch_index_bug`) shows it with 70 sentences.
//!
//! [`predict`] avoids it: the model is loaded with an unbounded batch size, so each call
//! forwards all its features as one batch, and inputs are passed at most [`CHUNK`] at a time.

use std::path::Path;

use anyhow::{Result, ensure};
use rust_bert::pipelines::common::{ModelResource, ModelType};
use rust_bert::pipelines::token_classification::{
    LabelAggregationOption, Token, TokenClassificationConfig, TokenClassificationModel,
};
use rust_bert::resources::LocalResource;
use tch::Device;

use ontleed::ner::transformer::files::CONFIG_FILE;

use crate::export::{RB_WEIGHTS_FILE, SPM_FILE, is_export_dir};

/// Inputs per call of rust-bert's `predict` in [`predict`].
pub const CHUNK: usize = 64;

fn local(path: std::path::PathBuf) -> LocalResource {
    LocalResource { local_path: path }
}

/// Loads rust-bert's `TokenClassificationModel` (`ModelType::XLMRoberta`) from an exported
/// directory. `batch_size` is rust-bert's own (its default is 64; `None`: unbounded, which
/// [`predict`] needs).
pub fn load(dir: &Path, batch_size: Option<usize>) -> Result<TokenClassificationModel> {
    ensure!(
        is_export_dir(dir),
        "{} is not a rust-bert export (ontleed export --format rust-bert)",
        dir.display()
    );
    let mut config = TokenClassificationConfig::new(
        ModelType::XLMRoberta,
        ModelResource::Torch(Box::new(local(dir.join(RB_WEIGHTS_FILE)))),
        local(dir.join(CONFIG_FILE)),
        local(dir.join(SPM_FILE)),
        None,
        false,
        None,
        None,
        LabelAggregationOption::First,
    );
    config.device = Device::Cpu;
    config.batch_size = batch_size.unwrap_or(usize::MAX / 2);
    let model = TokenClassificationModel::new(config)
        .map_err(|e| anyhow::anyhow!("rust-bert cannot load {}: {e}", dir.display()))?;
    Ok(model)
}

/// rust-bert's `predict` without the batching bug: at most [`CHUNK`] inputs per call, each
/// call one batch (the model must come from [`load`] with `batch_size` `None`). Tokens are not
/// consolidated into words and special tokens are left out; `Token::sentence` is the index
/// within the call's chunk, as rust-bert sets it.
pub fn predict<S: AsRef<str>>(model: &TokenClassificationModel, inputs: &[S]) -> Vec<Vec<Token>> {
    inputs
        .chunks(CHUNK)
        .flat_map(|chunk| model.predict(chunk, false, false))
        .collect()
}
