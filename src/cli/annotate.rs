//! `ontleed annotate`: read articles, annotate them in parallel in bounded chunks, write one
//! record per input line in input order.

use super::{EXIT_BAD_LINES, EXIT_OK, EXIT_STRICT, open_output};
use crate::io::{FieldNames, Item, Reader, Source, error_record, write_record};
use crate::pipeline::{NerModel, NerPrecision, Pipeline};
use crate::topics::Taxonomy;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `ontleed annotate`.
#[derive(Debug, clap::Args)]
pub struct AnnotateArgs {
    /// Inputs: JSONL files (.jsonl, .jsonl.gz), '-' for stdin, .txt files or directories of them.
    /// Reads stdin when none are given.
    inputs: Vec<PathBuf>,
    /// Write here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// JSON field holding the article text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// JSON field holding the article id (when absent, the line number is the id).
    #[arg(long, default_value = "id")]
    id_field: String,
    /// JSON field holding the headline, annotated with the text as one article (used when a
    /// record has it; its entities carry "field": "title" and offsets into the headline).
    #[arg(long, default_value = "title")]
    title_field: String,
    /// NER model: accurate (the default when built with the transformer feature), fast, or the
    /// path of a model file or directory.
    #[arg(long, default_value = NerModel::default_name())]
    ner_model: NerModel,
    /// Arithmetic of a transformer model: int8 (where the CPU has AVX-512 VNNI or AVX2, else f32) or f32.
    #[arg(long, value_enum, default_value = "int8")]
    ner_precision: NerPrecision,
    /// Runtime of a transformer NER model: candle, or rust-bert (libtorch; needs the rust-bert feature).
    #[arg(long, value_enum, default_value = "candle")]
    ner_backend: super::export::NerBackend,
    /// Topic taxonomy file (TOML) instead of the built-in one.
    #[arg(long)]
    topics: Option<PathBuf>,
    /// Alias table (TOML or CSV; see data/aliases.toml) mapping names to canonical names and ids,
    /// used over the built-in one.
    #[arg(long)]
    aliases: Option<PathBuf>,
    /// Languages whose articles get entities and topics (comma-separated ISO 639-1 codes).
    #[arg(long, value_delimiter = ',', default_value = "nl")]
    languages: Vec<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop at the first bad input line (exit status 3) instead of writing an error record.
    #[arg(long)]
    strict: bool,
    /// Articles longer than this many bytes become `too_large` error records.
    #[arg(long, default_value_t = 16 << 20)]
    max_bytes: usize,
    /// Articles per parallel chunk (bounds memory together with --max-bytes).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    chunk_size: u64,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,
}

/// Bytes of article text per chunk, beyond which a chunk is closed early.
const CHUNK_BYTES: usize = 32 << 20;

pub(super) fn run(args: AnnotateArgs) -> Result<i32> {
    let mut builder = Pipeline::builder()
        .ner_model(args.ner_model.clone())
        .ner_precision(args.ner_precision)
        .languages(args.languages.clone());
    if let Some(r) = super::export::recognizer(args.ner_backend, &args.ner_model)? {
        builder = builder.recognizer(r);
    }
    if let Some(path) = &args.topics {
        builder = builder.taxonomy(Taxonomy::from_file(path)?);
    }
    if let Some(path) = &args.aliases {
        builder = builder.aliases(crate::entities::Aliases::from_file(path)?);
    }
    let pipeline = builder.build()?;
    let sources = Source::expand(&args.inputs)?;
    let fields = FieldNames {
        text: args.text_field.clone(),
        id: args.id_field.clone(),
        title: args.title_field.clone(),
    };
    let mut reader = Reader::new(sources, fields, args.max_bytes);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let mut out = open_output(args.output.as_ref())?;

    let progress = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} articles, {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Some(bar)
    } else {
        None
    };

    let start = Instant::now();
    let (mut articles, mut errors, mut tokens) = (0usize, 0usize, 0usize);
    let mut stopped: Option<(String, usize, String)> = None;
    loop {
        let mut chunk: Vec<Item> = Vec::new();
        let mut bytes = 0;
        while chunk.len() < args.chunk_size as usize && bytes < CHUNK_BYTES {
            let Some(item) = reader.next_item()? else {
                break;
            };
            if args.strict
                && let Err(e) = &item.article
            {
                stopped = Some((
                    item.source.to_string(),
                    item.line,
                    format!("{} ({})", e.message, e.kind),
                ));
                break;
            }
            bytes += item.article.as_ref().map_or(0, |a| a.text.len());
            chunk.push(item);
        }
        if chunk.is_empty() && stopped.is_none() {
            break;
        }
        let results: Vec<(Map<String, Value>, usize, bool)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|item| annotate_item(&pipeline, item))
                .collect()
        });
        for (record, n, is_error) in &results {
            write_record(&mut out, record)?;
            tokens += n;
            if *is_error {
                errors += 1;
            } else {
                articles += 1;
            }
        }
        if let Some(bar) = &progress {
            bar.set_position((articles + errors) as u64);
            bar.set_message(format!(
                "{errors} errors, {}",
                rate(tokens, start.elapsed().as_secs_f64())
            ));
        }
        if stopped.is_some() {
            break;
        }
    }
    out.flush()?;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let secs = start.elapsed().as_secs_f64();
    if !args.quiet {
        eprintln!(
            "ontleed: {articles} articles annotated, {errors} error records, {tokens} tokens in {secs:.2} s ({})",
            rate(tokens, secs)
        );
    }
    if let Some((source, line, message)) = stopped {
        eprintln!("ontleed: --strict: stopped at {source} line {line}: {message}");
        return Ok(EXIT_STRICT);
    }
    Ok(if errors > 0 { EXIT_BAD_LINES } else { EXIT_OK })
}

/// Annotates one item into its record; returns the record, its token count, and whether it is an
/// error record. A panic inside the pipeline (a bug) becomes an `internal` error record.
fn annotate_item(pipeline: &Pipeline, item: &Item) -> (Map<String, Value>, usize, bool) {
    match &item.article {
        Err(e) => (error_record(&item.source, item.line, e), 0, true),
        Ok(article) => {
            match std::panic::catch_unwind(AssertUnwindSafe(|| pipeline.annotate(article))) {
                Ok((record, annotation)) => (record, annotation.tokens, false),
                Err(_) => {
                    let e = crate::io::InputError {
                        kind: "internal",
                        message: "internal error while annotating this article (please report it)"
                            .into(),
                        id: Some(article.id.clone()),
                    };
                    (error_record(&item.source, item.line, &e), 0, true)
                }
            }
        }
    }
}

fn rate(tokens: usize, secs: f64) -> String {
    if secs > 0.0 {
        format!("{:.0} tokens/s", tokens as f64 / secs)
    } else {
        "- tokens/s".into()
    }
}
