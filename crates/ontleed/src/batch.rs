//! The batch driver every front end shares (the CLI, the Python package and through it the
//! Spark job): a [`Pipeline`] and a pool of worker threads; items in, results out, in input
//! order. One article's failure stays that article's: a model error or a panic (a bug) becomes
//! an `internal` error for it, and the batch goes on.

use crate::io::{Article, InputError, Item, error_record};
use crate::pipeline::{Annotation, Pipeline};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::panic::AssertUnwindSafe;

/// The most worker threads a driver accepts: more only adds overhead (thread stacks, work
/// stealing) on any machine this runs on.
pub const MAX_THREADS: usize = 256;

/// Why a driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A number of threads out of `1..=MAX_THREADS`.
    #[error(
        "{0} is not a number of worker threads from 1 to {MAX_THREADS} (this machine has {cores} cores)",
        cores = std::thread::available_parallelism().map_or(1, |n| n.get())
    )]
    Threads(usize),
    /// The operating system refused the threads.
    #[error("cannot start the worker threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// A pipeline with its worker threads.
pub struct Driver {
    pipeline: Pipeline,
    pool: rayon::ThreadPool,
}

/// One item, annotated: the record to write for it, in its place.
#[derive(Debug)]
pub struct Annotated {
    /// The item as read.
    pub item: Item,
    /// The article's record, or the error that takes its place (the item's input error, or an
    /// `internal` error when annotating failed).
    pub result: Result<Map<String, Value>, InputError>,
    /// Tokens of the annotated article (0 for an error).
    pub tokens: usize,
}

impl Annotated {
    /// Whether the record is an error record.
    pub fn is_error(&self) -> bool {
        self.result.is_err()
    }

    /// Whether annotating failed (an `internal` error: a model's fault or a bug, not the input's).
    pub fn is_internal(&self) -> bool {
        self.result.as_ref().is_err_and(|e| e.kind == INTERNAL)
    }

    /// The record: the article's, or the error record.
    pub fn into_record(self) -> Map<String, Value> {
        match self.result {
            Ok(record) => record,
            Err(e) => error_record(&self.item.source, self.item.line, &e),
        }
    }
}

/// One item, annotated and written: its record as a line of JSON. The record of an article never
/// becomes a JSON tree ([`Pipeline::write_annotated`]), and its input numbers come back byte for
/// byte.
#[derive(Debug)]
pub struct Line {
    /// The item's source, as an index into the reader's sources.
    pub source_index: usize,
    /// The item's line in its source.
    pub line: usize,
    /// The record, with its newline.
    pub json: Vec<u8>,
    /// Tokens of the annotated article (0 for an error).
    pub tokens: usize,
    /// The error kind when the record is an error record.
    pub error: Option<&'static str>,
}

impl Line {
    /// Whether annotating failed (an `internal` error).
    pub fn is_internal(&self) -> bool {
        self.error == Some(INTERNAL)
    }
}

/// The error record of `error` as a line of JSON.
fn error_line(item: &Item, error: &InputError) -> Vec<u8> {
    let mut json = serde_json::to_vec(&error_record(&item.source, item.line, error))
        .expect("a map of strings and numbers serializes");
    json.push(b'\n');
    json
}

/// The error kind of an article whose annotation failed.
pub const INTERNAL: &str = "internal";

fn internal(article: &Article, message: String) -> InputError {
    InputError {
        kind: INTERNAL,
        message,
        id: Some(article.id.clone()),
    }
}

impl Driver {
    /// A driver over `pipeline` with `threads` worker threads (`None`: one per core).
    pub fn new(pipeline: Pipeline, threads: Option<usize>) -> Result<Self, DriverError> {
        if let Some(n) = threads
            && !(1..=MAX_THREADS).contains(&n)
        {
            return Err(DriverError::Threads(n));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .thread_name(|i| format!("ontleed-{i}"))
            .build()?;
        Ok(Self { pipeline, pool })
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on every item on the worker threads; the results in item order. For front ends
    /// that turn each item into their own output form inside the parallel step (so that a batch
    /// never holds records and output rows at once); `f` should annotate with
    /// [`Driver::record`] or [`Driver::annotation`], which isolate failures.
    pub fn map<T, R, F>(&self, items: Vec<T>, f: F) -> Vec<R>
    where
        T: Send,
        R: Send,
        F: Fn(&Self, T) -> R + Send + Sync,
    {
        self.pool
            .install(|| items.into_par_iter().map(|item| f(self, item)).collect())
    }

    /// Annotates items in parallel, in order: bad input keeps its error; an article whose
    /// annotation fails gets an `internal` error ([`Driver::record`]).
    pub fn annotate(&self, items: Vec<Item>) -> Vec<Annotated> {
        self.map(items, Self::annotate_item)
    }

    /// Annotates items in parallel into lines of JSON, in order; failures as in
    /// [`Driver::annotate`]. `id_field` is the input field of the article ids.
    pub fn annotate_lines(&self, items: Vec<Item>, id_field: &str) -> Vec<Line> {
        self.map(items, |driver, item| driver.line(item, id_field))
    }

    /// Annotates one item into its line of JSON on the calling thread, as
    /// [`Driver::annotate_lines`] does.
    pub fn line(&self, item: Item, id_field: &str) -> Line {
        let (json, tokens, error) = match &item.article {
            Err(e) => (error_line(&item, e), 0, Some(e.kind)),
            Ok(article) => {
                let mut json = Vec::new();
                let written = isolated(article, || {
                    self.pipeline.write_annotated(&mut json, article, id_field)
                });
                match written {
                    Ok(annotation) => (json, annotation.tokens, None),
                    // What was written before the failure is dropped.
                    Err(e) => (error_line(&item, &e), 0, Some(e.kind)),
                }
            }
        };
        Line {
            source_index: item.source_index,
            line: item.line,
            json,
            tokens,
            error,
        }
    }

    /// Annotates one item on the calling thread, as [`Driver::annotate`] does.
    pub fn annotate_item(&self, item: Item) -> Annotated {
        let (result, tokens) = match &item.article {
            Err(e) => (Err(e.clone()), 0),
            Ok(article) => match self.record(article) {
                Ok((record, annotation)) => (Ok(record), annotation.tokens),
                Err(e) => (Err(e), 0),
            },
        };
        Annotated {
            item,
            result,
            tokens,
        }
    }

    /// Annotates one article into its record. A model's error or a panic (a bug) becomes an
    /// `internal` error naming the article: it never stops a batch, and never passes for an
    /// article without entities.
    pub fn record(
        &self,
        article: &Article,
    ) -> Result<(Map<String, Value>, Annotation), InputError> {
        isolated(article, || self.pipeline.annotate(article))
    }

    /// Annotates one article (its headline and text) without building the record; failures as
    /// in [`Driver::record`].
    pub fn annotation(&self, article: &Article) -> Result<Annotation, InputError> {
        isolated(article, || {
            self.pipeline
                .annotate_parts(article.title.as_deref(), &article.text)
        })
    }
}

/// Runs `f`, turning its error and a panic into an `internal` error of `article`.
fn isolated<R>(
    article: &Article,
    f: impl FnOnce() -> Result<R, crate::pipeline::AnnotateError>,
) -> Result<R, InputError> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(internal(
            article,
            format!("annotating this article failed: {e} (please report it)"),
        )),
        Err(_) => Err(internal(
            article,
            "internal error while annotating this article (please report it)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::{Recognizer, RecognizerError, TokenTag};
    use std::sync::Arc;

    /// A recognizer whose runtime fails on texts containing "boom", and panics on "bug".
    struct Failing;

    impl Recognizer for Failing {
        fn name(&self) -> &str {
            "failing"
        }

        fn tag_document(
            &self,
            sentences: &[Vec<&str>],
        ) -> Result<Vec<Vec<TokenTag>>, RecognizerError> {
            let words = || sentences.iter().flatten();
            if words().any(|w| *w == "bug") {
                panic!("a bug");
            }
            if words().any(|w| *w == "boom") {
                return Err(RecognizerError::new(
                    self.name(),
                    &anyhow::anyhow!("the runtime ran out of memory"),
                ));
            }
            let o = TokenTag {
                tag: crate::ner::Tag::O,
                score: 1.0,
            };
            Ok(sentences.iter().map(|s| vec![o; s.len()]).collect())
        }
    }

    fn item(line: usize, text: &str) -> Item {
        Item {
            source: Arc::from("test.jsonl"),
            source_index: 0,
            line,
            article: Ok(Article {
                id: Value::from(line),
                text: text.into(),
                ..Article::default()
            }),
        }
    }

    fn driver() -> Driver {
        let pipeline = Pipeline::builder()
            .recognizer(Box::new(Failing))
            .build()
            .unwrap();
        Driver::new(pipeline, Some(2)).unwrap()
    }

    #[test]
    fn a_recognizer_error_is_an_internal_error_of_its_article_only() {
        let texts = [
            "De minister sprak dinsdag in Den Haag met de Kamer over het nieuwe plan.",
            "De minister sprak boom dinsdag in Den Haag met de Kamer over het nieuwe plan.",
            "De minister sprak bug dinsdag in Den Haag met de Kamer over het nieuwe plan.",
            "Het kabinet wil volgend jaar meer geld uitgeven aan onderwijs en zorg.",
        ];
        let items = texts
            .iter()
            .enumerate()
            .map(|(i, t)| item(i + 1, t))
            .collect();
        let done = driver().annotate(items);
        let lines: Vec<usize> = done.iter().map(|a| a.item.line).collect();
        assert_eq!(lines, [1, 2, 3, 4], "results in input order");
        assert!(!done[0].is_error() && !done[3].is_error());
        assert!(done[0].tokens > 0);
        for a in &done[1..3] {
            assert!(a.is_internal(), "{:?}", a.result);
            assert_eq!(a.tokens, 0);
        }
        let e = done[1].result.as_ref().unwrap_err();
        assert!(
            e.message.contains("NER model failing failed"),
            "{}",
            e.message
        );
        assert!(e.message.contains("ran out of memory"), "{}", e.message);
        assert_eq!(e.id, Some(Value::from(2)));
        let lines = driver().annotate_lines(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| item(i + 1, t))
                .collect(),
            "id",
        );
        for (line, a) in lines.iter().zip(&done) {
            assert_eq!(line.line, a.item.line);
            assert_eq!(line.is_internal(), a.is_internal());
            assert_eq!(line.tokens, a.tokens);
            assert_eq!(line.json.last(), Some(&b'\n'));
            let parsed: Map<String, Value> = serde_json::from_slice(&line.json).unwrap();
            assert_eq!(parsed.contains_key("error"), a.is_error());
        }
        let record = done.into_iter().nth(1).unwrap().into_record();
        assert_eq!(record["error"]["kind"], "internal");
        assert_eq!(record["line"], 2);
        assert!(record.get("entities").is_none());
    }

    #[test]
    fn too_many_threads_are_refused() {
        let pipeline = || {
            Pipeline::builder()
                .recognizer(Box::new(Failing))
                .build()
                .unwrap()
        };
        for n in [0, MAX_THREADS + 1] {
            let e = Driver::new(pipeline(), Some(n)).err().unwrap();
            assert!(e.to_string().contains("from 1 to 256"), "{e}");
        }
        assert_eq!(Driver::new(pipeline(), Some(3)).unwrap().threads(), 3);
    }
}
