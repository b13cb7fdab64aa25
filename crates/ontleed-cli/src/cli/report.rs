//! `ontleed report`: aggregate annotated JSONL into an entity table (CSV, JSON) and an HTML page.
//!
//! Exit status: 0 when every line was read; 1 when some lines were not JSON objects or were too
//! long, or an input broke off (the outputs are still written, from the lines that were read);
//! 2 on a fatal error (no output requested, an input that cannot be opened, a write error).

use super::{EXIT_BAD_LINES, EXIT_OK};
use anyhow::{Result, bail};
use ontleed::report::{ReportOptions, run};
use std::path::PathBuf;

/// Arguments of `ontleed report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Annotated JSONL files (.jsonl, .jsonl.gz) written by `ontleed annotate`; '-' for stdin.
    #[arg(default_value = "-")]
    inputs: Vec<PathBuf>,
    /// Record field holding the article date (ISO `YYYY-MM-DD…`).
    #[arg(long, default_value = "date")]
    date_field: String,
    /// Write the entity table as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the entity table and topic statistics as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a self-contained HTML page (charts, co-occurrence, searchable table) here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Entities in the HTML table (0: all).
    #[arg(long, default_value_t = 200)]
    top: usize,
    /// Co-occurring entities and topics listed per entity.
    #[arg(long, default_value_t = 5)]
    related: usize,
    /// Title of the HTML page.
    #[arg(long, default_value = "ontleed report")]
    title: String,
    /// Lines longer than this many bytes are skipped (and counted), not read into memory.
    #[arg(long, default_value_t = ontleed::report::MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// Alias table (TOML or CSV) whose entries win over the resolution of entities across the
    /// corpus, both ways: its forms are joined, and names of different entries stay apart.
    #[arg(long)]
    aliases: Option<PathBuf>,
}

pub(super) fn report(a: ReportArgs) -> Result<i32> {
    if a.csv.is_none() && a.json.is_none() && a.html.is_none() {
        bail!("nothing to write: give at least one of --csv FILE, --json FILE, --html FILE");
    }
    let summary = run(&ReportOptions {
        inputs: a.inputs,
        date_field: a.date_field,
        csv: a.csv,
        json: a.json,
        html: a.html,
        top: a.top,
        related: a.related,
        title: a.title,
        max_line_bytes: a.max_line_bytes,
        aliases: a.aliases,
    })?;
    eprintln!("ontleed report: {summary}");
    // Bad lines (not JSON objects, too long) or a file that breaks off: the tables are written,
    // from the good lines, and the status says that something was skipped.
    Ok(if summary.has_bad_input() {
        EXIT_BAD_LINES
    } else {
        EXIT_OK
    })
}
