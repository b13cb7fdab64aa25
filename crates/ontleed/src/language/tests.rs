use std::sync::OnceLock;

use super::*;

/// One detector for all tests: building it unpacks the n-gram model.
fn detector() -> &'static LanguageDetector {
    static DETECTOR: OnceLock<LanguageDetector> = OnceLock::new();
    DETECTOR.get_or_init(LanguageDetector::new)
}

fn code(text: &str) -> Option<&'static str> {
    detector().detect(text).map(|d| d.code)
}

#[test]
fn is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LanguageDetector>();
}

#[test]
fn dutch_sentences() {
    for text in [
        "Het kabinet heeft dinsdag besloten de accijns op brandstof volgend jaar niet te verhogen.",
        "Bogidiella antennata is een vlokreeftensoort uit de familie van de Bogidiellidae.",
        "De oppervlakte van het reservaat bedraagt 5.400 km².",
        "Volgens de politie is de verdachte zaterdagnacht in Rotterdam aangehouden.",
        "De struik kan een hoogte van 2 m bereiken.",
    ] {
        assert_eq!(code(text), Some("nl"), "{text}");
    }
}

#[test]
fn afrikaans_sentences() {
    for text in [
        "Die regering het gesê dat hulle nie die belasting op brandstof sal verhoog nie.",
        "Hy is in 1950 in Kaapstad gebore en het sy hele lewe daar gewoon.",
        "Dit is 'n skoenlapper uit die familie van die motte.",
    ] {
        assert_eq!(code(text), Some("af"), "{text}");
    }
}

#[test]
fn german_sentences() {
    for text in [
        "Die Bundesregierung hat am Dienstag beschlossen, die Steuer auf Kraftstoff nicht zu erhöhen.",
        "Der Verdächtige wurde in der Nacht zum Samstag von der Polizei festgenommen.",
    ] {
        assert_eq!(code(text), Some("de"), "{text}");
    }
}

#[test]
fn english_sentences() {
    for text in [
        "The government decided on Tuesday not to raise the tax on fuel next year.",
        "We will not accept any agreement that leaves our farmers worse off than before.",
    ] {
        assert_eq!(code(text), Some("en"), "{text}");
    }
}

#[test]
fn polish_and_turkish_stay_named() {
    for text in [
        "Rząd zdecydował we wtorek, że w przyszłym roku nie podniesie podatku od paliwa.",
        "Policja zatrzymała podejrzanego w sobotę w nocy w centrum Warszawy.",
    ] {
        assert_eq!(code(text), Some("pl"), "{text}");
    }
    for text in [
        "Hükümet salı günü gelecek yıl akaryakıt vergisini artırmama kararı aldı.",
        "Polis, şüpheliyi cumartesi gecesi İstanbul'un merkezinde gözaltına aldı.",
    ] {
        assert_eq!(code(text), Some("tr"), "{text}");
    }
}

#[test]
fn norwegian_is_not_turned_into_danish() {
    let text = "Regjeringen har bestemt at avgiften på drivstoff ikke skal økes neste år, \
                sier finansministeren til NRK. Han mener at folk flest ikke har råd til det.";
    assert_eq!(code(text), Some("nb"));
}

#[test]
fn long_dutch_article_is_confident_and_reliable() {
    let text = "Het kabinet heeft dinsdag besloten de accijns op brandstof volgend jaar niet te \
        verhogen. Dat maakte minister van Financiën bekend na afloop van de ministerraad. \
        Volgens het ministerie zou een verhoging vooral huishoudens met een laag inkomen \
        treffen, die voor hun werk afhankelijk zijn van de auto. De oppositie reageerde \
        verdeeld: sommige partijen noemen het besluit verstandig, andere vinden dat het \
        kabinet de klimaatdoelen uit het oog verliest. Een definitief besluit over de \
        begroting volgt op Prinsjesdag.";
    let d = detector().detect(text).unwrap();
    assert_eq!((d.code, d.name), ("nl", "Dutch"));
    assert!(d.confidence > 0.95, "{d:?}");
    assert!(d.reliable);
}

#[test]
fn nothing_to_go_on() {
    assert_eq!(detector().detect(""), None);
    assert_eq!(detector().detect("   \n\t "), None);
    assert_eq!(detector().detect("12345 67 -- !!"), None);
}

#[test]
fn zero_width_characters_are_undetermined() {
    // Issue 25, item 9: whatlang called these Arabic.
    for text in [
        "\u{200b}",
        "\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}",
        " \u{200b} \u{200b} ",
    ] {
        assert_eq!(detector().detect(text), None, "{text:?}");
        assert_eq!(detector().paragraph_language(text, "nl"), None);
    }
}

#[test]
fn dutch_headlines_full_of_foreign_names() {
    for text in [
        "Meta test eigen versie van livestreamsite Twitch",
        "Snoop Dogg speelt hoofdrol in komische sportfilm",
        "China vuurt raketten af die rondom Taiwan in het water neerkomen",
        "Ursula von der Leyen krijgt tweede termijn als Commissievoorzitter",
        "Max Verstappen boos na straf van stewards in Mexico",
    ] {
        assert_eq!(code(text), Some("nl"), "{text}");
    }
}

#[test]
fn dutch_brief_with_names_is_dutch() {
    let text = "Premier Dick Schoof sprak dinsdag in Brussel met Ursula von der Leyen over de \
                Oekraïne-steun. PVV-leider Geert Wilders en VVD-fractievoorzitter Dilan \
                Yeşilgöz-Zegerius reageerden kritisch.";
    assert_eq!(code(text), Some("nl"));
}

#[test]
fn no_evidence_is_dutch_but_not_reliable() {
    for text in [
        "Huawei in Shenzhen.",
        "Ajax - PSV",
        "Foto: ANP",
        "Donald Trump",
        "#MeToo @NOS https://nos.nl",
    ] {
        let d = detector().detect(text).expect(text);
        assert_eq!(d.code, "nl", "{text}");
        assert!(!d.reliable, "{text}: {d:?}");
        assert_eq!(d.confidence, 0.0, "{text}");
    }
}

#[test]
fn close_calls_go_to_dutch_unreliably() {
    // Each of these short texts could be Dutch or Afrikaans/German; the margin gives Dutch.
    for text in ["Die van de buren kwam niet", "Hier is alles goed"] {
        let d = detector().detect(text).expect(text);
        assert_eq!(d.code, "nl", "{text}: {d:?}");
    }
    // Without the margin (odds 1) the n-gram model's first choice stands.
    let plain = LanguageDetector::new().with_preference_odds(1.0);
    let d = plain.detect("Hy het gesê dat hy nie weet nie").unwrap();
    assert_eq!(d.code, "af", "{d:?}");
}

#[test]
fn clearly_foreign_texts_keep_their_language() {
    for (text, expected) in [
        (
            "Die Bundesregierung will die Steuer auf Kraftstoff nicht erhöhen.",
            "de",
        ),
        (
            "The government will not raise the tax on fuel next year.",
            "en",
        ),
        (
            "Le gouvernement n'augmentera pas la taxe sur le carburant.",
            "fr",
        ),
        (
            "El Gobierno no subirá el impuesto sobre el combustible el próximo año.",
            "es",
        ),
        (
            "O governo não vai aumentar o imposto sobre os combustíveis no próximo ano.",
            "pt",
        ),
        (
            "Правительство не будет повышать налог на топливо в следующем году.",
            "ru",
        ),
        (
            "Уряд не підвищуватиме податок на пальне наступного року.",
            "uk",
        ),
        (
            "Regeringen kommer inte att höja skatten på bränsle nästa år.",
            "sv",
        ),
    ] {
        let d = detector().detect(text).expect(text);
        assert_eq!(d.code, expected, "{text}: {d:?}");
    }
}

#[test]
fn names_do_not_decide_the_language() {
    // A German sentence full of Dutch names stays German, a Dutch one full of German names Dutch.
    assert_eq!(
        code(
            "Der niederländische Ministerpräsident Dick Schoof hat sich gestern mit Geert Wilders getroffen."
        ),
        Some("de")
    );
    assert_eq!(
        code("Bondskanselier Friedrich Merz sprak in Berlijn met Markus Söder en Alice Weidel."),
        Some("nl")
    );
}

#[test]
fn short_texts_are_not_reliable() {
    for text in ["Volg ons", "Lees meer", "Kabinet valt", "Foto: ANP"] {
        if let Some(d) = detector().detect(text) {
            assert!(!d.reliable, "{text}: {d:?}");
        }
    }
}

#[test]
fn short_dutch_paragraphs_are_not_foreign() {
    let det = detector();
    for text in [
        "Volg ons",
        "Lees ook",
        "Kabinet wil strengere regels voor verhuur",
        "Storm zorgt voor chaos op het spoor",
        "Die van de buren kwam niet",
        "Foto: ANP / Remko de Waal",
        "Een vlinder uit de familie van de motten.",
    ] {
        assert_eq!(det.paragraph_language(text, "nl"), None, "{text}");
    }
}

#[test]
fn english_quote_in_dutch_article_is_foreign() {
    let text = "\"We will not accept any agreement that leaves our farmers and fishermen worse \
                off than they were before,\" the minister told reporters in Brussels.";
    let d = detector().paragraph_language(text, "nl").expect("foreign");
    assert_eq!(d.code, "en");
    // And the same paragraph in an English article is not foreign.
    assert_eq!(detector().paragraph_language(text, "en"), None);
}

#[test]
fn odd_inputs_do_not_panic() {
    let det = detector();
    let long = "woord ".repeat(10_000);
    for text in [
        "\u{0}",
        "'n",
        "’’’",
        "ÿ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "日本語のテキスト",
        "مرحبا بالعالم",
        "a",
        long.as_str(),
        "ij ij ij ij ij ij ij ij",
    ] {
        let _ = det.detect(text);
        let _ = det.paragraph_language(text, "nl");
        let _ = det.paragraph_language(text, "");
    }
}

#[test]
fn prefix_cuts_on_char_and_word_boundaries() {
    assert_eq!(prefix("abc", 10), "abc");
    assert_eq!(prefix("ééé", 2), "éé");
    assert_eq!(
        prefix("aaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 20),
        "aaaa bbbbbbbbbbbbbbb"
    );
    assert_eq!(prefix("aaaaaaaaaaaaaaaaaa bb", 20), "aaaaaaaaaaaaaaaaaa");
}

#[test]
fn detection_is_shareable_across_threads() {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                assert_eq!(
                    code("Het kabinet heeft de begroting gepresenteerd."),
                    Some("nl")
                )
            });
        }
    });
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics_and_stays_in_range(text in "\\PC{0,200}") {
            if let Some(d) = detector().detect(&text) {
                prop_assert!((0.0..=1.0).contains(&d.confidence));
                prop_assert_eq!(d.code.len(), 2);
            }
            let _ = detector().paragraph_language(&text, "nl");
        }
    }
}
