//! Measures how often the converted `tokenizer.json` gives exactly e5.c's token ids, on a corpus
//! built by `tests/fixtures/e5/tokenizer_agreement.py` (not committed). Ignored by default:
//!
//! ```text
//! E5_AGREEMENT=target/e5/agreement cargo test --release -p ontleed-cli --features train \
//!     --test transformer_tokenizer -- --ignored --nocapture
//! ```
#![cfg(feature = "train")]

use std::path::PathBuf;

use ontleed_train::transformer::convert::build_tokenizer;
use ontleed_train::transformer::q4file::Q4File;
use tokenizers::Tokenizer;

#[test]
#[ignore = "needs target/e5 and a corpus from tests/fixtures/e5/tokenizer_agreement.py"]
fn tokenizer_agreement_with_e5c() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = std::env::var_os("E5_AGREEMENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/e5/agreement"));
    let bin = root.join("target/e5/e5-small-q4.bin");
    if !bin.exists() || !dir.join("texts.jsonl").exists() {
        println!("SKIPPED: run scripts/fetch-e5.sh and tests/fixtures/e5/tokenizer_agreement.py");
        return;
    }
    let file = Q4File::open(&bin).unwrap();
    let json = dir.join("tokenizer.json");
    build_tokenizer(&file.vocab)
        .unwrap()
        .save(&json, false)
        .unwrap();
    let tok = Tokenizer::from_file(&json).unwrap();

    let texts: Vec<String> = std::fs::read_to_string(dir.join("texts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<Vec<u32>> = std::fs::read_to_string(dir.join("ids.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(texts.len(), want.len());

    let (mut same, mut tokens, mut bad_tokens) = (0usize, 0usize, 0usize);
    let mut shown = 0;
    let t0 = std::time::Instant::now();
    for (text, want) in texts.iter().zip(&want) {
        let got = tok.encode(text.as_str(), true).unwrap().get_ids().to_vec();
        tokens += want.len();
        if &got == want {
            same += 1;
            continue;
        }
        // Tokens outside the longest common prefix and suffix count as disagreeing.
        let pre = got.iter().zip(want).take_while(|(a, b)| a == b).count();
        let suf = got[pre..]
            .iter()
            .rev()
            .zip(want[pre..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        bad_tokens += want.len() - pre - suf;
        if shown < 30 {
            shown += 1;
            let piece = |ids: &[u32]| -> Vec<String> {
                ids.iter()
                    .map(|&i| file.vocab.pieces[i as usize].clone())
                    .collect()
            };
            println!(
                "{text:?}\n  e5.c: {:?}\n  ours: {:?}",
                piece(want),
                piece(&got)
            );
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{same}/{} texts identical ({:.3}%), {bad_tokens}/{tokens} e5.c tokens in differing stretches ({:.4}%), {:.0} texts/s",
        texts.len(),
        100.0 * same as f64 / texts.len() as f64,
        100.0 * bad_tokens as f64 / tokens as f64,
        texts.len() as f64 / secs
    );
}
