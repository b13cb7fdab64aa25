//! Accuracy and speed of language identification: ontleed's detector against whatlang and lingua.
//!
//! Run with `cargo bench --bench language_accuracy`. The evaluation sets:
//!
//! * lingua's public test sentences (1,000 single sentences per language, the `testdata/` of
//!   the `lingua-*-language-model` crates, pulled in as dev-dependencies): nl, en, de, fr, es,
//!   it, pt, pl, ru, tr (the targets), af, da, sv, nb, ca, uk, bg (the confusable groups);
//! * Dutch Wikipedia sentences of at least five words from `../shared/data/wikiann-nl` and
//!   `wikineural-nl` (validation splits; skipped with a note when missing);
//! * Dutch news headlines (5–15 words) and briefs written for this purpose,
//!   `data/language-dev/headlines-nl.txt` (see the README beside it).
//!
//! For each it prints the share called right by whatlang alone, by lingua over the 22
//! languages whose models ontleed's n-gram model is distilled from (lingua's high accuracy
//! mode, the detector ontleed used before; a dev-dependency now), and by ontleed's detector
//! (whatlang, then its compact n-gram model within the confusable groups); then the
//! time of each on the same texts, the effect of the margin that favours Dutch, and paragraph
//! marking. `LANGUAGE_BENCH_VERBOSE=1` prints the Dutch texts ontleed gets wrong.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use lingua::{Language, LanguageDetectorBuilder};
use ontleed::language::{LanguageDetector, PREFERENCE_ODDS};

/// The single-sentence test file of a model crate's embedded `testdata/` directory.
macro_rules! sentences {
    ($dir:path) => {
        $dir.get_file("sentences.txt")
            .and_then(|f| f.contents_utf8())
    };
}

/// (ISO 639-1 code, embedded test sentences).
fn lingua_sets() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        (
            "nl",
            sentences!(lingua_dutch_language_model::DUTCH_TESTDATA_DIRECTORY),
        ),
        (
            "en",
            sentences!(lingua_english_language_model::ENGLISH_TESTDATA_DIRECTORY),
        ),
        (
            "de",
            sentences!(lingua_german_language_model::GERMAN_TESTDATA_DIRECTORY),
        ),
        (
            "fr",
            sentences!(lingua_french_language_model::FRENCH_TESTDATA_DIRECTORY),
        ),
        (
            "es",
            sentences!(lingua_spanish_language_model::SPANISH_TESTDATA_DIRECTORY),
        ),
        (
            "it",
            sentences!(lingua_italian_language_model::ITALIAN_TESTDATA_DIRECTORY),
        ),
        (
            "pt",
            sentences!(lingua_portuguese_language_model::PORTUGUESE_TESTDATA_DIRECTORY),
        ),
        (
            "pl",
            sentences!(lingua_polish_language_model::POLISH_TESTDATA_DIRECTORY),
        ),
        (
            "ru",
            sentences!(lingua_russian_language_model::RUSSIAN_TESTDATA_DIRECTORY),
        ),
        (
            "tr",
            sentences!(lingua_turkish_language_model::TURKISH_TESTDATA_DIRECTORY),
        ),
        (
            "af",
            sentences!(lingua_afrikaans_language_model::AFRIKAANS_TESTDATA_DIRECTORY),
        ),
        (
            "da",
            sentences!(lingua_danish_language_model::DANISH_TESTDATA_DIRECTORY),
        ),
        (
            "sv",
            sentences!(lingua_swedish_language_model::SWEDISH_TESTDATA_DIRECTORY),
        ),
        (
            "nb",
            sentences!(lingua_bokmal_language_model::BOKMAL_TESTDATA_DIRECTORY),
        ),
        (
            "ca",
            sentences!(lingua_catalan_language_model::CATALAN_TESTDATA_DIRECTORY),
        ),
        (
            "uk",
            sentences!(lingua_ukrainian_language_model::UKRAINIAN_TESTDATA_DIRECTORY),
        ),
        (
            "bg",
            sentences!(lingua_bulgarian_language_model::BULGARIAN_TESTDATA_DIRECTORY),
        ),
    ]
}

/// The languages of ontleed's n-gram model (`src/language/ngrams.rs`), all from lingua.
const LINGUA_LANGUAGES: [Language; 22] = [
    Language::Afrikaans,
    Language::Azerbaijani,
    Language::Belarusian,
    Language::Bokmal,
    Language::Bulgarian,
    Language::Catalan,
    Language::Danish,
    Language::Dutch,
    Language::English,
    Language::French,
    Language::German,
    Language::Italian,
    Language::Macedonian,
    Language::Nynorsk,
    Language::Polish,
    Language::Portuguese,
    Language::Russian,
    Language::Serbian,
    Language::Spanish,
    Language::Swedish,
    Language::Turkish,
    Language::Ukrainian,
];

/// An evaluation set: its name, the language its texts are in, the texts.
struct Set {
    name: String,
    code: &'static str,
    texts: Vec<String>,
}

/// At most this many Wikipedia sentences per corpus.
const WIKI_MAX: usize = 3000;

/// Sentences of at least five words from a tab-separated `INDEX TOKEN TAG` file, tokens joined
/// with the usual spacing around punctuation.
fn conll_sentences(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let tokens: Vec<&str> = block.lines().filter_map(|l| l.split('\t').nth(1)).collect();
        if tokens
            .iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .count()
            < 5
        {
            continue;
        }
        let mut s = String::new();
        for t in tokens {
            let glue_left = matches!(t, "." | "," | ";" | ":" | "!" | "?" | ")" | "%");
            if !s.is_empty() && !glue_left && !s.ends_with('(') {
                s.push(' ');
            }
            s.push_str(t);
        }
        out.push(s);
        if out.len() == WIKI_MAX {
            break;
        }
    }
    Some(out)
}

fn pct(hits: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * hits as f64 / total as f64
    }
}

fn verbose() -> bool {
    std::env::var_os("LANGUAGE_BENCH_VERBOSE").is_some()
}

/// Accuracy of ontleed's detector only (`LANGUAGE_BENCH_QUICK=1`), for quick iterations.
fn quick() -> bool {
    std::env::var_os("LANGUAGE_BENCH_QUICK").is_some()
}

fn main() {
    let mut sets = Vec::new();
    for (code, text) in lingua_sets() {
        let Some(text) = text else {
            println!("lingua test sentences for '{code}' missing from its model crate; skipped");
            continue;
        };
        let texts = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        sets.push(Set {
            name: format!("{code}-lingua"),
            code,
            texts,
        });
    }
    let n_lingua_sets = sets.len();
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("../shared/data");
    for corpus in ["wikiann-nl", "wikineural-nl"] {
        match conll_sentences(&shared.join(corpus).join("val.conllu")) {
            Some(texts) => sets.push(Set {
                name: format!("nl-{}", corpus.trim_end_matches("-nl")),
                code: "nl",
                texts,
            }),
            None => println!("../shared/data/{corpus}/val.conllu not found: Wikipedia set skipped"),
        }
    }
    let news = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("data/language-dev/headlines-nl.txt");
    match std::fs::read_to_string(&news) {
        Ok(text) => {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let words = |l: &str| l.split_whitespace().count();
            sets.push(Set {
                name: "nl-headlines".into(),
                code: "nl",
                texts: lines
                    .iter()
                    .filter(|l| (5..=15).contains(&words(l)))
                    .map(|l| l.to_string())
                    .collect(),
            });
            sets.push(Set {
                name: "nl-briefs".into(),
                code: "nl",
                texts: lines
                    .iter()
                    .filter(|l| words(l) > 15)
                    .map(|l| l.to_string())
                    .collect(),
            });
        }
        Err(e) => println!("{}: {e}; headline set skipped", news.display()),
    }

    let t = Instant::now();
    let ours = LanguageDetector::new();
    let ours_build = t.elapsed();
    let t = Instant::now();
    let lingua = LanguageDetectorBuilder::from_languages(&LINGUA_LANGUAGES)
        .with_preloaded_language_models()
        .build();
    let lingua_build = t.elapsed();
    let whatlang = whatlang::Detector::new();
    println!(
        "Built ontleed's detector in {:.0} ms, lingua-22 in {:.0} ms (preloading its models).",
        ours_build.as_secs_f64() * 1e3,
        lingua_build.as_secs_f64() * 1e3
    );

    let whatlang_code = |t: &str| {
        whatlang
            .detect(t)
            .map(|i| ontleed_code(i.lang().code()))
            .unwrap_or("und")
    };
    let lingua_code = |t: &str| {
        lingua
            .detect_language_of(t)
            .map(|l| iso1(l))
            .unwrap_or("und")
    };

    println!("\nAccuracy (% of texts named correctly):");
    println!(
        "{:<16}{:>6}{:>10}{:>11}{:>9}{:>11}   ontleed's mistakes",
        "set", "n", "whatlang", "lingua-22", "ontleed", "reliable"
    );
    let mut deciders: BTreeMap<String, usize> = BTreeMap::new();
    for s in &sets {
        let n = s.texts.len();
        let w = s
            .texts
            .iter()
            .filter(|t| whatlang_code(t) == s.code)
            .count();
        let lingua_knows = LINGUA_LANGUAGES.iter().any(|l| iso1(*l) == s.code);
        let l = (lingua_knows && !quick())
            .then(|| s.texts.iter().filter(|t| lingua_code(t) == s.code).count());
        let (mut h, mut reliable) = (0, 0);
        let mut wrong: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &s.texts {
            let got = ours.detect_with_decider(t);
            let code = got.as_ref().map_or("und", |(d, _)| d.code);
            if let Some((d, decider)) = &got {
                *deciders.entry(format!("{decider:?}")).or_default() += 1;
                reliable += usize::from(d.reliable && d.code == s.code);
            }
            if code == s.code {
                h += 1;
            } else {
                *wrong.entry(code).or_default() += 1;
                if verbose() && (s.code == "nl" || wrong.values().sum::<usize>() <= 12) {
                    println!(
                        "  {} -> {code} {:?}: {t}",
                        s.name,
                        got.map(|g| (g.1, g.0.confidence))
                    );
                }
            }
        }
        let mut wrong: Vec<(&str, usize)> = wrong.into_iter().collect();
        wrong.sort_by_key(|w| std::cmp::Reverse(w.1));
        let wrong: Vec<String> = wrong
            .iter()
            .take(4)
            .map(|(c, k)| format!("{c} {k}"))
            .collect();
        println!(
            "{:<16}{n:>6}{:>10.1}{:>11}{:>9.1}{:>10.1}%   {}",
            s.name,
            pct(w, n),
            l.map_or("-".into(), |l| format!("{:.1}", pct(l, n))),
            pct(h, n),
            pct(reliable, n),
            wrong.join(", ")
        );
    }
    let total: usize = deciders.values().sum();
    let shares: Vec<String> = deciders
        .iter()
        .map(|(k, v)| format!("{k} {:.1}%", pct(*v, total)))
        .collect();
    println!("Decided by (all sets): {}", shares.join(", "));

    if quick() {
        return;
    }
    margin_sweep(&sets);

    // Speed on the lingua sentences (every language set), and on the Dutch news texts.
    let mixed: Vec<&str> = sets[..n_lingua_sets]
        .iter()
        .flat_map(|s| s.texts.iter().map(String::as_str))
        .collect();
    let news: Vec<&str> = sets
        .iter()
        .filter(|s| s.name.starts_with("nl-head") || s.name.starts_with("nl-brief"))
        .flat_map(|s| s.texts.iter().map(String::as_str))
        .collect();
    for (label, texts) in [
        ("lingua's test sentences, all 17 languages", &mixed),
        ("Dutch headlines and briefs", &news),
    ] {
        if texts.is_empty() {
            continue;
        }
        let (t_w, t_l, t_o) = fastest_of(
            || {
                texts.iter().for_each(|t| {
                    black_box(whatlang.detect(t));
                })
            },
            || {
                texts.iter().for_each(|t| {
                    black_box(lingua.detect_language_of(*t));
                })
            },
            || {
                texts.iter().for_each(|t| {
                    black_box(ours.detect(t));
                })
            },
        );
        println!(
            "\nSpeed over {} texts ({label}; one thread, fastest of {ROUNDS} rounds):",
            texts.len()
        );
        for (name, secs) in [("whatlang", t_w), ("lingua-22", t_l), ("ontleed", t_o)] {
            println!(
                "  {name:<10}{:>9.0} texts/s {:>8.1} µs/text  ({:.2}x whatlang's time)",
                texts.len() as f64 / secs,
                secs * 1e6 / texts.len() as f64,
                secs / t_w
            );
        }
    }

    articles(&ours, &whatlang, &sets[..n_lingua_sets]);
    paragraphs(&ours, &sets);
}

/// whatlang's ISO 639-3 code as the ISO 639-1 code ontleed reports, for the languages of the
/// sets (anything else stays as it is: wrong for every set).
fn ontleed_code(code3: &str) -> &str {
    match code3 {
        "nld" => "nl",
        "eng" => "en",
        "deu" => "de",
        "fra" => "fr",
        "spa" => "es",
        "ita" => "it",
        "por" => "pt",
        "pol" => "pl",
        "rus" => "ru",
        "tur" => "tr",
        "afr" => "af",
        "dan" => "da",
        "swe" => "sv",
        "nob" => "nb",
        "cat" => "ca",
        "ukr" => "uk",
        "bul" => "bg",
        other => other,
    }
}

fn iso1(lang: Language) -> &'static str {
    match lang {
        Language::Afrikaans => "af",
        Language::Azerbaijani => "az",
        Language::Belarusian => "be",
        Language::Bokmal => "nb",
        Language::Bulgarian => "bg",
        Language::Catalan => "ca",
        Language::Danish => "da",
        Language::Dutch => "nl",
        Language::English => "en",
        Language::French => "fr",
        Language::German => "de",
        Language::Italian => "it",
        Language::Macedonian => "mk",
        Language::Nynorsk => "nn",
        Language::Polish => "pl",
        Language::Portuguese => "pt",
        Language::Russian => "ru",
        Language::Serbian => "sr",
        Language::Spanish => "es",
        Language::Swedish => "sv",
        Language::Turkish => "tr",
        Language::Ukrainian => "uk",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// How the margin that favours Dutch (rule 6) trades Dutch recall against the neighbours.
fn margin_sweep(sets: &[Set]) {
    let shown = [
        "nl-headlines",
        "nl-briefs",
        "nl-wikiann",
        "nl-wikineural",
        "nl-lingua",
        "af-lingua",
        "de-lingua",
        "en-lingua",
        "da-lingua",
    ];
    let chosen: Vec<&Set> = shown
        .iter()
        .filter_map(|name| sets.iter().find(|s| s.name == *name))
        .collect();
    println!(
        "\nThe margin of rule 6 (Dutch unless another language is ODDS times likelier), % right:"
    );
    print!("{:<22}", "odds");
    for s in &chosen {
        print!("{:>14}", s.name);
    }
    println!();
    let mut variants: Vec<(String, LanguageDetector)> =
        [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]
            .iter()
            .map(|&o| {
                let tag = if o == PREFERENCE_ODDS {
                    " (default)"
                } else {
                    ""
                };
                (
                    format!("{o}{tag}"),
                    LanguageDetector::new().with_preference_odds(o),
                )
            })
            .collect();
    variants.push((
        format!("{PREFERENCE_ODDS}, no af markers"),
        LanguageDetector::new().without_afrikaans_markers(),
    ));
    for (label, det) in &variants {
        print!("{label:<22}");
        for s in &chosen {
            let hits = s
                .texts
                .iter()
                .filter(|t| det.detect(t).is_some_and(|d| d.code == s.code))
                .count();
            print!("{:>14.1}", pct(hits, s.texts.len()));
        }
        println!();
    }
}

/// Timing rounds per system.
const ROUNDS: usize = 3;

/// Runs the three closures in turn, [`ROUNDS`] times, and returns each one's fastest time in
/// seconds, so that other work on the machine skews the comparison as little as possible.
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

/// Accuracy, reliability and speed on pseudo-articles of 20 consecutive test sentences.
fn articles(ours: &LanguageDetector, whatlang: &whatlang::Detector, sets: &[Set]) {
    let mut docs: Vec<(&Set, String)> = Vec::new();
    for s in sets {
        for chunk in s.texts.chunks(20) {
            docs.push((s, chunk.join(" ")));
        }
    }
    let chars: usize = docs.iter().map(|(_, d)| d.chars().count()).sum();
    let w = docs
        .iter()
        .filter(|(s, d)| {
            whatlang
                .detect(d)
                .is_some_and(|i| ontleed_code(i.lang().code()) == s.code)
        })
        .count();
    let (mut h, mut reliable) = (0, 0);
    for (s, d) in &docs {
        if let Some(det) = ours.detect(d) {
            h += usize::from(det.code == s.code);
            reliable += usize::from(det.code == s.code && det.reliable);
        }
    }
    let (dw, _, dh) = fastest_of(
        || {
            docs.iter().for_each(|(_, d)| {
                black_box(whatlang.detect(d));
            })
        },
        || {},
        || {
            docs.iter().for_each(|(_, d)| {
                black_box(ours.detect(d));
            })
        },
    );
    println!(
        "\nPseudo-articles (20 sentences glued, {} chars on average, {} of them):",
        chars / docs.len().max(1),
        docs.len()
    );
    println!(
        "  whatlang {:.1}% right, {:.0} µs/article (whole text)",
        pct(w, docs.len()),
        dw * 1e6 / docs.len() as f64
    );
    println!(
        "  ontleed  {:.1}% right ({:.1}% right and reliable), {:.0} µs/article ({:.2}x whatlang's time)",
        pct(h, docs.len()),
        pct(reliable, docs.len()),
        dh * 1e6 / docs.len() as f64,
        dh / dw
    );
}

/// Paragraph marking: texts used as paragraphs of a Dutch article.
fn paragraphs(ours: &LanguageDetector, sets: &[Set]) {
    println!(
        "\nParagraph marking in a Dutch article (`paragraph_language(text, \"nl\")`), % marked foreign:"
    );
    println!(
        "{:<16}{:>10}{:>10}{:>12}{:>10}",
        "set", "<15 words", "marked", ">=15 words", "marked"
    );
    for s in sets {
        let (mut short, mut short_marked, mut long, mut long_marked) = (0, 0, 0, 0);
        for t in &s.texts {
            let marked = ours.paragraph_language(t, "nl");
            if verbose() && s.code == "nl" && marked.is_some() {
                println!("  nl marked foreign: {marked:?} {t}");
            }
            if t.split_whitespace().count() >= 15 {
                long += 1;
                long_marked += usize::from(marked.is_some());
            } else {
                short += 1;
                short_marked += usize::from(marked.is_some());
            }
        }
        println!(
            "{:<16}{short:>10}{:>9.1}%{long:>12}{:>9.1}%",
            s.name,
            pct(short_marked, short),
            pct(long_marked, long)
        );
    }
}
