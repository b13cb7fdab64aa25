//! Speed and memory of the e5 encoder (ignored by default; run in release):
//!
//! ```text
//! for b in bench_convert bench_f32 bench_q4; do
//!   RAYON_NUM_THREADS=2 cargo test --release -p ontleed-cli --features train --test transformer_bench \
//!       -- --ignored --nocapture --exact $b
//! done
//! ```
#![cfg(feature = "train")]

use std::path::PathBuf;
use std::time::Instant;

use ontleed_train::transformer::convert::convert;
use ontleed_train::transformer::encoder::E5Encoder;

const DUTCH: &str = "De Tweede Kamer debatteerde donderdag urenlang over de begroting van het \
ministerie van Infrastructuur en Waterstaat, waarbij de aanleg van de Lelylijn, het onderhoud van \
bruggen en sluizen en de gevolgen van de stikstofuitspraak van de Raad van State centraal stonden. \
Minister Harbers zei dat er volgend jaar ruim 1,2 miljard euro extra beschikbaar komt voor het \
wegwerken van achterstallig onderhoud, maar oppositiepartijen noemden dat bedrag ontoereikend. \
Volgens Rijkswaterstaat moeten de komende tien jaar meer dan 1.400 kunstwerken worden gerenoveerd \
of vervangen, waaronder de Van Brienenoordbrug in Rotterdam en de sluizen bij IJmuiden. Ook de \
provincies Groningen, Friesland en Drenthe drongen aan op snelle duidelijkheid over de \
financiering van de spoorverbinding tussen Amsterdam en Groningen, die de reistijd naar het \
noorden met een half uur zou verkorten. Een motie van het CDA om de besluitvorming te versnellen \
werd met 76 tegen 74 stemmen aangenomen; de stemming over de overige amendementen volgt volgende \
week dinsdag. In Brussel sprak premier De Croo met de Europese Commissie over de Belgische \
begroting, terwijl in Antwerpen de havenarbeiders staakten voor betere arbeidsvoorwaarden.";

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Consecutive stretches of `DUTCH` (wrapping around) of about `tokens` tokens each.
fn texts(enc: &E5Encoder, n: usize, tokens: usize) -> Vec<String> {
    let words: Vec<&str> = DUTCH.split_whitespace().collect();
    let mut out = Vec::new();
    let mut w = 0;
    for _ in 0..n {
        let mut text = String::from("passage:");
        while enc.tokenize(&text).unwrap().len() < tokens {
            text.push(' ');
            text.push_str(words[w % words.len()]);
            w += 1;
        }
        out.push(text);
    }
    out
}

fn time_embed(enc: &E5Encoder, texts: &[String], reps: usize) -> (f64, usize) {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs.iter().map(|t| enc.tokenize(t).unwrap().len()).sum();
    enc.embed(&refs).unwrap(); // warm-up
    let t = Instant::now();
    for _ in 0..reps {
        enc.embed(&refs).unwrap();
    }
    (t.elapsed().as_secs_f64() / reps as f64, tokens)
}

fn report(label: &str, enc: &E5Encoder) {
    for (name, n, len, reps) in [
        ("8 x ~40", 8, 40, 10),
        ("1 x 128", 1, 128, 10),
        ("32 x ~40", 32, 40, 3),
    ] {
        let tx = texts(enc, n, len);
        let cpu0 = cpu_secs();
        let (secs, tokens) = time_embed(enc, &tx, reps);
        let cpu = (cpu_secs() - cpu0) / (reps + 1) as f64;
        println!(
            "{label} {name}: {tokens} tokens in {:.1} ms wall = {:.0} tokens/s ({:.0} tokens per CPU-second)",
            secs * 1e3,
            tokens as f64 / secs,
            tokens as f64 / cpu
        );
    }
    println!("{label}: peak RSS {:.0} MiB", peak_rss_mib());
}

/// User + system CPU time of this process so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() < 13 {
        return f64::NAN;
    }
    (f[10] + f[11]) / 100.0
}

fn bin_path() -> Option<PathBuf> {
    let bin = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("target/e5/e5-small-q4.bin");
    if bin.exists() {
        Some(bin)
    } else {
        println!("SKIPPED: run scripts/fetch-e5.sh");
        None
    }
}

/// Run each benchmark on its own (`--exact`) so that peak RSS is its own.
#[test]
#[ignore = "benchmark; needs scripts/fetch-e5.sh"]
fn bench_convert() {
    let Some(bin) = bin_path() else { return };
    let out =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("target/e5/bench-model");
    let t = Instant::now();
    convert(&bin, &out).unwrap();
    println!(
        "convert: {:.2} s, peak RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

#[test]
#[ignore = "benchmark; needs bench_convert to have run"]
fn bench_f32() {
    let out =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("target/e5/bench-model");
    let t = Instant::now();
    let enc = E5Encoder::load(&out).unwrap();
    println!("f32 load: {:.2} s", t.elapsed().as_secs_f64());
    report("f32", &enc);
}

#[test]
#[ignore = "benchmark; needs scripts/fetch-e5.sh"]
fn bench_q4() {
    let Some(bin) = bin_path() else { return };
    let t = Instant::now();
    let enc = E5Encoder::load_q4(&bin).unwrap();
    println!("q4 load: {:.2} s", t.elapsed().as_secs_f64());
    report("q4", &enc);
}
