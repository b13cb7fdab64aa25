//! Topic tagging against a taxonomy of news topics with Dutch trigger terms.
//!
//! The builtin taxonomy is `data/topics.toml` ("ontleed-news"), compiled into the binary; a user
//! file in the same format can replace it ([`Taxonomy::from_file`]).
//!
//! # Taxonomy file
//!
//! ```toml
//! name = "ontleed-news"          # name and version make the output's "ontleed-news 1.0"
//! version = "1.0"
//!
//! [[topic]]
//! id = "sanctions"               # stable id: a-z, 0-9, '-', '_'
//! label_nl = "Sancties"          # the label in the output
//! label_en = "Sanctions"
//! iptc = "medtop:..."            # optional IPTC Media Topic code
//! strong = ["*sanctie*", "embargo*"]   # decisive triggers, weight 2
//! terms = ["strafmaatregel*"]          # typical triggers, weight 1
//! context = ["tegoeden"]               # weight 0.5, only count once there is other evidence
//! exclude = ["sanctie-arm"]            # words that never count for this topic
//! ```
//!
//! # Trigger syntax
//!
//! A trigger is one word pattern, or several separated by spaces (a phrase, matched against
//! consecutive tokens of one paragraph, e.g. `"tweede kamer"`, `"zwarte lijst*"`). A word
//! pattern is a literal with optional wildcards:
//!
//! | pattern   | matches a word that …                    | example                                   |
//! |-----------|------------------------------------------|-------------------------------------------|
//! | `word`    | is exactly the literal                   | `5g` matches `5G`, `5G-netwerken`         |
//! | `stem*`   | starts with it (inflection, modifier)    | `sanctie*`: `sancties`, `sanctiepakket`   |
//! | `*stem`   | ends with it (head of a compound)        | `*sancties`: `handelssancties`            |
//! | `*stem*`  | contains it (modifier or head)           | `*spionage*`: `spionagepraktijken`        |
//! | `=Word`   | as above, but the case must match        | `=DENK` (party), not `denk` (verb)        |
//!
//! Matching is case-insensitive unless the pattern starts with `=`. Before matching, a token is
//! lower-cased and loses a possessive (`Huawei's` → `huawei`, `auto's` → `auto`); a token
//! written with hyphens or slashes is matched as a whole and also part by part, so `5g` finds
//! `5G-infrastructuur` and `eu` finds `EU-sancties`. Wildcard stems need at least three
//! characters. An `exclude` pattern of a topic cancels its triggers on the word (or word part)
//! it matches: sport's `*sport*` with exclusion `*transport*` skips `transportsector`, and war's
//! `*oorlog*` with exclusion `*handelsoorlog*` skips the trade war.
//!
//! # Scoring rule
//!
//! Only tokens of paragraphs marked `true` in `article_paragraphs` count (missing entries count
//! as `false`); the first two such paragraphs are the headline and lead. One pass over the
//! tokens runs an Aho-Corasick automaton over each lower-cased token; each token (or phrase)
//! counts at most once per topic, with the weight of its best trigger: strong 2, term 1,
//! context 0.5, times 1.5 in the headline or lead.
//!
//! A topic is tagged only on real evidence, never on a single incidental word. It needs at least
//! one of:
//! - a strong trigger in the headline or lead;
//! - two different words among its strong and term hits;
//! - two hits of which one strong, or three hits of the same word.
//!
//! Context hits never open this gate but add to the score once it is open. The score grows with
//! the weight of the hits per length of the article: `density = weights / sqrt(max(words,
//! 100) / 100)`, `score = 1 - exp(-density / 4)`, in `0..1`, rounded to three decimals. Topics
//! scoring below 0.3 are dropped; the rest come sorted by score (ties by id). The evidence lists
//! the distinct matched words as they appear in the text (case-insensitively distinct, at most
//! ten): first the strong and term words, then the context words, each in order of appearance.

pub mod categories;
pub mod labelled;
mod matcher;
mod taxonomy;

#[cfg(test)]
mod tests;

use crate::text::Document;
use serde::Serialize;

pub use categories::{Category, CategoryModel, CategoryScore};
pub use taxonomy::Taxonomy;

/// A topic found in an article, with the words that gave it away.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicMatch {
    /// Stable topic id from the taxonomy.
    pub id: String,
    /// Display label (Dutch).
    pub label: String,
    /// English label.
    pub label_en: String,
    /// IPTC Media Topic code (`medtop:15000000`), where the taxonomy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptc: Option<String>,
    /// The news category the topic belongs to (one of [`Category::ALL`]), where the taxonomy
    /// names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Whether a strong (decisive) trigger of the topic stands in the headline or lead.
    #[serde(skip)]
    pub decisive_in_lead: bool,
    /// Score in `0..=1`.
    pub score: f64,
    /// The matched words, as they appear in the text (distinct, in order of first appearance).
    pub evidence: Vec<String>,
}

/// Tags documents with topics. Build once, share across threads.
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
    /// other languages); paragraphs without an entry are ignored too. Returns the topics that
    /// pass the evidence rule (see the module docs), best first.
    pub fn tag(&self, doc: &Document, article_paragraphs: &[bool]) -> Vec<TopicMatch> {
        matcher::tag(&self.taxonomy, doc, article_paragraphs)
    }
}
