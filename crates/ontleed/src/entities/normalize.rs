//! Surface-form normalization shared by the grouping and the alias table.

use crate::ner::Label;

/// Leading words that are articles, not part of a name ("de Verenigde Staten", "het CDA").
const ARTICLES: [&str; 3] = ["de", "het", "'t"];

/// Name particles (tussenvoegsels and similar) that start a surname: "Frenkie de Jong",
/// "Eberhard van der Laan", "Ursula von der Leyen".
const PARTICLES: [&str; 20] = [
    "van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "in", "op", "von", "zu", "di",
    "da", "du", "le", "la", "el", "al",
];

/// A mention's text, cleaned and split into the parts the grouping rules look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Form {
    /// Lowercased, whitespace-collapsed, without leading article and possessive: the match key.
    pub key: String,
    /// The name as written, without a leading article and without a possessive ending.
    pub display: String,
    /// A capitalised leading article that was removed from `display` ("De" of "De Telegraaf").
    /// Lowercase articles are always grammatical and are not kept.
    pub article: Option<String>,
    /// The possessive ending removed from `display` ("'s", "'", or "s").
    pub possessive: Option<String>,
}

impl Form {
    /// Number of words in the key.
    pub fn token_count(&self) -> usize {
        self.key.split(' ').filter(|t| !t.is_empty()).count()
    }

    /// The words of the key.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.key.split(' ').filter(|t| !t.is_empty())
    }
}

/// Collapses whitespace, unifies apostrophes and trims surrounding quotes and punctuation.
pub(crate) fn clean(text: &str) -> String {
    let unified: String = text
        .chars()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
            c => c,
        })
        .collect();
    let collapsed = unified.split_whitespace().collect::<Vec<_>>().join(" ");
    let leading: &[char] = &[
        '"', '\u{201C}', '\u{201D}', '\u{201E}', '\u{00AB}', '(', '[', '*',
    ];
    let trailing: &[char] = &[
        '"', '\u{201C}', '\u{201D}', '\u{00BB}', ')', ']', '.', ',', ';', ':', '!', '?', '*',
    ];
    let mut s = collapsed.as_str();
    loop {
        let before = s.len();
        s = s
            .trim_start_matches(leading)
            .trim_end_matches(trailing)
            .trim();
        // A bare quote on both sides ('Huawei') is quoting, not a possessive.
        if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') && !s.starts_with("'s-") {
            s = &s[1..s.len() - 1];
        }
        if s.len() == before {
            break;
        }
    }
    s.to_string()
}

/// Splits a possessive ending off: "Huawei's" → ("Huawei", "'s"), "Janssens'" → ("Janssens", "'").
/// A bare "s" ("Pangs") is not removed here: that needs context, see [`strip_bare_s`].
fn split_possessive(s: &str) -> (&str, Option<&str>) {
    for suffix in ["'s", "'S"] {
        if let Some(base) = s.strip_suffix(suffix)
            && !base.trim().is_empty()
            && !base.ends_with(' ')
        {
            return (base, Some(&s[base.len()..]));
        }
    }
    if let Some(base) = s.strip_suffix('\'')
        && !base.trim().is_empty()
        && !base.ends_with(' ')
    {
        return (base, Some("'"));
    }
    (s, None)
}

/// Removes a leading article from a non-person name. Returns the rest and, when the article was
/// capitalised (and so may belong to the name), the article itself.
fn split_article(s: &str) -> (&str, Option<&str>) {
    let Some((first, rest)) = s.split_once(' ') else {
        return (s, None);
    };
    if rest.trim().is_empty() || !ARTICLES.contains(&first.to_lowercase().as_str()) {
        return (s, None);
    }
    let capitalised = first.chars().next().is_some_and(char::is_uppercase);
    (rest, capitalised.then_some(first))
}

/// Normalizes a surface form. `label` is the mention's label: person names keep a leading "de"
/// ("De Jong" is a surname); other names lose a leading article. `None` (alias table entries)
/// is treated like a non-person name.
pub(crate) fn form(text: &str, label: Option<Label>) -> Form {
    let cleaned = clean(text);
    let (base, possessive) = split_possessive(&cleaned);
    let (display, article) = if label == Some(Label::Per) {
        (base, None)
    } else {
        split_article(base)
    };
    Form {
        key: display.to_lowercase(),
        display: display.to_string(),
        article: article.map(str::to_string),
        possessive: possessive.map(str::to_string),
    }
}

/// The same as [`form`] but keeping a leading article in the key ("de verenigde staten"), used to
/// index alias forms both with and without their article.
pub(crate) fn key_with_article(text: &str) -> String {
    let cleaned = clean(text);
    let (base, _) = split_possessive(&cleaned);
    base.to_lowercase()
}

/// Removes a bare possessive "s" ("Pangs", "Ruslands") from a form whose key is at least four
/// characters long. The caller decides whether the shorter key is known.
pub(crate) fn strip_bare_s(f: &Form) -> Option<Form> {
    if f.possessive.is_some() || f.key.chars().count() < 4 || !f.key.ends_with('s') {
        return None;
    }
    let key = f.key[..f.key.len() - 1].to_string();
    if key.ends_with(' ') || key.ends_with('-') {
        return None;
    }
    let cut = f.display.len() - f.display.chars().last().map_or(0, char::len_utf8);
    Some(Form {
        key,
        display: f.display[..cut].to_string(),
        article: f.article.clone(),
        possessive: Some(f.display[cut..].to_string()),
    })
}

/// The surname forms of a person's full name (a key of two or more words): its last word, and
/// the words from the first name particle on ("frenkie de jong" → "jong", "de jong").
pub(crate) fn surnames(key: &str) -> Vec<String> {
    let tokens: Vec<&str> = key.split(' ').filter(|t| !t.is_empty()).collect();
    if tokens.len() < 2 {
        return Vec::new();
    }
    let mut out = vec![tokens[tokens.len() - 1].to_string()];
    if let Some(i) = (1..tokens.len() - 1).find(|&i| PARTICLES.contains(&tokens[i])) {
        out.push(tokens[i..].join(" "));
    }
    out
}

/// Function words skipped when an acronym leaves them out ("PVV" for "Partij voor de Vrijheid").
const FUNCTION_WORDS: [&str; 14] = [
    "de", "het", "'t", "van", "der", "den", "en", "voor", "op", "in", "te", "ter", "of", "tot",
];

/// Whether a word is an initial or a run of initials: "T.", "J.P.", "J.-P.".
pub(crate) fn is_initial(word: &str) -> bool {
    let w = word.trim_end_matches('.');
    word.ends_with('.')
        && !w.is_empty()
        && w.split(['.', '-'])
            .filter(|p| !p.is_empty())
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
}

/// Splits an initials form ("t. baudet", "j.p. balkenende") into the first initial and the
/// rest ("t", "baudet"). `None` when the key does not start with initials or has nothing after.
pub(crate) fn split_initials(key: &str) -> Option<(char, String)> {
    let tokens: Vec<&str> = key.split(' ').filter(|t| !t.is_empty()).collect();
    let n = tokens.iter().take_while(|t| is_initial(t)).count();
    if n == 0 || n == tokens.len() {
        return None;
    }
    let first = tokens[0].chars().next()?;
    Some((first, tokens[n..].join(" ")))
}

/// Whether a single word looks like an acronym: 2 to 8 characters, letters and digits (and `&`),
/// starting with a capital, and with another capital or a digit ("FvD", "VVD", "PvdA", "D66").
pub(crate) fn is_acronym(word: &str) -> bool {
    let n = word.chars().count();
    (2..=8).contains(&n)
        && !word.contains(' ')
        && word.chars().all(|c| c.is_alphanumeric() || c == '&')
        && (word.chars().filter(|c| c.is_uppercase()).count() >= 2
            || word.chars().any(|c| c.is_ascii_digit()))
        && word.chars().next().is_some_and(char::is_uppercase)
}

/// The words of a long name for acronym matching: split on spaces and hyphens, lowercased.
fn acronym_words(long: &str) -> Vec<String> {
    long.split([' ', '-'])
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The initials of a long name, with and without its function words: "Partij voor de Vrijheid"
/// gives "pvdv" and "pv". Names of one word give none.
pub(crate) fn initials(long: &str) -> Vec<String> {
    let words = acronym_words(long);
    if words.len() < 2 {
        return Vec::new();
    }
    let all: String = words.iter().filter_map(|w| w.chars().next()).collect();
    let content: String = words
        .iter()
        .filter(|w| !FUNCTION_WORDS.contains(&w.as_str()))
        .filter_map(|w| w.chars().next())
        .collect();
    let mut out = vec![all];
    if content.chars().count() >= 2 && content != out[0] {
        out.push(content);
    }
    out
}

/// Whether `short` is made of word initials of `long`, in order: every content word of `long`
/// gives its initial, a function word may give its initial or be left out ("FvD", "PVV", "PvdA"
/// for "Partij van de Arbeid", "CDA" for "Christen-Democratisch Appèl").
pub(crate) fn initials_match(short: &str, long: &str) -> bool {
    let words = acronym_words(long);
    let letters: Vec<char> = short.to_lowercase().chars().collect();
    if words.len() < 2 || letters.len() < 2 {
        return false;
    }
    fn go(words: &[String], letters: &[char]) -> bool {
        match (words.split_first(), letters.split_first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some((w, rest)), _) => {
                let first = w.chars().next();
                let take = letters
                    .split_first()
                    .is_some_and(|(c, more)| Some(*c) == first && go(rest, more));
                take || (FUNCTION_WORDS.contains(&w.as_str()) && go(rest, letters))
            }
        }
    }
    go(&words, &letters)
}

/// Whether `short` abbreviates `long` in the looser sense of Schwartz and Hearst (2003): its
/// letters and digits occur in `long` in order, the first at the start of a word ("RIVM" for
/// "Rijksinstituut voor Volksgezondheid en Milieu"). Used only where the article defines the
/// short form right next to the long one.
pub(crate) fn abbreviates(short: &str, long: &str) -> bool {
    let s: Vec<char> = short
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let l: Vec<char> = long.to_lowercase().chars().collect();
    if s.len() < 2 || l.len() <= s.len() {
        return false;
    }
    let (mut si, mut li) = (s.len() as isize - 1, l.len() as isize - 1);
    while si >= 0 {
        let c = s[si as usize];
        while li >= 0
            && (l[li as usize] != c || (si == 0 && li > 0 && l[li as usize - 1].is_alphanumeric()))
        {
            li -= 1;
        }
        if li < 0 {
            return false;
        }
        si -= 1;
        li -= 1;
    }
    true
}

/// The party of a member word: "VVD'er", "PVV'ers", "D66-ers", "CDA'ster" → "VVD", "PVV", "D66",
/// "CDA". Only for an acronym-like or capitalised stem.
pub(crate) fn member_stem(text: &str) -> Option<String> {
    let t = clean(text);
    for suffix in ["'ers", "'er", "'sters", "'ster", "-ers", "-er"] {
        if let Some(stem) = t.strip_suffix(suffix)
            && !stem.is_empty()
            && !stem.contains(' ')
            && stem.chars().next().is_some_and(char::is_uppercase)
        {
            return Some(stem.to_string());
        }
    }
    None
}

/// Damerau-Levenshtein distance (optimal string alignment), counting characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn possessives_and_articles() {
        let f = form("Huawei's", Some(Label::Org));
        assert_eq!((f.key.as_str(), f.display.as_str()), ("huawei", "Huawei"));
        assert_eq!(f.possessive.as_deref(), Some("'s"));
        assert_eq!(form("Huawei’s", Some(Label::Org)).key, "huawei");
        assert_eq!(form("Janssens'", Some(Label::Per)).key, "janssens");
        assert_eq!(
            form("de Verenigde Staten", Some(Label::Loc)).key,
            "verenigde staten"
        );
        assert_eq!(form("de Verenigde Staten", Some(Label::Loc)).article, None);
        let t = form("De Telegraaf", Some(Label::Org));
        assert_eq!(
            (t.key.as_str(), t.article.as_deref()),
            ("telegraaf", Some("De"))
        );
        assert_eq!(form("De Jong", Some(Label::Per)).key, "de jong");
        assert_eq!(
            form("  «Ren   Zhengfei» ", Some(Label::Per)).display,
            "Ren Zhengfei"
        );
        assert_eq!(
            form("'s-Hertogenbosch", Some(Label::Loc)).key,
            "'s-hertogenbosch"
        );
        assert_eq!(form("'Huawei'", Some(Label::Org)).key, "huawei");
        assert_eq!(form("", None).key, "");
        assert_eq!(form("'", None).key, "'");
        assert_eq!(form("'s", None).key, "'s");
    }

    #[test]
    fn surname_forms() {
        assert_eq!(surnames("vincent pang"), ["pang"]);
        assert_eq!(surnames("frenkie de jong"), ["jong", "de jong"]);
        assert_eq!(surnames("eberhard van der laan"), ["laan", "van der laan"]);
        assert!(surnames("pang").is_empty());
    }

    #[test]
    fn bare_s() {
        let f = form("Pangs", Some(Label::Per));
        assert_eq!(strip_bare_s(&f).map(|f| f.key), Some("pang".into()));
        assert_eq!(strip_bare_s(&form("Ons", None)), None);
        assert_eq!(strip_bare_s(&form("Huawei's", None)), None);
        assert_eq!(
            strip_bare_s(&form("Ré€s", None)).map(|f| f.display),
            Some("Ré€".into())
        );
    }

    #[test]
    fn initials_and_acronyms() {
        assert!(is_initial("T.") && is_initial("J.P.") && is_initial("J.-P."));
        assert!(!is_initial("Th") && !is_initial("Thierry.") && !is_initial("."));
        assert_eq!(
            split_initials("t. baudet"),
            Some(('t', "baudet".to_string()))
        );
        assert_eq!(
            split_initials("j.p. balkenende"),
            Some(('j', "balkenende".to_string()))
        );
        assert_eq!(split_initials("thierry baudet"), None);
        assert_eq!(split_initials("t."), None);
        for a in ["FvD", "VVD", "PvdA", "D66", "OM", "RIVM"] {
            assert!(is_acronym(a), "{a}");
        }
        for a in ["Baudet", "vvd", "V", "Forum voor Democratie"] {
            assert!(!is_acronym(a), "{a}");
        }
        assert!(initials_match("FvD", "Forum voor Democratie"));
        assert!(initials_match("PVV", "Partij voor de Vrijheid"));
        assert!(initials_match("PvdA", "Partij van de Arbeid"));
        assert!(initials_match("CDA", "Christen-Democratisch Appèl"));
        assert!(initials_match("OM", "Openbaar Ministerie"));
        assert!(initials_match(
            "VVD",
            "Volkspartij voor Vrijheid en Democratie"
        ));
        assert!(!initials_match("PVV", "Partij van de Arbeid"));
        assert!(!initials_match("OM", "Openbaar Ministerie Rotterdam"));
        assert!(!initials_match(
            "RIVM",
            "Rijksinstituut voor Volksgezondheid en Milieu"
        ));
        assert!(abbreviates(
            "RIVM",
            "Rijksinstituut voor Volksgezondheid en Milieu"
        ));
        assert!(abbreviates("FvD", "Forum voor Democratie"));
        assert!(!abbreviates("PVV", "Partij van de Arbeid"));
        assert!(!abbreviates("XYZ", "Forum voor Democratie"));
        assert_eq!(initials("Partij voor de Vrijheid"), ["pvdv", "pv"]);
        assert!(initials("Huawei").is_empty());
    }

    #[test]
    fn members_and_distance() {
        assert_eq!(member_stem("VVD'er").as_deref(), Some("VVD"));
        assert_eq!(member_stem("PVV’ers").as_deref(), Some("PVV"));
        assert_eq!(member_stem("D66-ers").as_deref(), Some("D66"));
        assert_eq!(member_stem("Baudet"), None);
        assert_eq!(member_stem("'er"), None);
        assert_eq!(edit_distance("thiery baudet", "thierry baudet"), 1);
        assert_eq!(edit_distance("abcd", "abdc"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("eric wiebes", "lorena wiebes"), 5);
    }
}
