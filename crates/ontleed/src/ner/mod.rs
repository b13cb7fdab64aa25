//! Named-entity recognition: the [`Recognizer`] trait the pipeline depends on, the data formats
//! (CoNLL reading, IOB2 tags), the conlleval scorer, and the models.

pub mod conll;
pub mod decode;
pub mod eval;
pub mod fast;
pub mod tags;
#[cfg(feature = "transformer")]
pub mod transformer;

pub use tags::{Label, Tag, TokenSpan};

/// The tag a recognizer gives one token, with its confidence in `0..=1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenTag {
    /// IOB2 tag.
    pub tag: Tag,
    /// Confidence of the tag.
    pub score: f32,
}

/// A named-entity recognizer over one document at a time.
///
/// The input is the document's sentences as words (already tokenized by the text stage; a
/// recognizer never re-tokenizes). Whole documents are passed so that a model can use document
/// context (the same name elsewhere in the article). The output has one [`TokenTag`] per word.
pub trait Recognizer: Send + Sync {
    /// A short name for the model, written into each output record.
    fn name(&self) -> &str;

    /// Tags every word of every sentence of one document. An error is a fault of the model or
    /// its runtime (never of the text): the pipeline turns it into an `internal` error for the
    /// article instead of a record without entities.
    fn tag_document(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<TokenTag>>, RecognizerError>;
}

/// A recognizer failed on a document: a fault of the model or its runtime, not of the input.
#[derive(Debug, Clone, thiserror::Error)]
#[error("NER model {model} failed: {message}")]
pub struct RecognizerError {
    /// The recognizer's [`Recognizer::name`].
    pub model: String,
    /// What failed.
    pub message: String,
}

impl RecognizerError {
    /// The error of recognizer `model`, with the whole chain of causes of `error`.
    pub fn new(model: &str, error: &anyhow::Error) -> Self {
        Self {
            model: model.to_string(),
            message: format!("{error:#}"),
        }
    }
}

/// An entity found in one sentence: its token span and confidence (the mean of its tokens').
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredSpan {
    /// Token range and label.
    pub span: TokenSpan,
    /// Confidence in `0..=1`.
    pub score: f32,
}

/// Turns a sentence's token tags into entity spans with scores.
pub fn scored_spans(tags: &[TokenTag]) -> Vec<ScoredSpan> {
    let plain: Vec<Tag> = tags.iter().map(|t| t.tag).collect();
    tags::spans(&plain)
        .into_iter()
        .map(|span| {
            let n = (span.end - span.start) as f32;
            let score = tags[span.start..span.end]
                .iter()
                .map(|t| t.score)
                .sum::<f32>()
                / n;
            ScoredSpan { span, score }
        })
        .collect()
}
