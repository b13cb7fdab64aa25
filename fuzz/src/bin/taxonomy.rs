//! The topic taxonomy parser (data/topics.toml format, src/topics/taxonomy.rs); a taxonomy that
//! parses then tags a short Dutch text, so its compiled patterns run too.

use ontleed::text::Document;
use ontleed::topics::{Taxonomy, TopicTagger};
use ontleed_fuzz::DUTCH_TEXT;

fn main() {
    let doc = Document::new(DUTCH_TEXT);
    let all = vec![true; doc.paragraphs.len()];
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(taxonomy) = Taxonomy::from_toml(text) {
            assert_eq!(taxonomy.topic_ids().count(), taxonomy.len());
            let tagger = TopicTagger::new(taxonomy);
            for m in tagger.tag(&doc, &all) {
                assert!((0.0..=1.0).contains(&m.score), "score {}", m.score);
            }
        }
    });
}
