//! The single pass over an article's tokens that finds trigger hits, and the scoring rule that
//! turns hits into topics (see the module docs of [`super`]).

use super::TopicMatch;
use super::taxonomy::{Target, Taxonomy, Tier, WordPattern};
use crate::text::Document;
use aho_corasick::Input;
use std::ops::Range;

/// Weight of a `strong` trigger hit.
pub const WEIGHT_STRONG: f64 = 2.0;
/// Weight of a `terms` trigger hit.
pub const WEIGHT_TERM: f64 = 1.0;
/// Weight of a `context` trigger hit.
pub const WEIGHT_CONTEXT: f64 = 0.5;
/// Factor for hits in the headline and lead (the first [`LEAD_PARAGRAPHS`] article paragraphs).
pub const LEAD_FACTOR: f64 = 1.5;
/// How many article paragraphs count as headline and lead.
pub const LEAD_PARAGRAPHS: usize = 2;
/// Density at which the score reaches `1 - 1/e` (about 0.63).
pub const SATURATION: f64 = 4.0;
/// Article length (in words) below which no length correction applies.
pub const BASE_WORDS: f64 = 100.0;
/// Topics scoring below this are dropped.
pub const MIN_SCORE: f64 = 0.3;
/// Most evidence words reported per topic.
pub const MAX_EVIDENCE: usize = 10;

/// What one token or phrase contributed to one topic.
#[derive(Debug, Clone, Copy)]
struct Hit {
    topic: usize,
    tier: Tier,
    /// Number of tokens covered (1, or the phrase length).
    len: usize,
}

/// Running evidence for one topic in one article.
#[derive(Debug, Default)]
struct Acc {
    /// Sum of weights of strong and term hits.
    raw: f64,
    /// Sum of weights of context hits.
    context_raw: f64,
    /// Number of strong and term hits.
    hits: u32,
    /// Number of strong hits.
    strong_hits: u32,
    /// Whether a strong trigger hit in the headline or lead.
    strong_in_lead: bool,
    /// The first (normalized) word of a strong or term hit.
    first_word: Option<String>,
    /// Whether a second, different word hit.
    two_words: bool,
    /// Tokens before this index are covered by an earlier hit (a phrase) of this topic.
    covered_until: usize,
    /// Distinct strong and term words as they appear, in order.
    evidence: Vec<String>,
    /// Distinct context words as they appear, in order.
    context_evidence: Vec<String>,
}

impl Acc {
    /// The evidence gate: a strong trigger in the headline or lead, or two different words,
    /// or two hits of which one strong, or three hits.
    fn has_evidence(&self) -> bool {
        self.strong_in_lead
            || self.two_words
            || (self.hits >= 2 && self.strong_hits >= 1)
            || self.hits >= 3
    }
}

/// A token normalized for matching: lower-cased, possessive removed, split into hyphen parts.
#[derive(Debug, Default)]
struct Word {
    /// The lower-cased word.
    lower: String,
    /// The original word with the same possessive removed; empty when lower-casing changed byte
    /// lengths (case-sensitive patterns then can't match).
    original: String,
    /// Byte ranges of the forms matched against: the whole word, then each hyphen part.
    forms: Vec<(usize, usize)>,
}

impl Word {
    /// Normalizes `token` into `self`, reusing its buffers.
    fn load(&mut self, token: &str) {
        self.lower.clear();
        self.original.clear();
        self.forms.clear();
        let mut aligned = true;
        for c in token.chars() {
            let before = self.lower.len();
            self.lower.extend(c.to_lowercase());
            aligned &= self.lower.len() - before == c.len_utf8();
        }
        let stripped = strip_possessive(&self.lower).len();
        self.lower.truncate(stripped);
        if aligned {
            self.original.push_str(token.get(..stripped).unwrap_or(""));
        }
        let n = self.lower.len();
        self.forms.push((0, n));
        if self.lower.contains(is_part_separator) {
            let mut start = 0;
            for (i, c) in self.lower.char_indices() {
                if is_part_separator(c) {
                    if i > start {
                        self.forms.push((start, i));
                    }
                    start = i + c.len_utf8();
                }
            }
            if start < n && start > 0 {
                self.forms.push((start, n));
            }
        }
    }

    /// The original text aligned with `lower`, if any.
    fn original(&self) -> Option<&str> {
        (!self.original.is_empty() || self.lower.is_empty()).then_some(self.original.as_str())
    }

    fn matches(&self, pattern: &WordPattern) -> bool {
        pattern.matches(&self.lower, self.original(), &self.forms)
    }
}

/// Characters that join the parts of a written compound (`5G-netwerken`, `EU/VS`).
fn is_part_separator(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '/')
}

/// Removes a possessive ending: `huawei's` → `huawei`, `mathias'` → `mathias`.
fn strip_possessive(word: &str) -> &str {
    ["'s", "’s", "'", "’"]
        .iter()
        .filter_map(|ending| word.strip_suffix(ending))
        .find(|stem| stem.chars().count() >= 2)
        .unwrap_or(word)
}

/// Whether the automaton match `start..end` of a pattern fits one of the word's forms.
fn fits(pattern: &WordPattern, word: &Word, start: usize, end: usize) -> Option<usize> {
    if pattern.case_sensitive {
        let original = word.original()?;
        if original.get(start..end) != Some(pattern.literal.as_str()) {
            return None;
        }
    }
    word.forms.iter().position(|&(a, b)| {
        a <= start
            && end <= b
            && (pattern.open_start || start == a)
            && (pattern.open_end || end == b)
    })
}

/// Token index range of a paragraph.
pub fn paragraph_tokens(doc: &Document, sentences: &Range<usize>) -> Range<usize> {
    let first = doc.sentences.get(sentences.start);
    let last = sentences
        .end
        .checked_sub(1)
        .and_then(|i| doc.sentences.get(i));
    match (first, last) {
        (Some(f), Some(l)) if f.start <= l.end => f.start..l.end.min(doc.tokens.len()),
        _ => 0..0,
    }
}

/// Reusable buffers for finding the trigger hits of one token.
#[derive(Debug, Default)]
struct Scanner {
    word: Word,
    next: Word,
    hits: Vec<Hit>,
    excluded: Vec<(usize, usize)>,
    candidates: Vec<(usize, usize)>,
}

impl Scanner {
    /// Fills `self.hits` with the hits of the token `i` (at most one per topic: the longest,
    /// then the strongest); phrases may extend up to token `end` (exclusive). Returns false when
    /// the token is not a word.
    fn scan(&mut self, taxonomy: &Taxonomy, doc: &Document, i: usize, end: usize) -> bool {
        self.hits.clear();
        let Some(automaton) = &taxonomy.automaton else {
            return false;
        };
        let Some(token) = doc.tokens.get(i).and_then(|t| doc.text.get(t.bytes())) else {
            return false;
        };
        if !token.chars().any(char::is_alphanumeric) {
            return false;
        }
        self.word.load(token);
        self.excluded.clear();
        self.candidates.clear();
        let Ok(matches) = automaton.try_find_overlapping_iter(Input::new(&self.word.lower)) else {
            return true;
        };
        for m in matches {
            let Some(uses) = taxonomy.uses.get(m.pattern().as_usize()) else {
                continue;
            };
            for u in uses {
                let Some(form) = fits(&u.pattern, &self.word, m.start(), m.end()) else {
                    continue;
                };
                match u.target {
                    Target::Exclude(topic) => self.excluded.push((topic, form)),
                    Target::Trigger(t) => self.candidates.push((t, form)),
                }
            }
        }
        for &(t, form) in &self.candidates {
            let Some(trigger) = taxonomy.triggers.get(t) else {
                continue;
            };
            // An exclusion of the whole word covers its parts too.
            if self.excluded.contains(&(trigger.topic, form))
                || self.excluded.contains(&(trigger.topic, 0))
            {
                continue;
            }
            // A phrase: the following tokens of the paragraph must match its other words.
            let len = trigger.words.len();
            if len > 1 {
                if i + len > end {
                    continue;
                }
                let next = &mut self.next;
                let rest_ok = trigger.words[1..].iter().enumerate().all(|(k, pattern)| {
                    doc.tokens
                        .get(i + 1 + k)
                        .and_then(|t| doc.text.get(t.bytes()))
                        .is_some_and(|tok| {
                            next.load(tok);
                            next.matches(pattern)
                        })
                });
                if !rest_ok {
                    continue;
                }
            }
            self.hits.push(Hit {
                topic: trigger.topic,
                tier: trigger.tier,
                len,
            });
        }
        self.hits.sort_by(|a, b| {
            a.topic
                .cmp(&b.topic)
                .then(b.len.cmp(&a.len))
                .then(weight(b.tier).total_cmp(&weight(a.tier)))
        });
        self.hits.dedup_by_key(|h| h.topic);
        true
    }
}

/// The topics (id and tier) that the first token of `text` triggers on its own, before the
/// evidence rule: for tests and for debugging a taxonomy.
#[cfg(test)]
pub fn word_hits(taxonomy: &Taxonomy, text: &str) -> Vec<(String, Tier)> {
    let doc = Document::new(text);
    let mut scanner = Scanner::default();
    scanner.scan(taxonomy, &doc, 0, doc.tokens.len());
    scanner
        .hits
        .iter()
        .filter_map(|h| taxonomy.topics.get(h.topic).map(|t| (t.id.clone(), h.tier)))
        .collect()
}

/// Tags `doc` with topics of `taxonomy`; see the module docs for the rule.
pub fn tag(taxonomy: &Taxonomy, doc: &Document, article_paragraphs: &[bool]) -> Vec<TopicMatch> {
    if taxonomy.automaton.is_none() {
        return Vec::new();
    }
    let mut accs: Vec<Acc> = (0..taxonomy.topics.len()).map(|_| Acc::default()).collect();
    let mut scanner = Scanner::default();
    let mut words = 0usize;
    let mut article_paragraph = 0usize;

    for (p, paragraph) in doc.paragraphs.iter().enumerate() {
        if article_paragraphs.get(p) != Some(&true) {
            continue;
        }
        let lead = article_paragraph < LEAD_PARAGRAPHS;
        article_paragraph += 1;
        let range = paragraph_tokens(doc, &paragraph.sentences);
        for i in range.clone() {
            if !scanner.scan(taxonomy, doc, i, range.end) {
                continue;
            }
            words += 1;
            let Some(token) = doc.tokens.get(i).and_then(|t| doc.text.get(t.bytes())) else {
                continue;
            };
            for hit in &scanner.hits {
                let Some(acc) = accs.get_mut(hit.topic) else {
                    continue;
                };
                if i < acc.covered_until {
                    continue;
                }
                acc.covered_until = i + hit.len;
                let w = weight(hit.tier) * if lead { LEAD_FACTOR } else { 1.0 };
                let (surface, key) = if hit.len == 1 {
                    (token.to_owned(), scanner.word.lower.clone())
                } else {
                    let end = doc.tokens.get(i + hit.len - 1).map_or(0, |t| t.end);
                    let start = doc.tokens.get(i).map_or(0, |t| t.start);
                    let s = doc.text.get(start..end).unwrap_or(token).to_owned();
                    let k = s.to_lowercase();
                    (s, k)
                };
                if hit.tier == Tier::Context {
                    acc.context_raw += w;
                } else {
                    acc.raw += w;
                    acc.hits += 1;
                    if hit.tier == Tier::Strong {
                        acc.strong_hits += 1;
                        acc.strong_in_lead |= lead;
                    }
                    match &acc.first_word {
                        None => acc.first_word = Some(key),
                        Some(first) => acc.two_words |= *first != key,
                    }
                }
                let list = if hit.tier == Tier::Context {
                    &mut acc.context_evidence
                } else {
                    &mut acc.evidence
                };
                push_distinct(list, surface);
            }
        }
    }

    let length_factor = (words as f64).max(BASE_WORDS) / BASE_WORDS;
    let mut out: Vec<TopicMatch> = accs
        .into_iter()
        .enumerate()
        .filter(|(_, acc)| acc.has_evidence())
        .filter_map(|(n, mut acc)| {
            let density = (acc.raw + acc.context_raw) / length_factor.sqrt();
            let score = 1.0 - (-density / SATURATION).exp();
            let score = (score * 1000.0).round() / 1000.0;
            if score < MIN_SCORE {
                return None;
            }
            let info = taxonomy.topics.get(n)?;
            for word in std::mem::take(&mut acc.context_evidence) {
                push_distinct(&mut acc.evidence, word);
            }
            Some(TopicMatch {
                id: info.id.clone(),
                label: info.label_nl.clone(),
                label_en: info.label_en.clone(),
                iptc: info.iptc.clone(),
                category: info.category.clone(),
                decisive_in_lead: acc.strong_in_lead,
                score,
                evidence: acc.evidence,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Adds `word` to an evidence list unless it is full or has the word in any case.
fn push_distinct(list: &mut Vec<String>, word: String) {
    if list.len() < MAX_EVIDENCE && !list.iter().any(|e| e.to_lowercase() == word.to_lowercase()) {
        list.push(word);
    }
}

fn weight(tier: Tier) -> f64 {
    match tier {
        Tier::Strong => WEIGHT_STRONG,
        Tier::Term => WEIGHT_TERM,
        Tier::Context => WEIGHT_CONTEXT,
    }
}
