//! The category model loader (model.bin.gz, src/topics/categories.rs): any bytes either fail to
//! load or give a model that scores a short Dutch text without panicking.

use ontleed::text::Document;
use ontleed::topics::{CategoryModel, Taxonomy, TopicTagger};
use ontleed_fuzz::DUTCH_TEXT;

fn main() {
    let doc = Document::new(DUTCH_TEXT);
    let all = vec![true; doc.paragraphs.len()];
    let topics = TopicTagger::new(Taxonomy::builtin()).tag(&doc, &all);
    afl::fuzz!(|data: &[u8]| {
        if let Ok(model) = CategoryModel::from_bytes(data) {
            let features = model.features(&doc, &all, &topics);
            let p = model.probabilities(&features);
            let _ = model.decide(&p);
        }
    });
}
