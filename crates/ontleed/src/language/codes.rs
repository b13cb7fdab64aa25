//! Language codes and English names for every language the detector can name.
//!
//! whatlang speaks ISO 639-3 (`nld`); the pipeline promises ISO 639-1 (`nl`) where one exists.
//! Every language whatlang 0.18 knows has an ISO 639-1 code, so the table below is total.

use whatlang::Lang;

/// ISO 639-1 code and English name of a whatlang language.
pub(crate) fn from_whatlang(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Epo => ("eo", "Esperanto"),
        Lang::Eng => ("en", "English"),
        Lang::Rus => ("ru", "Russian"),
        Lang::Cmn => ("zh", "Chinese"),
        Lang::Spa => ("es", "Spanish"),
        Lang::Por => ("pt", "Portuguese"),
        Lang::Ita => ("it", "Italian"),
        Lang::Ben => ("bn", "Bengali"),
        Lang::Fra => ("fr", "French"),
        Lang::Deu => ("de", "German"),
        Lang::Ukr => ("uk", "Ukrainian"),
        Lang::Kat => ("ka", "Georgian"),
        Lang::Ara => ("ar", "Arabic"),
        Lang::Hin => ("hi", "Hindi"),
        Lang::Jpn => ("ja", "Japanese"),
        Lang::Heb => ("he", "Hebrew"),
        Lang::Yid => ("yi", "Yiddish"),
        Lang::Pol => ("pl", "Polish"),
        Lang::Amh => ("am", "Amharic"),
        Lang::Jav => ("jv", "Javanese"),
        Lang::Kor => ("ko", "Korean"),
        Lang::Nob => ("nb", "Norwegian Bokmål"),
        Lang::Dan => ("da", "Danish"),
        Lang::Swe => ("sv", "Swedish"),
        Lang::Fin => ("fi", "Finnish"),
        Lang::Tur => ("tr", "Turkish"),
        Lang::Nld => ("nl", "Dutch"),
        Lang::Hun => ("hu", "Hungarian"),
        Lang::Ces => ("cs", "Czech"),
        Lang::Ell => ("el", "Greek"),
        Lang::Bul => ("bg", "Bulgarian"),
        Lang::Bel => ("be", "Belarusian"),
        Lang::Mar => ("mr", "Marathi"),
        Lang::Kan => ("kn", "Kannada"),
        Lang::Ron => ("ro", "Romanian"),
        Lang::Slv => ("sl", "Slovene"),
        Lang::Hrv => ("hr", "Croatian"),
        Lang::Srp => ("sr", "Serbian"),
        Lang::Mkd => ("mk", "Macedonian"),
        Lang::Lit => ("lt", "Lithuanian"),
        Lang::Lav => ("lv", "Latvian"),
        Lang::Est => ("et", "Estonian"),
        Lang::Tam => ("ta", "Tamil"),
        Lang::Vie => ("vi", "Vietnamese"),
        Lang::Urd => ("ur", "Urdu"),
        Lang::Tha => ("th", "Thai"),
        Lang::Guj => ("gu", "Gujarati"),
        Lang::Uzb => ("uz", "Uzbek"),
        Lang::Pan => ("pa", "Punjabi"),
        Lang::Aze => ("az", "Azerbaijani"),
        Lang::Ind => ("id", "Indonesian"),
        Lang::Tel => ("te", "Telugu"),
        Lang::Pes => ("fa", "Persian"),
        Lang::Mal => ("ml", "Malayalam"),
        Lang::Ori => ("or", "Oriya"),
        Lang::Mya => ("my", "Burmese"),
        Lang::Nep => ("ne", "Nepali"),
        Lang::Sin => ("si", "Sinhala"),
        Lang::Khm => ("km", "Khmer"),
        Lang::Tuk => ("tk", "Turkmen"),
        Lang::Aka => ("ak", "Akan"),
        Lang::Zul => ("zu", "Zulu"),
        Lang::Sna => ("sn", "Shona"),
        Lang::Afr => ("af", "Afrikaans"),
        Lang::Lat => ("la", "Latin"),
        Lang::Slk => ("sk", "Slovak"),
        Lang::Cat => ("ca", "Catalan"),
        Lang::Tgl => ("tl", "Tagalog"),
        Lang::Hye => ("hy", "Armenian"),
        Lang::Cym => ("cy", "Welsh"),
    }
}

/// A group of languages that whatlang mixes up and the n-gram model (`ngrams.rs`) tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Group {
    /// Dutch, Afrikaans, German, English (no model has Frisian).
    West,
    /// Danish, Norwegian Bokmål and Nynorsk, Swedish.
    Nordic,
    /// Spanish, Portuguese, Catalan (no model has Galician), with French and Italian,
    /// which whatlang mistakes for them when unsure.
    Romance,
    /// Russian, Ukrainian, Bulgarian, Belarusian, Serbian, Macedonian.
    Cyrillic,
    /// Turkish, Azerbaijani.
    Turkic,
}

impl Group {
    /// The languages of the group (ISO 639-1), all known to the n-gram model (`ngrams.rs`).
    pub(crate) fn languages(self) -> &'static [&'static str] {
        match self {
            Group::West => &["nl", "af", "de", "en"],
            Group::Nordic => &["da", "nb", "nn", "sv"],
            Group::Romance => &["es", "pt", "ca", "fr", "it"],
            Group::Cyrillic => &["ru", "uk", "bg", "be", "sr", "mk"],
            Group::Turkic => &["tr", "az"],
        }
    }

    /// The group of a language whatlang names, if it is in one. Turkmen and Uzbek, which
    /// the n-gram model does not know, are whatlang's usual wrong answers for Turkish.
    pub(crate) fn of_whatlang(lang: Lang) -> Option<Group> {
        Some(match lang {
            Lang::Nld | Lang::Afr | Lang::Deu | Lang::Eng => Group::West,
            Lang::Dan | Lang::Nob | Lang::Swe => Group::Nordic,
            Lang::Spa | Lang::Por | Lang::Cat => Group::Romance,
            // French and Italian are in the group only when whatlang is unsure (see `mod.rs`).
            Lang::Fra | Lang::Ita => Group::Romance,
            Lang::Rus | Lang::Ukr | Lang::Bul | Lang::Bel | Lang::Srp | Lang::Mkd => {
                Group::Cyrillic
            }
            Lang::Tur | Lang::Aze | Lang::Tuk | Lang::Uzb => Group::Turkic,
            _ => return None,
        })
    }
}

/// The English name of a language by its ISO 639-1 code, for every code whatlang or the
/// n-gram model can name.
pub(crate) fn name(code: &str) -> Option<(&'static str, &'static str)> {
    if code == "nn" {
        // whatlang has no Nynorsk.
        return Some(("nn", "Norwegian Nynorsk"));
    }
    Lang::all()
        .iter()
        .map(|&lang| from_whatlang(lang))
        .find(|(c, _)| *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_whatlang_language_has_a_two_letter_code_and_a_name() {
        let mut seen = std::collections::HashSet::new();
        for &lang in Lang::all() {
            let (code, name) = from_whatlang(lang);
            assert_eq!(code.len(), 2, "{lang:?}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase()), "{lang:?}");
            assert!(!name.is_empty());
            assert!(seen.insert(code), "duplicate code {code}");
        }
    }

    #[test]
    fn group_languages_have_names() {
        for group in [
            Group::West,
            Group::Nordic,
            Group::Romance,
            Group::Cyrillic,
            Group::Turkic,
        ] {
            for code in group.languages() {
                assert_eq!(name(code).map(|(c, _)| c), Some(*code));
            }
        }
        assert_eq!(name("nl"), Some(("nl", "Dutch")));
        assert_eq!(name("xx"), None);
    }
}
