//! Distils lingua's character n-gram models into ontleed's compact model.
//!
//! Usage: `cargo run --release -- REGISTRY_SRC_DIR MIN_JOINT_LN OUT` where REGISTRY_SRC_DIR
//! holds the unpacked `lingua-LANGUAGE-language-model-1.3.0` crates (cargo's registry source
//! directory, e.g. `~/.cargo/registry/src/index.crates.io-*`), MIN_JOINT_LN the pruning
//! threshold (natural log of the smallest joint probability of an n-gram that is kept, e.g.
//! -15) and OUT the model file to write (`models/language/ngrams.bin`).
//!
//! lingua's `ngrams.fst` maps every n-gram (1 to 5 letters, lower case) seen in its training
//! text to the natural log of its conditional probability: P(last letter | the letters before)
//! (for a unigram, its relative frequency). The joint probability of an n-gram is the product
//! along its prefixes. Only n-grams whose joint probability is at least exp(MIN_JOINT_LN) are
//! kept: rare n-grams are rare in any text, so they change few decisions, and a kept n-gram's
//! prefixes are always kept too (their joint probability is higher).
//!
//! Output, laid out to be used in place (`include_bytes!`, no unpacking at start-up), all
//! integers little-endian: `ONG2`; the number of languages (u8) and each one's ISO 639-1 code
//! (2 bytes); the number of n-grams N and of (n-gram, language) values M (u32 each); then the
//! n-grams' keys (u64 each: the hash of `extend` below, which must stay the same as in
//! `crates/ontleed/src/language/ngrams.rs`) in ascending order; N + 1 starts (u32) of each n-gram's values;
//! M values of 2 bytes: the language's index and its log probability, quantized as
//! round(-ln p * 10) clamped to 0..=255.

use std::collections::{BTreeMap, HashMap};

use fst::{IntoStreamer, Streamer};

/// The languages, in the order of their index in the output: (ISO 639-1, crate name).
const LANGUAGES: [(&str, &str); 22] = [
    ("af", "afrikaans"),
    ("az", "azerbaijani"),
    ("be", "belarusian"),
    ("bg", "bulgarian"),
    ("ca", "catalan"),
    ("da", "danish"),
    ("de", "german"),
    ("en", "english"),
    ("es", "spanish"),
    ("fr", "french"),
    ("it", "italian"),
    ("mk", "macedonian"),
    ("nb", "bokmal"),
    ("nl", "dutch"),
    ("nn", "nynorsk"),
    ("pl", "polish"),
    ("pt", "portuguese"),
    ("ru", "russian"),
    ("sr", "serbian"),
    ("sv", "swedish"),
    ("tr", "turkish"),
    ("uk", "ukrainian"),
];

/// The hash of an n-gram extended by one letter: the same function as in
/// `crates/ontleed/src/language/ngrams.rs`.
fn extend(hash: u64, c: char) -> u64 {
    let mut h = (hash ^ u64::from(c)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    h.wrapping_add(0x632B_E59B_D9B4_E019)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, registry, min_joint, out] = &args[..] else {
        eprintln!("usage: distill-ngrams REGISTRY_SRC_DIR MIN_JOINT_LN OUT");
        std::process::exit(2);
    };
    let min_joint: f64 = min_joint.parse().expect("MIN_JOINT_LN is a number");
    let mut table: BTreeMap<Vec<u8>, Vec<(u8, u8)>> = BTreeMap::new();
    for (index, (code, name)) in LANGUAGES.iter().enumerate() {
        let path = format!("{registry}/lingua-{name}-language-model-1.3.0/models/ngrams.fst");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let map = fst::Map::new(bytes).expect("an fst map");
        let mut joint: HashMap<Vec<u8>, f64> = HashMap::new();
        let mut stream = map.into_stream();
        let (mut total, mut kept) = ([0usize; 6], [0usize; 6]);
        while let Some((key, value)) = stream.next() {
            let ln_p = f64::from_bits(value);
            let text = std::str::from_utf8(key).expect("UTF-8 n-gram");
            let chars = text.chars().count();
            let prefix_len = text.char_indices().last().map_or(0, |(i, _)| i);
            let prefix = if chars > 1 {
                // Byte order puts every prefix before its extensions.
                *joint.get(&key[..prefix_len]).expect("prefix seen first")
            } else {
                0.0
            };
            let j = prefix + ln_p;
            joint.insert(key.to_vec(), j);
            total[chars] += 1;
            if j >= min_joint {
                kept[chars] += 1;
                let q = (-ln_p * 10.0).round().clamp(0.0, 255.0) as u8;
                table
                    .entry(key.to_vec())
                    .or_default()
                    .push((index as u8, q));
            }
        }
        eprintln!(
            "{code}: n-grams by order {:?}, kept {:?}",
            &total[1..],
            &kept[1..]
        );
    }
    let mut keyed: Vec<(u64, &Vec<(u8, u8)>)> = table
        .iter()
        .map(|(key, langs)| {
            let text = std::str::from_utf8(key).expect("UTF-8 n-gram");
            (text.chars().fold(0, extend), langs)
        })
        .collect();
    keyed.sort_by_key(|k| k.0);
    assert!(
        keyed.windows(2).all(|w| w[0].0 != w[1].0),
        "hash collision between n-grams"
    );
    let entries: usize = keyed.iter().map(|k| k.1.len()).sum();
    let mut raw = Vec::new();
    raw.extend_from_slice(b"ONG2");
    raw.push(LANGUAGES.len() as u8);
    for (code, _) in LANGUAGES {
        raw.extend_from_slice(code.as_bytes());
    }
    raw.extend_from_slice(&(keyed.len() as u32).to_le_bytes());
    raw.extend_from_slice(&(entries as u32).to_le_bytes());
    for (key, _) in &keyed {
        raw.extend_from_slice(&key.to_le_bytes());
    }
    let mut start = 0u32;
    for (_, langs) in &keyed {
        raw.extend_from_slice(&start.to_le_bytes());
        start += langs.len() as u32;
    }
    raw.extend_from_slice(&start.to_le_bytes());
    for (_, langs) in &keyed {
        for &(l, q) in langs.iter() {
            raw.push(l);
            raw.push(q);
        }
    }
    std::fs::write(out, &raw).expect("output file");
    eprintln!(
        "{} n-grams, {entries} language entries, {} bytes, written to {out}",
        keyed.len(),
        raw.len()
    );
}
