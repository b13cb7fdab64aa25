//! Language identification of articles and paragraphs.
//!
//! [`LanguageDetector`] is a hybrid of two detectors:
//!
//! 1. **whatlang** looks at every text first. It is fast and knows about 70 languages, but
//!    confuses Dutch with Afrikaans and German, Danish with Norwegian, Spanish with Portuguese.
//!    Its answer stands when it names a language outside the ones below (Polish, Turkish,
//!    Russian, …), when it names Dutch, French or Spanish with confidence above 0.9, German,
//!    English, Italian, Swedish or Danish with confidence above 0.5, or Afrikaans with
//!    confidence above 0.5 in a text that has Afrikaans grammar words (`nie`, `'n`, `hy`).
//! 2. Otherwise **lingua**, restricted to the nine languages that matter most for Dutch news
//!    and that whatlang mixes up (Dutch, Afrikaans, German, English, Danish, Swedish, French,
//!    Spanish, Italian), decides:
//!    * whatlang said Dutch or Afrikaans: lingua decides between Dutch, Afrikaans, German and
//!      English only (whatlang's Dutch/Afrikaans mistakes stay within that group), and a short
//!      list of grammatical marker words breaks a Dutch/Afrikaans tie (see `dutch.rs`);
//!    * whatlang said another of the nine: lingua decides among all nine;
//!    * whatlang said Norwegian Bokmål, Portuguese or Catalan (its usual wrong answers for
//!      Danish and Spanish): lingua decides among the nine plus those three, so a real
//!      Norwegian text is still called Norwegian.
//!
//! On lingua's public test sentences (1,000 per language) this gets 98.4% of Dutch sentences
//! right (whatlang alone: 82.4%, lingua alone: 97.4%) and 98.4% on average over the nine
//! (92.2%, 99.1%), asking lingua for about a quarter of them; Polish and Turkish come out
//! exactly as with whatlang. `cargo bench --bench language_accuracy` measures all of this.
//!
//! # Confidence and reliability
//!
//! [`Detection::confidence`] is whatlang's confidence when whatlang decided, and lingua's
//! probability of the chosen language among its candidates when lingua decided. Long texts get
//! confidence close to 1. [`Detection::reliable`] means the confidence is at least
//! [`RELIABLE_CONFIDENCE`] *and* the text has at least [`MIN_RELIABLE_WORDS`] words: a headline
//! or "Volg ons" is never reliable, whatever its confidence.
//!
//! To mark paragraphs whose language differs from the article's, use
//! [`LanguageDetector::paragraph_language`], which is stricter still.
//!
//! Only the first [`MAX_CHARS`] characters of a text are looked at by whatlang, and the first
//! [`MAX_FINE_CHARS`] by lingua (plenty to tell these languages apart), which keeps long
//! articles cheap.

mod codes;
mod dutch;

use std::panic::{AssertUnwindSafe, catch_unwind};

use lingua::{Language as Lingua, LanguageDetectorBuilder};
use whatlang::Lang;

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
    /// [`RELIABLE_CONFIDENCE`] and at least [`MIN_RELIABLE_WORDS`] words.
    pub reliable: bool,
}

/// Confidence from which a detection of a long enough text counts as reliable.
pub const RELIABLE_CONFIDENCE: f64 = 0.9;

/// Fewest words (whitespace-separated runs containing a letter) a text needs for its detection
/// to count as reliable.
pub const MIN_RELIABLE_WORDS: usize = 5;

/// Fewest words a paragraph needs before [`LanguageDetector::paragraph_language`] will call it
/// foreign. Shorter paragraphs (headlines, captions, "Volg ons") take the article's language.
pub const MIN_FOREIGN_WORDS: usize = 8;

/// Paragraphs with at least this many words are called foreign from confidence
/// [`RELIABLE_CONFIDENCE`] up; shorter ones (down to [`MIN_FOREIGN_WORDS`]) need
/// [`SHORT_FOREIGN_CONFIDENCE`].
pub const LONG_PARAGRAPH_WORDS: usize = 15;

/// Confidence a paragraph shorter than [`LONG_PARAGRAPH_WORDS`] needs to be called foreign.
pub const SHORT_FOREIGN_CONFIDENCE: f64 = 0.98;

/// Only this many leading characters of a text are used for detection.
pub const MAX_CHARS: usize = 1000;

/// Only this many leading characters of a text are passed to lingua (whose cost grows with
/// the length of the text far faster than whatlang's, per character).
pub const MAX_FINE_CHARS: usize = 500;

/// When lingua gives the article's language at least this probability on a paragraph, the
/// paragraph is not called foreign: it could well be in the article's language.
const ARTICLE_LANGUAGE_DOUBT: f64 = 0.05;

/// Languages whose whatlang answer is taken as is, without asking lingua, from the given
/// whatlang confidence up. On lingua's test sentences whatlang was right every time (or all but
/// once in a thousand) when it named one of these with that confidence. Dutch, French and
/// Spanish need whatlang's own "reliable" level (above 0.9); Afrikaans is not here at all:
/// whatlang calls Dutch sentences Afrikaans even at full confidence.
const TRUSTED: [(Lang, f64); 8] = [
    (Lang::Nld, 0.9),
    (Lang::Fra, 0.9),
    (Lang::Spa, 0.9),
    (Lang::Deu, 0.5),
    (Lang::Eng, 0.5),
    (Lang::Ita, 0.5),
    (Lang::Swe, 0.5),
    (Lang::Dan, 0.5),
];

/// whatlang's confidence in Afrikaans from which, together with [`AFRIKAANS_MARKERS`], its
/// answer is taken without asking lingua.
const AFRIKAANS_CONFIDENCE: f64 = 0.5;

/// Marker score (see `dutch::marker_score`) at or below which the text has grammar words of
/// Afrikaans and not of Dutch, such as `nie` or `'n`.
const AFRIKAANS_MARKERS: f64 = -1.0;

/// whatlang's names for the languages of the West Germanic lingua detector (Dutch,
/// Afrikaans): when whatlang names one of these, lingua decides among `codes::WEST`.
const WEST_WHATLANG: [Lang; 2] = [Lang::Nld, Lang::Afr];

/// whatlang's names for the other languages of the nine.
const FINE_WHATLANG: [Lang; 7] = [
    Lang::Dan,
    Lang::Eng,
    Lang::Fra,
    Lang::Deu,
    Lang::Ita,
    Lang::Spa,
    Lang::Swe,
];

/// whatlang's names for the guard languages (see `codes::GUARDS`).
const GUARD_WHATLANG: [Lang; 3] = [Lang::Nob, Lang::Por, Lang::Cat];

/// Which detector made the final call; useful for benchmarks and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// whatlang alone.
    Whatlang,
    /// lingua over Dutch, Afrikaans, German and English.
    LinguaWest,
    /// lingua over the nine languages.
    Lingua,
    /// lingua over the nine languages plus Bokmål, Portuguese and Catalan.
    LinguaGuarded,
}

/// Detects the language of texts. Build once (it maps lingua's models, which are compiled into
/// the binary: a few milliseconds) and share across threads: it is `Send + Sync` and `detect`
/// takes `&self`.
pub struct LanguageDetector {
    coarse: whatlang::Detector,
    west: lingua::LanguageDetector,
    fine: lingua::LanguageDetector,
    guarded: lingua::LanguageDetector,
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
    /// A detector over all languages whatlang knows, with lingua refining the nine languages
    /// Dutch is confused with.
    pub fn new() -> Self {
        let guarded: Vec<Lingua> = codes::FINE
            .iter()
            .chain(codes::GUARDS.iter())
            .copied()
            .collect();
        Self {
            coarse: whatlang::Detector::new(),
            west: LanguageDetectorBuilder::from_languages(&codes::WEST)
                .with_preloaded_language_models()
                .build(),
            fine: LanguageDetectorBuilder::from_languages(&codes::FINE)
                .with_preloaded_language_models()
                .build(),
            guarded: LanguageDetectorBuilder::from_languages(&guarded)
                .with_preloaded_language_models()
                .build(),
        }
    }

    /// Detects the language of `text`; `None` when the text has no letters to go on.
    pub fn detect(&self, text: &str) -> Option<Detection> {
        self.detect_with_decider(text)
            .map(|(detection, _)| detection)
    }

    /// Like [`detect`](Self::detect), and also tells which detector made the call.
    pub fn detect_with_decider(&self, text: &str) -> Option<(Detection, Decider)> {
        // Neither library is known to panic, but a language guess is never worth a crash.
        catch_unwind(AssertUnwindSafe(|| self.detect_inner(text)))
            .ok()
            .flatten()
    }

    /// The language of a paragraph of an article whose language is `article_code` (ISO 639-1,
    /// as in [`Detection::code`]), but only when the paragraph is clearly in another language;
    /// `None` when it is in the article's language, or too short or too unclear to say.
    ///
    /// A paragraph is called foreign only when all of these hold:
    /// * it has at least [`MIN_FOREIGN_WORDS`] words;
    /// * [`detect`](Self::detect) names another language than the article's;
    /// * the confidence in that language is at least [`RELIABLE_CONFIDENCE`], or
    ///   [`SHORT_FOREIGN_CONFIDENCE`] below [`LONG_PARAGRAPH_WORDS`] words: the confidence of
    ///   a [reliable](Detection::reliable) detection or, when lingua knows both languages (the
    ///   nine, Bokmål, Portuguese, Catalan) and names the same one, lingua's;
    /// * when lingua knows both languages, it gives the article's language less than a 5%
    ///   chance.
    ///
    /// So a Dutch headline in a Dutch article is never marked, while an English quote of 15
    /// words or more almost always is.
    pub fn paragraph_language(&self, text: &str, article_code: &str) -> Option<Detection> {
        catch_unwind(AssertUnwindSafe(|| {
            self.paragraph_inner(text, article_code)
        }))
        .ok()
        .flatten()
    }

    fn paragraph_inner(&self, text: &str, article_code: &str) -> Option<Detection> {
        let text = prefix(text, MAX_CHARS);
        let words = word_count(text);
        if words < MIN_FOREIGN_WORDS {
            return None;
        }
        let detection = self.detect_inner(text)?.0;
        if detection.code == article_code {
            return None;
        }
        let needed = if words < LONG_PARAGRAPH_WORDS {
            SHORT_FOREIGN_CONFIDENCE
        } else {
            RELIABLE_CONFIDENCE
        };
        let article = codes::lingua_for_code(article_code);
        let detected = codes::lingua_for_code(detection.code);
        let (Some(article), Some(detected)) = (article, detected) else {
            // lingua does not know one of the two (say, a Polish paragraph): for a language
            // outside its set, lingua would only say which of its own languages is least unlike
            // the text, so whatlang's word stands.
            return (detection.reliable && detection.confidence >= needed).then_some(detection);
        };
        // Both known to lingua: a second opinion, which also covers texts that whatlang named
        // with middling confidence.
        let detector = if codes::FINE.contains(&article) && codes::FINE.contains(&detected) {
            &self.fine
        } else {
            &self.guarded
        };
        let values =
            sanitized(detector.compute_language_confidence_values(prefix(text, MAX_FINE_CHARS)));
        let confidence_of = |lang: Lingua| {
            values
                .iter()
                .find(|(l, _)| *l == lang)
                .map_or(0.0, |&(_, c)| c)
        };
        // lingua's confidence counts when it agrees on the language; the hybrid's own counts when
        // it is reliable.
        let lingua_confidence = values
            .first()
            .filter(|(top, _)| *top == detected)
            .map_or(0.0, |&(_, c)| c);
        let own_confidence = if detection.reliable {
            detection.confidence
        } else {
            0.0
        };
        let confidence = lingua_confidence.max(own_confidence);
        if confidence < needed || confidence_of(article) >= ARTICLE_LANGUAGE_DOUBT {
            return None;
        }
        Some(Detection {
            confidence,
            reliable: true,
            ..detection
        })
    }

    fn detect_inner(&self, text: &str) -> Option<(Detection, Decider)> {
        let text = prefix(text, MAX_CHARS);
        let info = self.coarse.detect(text)?;
        let words = word_count(text);
        let lang = info.lang();
        let from_whatlang = || {
            let (code, name) = codes::from_whatlang(lang);
            let confidence = info.confidence();
            let confidence = if confidence.is_nan() {
                0.0
            } else {
                confidence.clamp(0.0, 1.0)
            };
            (detection(code, name, confidence, words), Decider::Whatlang)
        };
        let trusted = TRUSTED
            .iter()
            .any(|&(l, min)| l == lang && info.confidence() > min);
        let fine_text = prefix(text, MAX_FINE_CHARS);
        // Afrikaans needs a second opinion because whatlang calls Dutch Afrikaans; when the
        // grammar words say Afrikaans too, it is Afrikaans (never wrong on lingua's tests).
        let afrikaans = lang == Lang::Afr
            && info.confidence() > AFRIKAANS_CONFIDENCE
            && dutch::marker_score(fine_text) <= AFRIKAANS_MARKERS;
        if trusted || afrikaans {
            return Some(from_whatlang());
        }
        let (detector, decider) = if WEST_WHATLANG.contains(&lang) {
            (&self.west, Decider::LinguaWest)
        } else if FINE_WHATLANG.contains(&lang) {
            (&self.fine, Decider::Lingua)
        } else if GUARD_WHATLANG.contains(&lang) {
            (&self.guarded, Decider::LinguaGuarded)
        } else {
            return Some(from_whatlang());
        };
        let values = sanitized(detector.compute_language_confidence_values(fine_text));
        Some(
            refine(fine_text, &values, words)
                .map(|d| (d, decider))
                .unwrap_or_else(from_whatlang),
        )
    }
}

/// lingua's verdict from its sorted confidence values, with the Dutch/Afrikaans tie broken by
/// marker words; `None` when lingua had nothing to go on.
fn refine(text: &str, values: &[(Lingua, f64)], words: usize) -> Option<Detection> {
    let &(first, first_confidence) = values.first()?;
    if first_confidence <= 0.0 {
        return None;
    }
    let (mut chosen, mut confidence) = (first, first_confidence);
    if let Some(&(second, second_confidence)) = values.get(1) {
        let pair = [first, second];
        if pair.contains(&Lingua::Dutch) && pair.contains(&Lingua::Afrikaans) {
            let score = dutch::marker_score(text);
            let by_markers = if score > 0.0 {
                Some(Lingua::Dutch)
            } else if score < 0.0 {
                Some(Lingua::Afrikaans)
            } else {
                None
            };
            if let Some(lang) = by_markers.filter(|&l| l != first) {
                // The markers overrule lingua: the pair's joint probability, discounted by how
                // thin the marker evidence is (one marker: half of it).
                let strength = score.abs() / (score.abs() + 1.0);
                chosen = lang;
                confidence =
                    second_confidence.max((first_confidence + second_confidence) * strength);
            }
        }
    }
    let (code, name) = codes::from_lingua(chosen)?;
    Some(detection(code, name, confidence.clamp(0.0, 1.0), words))
}

/// lingua's confidence values with anything outside `0..=1` (a NaN, say) made safe to compare.
fn sanitized(mut values: Vec<(Lingua, f64)>) -> Vec<(Lingua, f64)> {
    for (_, confidence) in &mut values {
        *confidence = if confidence.is_nan() {
            0.0
        } else {
            confidence.clamp(0.0, 1.0)
        };
    }
    values
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
