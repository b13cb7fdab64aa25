//! `ontleed report`: aggregate annotated JSONL into an entity table (CSV, JSON) and an HTML page.

use super::EXIT_OK;
use crate::report::{ReportOptions, run};
use anyhow::{Result, bail};
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
        aliases: a.aliases,
    })?;
    eprintln!("ontleed report: {summary}");
    Ok(EXIT_OK)
}
