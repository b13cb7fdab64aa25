//! `ontleed eval-topics`: a per-category score of any labelled JSONL file (the category
//! model's training, `train-topics`, is in [`super::train`]).

use super::{EXIT_OK, open_output};
use anyhow::{Result, bail};
use clap::Args;
use ontleed::pipeline::{NerModel, Pipeline};
use ontleed::topics::labelled::{prf, read_labelled};
use ontleed::topics::{Category, CategoryModel, Taxonomy};
use std::io::Write;
use std::path::PathBuf;

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
        articles.extend(read_labelled(p)?);
    }
    if articles.is_empty() {
        bail!("no labelled articles in {:?}", a.gold);
    }
    let k = Category::ALL.len();
    let (mut tp, mut fp, mut fnn) = (vec![0u32; k], vec![0u32; k], vec![0u32; k]);
    let mut none = 0usize;
    let mut skipped = 0usize;
    for article in &articles {
        let annotation = pipeline.annotate_parts(article.title.as_deref(), &article.text)?;
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
        let (p, r, f) = prf(tp[c], fp[c], fnn[c]);
        writeln!(
            out,
            "{:<14} {p:>6.1} {r:>6.1} {f:>6.1} {:>5} {:>5} {:>5}",
            cat.id,
            tp[c] + fnn[c],
            tp[c] + fp[c],
            tp[c]
        )?;
    }
    let (p, r, f) = prf(tp.iter().sum(), fp.iter().sum(), fnn.iter().sum());
    writeln!(out, "{:<14} {p:>6.1} {r:>6.1} {f:>6.1}", "micro")?;
    writeln!(
        out,
        "{} articles; {none} without a category ({skipped} not annotated: language)",
        articles.len()
    )?;
    out.flush()?;
    Ok(EXIT_OK)
}
