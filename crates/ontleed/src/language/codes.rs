//! Language codes and English names for every language the detector can name.
//!
//! whatlang speaks ISO 639-3 (`nld`); the pipeline promises ISO 639-1 (`nl`) where one exists.
//! Every language whatlang 0.18 knows has an ISO 639-1 code, so the table below is total.

use lingua::Language as Lingua;
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

/// A group of languages that whatlang mixes up and lingua tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Group {
    /// Dutch, Afrikaans, German, English (lingua has no Frisian model).
    West,
    /// Danish, Norwegian Bokmål and Nynorsk, Swedish.
    Nordic,
    /// Spanish, Portuguese, Catalan (lingua has no Galician model), with French and Italian,
    /// which whatlang mistakes for them when unsure.
    Romance,
    /// Russian, Ukrainian, Bulgarian, Belarusian, Serbian, Macedonian.
    Cyrillic,
    /// Turkish, Azerbaijani.
    Turkic,
}

impl Group {
    pub(crate) const ALL: [Group; 5] = [
        Group::West,
        Group::Nordic,
        Group::Romance,
        Group::Cyrillic,
        Group::Turkic,
    ];

    /// The lingua languages of the group.
    pub(crate) fn languages(self) -> &'static [Lingua] {
        match self {
            Group::West => &[
                Lingua::Dutch,
                Lingua::Afrikaans,
                Lingua::German,
                Lingua::English,
            ],
            Group::Nordic => &[
                Lingua::Danish,
                Lingua::Bokmal,
                Lingua::Nynorsk,
                Lingua::Swedish,
            ],
            Group::Romance => &[
                Lingua::Spanish,
                Lingua::Portuguese,
                Lingua::Catalan,
                Lingua::French,
                Lingua::Italian,
            ],
            Group::Cyrillic => &[
                Lingua::Russian,
                Lingua::Ukrainian,
                Lingua::Bulgarian,
                Lingua::Belarusian,
                Lingua::Serbian,
                Lingua::Macedonian,
            ],
            Group::Turkic => &[Lingua::Turkish, Lingua::Azerbaijani],
        }
    }

    /// The group of a language whatlang names, if it is in one. Turkmen and Uzbek, which
    /// lingua does not know, are whatlang's usual wrong answers for Turkish.
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

/// Languages lingua knows here outside the groups: a text whatlang is unsure about is compared
/// with these too when whatlang names one of them.
pub(crate) const OTHERS: [Lingua; 1] = [Lingua::Polish];

/// Every lingua language the detector is built with.
pub(crate) fn all_lingua() -> Vec<Lingua> {
    Group::ALL
        .iter()
        .flat_map(|g| g.languages().iter().copied())
        .chain(OTHERS)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// ISO 639-1 code and English name of a lingua language the detector uses, or `None` for a
/// language it is not built with.
pub(crate) fn from_lingua(lang: Lingua) -> Option<(&'static str, &'static str)> {
    let whatlang = match lang {
        Lingua::Afrikaans => Lang::Afr,
        Lingua::Danish => Lang::Dan,
        Lingua::Dutch => Lang::Nld,
        Lingua::English => Lang::Eng,
        Lingua::French => Lang::Fra,
        Lingua::German => Lang::Deu,
        Lingua::Italian => Lang::Ita,
        Lingua::Spanish => Lang::Spa,
        Lingua::Swedish => Lang::Swe,
        Lingua::Bokmal => Lang::Nob,
        Lingua::Portuguese => Lang::Por,
        Lingua::Catalan => Lang::Cat,
        Lingua::Russian => Lang::Rus,
        Lingua::Ukrainian => Lang::Ukr,
        Lingua::Bulgarian => Lang::Bul,
        Lingua::Belarusian => Lang::Bel,
        Lingua::Serbian => Lang::Srp,
        Lingua::Macedonian => Lang::Mkd,
        Lingua::Turkish => Lang::Tur,
        Lingua::Azerbaijani => Lang::Aze,
        Lingua::Polish => Lang::Pol,
        // whatlang has no Nynorsk.
        Lingua::Nynorsk => return Some(("nn", "Norwegian Nynorsk")),
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(from_whatlang(whatlang))
}

/// The lingua language of a whatlang language, among those the detector is built with.
pub(crate) fn lingua_for_whatlang(lang: Lang) -> Option<Lingua> {
    lingua_for_code(from_whatlang(lang).0)
}

/// The lingua language with this ISO 639-1 code, among those the detector is built with.
pub(crate) fn lingua_for_code(code: &str) -> Option<Lingua> {
    all_lingua()
        .into_iter()
        .find(|&lang| from_lingua(lang).is_some_and(|(c, _)| c == code))
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
    fn lingua_languages_map_to_the_same_codes_as_lingua() {
        for lang in all_lingua() {
            let (code, _) = from_lingua(lang).unwrap();
            assert_eq!(code, lang.iso_code_639_1().to_string());
            assert_eq!(lingua_for_code(code), Some(lang));
        }
        assert_eq!(lingua_for_code("fi"), None);
    }
}
