//! Dutch against Afrikaans: the one pair that both n-gram detectors confuse most.
//!
//! The two languages share most of their vocabulary, so character n-grams alone do not separate
//! short sentences well. A handful of grammatical words and spellings do: Afrikaans has no
//! article `de` (it uses `die`), writes `y` where Dutch writes `ij` (`hy`, `tyd`), negates with
//! `nie`, and uses `'n` as its indefinite article; Dutch spells `sch` where Afrikaans has `sk`
//! (`school`, `skool`), ends verbs in `dt` (`wordt`, `vindt`: Afrikaans `word`, `vind`) and
//! makes diminutives in `-je`, `-tje` (Afrikaans `-ie`, `-tjie`). [`marker_score`] counts that
//! evidence; it is consulted when the n-gram model prefers Afrikaans to Dutch (rule 6 in
//! `mod.rs`).
//!
//! The word lists were written from grammar, not fitted to a test set.

/// Words that are common in Dutch and absent (or very rare) in Afrikaans.
const DUTCH: &[&str] = &[
    "de", "hij", "zij", "ze", "zijn", "niet", "werd", "wordt", "worden", "bij", "door", "naar",
    "voor", "zich", "deze", "geen", "heeft", "hebben", "zal", "zullen", "tijdens", "echter",
    "nieuwe", "jaren", "geboren", "telt",
];

/// Words that are common in Afrikaans and absent (or very rare) in Dutch.
const AFRIKAANS: &[&str] = &[
    "nie", "'n", "hy", "sy", "vir", "hierdie", "baie", "gewees", "word", "tydens", "ek", "jy",
    "hulle", "julle", "sal", "nuwe", "jare", "gebore", "egter", "asook",
];

/// Evidence for Dutch (positive) against Afrikaans (negative) in `text`: +1 per Dutch marker
/// word or lower-case word spelled the Dutch way (`ij`, `sch`, a final `dt`, a diminutive in
/// `-je(s)`), -1 per Afrikaans marker word or word with `ê`, `ô` or `û`, and -0.5 per `die`
/// (the Afrikaans article, but also a Dutch pronoun).
pub(crate) fn marker_score(text: &str) -> f64 {
    let mut score = 0.0;
    for word in text
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
    {
        // `’n` is written with a typographic apostrophe as often as with a straight one;
        // other apostrophes are quotation marks around the word.
        let lower = word.to_lowercase().replace('’', "'");
        let lower = if lower == "'n" {
            "'n"
        } else {
            lower.trim_matches('\'')
        };
        if DUTCH.contains(&lower) || (word.starts_with(char::is_lowercase) && dutch_spelling(lower))
        {
            score += 1.0;
        } else if AFRIKAANS.contains(&lower) || lower.contains(['ê', 'ô', 'û']) {
            score -= 1.0;
        } else if lower == "die" {
            score -= 0.5;
        }
    }
    score
}

/// A spelling Afrikaans does not have: `ij`, `sch`, a final `dt`, a diminutive in `-je(s)`.
fn dutch_spelling(word: &str) -> bool {
    word.contains("ij")
        || word.contains("sch")
        || (word.len() > 3 && word.ends_with("dt"))
        || (word.len() > 3 && (word.ends_with("je") || word.ends_with("jes")))
}

#[cfg(test)]
mod tests {
    use super::marker_score;

    #[test]
    fn dutch_sentences_score_positive() {
        assert!(marker_score("Bogidiella antennata is een vlokreeftensoort uit de familie.") > 0.0);
        assert!(marker_score("Hij zei dat hij niet wist wanneer het zou gebeuren.") > 0.0);
        assert!(marker_score("Canada verbiedt verkoop van vapes met smaakjes") > 0.0);
        assert!(marker_score("Nieuwe schoolboeken") > 0.0);
    }

    #[test]
    fn afrikaans_sentences_score_negative() {
        assert!(marker_score("Dit is 'n skoenlapper uit die familie van die motte.") < 0.0);
        assert!(marker_score("Hy het gesê dat hy nie weet nie.") < 0.0);
        assert!(marker_score("Dit is ’n groot stad.") < 0.0);
    }

    #[test]
    fn no_markers_score_zero() {
        assert_eq!(marker_score(""), 0.0);
        assert_eq!(marker_score("Amsterdam Rotterdam 2024"), 0.0);
        assert_eq!(marker_score("''' ’’ '"), 0.0);
    }
}
