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

/// The nine languages the fine detector decides between: Dutch and the languages that are
/// easily confused with it or common in Dutch news.
pub(crate) const FINE: [Lingua; 9] = [
    Lingua::Afrikaans,
    Lingua::Danish,
    Lingua::Dutch,
    Lingua::English,
    Lingua::French,
    Lingua::German,
    Lingua::Italian,
    Lingua::Spanish,
    Lingua::Swedish,
];

/// The West Germanic four: whatlang's Dutch/Afrikaans mistakes stay within this group.
pub(crate) const WEST: [Lingua; 4] = [
    Lingua::Afrikaans,
    Lingua::Dutch,
    Lingua::English,
    Lingua::German,
];

/// Languages outside the nine that whatlang often names for one of the nine (Danish read as
/// Bokmål, Spanish as Portuguese or Catalan). When whatlang names one of these, the fine
/// detector runs with these added, so that a real Norwegian, Portuguese or Catalan text can
/// still be named as such.
pub(crate) const GUARDS: [Lingua; 3] = [Lingua::Bokmal, Lingua::Portuguese, Lingua::Catalan];

/// ISO 639-1 code and English name of a lingua language the detector uses, or `None` for a
/// language outside [`FINE`] and [`GUARDS`] (which the detector never builds lingua with).
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
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(from_whatlang(whatlang))
}

/// The lingua language with this ISO 639-1 code, among [`FINE`] and [`GUARDS`].
pub(crate) fn lingua_for_code(code: &str) -> Option<Lingua> {
    FINE.iter()
        .chain(GUARDS.iter())
        .copied()
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
        for lang in FINE.iter().chain(GUARDS.iter()) {
            let (code, _) = from_lingua(*lang).unwrap();
            assert_eq!(code, lang.iso_code_639_1().to_string());
            assert_eq!(lingua_for_code(code), Some(*lang));
        }
        assert_eq!(lingua_for_code("pl"), None);
    }
}
