//! The accurate model on rust-bert (libtorch): the optional backend of the `ontleed` CLI's
//! `rust-bert` feature, a crate of its own so that nothing else builds libtorch.
//!
//! - [`export`]: writes a model directory in the layout rust-bert loads (XLM-RoBERTa config,
//!   `rust_model.ot`, `sentencepiece.bpe.model`), in Rust ([`spm`] writes the SentencePiece
//!   protobuf), from a model directory or from a model's files in memory (the embedded accurate
//!   model: `ontleed::pipeline::accurate_files`).
//! - [`ner::RustBertNer`]: the [`ontleed::ner::Recognizer`] behind `--ner-backend rust-bert`:
//!   rust-bert's `RobertaForTokenClassification` with ontleed's own input construction, so its
//!   output equals the candle backend's.
//! - [`pipeline`]: rust-bert's `TokenClassificationModel` on an export, and a work-around for
//!   its batched-predict bug.
//!
//! Building needs libtorch 2.4.0 (tch 0.17): `scripts/setup-libtorch.sh`, then build with
//! `LIBTORCH=<site-packages>/torch LIBTORCH_CXX11_ABI=0` and run with
//! `LD_LIBRARY_PATH=<site-packages>/torch/lib` (see the README).

pub mod export;
pub mod ner;
pub mod pipeline;
pub mod spm;

pub use ner::RustBertNer;
