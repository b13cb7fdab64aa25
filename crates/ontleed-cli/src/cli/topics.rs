//! `ontleed train-topics` and `ontleed eval-topics`: the category model's training and a
//! per-category score of any labelled JSONL file.

use super::{EXIT_OK, open_output};
use anyhow::{Context, Result, bail};
use clap::Args;
use ontleed::pipeline::{NerModel, Pipeline};
use ontleed::topics::train::{self, TrainOptions};
use ontleed::topics::{Category, CategoryModel, Taxonomy};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `train-topics`.
#[derive(Debug, Args)]
pub struct TrainTopicsArgs {
    /// Labelled JSONL files (`title`, `text`, `categories`): they train the model and, by
    /// cross-validation, fit each category's threshold.
    #[arg(long, required = true, num_args = 1..)]
    train: Vec<PathBuf>,
    /// Labelled JSONL files that only train (weight --extra-weight), e.g. translated sentences;
    /// they take no part in fitting the thresholds.
    #[arg(long, num_args = 1..)]
    extra: Vec<PathBuf>,
    /// Weight of the --extra examples in the loss.
    #[arg(long, default_value_t = 0.5)]
    extra_weight: f32,
    /// Where to write the model.
    #[arg(short, long)]
    output: PathBuf,
    /// Topic taxonomy whose fine topics are features (default: the built-in one).
    #[arg(long)]
    topics: Option<PathBuf>,
    /// Passes over the data.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    /// AdaGrad learning rate.
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    learning_rate: f32,
    /// L2 penalty.
    #[arg(long, default_value_t = TrainOptions::default().l2)]
    l2: f32,
    /// Folds of the cross-validation that fits the thresholds.
    #[arg(long, default_value_t = TrainOptions::default().folds)]
    folds: usize,
    /// Name and version written into records.
    #[arg(long, default_value = "ontleed-categories 1.0")]
    name: String,
}

pub(super) fn train_topics(a: TrainTopicsArgs) -> Result<i32> {
    let taxonomy = match &a.topics {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::builtin(),
    };
    let o = TrainOptions {
        epochs: a.epochs,
        learning_rate: a.learning_rate,
        l2: a.l2,
        folds: a.folds,
        ..TrainOptions::default()
    };
    let mut examples = Vec::new();
    for p in &a.train {
        let articles = train::read_labelled(p)?;
        eprintln!("{}: {} articles", p.display(), articles.len());
        examples.extend(train::examples(&articles, &taxonomy, o.dim, 1.0, true));
    }
    for p in &a.extra {
        let articles = train::read_labelled(p)?;
        eprintln!("{}: {} articles (extra)", p.display(), articles.len());
        examples.extend(train::examples(
            &articles,
            &taxonomy,
            o.dim,
            a.extra_weight,
            false,
        ));
    }
    let model = train::train(&examples, &taxonomy, &o, &a.name, |l| eprintln!("{l}"))?;
    for (c, t) in Category::ALL.iter().zip(&model.header().thresholds) {
        eprintln!("threshold {:<14} {t:.2}", c.id);
    }
    let bytes = model.to_bytes()?;
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.output, bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    eprintln!("wrote {}", a.output.display());
    Ok(EXIT_OK)
}

/// Arguments of `eval-topics`.
#[derive(Debug, Args)]
pub struct EvalTopicsArgs {
    /// Labelled JSONL files: `text` (and `title` where there is one) and the gold `categories`.
    #[arg(required = true)]
    gold: Vec<PathBuf>,
    /// Category model file instead of the built-in one.
    #[arg(long)]
    categories: Option<PathBuf>,
    /// Topic taxonomy file instead of the built-in one.
    #[arg(long)]
    topics: Option<PathBuf>,
    /// NER model of the pipeline (categories do not depend on it; `fast` is quickest).
    #[arg(long, default_value = "fast")]
    ner_model: NerModel,
    /// Write the scores here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn eval_topics(a: EvalTopicsArgs) -> Result<i32> {
    let mut builder = Pipeline::builder().ner_model(a.ner_model.clone());
    if let Some(p) = &a.categories {
        builder = builder.categories(CategoryModel::from_file(p)?);
    }
    if let Some(p) = &a.topics {
        builder = builder.taxonomy(Taxonomy::from_file(p)?);
    }
    let pipeline = builder.build()?;
    let mut articles = Vec::new();
    for p in &a.gold {
        articles.extend(train::read_labelled(p)?);
    }
    if articles.is_empty() {
        bail!("no labelled articles in {:?}", a.gold);
    }
    let k = Category::ALL.len();
    let (mut tp, mut fp, mut fnn) = (vec![0u32; k], vec![0u32; k], vec![0u32; k]);
    let mut none = 0usize;
    let mut skipped = 0usize;
    for article in &articles {
        let annotation = pipeline.annotate_parts(article.title.as_deref(), &article.text);
        let predicted: Vec<usize> = match &annotation.categories {
            Some(c) => c.iter().filter_map(|c| Category::index(c.id)).collect(),
            None => {
                skipped += 1;
                Vec::new()
            }
        };
        if predicted.is_empty() {
            none += 1;
        }
        let gold: Vec<usize> = article
            .categories
            .iter()
            .filter_map(|c| Category::index(c))
            .collect();
        for c in 0..k {
            match (predicted.contains(&c), gold.contains(&c)) {
                (true, true) => tp[c] += 1,
                (true, false) => fp[c] += 1,
                (false, true) => fnn[c] += 1,
                _ => {}
            }
        }
    }
    let mut out = open_output(a.output.as_ref())?;
    writeln!(
        out,
        "{:<14} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5}",
        "category", "P", "R", "F1", "gold", "pred", "tp"
    )?;
    for (c, cat) in Category::ALL.iter().enumerate() {
        let (p, r, f) = train::prf(tp[c], fp[c], fnn[c]);
        writeln!(
            out,
            "{:<14} {p:>6.1} {r:>6.1} {f:>6.1} {:>5} {:>5} {:>5}",
            cat.id,
            tp[c] + fnn[c],
            tp[c] + fp[c],
            tp[c]
        )?;
    }
    let (p, r, f) = train::prf(tp.iter().sum(), fp.iter().sum(), fnn.iter().sum());
    writeln!(out, "{:<14} {p:>6.1} {r:>6.1} {f:>6.1}", "micro")?;
    writeln!(
        out,
        "{} articles; {none} without a category ({skipped} not annotated: language)",
        articles.len()
    )?;
    out.flush()?;
    Ok(EXIT_OK)
}
