//! The transformer (accurate) model loader (src/ner/transformer/files.rs, model.rs, ner.rs): the
//! files of a model directory as one input, `config.json`, `labels.json` and the weights file
//! (`model.gguf` when it starts with the GGUF magic, else `model.safetensors`), and optionally
//! `tokenizer.json`, separated by [`SEPARATOR`]. The checksums in the config are checked
//! ([`ModelFiles::verify`]) but do not gate the parsers: `TransformerNer::from_files` parses
//! the config, labels, tokenizer and weights whatever `verify` says. Any input either fails to
//! load or gives a model that tags a short Dutch text (in f32 and with int8 layers) without
//! panicking, one tag per word.

use std::borrow::Cow;

use ontleed::ner::Recognizer;
use ontleed::ner::transformer::TransformerNer;
use ontleed::ner::transformer::files::{ModelFiles, WeightsFormat};
use ontleed::text::Document;
use ontleed_fuzz::DUTCH_TEXT;

/// Between the files of an input.
const SEPARATOR: &[u8] = b"\n--file--\n";

/// The tokenizer used when the input has none: a word-level vocabulary of 16 entries with the
/// four special tokens, behind the metaspace pre-tokenizer of the real model.
const TOKENIZER: &str = include_str!("../tiny_tokenizer.json");

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        parts.push(&rest[..i]);
        rest = &rest[i + SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

fn main() {
    let doc = Document::new(DUTCH_TEXT);
    let words = doc.sentence_words();
    afl::fuzz!(|data: &[u8]| {
        let parts = split(data);
        if parts.len() != 3 && parts.len() != 4 {
            return;
        }
        let (Ok(config), Ok(labels)) =
            (std::str::from_utf8(parts[0]), std::str::from_utf8(parts[1]))
        else {
            return;
        };
        let weights = parts[2];
        let format = if weights.starts_with(b"GGUF") {
            WeightsFormat::Gguf
        } else {
            WeightsFormat::Safetensors
        };
        let files = ModelFiles {
            origin: "fuzz".into(),
            config: Cow::Borrowed(config),
            labels: Cow::Borrowed(labels),
            tokenizer: Cow::Borrowed(parts.get(3).copied().unwrap_or(TOKENIZER.as_bytes())),
            weights: Cow::Borrowed(weights),
            format,
        };
        let _ = files.verify();
        let Ok(model) = TransformerNer::from_files(&files, &candle_core::Device::Cpu) else {
            return;
        };
        let check = |model: &TransformerNer| {
            // A model that loads but fails at run time is the article's `internal` error.
            let Ok(tags) = model.tag_document(&words) else {
                return;
            };
            assert_eq!(tags.len(), words.len());
            for (t, w) in tags.iter().zip(&words) {
                assert_eq!(t.len(), w.len());
            }
        };
        check(&model);
        if let Ok(int8) = model.with_int8() {
            check(&int8);
        }
    });
}
