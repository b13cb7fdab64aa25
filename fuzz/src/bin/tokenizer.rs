//! The text stage (src/text): paragraphs, sentences and tokens of any UTF-8 text, with the offset
//! invariants every later stage relies on.

use ontleed::text::{Document, Span, is_boilerplate, tokenize};

fn check_span(text: &str, s: &Span, what: &str) {
    assert!(
        s.start <= s.end && s.end <= text.len(),
        "{what} {s:?} outside the text"
    );
    assert!(
        text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
        "{what} {s:?} not on char boundaries"
    );
    assert_eq!(
        s.char_start,
        text[..s.start].chars().count(),
        "{what} {s:?} char_start"
    );
    assert_eq!(
        s.char_end - s.char_start,
        text[s.bytes()].chars().count(),
        "{what} {s:?} char_end"
    );
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let doc = Document::new(text);
        let mut prev_end = 0;
        for t in &doc.tokens {
            check_span(text, t, "token");
            assert!(t.start < t.end, "empty token {t:?}");
            assert!(t.start >= prev_end, "token {t:?} overlaps or goes back");
            prev_end = t.end;
        }
        let mut next = 0;
        for s in &doc.sentences {
            assert_eq!(s.start, next, "sentences cover the tokens in order");
            assert!(
                s.start < s.end && s.end <= doc.tokens.len(),
                "sentence {s:?}"
            );
            next = s.end;
        }
        assert_eq!(next, doc.tokens.len(), "every token is in a sentence");
        let mut next = 0;
        let mut prev_end = 0;
        for p in &doc.paragraphs {
            check_span(text, &p.span, "paragraph");
            assert!(p.span.start >= prev_end, "paragraph {p:?} goes back");
            prev_end = p.span.end;
            assert_eq!(
                p.sentences.start, next,
                "paragraphs cover the sentences in order"
            );
            next = p.sentences.end;
            for s in p.sentences.clone() {
                for t in doc.sentences[s].clone() {
                    let t = doc.tokens[t];
                    assert!(
                        p.span.start <= t.start && t.end <= p.span.end,
                        "token {t:?} outside its paragraph {p:?}"
                    );
                }
            }
        }
        assert_eq!(
            next,
            doc.sentences.len(),
            "every sentence is in a paragraph"
        );
        let words = doc.sentence_words();
        assert_eq!(words.len(), doc.sentences.len());
        let paragraphs: Vec<&str> = doc
            .paragraphs
            .iter()
            .map(|p| doc.paragraph_text(p))
            .collect();
        assert_eq!(is_boilerplate(&paragraphs).len(), paragraphs.len());
        // The plain tokenizer keeps the same invariants.
        let mut prev_end = 0;
        for t in tokenize(text) {
            check_span(text, &t, "tokenize()");
            assert!(t.start < t.end && t.start >= prev_end, "tokenize() {t:?}");
            prev_end = t.end;
        }
    });
}
