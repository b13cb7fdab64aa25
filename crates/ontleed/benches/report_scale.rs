//! Scale check of `ontleed report`: generates 100,000 synthetic annotated records (entities drawn
//! from a pool of 5,000 names with a Zipf-like distribution, dates over two years, topics from a
//! pool of 24), runs the report with CSV, JSON and HTML output, and prints the time and the peak
//! resident memory of the report run. Person names come in variants, as in real archives, so
//! that the resolution across the corpus has work: of the mentions of a person, about 8% are
//! the surname alone, 3% a genitive ("Berdamkos", MISC) and 1% a typo of the full name.
//!
//! Run with `cargo bench --bench report_scale`. Environment: `REPORT_SCALE_RECORDS` changes the
//! number of records; `REPORT_SCALE_KEEP=DIR` keeps the input and outputs in DIR (and a later run
//! with the same DIR and `REPORT_SCALE_REUSE=1` reads the kept input instead of generating it).

use ontleed::report::{ReportOptions, run};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

const POOL: usize = 5_000;
const TOPICS: usize = 24;
const DAYS: u64 = 730;

/// SplitMix64: a small deterministic generator, so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const FIRST: [&str; 16] = [
    "Vincent", "Anna", "Mark", "Sophie", "Jan", "Fleur", "Pieter", "Lotte", "Ren", "Mei", "Karim",
    "Sanne", "Daan", "Eva", "Tom", "Noor",
];
const SYL: [&str; 16] = [
    "ber", "van", "dam", "ko", "ling", "ste", "ra", "hof", "zen", "ma", "ter", "wijk", "pa", "lo",
    "gen", "rie",
];

fn name(i: usize) -> (String, &'static str) {
    let a = SYL[i % 16];
    let b = SYL[(i / 16) % 16];
    let c = SYL[(i / 256) % 16];
    let mut last = format!("{a}{b}{c}");
    if let Some(f) = last.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    match i % 4 {
        0 | 1 => (
            format!(
                "{} {last}{}",
                FIRST[(i / 7) % 16],
                ["", "ing"][(i / 4096) % 2]
            ),
            "PER",
        ),
        2 => (format!("{last} Groep {}", i / 4096), "ORG"),
        _ => (format!("{last}stad {}", i / 4096), "LOC"),
    }
}

fn main() {
    let records: usize = std::env::var("REPORT_SCALE_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let keep = std::env::var_os("REPORT_SCALE_KEEP").map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("output dir");
    let input = dir.join("synthetic.jsonl");

    // Zipf-like weights over the pool.
    let weights: Vec<f64> = (0..POOL)
        .map(|r| 1.0 / (r as f64 + 1.0).powf(0.9))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(POOL);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cumulative.push(acc);
    }
    let names: Vec<(String, &str)> = (0..POOL).map(name).collect();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 6, 3).expect("date");

    let reuse =
        keep.is_some() && std::env::var_os("REPORT_SCALE_REUSE").is_some() && input.exists();
    if !reuse {
        generate(&input, records, &cumulative, &names, start);
    }
    report(&dir, input, records, keep);
}

fn generate(
    input: &std::path::Path,
    records: usize,
    cumulative: &[f64],
    names: &[(String, &str)],
    start: chrono::NaiveDate,
) {
    let t0 = Instant::now();
    let mut rng = Rng(42);
    let mut out = BufWriter::new(std::fs::File::create(input).expect("create input"));
    for n in 0..records {
        let day = rng.below(DAYS);
        let date = start + chrono::Days::new(day);
        if n % 50 == 7 {
            writeln!(
                out,
                "{}",
                json!({"line": n + 1, "error": {"kind": "json", "message": "bad line"}})
            )
            .ok();
            continue;
        }
        if n % 20 == 3 {
            let rec = json!({"id": format!("a{n}"), "date": date.to_string(), "entities": null, "topics": null, "skipped": {"reason": "language"}});
            writeln!(out, "{rec}").ok();
            continue;
        }
        let k = 3 + rng.below(10) as usize;
        let mut picked: Vec<usize> = Vec::with_capacity(k);
        for _ in 0..k {
            // Some entities trend: the top 8 each peak in their own quarter of the two years.
            let e = if rng.unit() < 0.15 {
                ((day * 8 / DAYS) as usize + rng.below(2) as usize) % 8
            } else {
                let u = rng.unit();
                cumulative.partition_point(|&c| c < u).min(POOL - 1)
            };
            if !picked.contains(&e) {
                picked.push(e);
            }
        }
        let summary: Vec<_> = picked
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                let (full, label) = &names[e];
                let (mut name, mut label) = (full.clone(), *label);
                if label == "PER" {
                    let surname = full.rsplit(' ').next().unwrap_or(full).to_string();
                    let u = rng.unit();
                    if u < 0.08 {
                        name = surname;
                    } else if u < 0.11 {
                        name = format!("{surname}s");
                        label = "MISC";
                    } else if u < 0.12 {
                        // A letter of the surname left out.
                        let cut = 1 + rng.below(surname.len() as u64 - 2) as usize;
                        let first = full.split(' ').next().unwrap_or("");
                        name = format!("{first} {}{}", &surname[..cut], &surname[cut + 1..]);
                    }
                }
                let mut v = json!({"canonical": name, "label": label, "mentions": 1 + rng.below(4), "first_offset": i * 40});
                if e % 10 == 0 {
                    v["id"] = json!(format!("Q{}", 1000 + e));
                }
                v
            })
            .collect();
        let nt = rng.below(4) as usize;
        let topics: Vec<_> = (0..nt)
            .map(|_| {
                let t = (rng.unit().powi(2) * TOPICS as f64) as usize;
                json!({"id": format!("t{t}"), "label": format!("Topic {t}"), "score": 0.8, "evidence": ["x"]})
            })
            .collect();
        let rec = json!({
            "id": format!("a{n}"), "date": date.to_string(), "title": format!("Artikel {n}"),
            "language": {"code": "nl", "name": "Dutch", "confidence": 0.99, "reliable": true},
            "entities": [], "entity_summary": summary, "topics": topics,
            "ontleed": {"version": "0.1.0", "ner_model": "synthetic", "topics": "builtin"}
        });
        writeln!(out, "{rec}").ok();
    }
    out.flush().expect("write input");
    drop(out);
    let size = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {records} records ({:.1} MiB) in {:.2?}",
        size as f64 / 1048576.0,
        t0.elapsed()
    );
}

fn report(dir: &std::path::Path, input: PathBuf, records: usize, keep: Option<PathBuf>) {
    let before = peak_rss_kib();
    // Reset the peak so it measures the report run only (Linux: "5" clears VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let opts = ReportOptions {
        inputs: vec![input],
        csv: Some(dir.join("entities.csv")),
        json: Some(dir.join("entities.json")),
        html: Some(dir.join("report.html")),
        top: 500,
        ..ReportOptions::default()
    };
    let cpu0 = cpu_seconds();
    let t1 = Instant::now();
    let summary = run(&opts).expect("report");
    let elapsed = t1.elapsed();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    println!("{summary}");
    println!(
        "report: {:.2?} wall, {} CPU ({:.0} records/s wall); peak RSS {} (before the run: {} KiB, peak reset: {reset})",
        elapsed,
        cpu.map_or("?".to_string(), |c| format!("{c:.2}s")),
        records as f64 / elapsed.as_secs_f64(),
        peak_rss_kib().map_or("unknown".to_string(), |k| format!(
            "{:.1} MiB",
            k as f64 / 1024.0
        )),
        before.map_or("?".to_string(), |k| k.to_string()),
    );
    for f in ["entities.csv", "entities.json", "report.html"] {
        let len = std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        println!("  {f}: {:.1} KiB", len as f64 / 1024.0);
    }
    if let Some(k) = keep {
        println!("kept in {}", k.display());
    }
}

/// User plus system CPU time of this process, in seconds (from /proc/self/stat; clock ticks
/// assumed to be 100 per second, as on Linux x86-64 and arm64). The wall time is inflated on a
/// busy machine; the CPU time much less so.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Peak resident set size in KiB, from `VmHWM` in /proc/self/status.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
