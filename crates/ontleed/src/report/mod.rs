//! The corpus report: reads annotated JSONL (as written by `ontleed annotate`), aggregates the
//! entities and topics across articles, and writes entity tables (CSV, JSON) and a
//! self-contained HTML page with charts.
//!
//! Input is streamed line by line (gzip is recognised by its magic bytes or a `.gz` name). Records
//! for skipped (non-Dutch) articles, error records and lines that are not JSON objects are counted
//! and otherwise ignored; fields of an unexpected type are treated as absent.
//!
//! # Memory bound
//!
//! No record is kept: memory grows with the number of distinct entities and topics, not with the
//! number of records. Per entity the report keeps its names (cut to 200 characters), counters,
//! first/last date, one counter per ISO week in which it was mentioned (at most the number of
//! weeks the corpus spans), and two bounded maps:
//!
//! - co-occurring entities, counted among each article's 50 most mentioned entities (bounding the
//!   work per article) and kept in a map that is pruned back to its 50 largest counts whenever it
//!   grows past 200 entries. A partner that was pruned and comes back starts from zero again, so
//!   counts of rare partners are lower bounds; the frequent partners, the ones reported, stay;
//! - topics, with the same scheme (kept 20, pruned past 80).
//!
//! So memory is O(entities × (weeks + 200)) plus O(topics × weeks).
//!
//! Entities are identified across articles by their `id` when a record gives one, otherwise by
//! their (canonical name, label) pair. Per article, the `entity_summary` of a record is used;
//! records without one fall back to their `entities` list (one mention per item).

mod aggregate;
mod html;
mod record;

use crate::io::LineStatus;
use aggregate::{Aggregator, EntityStats, week_label};
use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// What to read and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// Annotated JSONL files; `-` is standard input. Gzip-compressed input (`.jsonl.gz`, or any
    /// file starting with the gzip magic bytes) is decompressed on the fly.
    pub inputs: Vec<PathBuf>,
    /// The record field holding the article date; its value must start with an ISO date
    /// (`YYYY-MM-DD`). Records without a valid date still count, but not in dates and weeks.
    pub date_field: String,
    /// Where to write the entity table as CSV (all entities, most articles first).
    pub csv: Option<PathBuf>,
    /// Where to write the entity table and topic statistics as JSON (all entities).
    pub json: Option<PathBuf>,
    /// Where to write the HTML report.
    pub html: Option<PathBuf>,
    /// Number of entities in the HTML table (0: all).
    pub top: usize,
    /// Number of co-occurring entities and of topics listed per entity.
    pub related: usize,
    /// Title of the HTML page.
    pub title: String,
    /// Lines longer than this many bytes are counted as too long and skipped without being held
    /// in memory.
    pub max_line_bytes: usize,
    /// An alias table (TOML or CSV) whose entries win over the resolution of entities across
    /// the corpus, both ways (see `entities::corpus`).
    pub aliases: Option<PathBuf>,
}

/// The default line limit of `report`: a record of an article of `annotate`'s largest default
/// size (16 MiB), its text escaped and its annotation added, fits.
pub const MAX_LINE_BYTES: usize = 256 << 20;

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            date_field: "date".to_string(),
            csv: None,
            json: None,
            html: None,
            top: 200,
            related: 5,
            title: "ontleed report".to_string(),
            max_line_bytes: MAX_LINE_BYTES,
            aliases: None,
        }
    }
}

/// Counts over the whole run, for the CLI to print.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    /// Non-blank input lines.
    pub records: u64,
    /// Records with entity data (Dutch articles that were annotated).
    pub annotated: u64,
    /// Records for skipped articles (`"skipped"`, or no entity data).
    pub skipped: u64,
    /// Error records (`{"line": N, "error": {...}}`).
    pub errors: u64,
    /// Lines that are not JSON objects.
    pub invalid: u64,
    /// Lines longer than the line limit (skipped; not counted in `records`).
    pub too_long: u64,
    /// Input files that break off (a truncated or damaged gzip): their lines up to the break
    /// are counted, the unfinished last one is not.
    pub truncated: u64,
    /// Annotated records without a valid date in the date field.
    pub undated: u64,
    /// Distinct entities.
    pub entities: u64,
    /// Entity mentions over all annotated records.
    pub mentions: u64,
    /// Distinct topics.
    pub topics: u64,
    /// Earliest article date (`YYYY-MM-DD`).
    pub first_date: Option<String>,
    /// Latest article date.
    pub last_date: Option<String>,
}

impl fmt::Display for ReportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records: {} annotated, {} skipped, {} errors, {} invalid; {} entities ({} mentions), {} topics",
            self.records,
            self.annotated,
            self.skipped,
            self.errors,
            self.invalid,
            self.entities,
            self.mentions,
            self.topics
        )?;
        if let (Some(a), Some(b)) = (&self.first_date, &self.last_date) {
            write!(f, "; dates {a} to {b}")?;
        }
        if self.undated > 0 {
            write!(f, " ({} undated)", self.undated)?;
        }
        if self.too_long > 0 {
            write!(f, "; {} lines too long", self.too_long)?;
        }
        if self.truncated > 0 {
            write!(f, "; {} input files break off", self.truncated)?;
        }
        Ok(())
    }
}

impl ReportSummary {
    /// Whether some input was bad: lines that are not JSON objects or too long, or a file that
    /// breaks off (`report` then exits with status 1). Error records are good input.
    pub fn has_bad_input(&self) -> bool {
        self.invalid + self.too_long + self.truncated > 0
    }
}

/// Reads the inputs, aggregates, and writes the requested outputs.
pub fn run(opts: &ReportOptions) -> Result<ReportSummary> {
    if opts.inputs.is_empty() {
        bail!("no input files given (use - for standard input)");
    }
    let mut agg = Aggregator::new(&opts.date_field);
    agg.set_aliases(opts.aliases.as_deref())?;
    for input in &opts.inputs {
        if let Err(e) = read_input(input, &mut agg, opts.max_line_bytes)
            .with_context(|| format!("reading {}", input.display()))?
        {
            // Whatever was read before the break counts; the run goes on with the next file.
            eprintln!("ontleed report: {}: {e}", input.display());
            agg.summary.truncated += 1;
        }
    }
    agg.finish_summary();
    let report = Report::new(agg);
    if let Some(path) = &opts.csv {
        write_file(path, |w| report.write_csv(w, opts.related))?;
    }
    if let Some(path) = &opts.json {
        write_file(path, |w| report.write_json(w, opts.related))?;
    }
    if let Some(path) = &opts.html {
        let inputs: Vec<String> = opts
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let page = html::render(&report, opts, &inputs);
        write_file(path, |w| Ok(w.write_all(page.as_bytes())?))?;
    }
    Ok(report.agg.summary.clone())
}

fn write_file(path: &Path, body: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    body(&mut w)
        .and_then(|()| Ok(w.flush()?))
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads one input into the aggregation. `Err`: the file cannot be opened; `Ok(Err)`: it broke
/// off after the lines already added (a truncated gzip).
fn read_input(
    path: &Path,
    agg: &mut Aggregator,
    max_line: usize,
) -> Result<std::result::Result<(), String>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(path).context("cannot open file")?)
    };
    let mut reader = BufReader::with_capacity(1 << 16, raw);
    let gz_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let gz_magic = reader
        .fill_buf()
        .context("cannot read")?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz_name || gz_magic {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        match crate::io::read_line_limited(reader.as_mut(), &mut buf, max_line) {
            Ok(LineStatus::Eof) => return Ok(Ok(())),
            Ok(LineStatus::Line) => agg.add_line(&buf),
            Ok(LineStatus::TooLong) => agg.summary.too_long += 1,
            Err(e) => {
                return Ok(Err(format!(
                    "breaks off at line {}: {e}{}",
                    line + 1,
                    if buf.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} bytes of an unfinished line dropped)", buf.len())
                    }
                )));
            }
        }
        line += 1;
    }
}

/// A CSV cell as a spreadsheet shows it: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be taken for a formula (`=HYPERLINK(…)` runs when the file is opened),
/// so it gets a leading `'`, which spreadsheets read as "this is text" (OWASP's advice).
fn csv_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The finished aggregation, with entities and topics in report order.
pub(crate) struct Report {
    agg: Aggregator,
    /// Entity indexes, most articles first.
    order: Vec<u32>,
    /// Topic indexes, most articles first.
    topic_order: Vec<u32>,
}

#[derive(Serialize)]
struct Related<'a> {
    canonical: &'a str,
    label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    articles: u32,
}

#[derive(Serialize)]
struct TopicCount<'a> {
    id: &'a str,
    label: &'a str,
    articles: u32,
}

#[derive(Serialize)]
struct EntityJson<'a> {
    canonical: &'a str,
    label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    articles: u64,
    mentions: u64,
    first_date: Option<String>,
    last_date: Option<String>,
    cooccurring: Vec<Related<'a>>,
    topics: Vec<TopicCount<'a>>,
    weekly_mentions: Weekly<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    variants: &'a [aggregate::Variant],
}

#[derive(Serialize)]
struct TopicJson<'a> {
    id: &'a str,
    label: &'a str,
    articles: u64,
    weekly_articles: Weekly<'a>,
}

/// Weekly counts, serialized as an object keyed by ISO week ("2026-W11").
struct Weekly<'a>(&'a BTreeMap<aggregate::Week, u64>);

impl Serialize for Weekly<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(&w, c)| (week_label(w), c)))
    }
}

/// The entity list, serialized one entity at a time (no copy of the whole table in memory).
struct EntitiesJson<'a> {
    report: &'a Report,
    related: usize,
}

impl Serialize for EntitiesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.report
                .ranked()
                .map(|e| self.report.entity_json(e, self.related)),
        )
    }
}

#[derive(Serialize)]
struct ReportJson<'a> {
    summary: &'a ReportSummary,
    entities: EntitiesJson<'a>,
    topics: Vec<TopicJson<'a>>,
}

/// The `n` largest counts of a map, ties in name order.
fn top_counts<'a>(
    map: &std::collections::HashMap<u32, u32>,
    n: usize,
    name: impl Fn(u32) -> &'a str,
) -> Vec<(u32, u32)> {
    let mut items: Vec<(u32, u32)> = map.iter().map(|(&k, &v)| (k, v)).collect();
    items.sort_unstable_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| name(a.0).cmp(name(b.0)))
            .then(a.0.cmp(&b.0))
    });
    items.truncate(n);
    items
}

impl Report {
    fn new(agg: Aggregator) -> Self {
        let mut order: Vec<u32> = (0..agg.entities.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&agg.entities[a as usize], &agg.entities[b as usize]);
            y.articles
                .cmp(&x.articles)
                .then(y.mentions.cmp(&x.mentions))
                .then_with(|| x.canonical.cmp(&y.canonical))
                .then_with(|| x.label.cmp(&y.label))
        });
        let mut topic_order: Vec<u32> = (0..agg.topics.len() as u32).collect();
        topic_order.sort_by(|&a, &b| {
            let (x, y) = (&agg.topics[a as usize], &agg.topics[b as usize]);
            y.articles
                .cmp(&x.articles)
                .then_with(|| x.label.cmp(&y.label))
        });
        Self {
            agg,
            order,
            topic_order,
        }
    }

    fn entity(&self, i: u32) -> &EntityStats {
        &self.agg.entities[i as usize]
    }

    /// Entities in report order.
    fn ranked(&self) -> impl Iterator<Item = &EntityStats> {
        self.order.iter().map(|&i| self.entity(i))
    }

    /// The `n` entities an entity most often shares an article with.
    fn cooccurring(&self, e: &EntityStats, n: usize) -> Vec<(&EntityStats, u32)> {
        top_counts(&e.cooc, n, |i| self.entity(i).canonical.as_str())
            .into_iter()
            .map(|(i, c)| (self.entity(i), c))
            .collect()
    }

    /// The `n` topics most often found with an entity.
    fn entity_topics(&self, e: &EntityStats, n: usize) -> Vec<(&aggregate::TopicStats, u32)> {
        top_counts(&e.topics, n, |i| self.agg.topics[i as usize].label.as_str())
            .into_iter()
            .map(|(i, c)| (&self.agg.topics[i as usize], c))
            .collect()
    }

    /// Co-occurrence count of two entities (either side's count, as pruning may have dropped
    /// the other).
    fn pair(&self, a: u32, b: u32) -> u32 {
        let x = self.entity(a).cooc.get(&b).copied().unwrap_or(0);
        let y = self.entity(b).cooc.get(&a).copied().unwrap_or(0);
        x.max(y)
    }

    fn write_csv(&self, w: &mut dyn Write, related: usize) -> Result<()> {
        let mut out = csv::Writer::from_writer(w);
        out.write_record([
            "rank",
            "canonical",
            "label",
            "id",
            "articles",
            "mentions",
            "first_date",
            "last_date",
            "cooccurring",
            "topics",
            "variants",
        ])?;
        for (rank, e) in self.ranked().enumerate() {
            let co = self
                .cooccurring(e, related)
                .iter()
                .map(|(o, c)| format!("{} ({c})", o.canonical))
                .collect::<Vec<_>>()
                .join("; ");
            let topics = self
                .entity_topics(e, related)
                .iter()
                .map(|(t, c)| format!("{} ({c})", t.id))
                .collect::<Vec<_>>()
                .join("; ");
            out.write_record([
                (rank + 1).to_string(),
                csv_cell(&e.canonical),
                csv_cell(&e.label),
                csv_cell(e.id.as_deref().unwrap_or_default()),
                e.articles.to_string(),
                e.mentions.to_string(),
                e.first.map(|d| d.to_string()).unwrap_or_default(),
                e.last.map(|d| d.to_string()).unwrap_or_default(),
                csv_cell(&co),
                csv_cell(&topics),
                csv_cell(&aggregate::variants_text(e)),
            ])?;
        }
        out.flush()?;
        Ok(())
    }

    fn entity_json<'a>(&'a self, e: &'a EntityStats, related: usize) -> EntityJson<'a> {
        EntityJson {
            canonical: &e.canonical,
            label: &e.label,
            id: e.id.as_deref(),
            articles: e.articles,
            mentions: e.mentions,
            first_date: e.first.map(|d| d.to_string()),
            last_date: e.last.map(|d| d.to_string()),
            cooccurring: self
                .cooccurring(e, related)
                .into_iter()
                .map(|(o, c)| Related {
                    canonical: &o.canonical,
                    label: &o.label,
                    id: o.id.as_deref(),
                    articles: c,
                })
                .collect(),
            topics: self
                .entity_topics(e, related)
                .into_iter()
                .map(|(t, c)| TopicCount {
                    id: &t.id,
                    label: &t.label,
                    articles: c,
                })
                .collect(),
            weekly_mentions: Weekly(&e.weeks),
            variants: &e.variants,
        }
    }

    fn write_json(&self, w: &mut dyn Write, related: usize) -> Result<()> {
        let entities = EntitiesJson {
            report: self,
            related,
        };
        let topics = self
            .topic_order
            .iter()
            .map(|&i| {
                let t = &self.agg.topics[i as usize];
                TopicJson {
                    id: &t.id,
                    label: &t.label,
                    articles: t.articles,
                    weekly_articles: Weekly(&t.weeks),
                }
            })
            .collect();
        let doc = ReportJson {
            summary: &self.agg.summary,
            entities,
            topics,
        };
        serde_json::to_writer_pretty(&mut *w, &doc)?;
        w.write_all(b"\n")?;
        Ok(())
    }
}
