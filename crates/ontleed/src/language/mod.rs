//! Language identification of articles and paragraphs, designed for Dutch news.
//!
//! Mistaking a Dutch article for another language is the costliest error of the pipeline: the
//! article is then skipped. So [`LanguageDetector`] reads a text the way a Dutch news desk
//! would, in a few rules, each measured (`cargo bench --bench language_accuracy`; the figures
//! are in README.md, "Language identification, measured"):
//!
//! 1. **Letters.** A text without a letter (digits, punctuation, zero-width characters) has no
//!    language: `None`.
//! 2. **Evidence.** Names inside a sentence, acronyms, numbers, URLs, hashtags and @handles say
//!    nothing about the language of the sentence around them; they are dropped before anything
//!    else looks at the text (see `evidence.rs`).
//! 3. **No evidence, no verdict against Dutch.** A Latin-script text with fewer than
//!    [`MIN_EVIDENCE_WORDS`] evidence words ("Huawei in Shenzhen.") is called Dutch, with
//!    `reliable: false` and confidence 0. Other scripts are evidence in themselves.
//! 4. **First cut by whatlang.** whatlang (about 70 languages, fast) reads the evidence. When
//!    it is sure (its own `is_reliable`: confidence above 0.9) of Dutch, or of a language it
//!    does not confuse when sure (French, Italian, Polish, Finnish, …: anything outside the
//!    groups below), that is the answer; so is its answer for a script without a group
//!    (Greek, Arabic, Chinese, …).
//! 5. **Groups by the n-gram model.** Otherwise a character n-gram model distilled from
//!    lingua's (`ngrams.rs`: lingua's probabilities and scoring, 14.7 MB) decides, always with
//!    Dutch among the candidates:
//!    * whatlang is sure of English, German or Afrikaans: the model weighs that language
//!      against Dutch only (whatlang's sure answers in this group go wrong only towards Dutch);
//!    * whatlang is sure of a language of another group (Danish/Norwegian/Swedish;
//!      Spanish/Portuguese/Catalan; Russian/Ukrainian/Bulgarian/Belarusian/Serbian/Macedonian;
//!      Turkish/Azerbaijani), or the text is Cyrillic: the model decides within that group;
//!    * whatlang is unsure: the model decides among whatlang's group (French and Italian count
//!      as Romance here), the Dutch group (Dutch, Afrikaans, German, English), and whatlang's
//!      language if the model knows it (Polish).
//! 6. **Close calls go to Dutch.** The model scores a language by the average log probability
//!    per letter, so the evidence of a whole text is taken as its number of evidence words times
//!    the difference between the best language's average and Dutch's (the log of the ratio of
//!    their confidences); another language is named only when that exceeds the log of
//!    [`PREFERENCE_ODDS`], the prior odds for Dutch in a Dutch news stream.
//!    When Dutch wins only thanks to these odds, the detection is not reliable. Between Dutch
//!    and Afrikaans, grammar words decide instead when the text has any (`de`, `hij`, `niet`
//!    against `nie`, `'n`, `hy`; see `dutch.rs`).
//!
//! For [`LanguageDetector::paragraph_language`] the article's language plays the part that
//! Dutch plays in rules 3 and 6: a paragraph is foreign only when it is clearly so.
//!
//! Frisian and Galician cannot be told apart: neither whatlang nor lingua has a model for them;
//! Frisian text comes out Dutch, Galician Portuguese or Spanish.
//!
//! # Confidence and reliability
//!
//! [`Detection::confidence`] is whatlang's confidence when whatlang decided, and the n-gram
//! model's probability of the chosen language among its candidates when the model decided. Long texts get
//! confidence close to 1. [`Detection::reliable`] means the confidence is at least
//! [`RELIABLE_CONFIDENCE`], the text has at least [`MIN_RELIABLE_WORDS`] evidence words, and
//! the answer did not need the margin of rule 6.
//!
//! Only the first [`MAX_CHARS`] characters of a text are looked at by whatlang, and the first
//! [`MAX_FINE_CHARS`] by the n-gram model (plenty to tell these languages apart), which keeps long
//! articles cheap.

mod codes;
mod dutch;
mod evidence;
mod ngrams;

use std::panic::{AssertUnwindSafe, catch_unwind};

use whatlang::{Lang, Script};

use codes::Group;

/// The detected language of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// ISO 639-1 code where one exists (`nl`), else ISO 639-3.
    pub code: &'static str,
    /// English name (`Dutch`).
    pub name: &'static str,
    /// Confidence in `0..=1`.
    pub confidence: f64,
    /// Whether the detection is reliable enough to act on: confidence at least
    /// [`RELIABLE_CONFIDENCE`], at least [`MIN_RELIABLE_WORDS`] evidence words, and no benefit
    /// of the doubt given to Dutch.
    pub reliable: bool,
}

/// Confidence from which a detection of a long enough text counts as reliable.
pub const RELIABLE_CONFIDENCE: f64 = 0.9;

/// Fewest evidence words (see `evidence.rs`: names, numbers and links do not count) a text
/// needs for its detection to count as reliable.
pub const MIN_RELIABLE_WORDS: usize = 5;

/// Fewest evidence words a Latin-script text needs before it can be called anything but Dutch
/// (or, for a paragraph, the article's language).
pub const MIN_EVIDENCE_WORDS: usize = 3;

/// Prior odds for Dutch (or the article's language, for a paragraph): another language is named
/// only when the evidence for it outweighs these odds (rule 6 of the module documentation).
/// Measured from 1 to 100,000 by `cargo bench --bench language_accuracy`: at 10 the Dutch
/// headlines reach 99.5% (95.7% at 1) while German, English and Afrikaans sentences stay at
/// 97.7%, 98.6% and 95.3% (at 1,000: 92.0%, 93.0% and 90.8%).
pub const PREFERENCE_ODDS: f64 = 10.0;

/// Fewest words a paragraph needs before [`LanguageDetector::paragraph_language`] will call it
/// foreign. Shorter paragraphs (headlines, captions, "Volg ons") take the article's language.
pub const MIN_FOREIGN_WORDS: usize = 8;

/// Only this many leading characters of a text are used for detection.
pub const MAX_CHARS: usize = 1000;

/// Only this many leading characters of the evidence are passed to the n-gram model.
pub const MAX_FINE_CHARS: usize = 500;

/// Which rule made the final call; useful for benchmarks and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// Too little evidence: the preferred language (Dutch), unreliable.
    NoEvidence,
    /// whatlang alone (a language outside the groups, or another script).
    Whatlang,
    /// The n-gram model among a group, and the preferred language won or was clearly beaten.
    Ngrams,
    /// The n-gram model between whatlang's sure answer in the Dutch group and the preferred
    /// language.
    NgramsPair,
    /// The n-gram model preferred another language, but not by [`PREFERENCE_ODDS`]: the
    /// preferred one.
    Margin,
}

/// Detects the language of texts. Build once (it indexes the n-gram model compiled into the
/// binary, about 5 ms) and share across threads: it is `Send + Sync` and `detect` takes
/// `&self`.
pub struct LanguageDetector {
    coarse: whatlang::Detector,
    /// The n-gram model of the confusable groups (`ngrams.rs`).
    fine: ngrams::Model,
    odds: f64,
    markers: bool,
}

impl std::fmt::Debug for LanguageDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageDetector").finish_non_exhaustive()
    }
}

impl Default for LanguageDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl LanguageDetector {
    /// A detector over all languages whatlang knows, with the n-gram model deciding within the
    /// groups of languages whatlang confuses.
    pub fn new() -> Self {
        Self {
            coarse: whatlang::Detector::new(),
            fine: ngrams::Model::embedded(),
            odds: PREFERENCE_ODDS,
            markers: true,
        }
    }

    /// The same detector with another margin than [`PREFERENCE_ODDS`] (at least 1): for
    /// measuring the margin's effect (`cargo bench --bench language_accuracy`).
    pub fn with_preference_odds(mut self, odds: f64) -> Self {
        self.odds = if odds.is_nan() { 1.0 } else { odds.max(1.0) };
        self
    }

    /// The same detector without the Dutch/Afrikaans grammar words of rule 6: for measuring them.
    pub fn without_afrikaans_markers(mut self) -> Self {
        self.markers = false;
        self
    }

    /// Detects the language of `text`; `None` when the text has no letters to go on. Close
    /// calls and texts without evidence come out Dutch (unreliable).
    pub fn detect(&self, text: &str) -> Option<Detection> {
        self.detect_with_decider(text)
            .map(|(detection, _)| detection)
    }

    /// Like [`detect`](Self::detect), and also tells which rule made the call.
    pub fn detect_with_decider(&self, text: &str) -> Option<(Detection, Decider)> {
        // Neither library is known to panic, but a language guess is never worth a crash.
        catch_unwind(AssertUnwindSafe(|| self.decide(text, "nl")))
            .ok()
            .flatten()
    }

    /// The language of a paragraph of an article whose language is `article_code` (ISO 639-1,
    /// as in [`Detection::code`]), but only when the paragraph is clearly in another language;
    /// `None` when it is in the article's language, or too short or too unclear to say.
    ///
    /// A paragraph is called foreign only when it has at least [`MIN_FOREIGN_WORDS`] words and
    /// the detector, preferring the article's language as [`detect`](Self::detect) prefers
    /// Dutch, names another language *reliably*. So a Dutch headline in a Dutch article is never
    /// marked, while an English quote of a sentence or more almost always is.
    pub fn paragraph_language(&self, text: &str, article_code: &str) -> Option<Detection> {
        catch_unwind(AssertUnwindSafe(|| {
            let text = prefix(text, MAX_CHARS);
            if word_count(text) < MIN_FOREIGN_WORDS {
                return None;
            }
            // An article language the n-gram model does not know (Finnish, say) cannot be
            // preferred: then Dutch, the pipeline's own language, keeps that part.
            let preferred = self
                .fine
                .index(article_code)
                .map_or("nl", |i| self.fine.code(i));
            let (detection, _) = self.decide(text, preferred)?;
            (detection.code != article_code && detection.reliable).then_some(detection)
        }))
        .ok()
        .flatten()
    }

    /// Rules 1 to 6 of the module documentation, with `preferred` (an ISO 639-1 code the
    /// n-gram model knows) in the part of Dutch.
    fn decide(&self, text: &str, preferred: &'static str) -> Option<(Detection, Decider)> {
        let text = prefix(text, MAX_CHARS);
        // Rule 1: letters.
        if !text.chars().any(char::is_alphabetic) {
            return None;
        }
        let (preferred_code, preferred_name) = codes::name(preferred).unwrap_or(("nl", "Dutch"));
        let preferred_detection = |confidence: f64, decider: Decider| {
            Some((
                Detection {
                    code: preferred_code,
                    name: preferred_name,
                    confidence,
                    reliable: false,
                },
                decider,
            ))
        };
        // Rule 2: evidence.
        let (evidence, words) = evidence::evidence(text);
        let info = if words >= MIN_EVIDENCE_WORDS {
            self.coarse.detect(&evidence)?
        } else {
            // Rule 3: too little evidence, unless the script says enough.
            let script = self.coarse.detect_script(text);
            if script.is_none_or(|s| s == Script::Latin) {
                return preferred_detection(0.0, Decider::NoEvidence);
            }
            self.coarse.detect(text)?
        };
        let latin = info.script() == Script::Latin;
        let lang = info.lang();
        let (code, name) = codes::from_whatlang(lang);
        let sure = info.is_reliable();
        let from_whatlang = || {
            Some((
                detection(code, name, sane(info.confidence()), words),
                Decider::Whatlang,
            ))
        };
        // Rule 4: whatlang is sure of the preferred language or of one it does not confuse
        // when sure (outside the groups, and French and Italian).
        let group = Group::of_whatlang(lang);
        let known = self.fine.index(code);
        let distinct = group.is_none() || matches!(lang, Lang::Fra | Lang::Ita);
        if (sure && (code == preferred_code || distinct)) || (!latin && group.is_none()) {
            return from_whatlang();
        }
        // Rule 5: the n-gram model decides: among whatlang's group; when whatlang is unsure,
        // among its group and the Dutch group; when whatlang is sure of a language of the Dutch
        // group (its sure answers there are wrong only towards Dutch and Afrikaans), between
        // that language and the preferred one.
        let pair = sure && group == Some(Group::West);
        let group_languages = group.map_or(&[][..], |g| g.languages());
        let preferred_index = self.fine.index(preferred_code);
        let mut set: Vec<u8> = if pair {
            known.into_iter().collect()
        } else if sure || !latin {
            group_languages
                .iter()
                .filter_map(|c| self.fine.index(c))
                .collect()
        } else {
            group_languages
                .iter()
                .chain(Group::West.languages())
                .filter_map(|c| self.fine.index(c))
                .chain(known)
                .collect()
        };
        set.extend(preferred_index);
        set.sort_unstable();
        set.dedup();
        if set.len() < 2 {
            return from_whatlang();
        }
        // Each evidence word counts as one observation of the per-letter average.
        let values = self
            .fine
            .confidences(prefix(&evidence, MAX_FINE_CHARS), &set, words as f64);
        let Some(&(top, top_confidence)) = values.first() else {
            return from_whatlang();
        };
        // Also catches a NaN.
        if top_confidence.is_nan() || top_confidence <= 0.0 {
            return from_whatlang();
        }
        let preferred_confidence = values
            .iter()
            .find(|v| Some(v.0) == preferred_index)
            .map_or(0.0, |v| v.1);
        let top_code = self.fine.code(top);
        // Rule 6: close calls go to the preferred language. Between Dutch and Afrikaans the
        // grammar words decide when there are any (Afrikaans has no `de`, `hij`, `niet`; Dutch
        // no `nie`, `'n`, `hy`).
        if top_code != preferred_code {
            let grammar = if self.markers && top_code == "af" && preferred_code == "nl" {
                dutch::marker_score(&evidence)
            } else {
                0.0
            };
            // Each grammar word counts as much as the prior odds.
            let log_odds = (top_confidence / preferred_confidence).ln() - grammar * self.odds.ln();
            if log_odds < self.odds.ln() {
                return preferred_detection(sane(preferred_confidence), Decider::Margin);
            }
        }
        let (code, name) = codes::name(top_code)?;
        Some((
            detection(code, name, sane(top_confidence), words),
            if pair {
                Decider::NgramsPair
            } else {
                Decider::Ngrams
            },
        ))
    }
}

/// A confidence made safe: NaN becomes 0, anything else is clamped to `0..=1`.
fn sane(confidence: f64) -> f64 {
    if confidence.is_nan() {
        0.0
    } else {
        confidence.clamp(0.0, 1.0)
    }
}

fn detection(code: &'static str, name: &'static str, confidence: f64, words: usize) -> Detection {
    Detection {
        code,
        name,
        confidence,
        reliable: confidence >= RELIABLE_CONFIDENCE && words >= MIN_RELIABLE_WORDS,
    }
}

/// Whitespace-separated runs that contain at least one letter.
fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

/// The first `max_chars` characters of `text`, cut back to the last whitespace when there is
/// one in the last tenth, so no word is cut in two.
fn prefix(text: &str, max_chars: usize) -> &str {
    let Some((end, _)) = text.char_indices().nth(max_chars) else {
        return text;
    };
    let head = &text[..end];
    match head.rfind(char::is_whitespace) {
        Some(cut) if cut >= end - end / 10 => &head[..cut],
        _ => head,
    }
}

#[cfg(test)]
mod tests;
