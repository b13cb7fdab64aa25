//! The words of a text that say something about its language.
//!
//! News text is full of words that belong to no language in particular: names of people,
//! companies and places ("Dilan Yeşilgöz-Zegerius", "Huawei", "Shenzhen"), acronyms ("PVV"),
//! numbers, URLs, hashtags and @handles. Character n-gram detectors weigh them like any other
//! word, so a Dutch headline about Snoop Dogg or Ursula von der Leyen can come out Estonian or
//! German. [`evidence`] keeps only the other words:
//!
//! * tokens with a digit, URLs (`http…`, `www.…`), e-mail addresses, `#hashtags` and `@handles`
//!   are dropped;
//! * hyphenated and slashed tokens are split into their parts (`PVV-leider` → `PVV`, `leider`);
//! * in a text written mostly in lower case, a part that starts with a capital is taken for a
//!   name and dropped, unless it opens a sentence (or line) and the word after it starts in
//!   lower case (`Meta test eigen versie` keeps `Meta`; `Snoop Dogg speelt` drops both names);
//! * in a text mostly in capitals (Title Case or ALL CAPS headlines) capitals say nothing about
//!   names, so every word is kept.
//!
//! German capitalises its nouns, so a German text loses them; its function words and verbs
//! (`der`, `und`, `nicht`, `wurde`) are plenty (see the measurements in `mod.rs`).

/// A word of the text, with what is needed to judge it.
struct Part<'a> {
    word: &'a str,
    capital: bool,
    /// Opens a sentence or a line.
    initial: bool,
}

/// The evidence words of `text`, lower-cased and joined by single spaces, and their number.
pub(crate) fn evidence(text: &str) -> (String, usize) {
    let mut parts: Vec<Part<'_>> = Vec::new();
    for line in text.lines() {
        let mut initial = true;
        for token in line.split_whitespace() {
            let next_initial = ends_sentence(token);
            if is_noise(token) {
                initial = next_initial;
                continue;
            }
            let mut first = true;
            for piece in token.split(['-', '/', '–', '—']) {
                let word = trim_word(piece);
                if word.chars().any(char::is_alphabetic) {
                    let capital = word
                        .chars()
                        .find(|c| c.is_alphabetic())
                        .is_some_and(char::is_uppercase);
                    parts.push(Part {
                        word,
                        capital,
                        initial: initial && first,
                    });
                    first = false;
                }
            }
            // A dash on its own, or an opening quote, starts something new as well.
            initial = next_initial || (first && token.chars().all(|c| !c.is_alphanumeric()));
        }
    }
    // Capitals mark names only where most words are in lower case.
    let inner = parts.iter().filter(|p| !p.initial).count();
    let inner_capital = parts.iter().filter(|p| !p.initial && p.capital).count();
    let names_marked = 2 * inner_capital <= inner;
    let mut out = String::new();
    let mut count = 0;
    for (i, part) in parts.iter().enumerate() {
        let keep = !names_marked
            || !part.capital
            || (part.initial && parts.get(i + 1).is_none_or(|next| !next.capital));
        if keep {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(part.word.chars().flat_map(char::to_lowercase));
            count += 1;
        }
    }
    (out, count)
}

/// Whether a token ends a sentence, so the next one opens one.
fn ends_sentence(token: &str) -> bool {
    token
        .trim_end_matches(['"', '\'', '’', '”', '»', ')', '*'])
        .ends_with(['.', '!', '?', ':', ';', '…'])
}

/// Tokens that are never words of a language: numbers, URLs, addresses, hashtags, handles.
fn is_noise(token: &str) -> bool {
    let lower = token.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '#' && c != '@');
    lower.starts_with(['#', '@'])
        || token.chars().any(char::is_numeric)
        || token.contains("://")
        || lower.starts_with("www.")
        || token.contains('@')
}

/// A word without the punctuation around it; a leading apostrophe stays on short words (`'n`,
/// `'t`, `'s`), where it belongs to the word.
fn trim_word(piece: &str) -> &str {
    let is_apostrophe = |c: char| c == '\'' || c == '’';
    let word = piece.trim_matches(|c: char| !c.is_alphabetic() && !is_apostrophe(c));
    let core = word.trim_matches(is_apostrophe);
    if word.starts_with(is_apostrophe) && core.chars().count() == 1 {
        word.trim_end_matches(is_apostrophe)
    } else {
        core
    }
}

#[cfg(test)]
mod tests {
    use super::evidence;

    fn words(text: &str) -> String {
        evidence(text).0
    }

    #[test]
    fn names_inside_a_sentence_are_dropped() {
        assert_eq!(
            words("Snoop Dogg speelt hoofdrol in komische sportfilm"),
            "speelt hoofdrol in komische sportfilm"
        );
        assert_eq!(
            words("Meta test eigen versie van livestreamsite Twitch"),
            "meta test eigen versie van livestreamsite"
        );
        // An opening word followed by lower case is kept: it may be a verb or an article.
        assert_eq!(words("Huawei in Shenzhen."), "huawei in");
        let brief = words(
            "Premier Dick Schoof sprak dinsdag in Brussel met Ursula von der Leyen over de \
             Oekraïne-steun. PVV-leider Geert Wilders en VVD-fractievoorzitter Dilan \
             Yeşilgöz-Zegerius reageerden kritisch.",
        );
        assert_eq!(
            brief,
            "sprak dinsdag in met von der over de steun pvv leider en fractievoorzitter \
             reageerden kritisch"
        );
    }

    #[test]
    fn every_sentence_and_line_opens_anew() {
        assert_eq!(words("Het regent. Morgen ook."), "het regent morgen ook");
        assert_eq!(words("Kabinet valt\nDe Kamer stemt"), "kabinet valt stemt");
    }

    #[test]
    fn numbers_urls_tags_and_handles_are_dropped() {
        assert_eq!(
            words(
                "zie https://nos.nl of www.nu.nl, mail info@x.nl #nieuws @NOS in 2024 met 5.400 km²"
            ),
            "zie of mail in met"
        );
    }

    #[test]
    fn title_case_keeps_every_word() {
        assert_eq!(
            words("Trump Says He Will Fight The Ruling"),
            "trump says he will fight the ruling"
        );
        assert_eq!(
            words("KABINET VALT OVER STIKSTOF"),
            "kabinet valt over stikstof"
        );
    }

    #[test]
    fn apostrophes_of_short_words_stay() {
        assert_eq!(words("dit is 'n groot stad"), "dit is 'n groot stad");
        assert_eq!(words("hij zei: 'nee'"), "hij zei nee");
        assert_eq!(evidence("").1, 0);
        assert_eq!(evidence("\u{200b}\u{200b}").1, 0);
    }
}
