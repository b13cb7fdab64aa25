//! Text stage: splits an article into paragraphs, sentences and tokens, each carrying its offsets.
//!
//! Every later stage (language, NER, topics) works on the [`Document`] built here and never
//! re-tokenizes the text. Offsets are kept both as byte offsets (for slicing `&str`) and as
//! Unicode code-point offsets (what the JSONL output promises: `text[start:end]` in Python).

mod boilerplate;
mod tokenize;

pub use boilerplate::is_boilerplate;
pub use tokenize::tokenize;

use std::ops::Range;

/// A span of the original text, in bytes and in code points. End exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Code-point offset of the first character.
    pub char_start: usize,
    /// Code-point offset one past the last character.
    pub char_end: usize,
}

impl Span {
    /// The byte range, for slicing the text.
    pub fn bytes(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// One token: a word, a number or a punctuation mark.
pub type Token = Span;

/// A paragraph: a block of text separated from the next by a blank line (or a single newline
/// when the text has no blank lines at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// Where the paragraph lies in the text (trimmed of surrounding whitespace).
    pub span: Span,
    /// The sentences of the paragraph, as indexes into [`Document::sentences`].
    pub sentences: Range<usize>,
}

/// An article split into paragraphs, sentences and tokens.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    /// The original text, unchanged.
    pub text: &'a str,
    /// All tokens in text order.
    pub tokens: Vec<Token>,
    /// Sentences, as ranges of indexes into `tokens`.
    pub sentences: Vec<Range<usize>>,
    /// Paragraphs in text order.
    pub paragraphs: Vec<Paragraph>,
}

impl<'a> Document<'a> {
    /// Splits `text` into paragraphs, sentences and tokens.
    pub fn new(text: &'a str) -> Self {
        tokenize::split_document(text)
    }

    /// The text of one token.
    pub fn token_text(&self, index: usize) -> &'a str {
        &self.text[self.tokens[index].bytes()]
    }

    /// The words of each sentence, as slices of the text: the shape the NER models take.
    pub fn sentence_words(&self) -> Vec<Vec<&'a str>> {
        self.sentences
            .iter()
            .map(|s| s.clone().map(|i| self.token_text(i)).collect())
            .collect()
    }

    /// The text of a paragraph.
    pub fn paragraph_text(&self, paragraph: &Paragraph) -> &'a str {
        &self.text[paragraph.span.bytes()]
    }

    /// Number of tokens.
    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }
}
