//! The fast NER model loader (model.bin, src/ner/fast): any bytes either fail to load or give a
//! model that tags a short Dutch text without panicking.

use ontleed::ner::Recognizer;
use ontleed::ner::fast::FastModel;
use ontleed::text::Document;
use ontleed_fuzz::DUTCH_TEXT;

fn main() {
    let doc = Document::new(DUTCH_TEXT);
    let words = doc.sentence_words();
    afl::fuzz!(|data: &[u8]| {
        if let Ok(model) = FastModel::from_bytes(data) {
            let tags = model.tag_document(&words).expect("the fast model cannot fail");
            assert_eq!(tags.len(), words.len());
            for (t, w) in tags.iter().zip(&words) {
                assert_eq!(t.len(), w.len());
            }
        }
    });
}
