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
}
