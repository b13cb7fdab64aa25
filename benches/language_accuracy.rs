//! Accuracy and speed of language detection on lingua's public test sentences.
//!
//! Run with `cargo bench --bench language_accuracy`. Compares, on the 1,000 single-sentence
//! test texts per language shipped in the `lingua-*-language-model` crates (their `testdata/`,
//! which this crate pulls in as dev-dependencies):
//!
//! * whatlang alone (all its languages),
//! * lingua restricted to the nine languages (nl, en, de, fr, af, da, sv, es, it),
//! * the hybrid [`ontleed::language::LanguageDetector`],
//!
//! and checks that Polish and Turkish sentences are still named by the hybrid. It also reports
//! speed on pseudo-articles (20 sentences glued together) and how paragraph marking behaves.

use std::hint::black_box;
use std::time::Instant;

use lingua::{Language, LanguageDetectorBuilder};
use ontleed::language::{Decider, LanguageDetector, MAX_CHARS};

/// (ISO 639-1, ISO 639-3, lingua language if among the nine, embedded test sentences).
type TestSet = (
    &'static str,
    &'static str,
    Option<Language>,
    Option<&'static str>,
);

/// The single-sentence test file of a model crate's embedded `testdata/` directory.
macro_rules! sentences {
    ($dir:path) => {
        $dir.get_file("sentences.txt")
            .and_then(|f| f.contents_utf8())
    };
}

fn test_sets() -> Vec<TestSet> {
    vec![
        (
            "nl",
            "nld",
            Some(Language::Dutch),
            sentences!(lingua_dutch_language_model::DUTCH_TESTDATA_DIRECTORY),
        ),
        (
            "en",
            "eng",
            Some(Language::English),
            sentences!(lingua_english_language_model::ENGLISH_TESTDATA_DIRECTORY),
        ),
        (
            "de",
            "deu",
            Some(Language::German),
            sentences!(lingua_german_language_model::GERMAN_TESTDATA_DIRECTORY),
        ),
        (
            "fr",
            "fra",
            Some(Language::French),
            sentences!(lingua_french_language_model::FRENCH_TESTDATA_DIRECTORY),
        ),
        (
            "af",
            "afr",
            Some(Language::Afrikaans),
            sentences!(lingua_afrikaans_language_model::AFRIKAANS_TESTDATA_DIRECTORY),
        ),
        (
            "da",
            "dan",
            Some(Language::Danish),
            sentences!(lingua_danish_language_model::DANISH_TESTDATA_DIRECTORY),
        ),
        (
            "sv",
            "swe",
            Some(Language::Swedish),
            sentences!(lingua_swedish_language_model::SWEDISH_TESTDATA_DIRECTORY),
        ),
        (
            "es",
            "spa",
            Some(Language::Spanish),
            sentences!(lingua_spanish_language_model::SPANISH_TESTDATA_DIRECTORY),
        ),
        (
            "it",
            "ita",
            Some(Language::Italian),
            sentences!(lingua_italian_language_model::ITALIAN_TESTDATA_DIRECTORY),
        ),
        (
            "pl",
            "pol",
            None,
            sentences!(lingua_polish_language_model::POLISH_TESTDATA_DIRECTORY),
        ),
        (
            "tr",
            "tur",
            None,
            sentences!(lingua_turkish_language_model::TURKISH_TESTDATA_DIRECTORY),
        ),
    ]
}

struct Set {
    code: &'static str,
    code3: &'static str,
    lingua: Option<Language>,
    lines: Vec<&'static str>,
}

/// Whether to print the Dutch sentences the hybrid gets wrong (`LANGUAGE_BENCH_VERBOSE=1`).
fn verbose() -> bool {
    std::env::var_os("LANGUAGE_BENCH_VERBOSE").is_some()
}

fn pct(hits: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * hits as f64 / total as f64
    }
}

fn main() {
    let mut sets = Vec::new();
    for (code, code3, lingua, text) in test_sets() {
        let Some(text) = text else {
            println!(
                "language_accuracy: lingua test sentences for '{code}' not found (testdata/sentences.txt \
                 missing from its lingua-*-language-model crate); skipping the benchmark."
            );
            return;
        };
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        sets.push(Set {
            code,
            code3,
            lingua,
            lines,
        });
    }
    let nine: Vec<&Set> = sets.iter().filter(|s| s.lingua.is_some()).collect();
    let nine_langs: Vec<Language> = nine.iter().filter_map(|s| s.lingua).collect();

    let t = Instant::now();
    let hybrid = LanguageDetector::new();
    let hybrid_build = t.elapsed();
    let t = Instant::now();
    let lingua9 = LanguageDetectorBuilder::from_languages(&nine_langs)
        .with_preloaded_language_models()
        .build();
    let lingua_build = t.elapsed();
    let whatlang = whatlang::Detector::new();
    println!(
        "Built hybrid in {:.0} ms, lingua-9 in {:.0} ms (models shared, so the second build is cheap).",
        hybrid_build.as_secs_f64() * 1e3,
        lingua_build.as_secs_f64() * 1e3
    );

    // Accuracy, one system at a time over all sentences.
    let mut rows = Vec::new(); // (code, n, whatlang hits, lingua hits, hybrid hits)
    let mut deciders = [0usize; 4];
    for s in &sets {
        let n = s.lines.len();
        let w = s
            .lines
            .iter()
            .filter(|l| {
                whatlang
                    .detect(l)
                    .is_some_and(|i| i.lang().code() == s.code3)
            })
            .count();
        let l = s.lingua.map(|lang| {
            s.lines
                .iter()
                .filter(|l| lingua9.detect_language_of(**l) == Some(lang))
                .count()
        });
        let mut h = 0;
        for line in &s.lines {
            if let Some((d, decider)) = hybrid.detect_with_decider(line) {
                h += usize::from(d.code == s.code);
                if s.lingua.is_some() {
                    deciders[decider as usize] += 1;
                }
                if verbose() && s.code == "nl" && d.code != "nl" {
                    println!(
                        "  nl detected as {} ({:.2}, {decider:?}): {line}",
                        d.code, d.confidence
                    );
                }
            }
        }
        rows.push((s.code, n, w, l, h));
    }

    println!("\nAccuracy (% of single sentences named correctly), lingua test sentences:");
    println!(
        "{:<6}{:>7}{:>11}{:>11}{:>11}",
        "lang", "n", "whatlang", "lingua-9", "hybrid"
    );
    let (mut mw, mut ml, mut mh) = (0.0, 0.0, 0.0);
    for &(code, n, w, l, h) in &rows {
        let lingua = l.map_or("-".to_string(), |l| format!("{:.1}", pct(l, n)));
        println!(
            "{code:<6}{n:>7}{:>11.1}{lingua:>11}{:>11.1}",
            pct(w, n),
            pct(h, n)
        );
        if let Some(l) = l {
            mw += pct(w, n) / nine.len() as f64;
            ml += pct(l, n) / nine.len() as f64;
            mh += pct(h, n) / nine.len() as f64;
        }
    }
    // Outside the nine, the hybrid must say what whatlang says.
    for s in sets.iter().filter(|s| s.lingua.is_none()) {
        let differ = s
            .lines
            .iter()
            .filter(|l| {
                let w = whatlang.detect(l).map(|i| i.lang().code());
                let h = hybrid.detect(l).map(|d| d.code);
                (w == Some(s.code3)) != (h == Some(s.code))
            })
            .count();
        println!(
            "{}: hybrid right where whatlang is right and wrong where it is wrong on all but {differ} of {} sentences",
            s.code,
            s.lines.len()
        );
    }
    let lines: Vec<&str> = nine.iter().flat_map(|s| s.lines.iter().copied()).collect();
    let n_nine = lines.len();
    println!("{:<6}{n_nine:>7}{mw:>11.1}{ml:>11.1}{mh:>11.1}", "mean9");

    // Speed: the systems take turns, ROUNDS times, and each keeps its fastest round, so that
    // other work on the machine skews the comparison as little as possible.
    let (t_w, t_l, t_h) = fastest_of(
        || {
            for l in &lines {
                black_box(whatlang.detect(l));
            }
        },
        || {
            for l in &lines {
                black_box(lingua9.detect_language_of(*l));
            }
        },
        || {
            for l in &lines {
                black_box(hybrid.detect(l));
            }
        },
    );
    println!(
        "\nSpeed over the {n_nine} sentences of the nine languages (one thread, fastest of {ROUNDS} rounds):"
    );
    for (name, secs) in [("whatlang", t_w), ("lingua-9", t_l), ("hybrid", t_h)] {
        println!(
            "  {name:<9} {:>9.0} sentences/s  {:>7.1} µs/sentence  ({:.2}x whatlang's time)",
            n_nine as f64 / secs,
            secs * 1e6 / n_nine as f64,
            secs / t_w
        );
    }
    let total: usize = deciders.iter().sum();
    println!(
        "  hybrid decided by: whatlang {:.1}%, lingua nl/af/de/en {:.1}%, lingua-9 {:.1}%, lingua-9+guards {:.1}%",
        pct(deciders[Decider::Whatlang as usize], total),
        pct(deciders[Decider::LinguaWest as usize], total),
        pct(deciders[Decider::Lingua as usize], total),
        pct(deciders[Decider::LinguaGuarded as usize], total)
    );

    reliability(&hybrid, &sets);
    articles(&hybrid, &whatlang, &lingua9, &sets);
    paragraphs(&hybrid, &sets);
}

/// Timing rounds per system.
const ROUNDS: usize = 3;

/// Runs the three closures in turn, [`ROUNDS`] times, and returns each one's fastest time in
/// seconds.
fn fastest_of(a: impl Fn(), b: impl Fn(), c: impl Fn()) -> (f64, f64, f64) {
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    // One untimed pass each warms caches and lazily built tables.
    a();
    b();
    c();
    let mut best = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        best.0 = best.0.min(time(&a));
        best.1 = best.1.min(time(&b));
        best.2 = best.2.min(time(&c));
    }
    best
}

/// How often a detection flagged reliable is right, and how many are flagged.
fn reliability(hybrid: &LanguageDetector, sets: &[Set]) {
    let (mut reliable, mut reliable_right, mut total) = (0, 0, 0);
    for s in sets {
        for line in &s.lines {
            total += 1;
            if let Some(d) = hybrid.detect(line).filter(|d| d.reliable) {
                reliable += 1;
                reliable_right += usize::from(d.code == s.code);
            }
        }
    }
    println!(
        "\nHybrid `reliable` flag over all {total} sentences (11 languages): {:.1}% flagged, {:.2}% of those right.",
        pct(reliable, total),
        pct(reliable_right, reliable)
    );
}

/// Speed and accuracy on pseudo-articles of 20 consecutive test sentences each.
fn articles(
    hybrid: &LanguageDetector,
    whatlang: &whatlang::Detector,
    lingua9: &lingua::LanguageDetector,
    sets: &[Set],
) {
    let mut docs: Vec<(&Set, String)> = Vec::new();
    for s in sets {
        for chunk in s.lines.chunks(20) {
            docs.push((s, chunk.join(" ")));
        }
    }
    let chars: usize = docs.iter().map(|(_, d)| d.chars().count()).sum();
    let nine: Vec<&(&Set, String)> = docs.iter().filter(|(s, _)| s.lingua.is_some()).collect();
    let w = docs
        .iter()
        .filter(|(s, d)| {
            whatlang
                .detect(d)
                .is_some_and(|i| i.lang().code() == s.code3)
        })
        .count();
    let l = nine
        .iter()
        .filter(|(s, d)| lingua9.detect_language_of(d.as_str()) == s.lingua)
        .count();
    let mut h = 0;
    let mut confident = 0;
    let (mut nl_reliable, mut nl_total, mut nl_min) = (0, 0, f64::INFINITY);
    let mut lingua_calls = 0;
    for (s, d) in &docs {
        if let Some((det, decider)) = hybrid.detect_with_decider(d) {
            lingua_calls += usize::from(decider != Decider::Whatlang);
            h += usize::from(det.code == s.code);
            confident += usize::from(det.reliable && det.confidence >= 0.99);
            if s.code == "nl" {
                nl_total += 1;
                nl_reliable += usize::from(det.reliable && det.code == "nl");
                nl_min = nl_min.min(det.confidence);
            }
        }
    }
    let (dw, dl, dh) = fastest_of(
        || {
            for (_, d) in &docs {
                black_box(whatlang.detect(d));
            }
        },
        || {
            for (_, d) in &nine {
                black_box(lingua9.detect_language_of(d.as_str()));
            }
        },
        || {
            for (_, d) in &docs {
                black_box(hybrid.detect(d));
            }
        },
    );
    println!(
        "\nPseudo-articles (20 sentences glued, {} chars on average; {} of them, 11 languages; \
         fastest of {ROUNDS} rounds):",
        chars / docs.len().max(1),
        docs.len()
    );
    println!(
        "  whatlang {:.1}% right, {:.0} µs/article (whole text)",
        pct(w, docs.len()),
        dw * 1e6 / docs.len() as f64
    );
    println!(
        "  lingua-9 {:.1}% right (nine languages only), {:.0} µs/article (whole text)",
        pct(l, nine.len()),
        dl * 1e6 / nine.len() as f64
    );
    println!(
        "  hybrid   {:.1}% right, {:.0} µs/article (first {MAX_CHARS} chars); {:.1}% reliable with confidence >= 0.99",
        pct(h, docs.len()),
        dh * 1e6 / docs.len() as f64,
        pct(confident, docs.len())
    );
    println!(
        "  hybrid asked lingua for {lingua_calls} of {} articles",
        docs.len()
    );
    println!(
        "  Dutch pseudo-articles: {nl_reliable} of {nl_total} reliable and Dutch, lowest confidence {nl_min:.3}"
    );
}

/// Paragraph marking: sentences used as paragraphs of a Dutch article.
fn paragraphs(hybrid: &LanguageDetector, sets: &[Set]) {
    println!(
        "\nParagraph marking in a Dutch article (`paragraph_language(text, \"nl\")`), test sentences as paragraphs:"
    );
    println!(
        "{:<6}{:>10}{:>10}{:>12}{:>10}",
        "lang", "<15 words", "marked", ">=15 words", "marked"
    );
    for s in sets {
        let (mut short, mut short_marked, mut long, mut long_marked) = (0, 0, 0, 0);
        for line in &s.lines {
            let words = line.split_whitespace().count();
            let marked = hybrid.paragraph_language(line, "nl");
            if verbose() && s.code == "nl" && marked.is_some() {
                println!("  nl marked foreign: {marked:?} {line}");
            }
            let marked = marked.is_some();
            if words >= 15 {
                long += 1;
                long_marked += usize::from(marked);
            } else {
                short += 1;
                short_marked += usize::from(marked);
            }
        }
        println!(
            "{:<6}{short:>10}{:>9.1}%{long:>12}{:>9.1}%",
            s.code,
            pct(short_marked, short),
            pct(long_marked, long)
        );
    }
}
