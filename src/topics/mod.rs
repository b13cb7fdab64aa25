//! Topic tagging against a taxonomy of news topics with Dutch trigger terms.
//!
//! (Interim interface; the taxonomy and matcher are being built.)

use crate::text::Document;
use anyhow::Result;
use std::path::Path;

/// A topic found in an article, with the words that gave it away.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMatch {
    /// Stable topic id from the taxonomy.
    pub id: String,
    /// Display label.
    pub label: String,
    /// Score in `0..=1`.
    pub score: f64,
    /// The matched words, as they appear in the text (distinct, in order of first appearance).
    pub evidence: Vec<String>,
}

/// A topic taxonomy.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    name: String,
}

impl Taxonomy {
    /// The taxonomy compiled into the binary from `data/topics.toml`.
    pub fn builtin() -> Self {
        Self { name: "builtin".into() }
    }

    /// Loads a taxonomy from a TOML file.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(Self { name: path.display().to_string() })
    }

    /// Name and version of the taxonomy, for the output's `ontleed.topics` field.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Tags documents with topics.
#[derive(Debug, Clone)]
pub struct TopicTagger {
    taxonomy: Taxonomy,
}

impl TopicTagger {
    /// Builds a tagger for a taxonomy.
    pub fn new(taxonomy: Taxonomy) -> Self {
        Self { taxonomy }
    }

    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Tags a document. `article_paragraphs[i]` is false for paragraphs to ignore (boilerplate,
    /// other languages).
    pub fn tag(&self, _doc: &Document, _article_paragraphs: &[bool]) -> Vec<TopicMatch> {
        Vec::new()
    }
}
