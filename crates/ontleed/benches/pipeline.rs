//! Throughput of the pipeline's stages on the sample articles, in tokens/s (criterion reports
//! elements/s with one element per token): text + language + topics without NER, each NER
//! model alone (fast, and accurate in builds with the transformer feature), the category model
//! alone, and the whole pipeline with each; plus model load times. One thread (candle's matmuls
//! use the rayon pool: `RAYON_NUM_THREADS=1` makes the accurate figures single-core).
//!
//! Run: `CANDLE_NUM_THREADS=1 cargo bench --bench pipeline`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ontleed::language::LanguageDetector;
use ontleed::pipeline::{NerModel, Pipeline, load_recognizer};
#[cfg(feature = "transformer")]
use ontleed::pipeline::{NerPrecision, load_recognizer_with};
use ontleed::text::Document;
use ontleed::topics::{Taxonomy, TopicTagger};
use std::hint::black_box;

fn sample_texts() -> Vec<String> {
    let path = concat!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.."),
        "/data/samples/articles.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("data/samples/articles.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

fn stages(c: &mut Criterion) {
    let texts = sample_texts();
    let tokens: usize = texts.iter().map(|t| Document::new(t).token_count()).sum();
    let mut g = c.benchmark_group("sample articles");
    g.throughput(Throughput::Elements(tokens as u64));
    g.sample_size(20);

    g.bench_function("text (tokenize + sentences + paragraphs)", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| Document::new(black_box(t)).token_count())
                .sum::<usize>()
        })
    });

    let detector = LanguageDetector::new();
    let tagger = TopicTagger::new(Taxonomy::builtin());
    g.bench_function("pipeline without NER (text + language + topics)", |b| {
        b.iter(|| {
            for t in &texts {
                let doc = Document::new(black_box(t));
                black_box(detector.detect(t));
                let all = vec![true; doc.paragraphs.len()];
                black_box(tagger.tag(&doc, &all));
            }
        })
    });

    // The category stage alone: its features (one pass over the words) and the 15 calibrated
    // probabilities, from the fine topics the matcher found (tagged outside the loop).
    let categories = ontleed::topics::CategoryModel::builtin().expect("category model");
    let tagged: Vec<(Document, Vec<bool>, Vec<ontleed::topics::TopicMatch>)> = texts
        .iter()
        .map(|t| {
            let doc = Document::new(t);
            let all = vec![true; doc.paragraphs.len()];
            let topics = tagger.tag(&doc, &all);
            (doc, all, topics)
        })
        .collect();
    g.bench_function("categories alone (features + model)", |b| {
        b.iter(|| {
            for (doc, all, topics) in &tagged {
                let f = categories.features(doc, all, topics);
                black_box(categories.decide(&categories.probabilities(&f)));
            }
        })
    });

    let fast = load_recognizer(&NerModel::Fast).expect("fast model");
    let docs: Vec<Document> = texts.iter().map(|t| Document::new(t)).collect();
    let words: Vec<Vec<Vec<&str>>> = docs.iter().map(|d| d.sentence_words()).collect();
    g.bench_function("fast NER model alone", |b| {
        b.iter(|| {
            for w in &words {
                black_box(fast.tag_document(black_box(w)).unwrap());
            }
        })
    });

    #[cfg(feature = "transformer")]
    {
        g.sample_size(10);
        // int8 (the default where the CPU has AVX-512 VNNI or AVX2) and f32, in the same run.
        for (label, precision) in [("int8", NerPrecision::Int8), ("f32", NerPrecision::F32)] {
            let accurate =
                load_recognizer_with(&NerModel::Accurate, precision).expect("accurate model");
            g.bench_function(format!("accurate NER model alone, {label}"), |b| {
                b.iter(|| {
                    for w in &words {
                        black_box(accurate.tag_document(black_box(w)).unwrap());
                    }
                })
            });
        }
    }

    for model in models() {
        let pipeline = Pipeline::builder()
            .ner_model(model.clone())
            .build()
            .expect("pipeline");
        g.bench_function(format!("whole pipeline, {} model", name(&model)), |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(pipeline.annotate_text(black_box(t)).unwrap());
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    for model in models() {
        g.bench_function(format!("load the {} model", name(&model)), |b| {
            b.iter(|| load_recognizer(&model).expect("model"))
        });
    }
    g.finish();
}

/// The embedded models of this build.
fn models() -> Vec<NerModel> {
    let mut m = vec![NerModel::Fast];
    if cfg!(feature = "transformer") {
        m.push(NerModel::Accurate);
    }
    m
}

fn name(m: &NerModel) -> &'static str {
    match m {
        NerModel::Fast => "fast",
        _ => "accurate",
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
