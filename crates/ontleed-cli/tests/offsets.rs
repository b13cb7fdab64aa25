//! Property tests: on arbitrary Unicode text the pipeline never panics, and every offset it
//! writes points at exactly the text it claims (`text[start:end]` in code points).

use ontleed::pipeline::Pipeline;
use ontleed::text::Document;
use proptest::prelude::*;
use std::sync::OnceLock;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        Pipeline::builder()
            .languages(vec!["nl".into(), "en".into()])
            .build()
            .expect("pipeline")
    })
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-zÀ-ÿ0-9 .,;:'\"()\\-–…’“”\n]{0,300}",
        prop::collection::vec(
            prop_oneof![
                Just("Huawei".to_string()),
                Just("Vincent Pang".to_string()),
                Just("de Verenigde Staten".to_string()),
                Just("5G-netwerken".to_string()),
                Just("'s-Hertogenbosch".to_string()),
                Just("Zürich".to_string()),
                Just("😀".to_string()),
                Just("\u{200b}".to_string()),
                Just(".\n\n".to_string()),
                "[a-zé]{1,8}",
                "[A-Z][a-zë]{1,8}",
            ],
            0..60
        )
        .prop_map(|v| v.join(" ")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn entity_and_paragraph_offsets_point_at_their_text(text in text_strategy()) {
        let chars: Vec<char> = text.chars().collect();
        let a = pipeline().annotate_text(&text).expect("annotated");
        for e in a.entities.iter().flatten() {
            prop_assert!(e.start < e.end && e.end <= chars.len());
            prop_assert_eq!(chars[e.start..e.end].iter().collect::<String>(), e.text.clone());
        }
        for p in &a.paragraphs {
            prop_assert!(p.start < p.end && p.end <= chars.len());
        }
    }

    #[test]
    fn token_offsets_agree_in_bytes_and_code_points(text in text_strategy()) {
        let doc = Document::new(&text);
        let chars: Vec<char> = text.chars().collect();
        let mut last = 0;
        for t in &doc.tokens {
            prop_assert!(t.start >= last && t.start < t.end);
            last = t.end;
            prop_assert_eq!(chars[t.char_start..t.char_end].iter().collect::<String>(), &text[t.bytes()]);
        }
        for s in &doc.sentences {
            prop_assert!(!s.is_empty());
        }
    }
}
