//! `ontleed resolve`: writes annotated records back with a corpus-level `entity` key on every
//! mention (`entities`) and every per-article entity (`entity_summary`), equal across articles
//! for the same entity (see `entities::corpus` for how names are joined).
//!
//! Two passes over the input: the first collects the distinct names (memory grows with them,
//! not with the records), the resolution runs, and the second rewrites each record. The input
//! is therefore a file (plain or gzip), not standard input. Lines that are not JSON objects and
//! records without entities are written back unchanged.

use super::{EXIT_OK, open_output};
use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};
use flate2::read::MultiGzDecoder;
use ontleed::entities::Aliases;
use ontleed::entities::corpus::{Collector, Resolution};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Arguments of `ontleed resolve`.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// Annotated JSONL file (.jsonl or .jsonl.gz) written by `ontleed annotate`; it is read
    /// twice, so standard input is not accepted.
    input: PathBuf,
    /// Where to write the records (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Record field holding the article date (ISO `YYYY-MM-DD…`); dates keep joins plausible.
    #[arg(long, default_value = "date")]
    date_field: String,
    /// Alias table (TOML or CSV) whose entries win over the automatic decisions, both ways.
    #[arg(long)]
    aliases: Option<PathBuf>,
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        || reader
            .fill_buf()
            .with_context(|| format!("cannot read {}", path.display()))?
            .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    })
}

/// Calls `f` with every line (without its line break) of the input.
fn for_lines(path: &Path, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut reader = open(path)?;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("{}: line {}", path.display(), line + 1))?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            buf.pop();
        }
        f(&buf)?;
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The (canonical name, label, id) of an entity item, read like `ontleed report` reads it.
fn name_of(item: &Value) -> Option<(String, String, Option<String>)> {
    let canonical = text(item.get("canonical")).or_else(|| text(item.get("text")))?;
    let label = text(item.get("label")).unwrap_or_else(|| "MISC".to_string());
    Some((canonical, label, text(item.get("id"))))
}

fn items<'a>(record: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    record
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.is_object())
}

/// Whether a record carries entities to resolve (error and skipped records do not).
fn annotated(record: &Value) -> bool {
    record.is_object()
        && (record.get("error").is_none_or(Value::is_null) || record.get("ontleed").is_some())
        && record
            .get("skipped")
            .is_none_or(|v| v.is_null() || v == &Value::Bool(false))
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResolveSummary {
    /// Lines read.
    pub lines: u64,
    /// Records that got `entity` keys.
    pub records: u64,
    /// Distinct names in the input.
    pub names: usize,
    /// Entities they were resolved into.
    pub entities: usize,
}

/// Resolves the entities of `input` across the corpus and writes its records, with an
/// `entity` key per mention and per summary entry, to `out`.
pub fn resolve_file(
    input: &Path,
    out: &mut dyn Write,
    date_field: &str,
    user: Option<Aliases>,
) -> Result<ResolveSummary> {
    let mut names = Collector::new();
    for_lines(input, |line| {
        let Ok(record) = serde_json::from_slice::<Value>(line) else {
            return Ok(());
        };
        if !annotated(&record) {
            return Ok(());
        }
        let source = if record.get("entity_summary").is_some_and(Value::is_array) {
            "entity_summary"
        } else {
            "entities"
        };
        let found: Vec<(String, String, Option<String>)> =
            items(&record, source).filter_map(name_of).collect();
        let borrowed: Vec<(&str, &str, Option<&str>)> = found
            .iter()
            .map(|(c, l, i)| (c.as_str(), l.as_str(), i.as_deref()))
            .collect();
        let day = text(record.get(date_field))
            .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
            .map(|d| d.num_days_from_ce());
        names.add_article(&borrowed, day);
        // Acronyms the article grouped with a longer name (evidence for the resolution).
        for m in items(&record, "entities") {
            let (Some(t), Some(c)) = (text(m.get("text")), text(m.get("canonical"))) else {
                continue;
            };
            if t != c
                && ontleed::entities::corpus::is_acronym(&t)
                && let Some((c, l, i)) = found.iter().find(|f| f.0 == c)
            {
                names.add_definition(&t, c, l, i.as_deref());
            }
        }
        Ok(())
    })?;
    let user_entries = user.as_ref().map_or(0, Aliases::len);
    let aliases = match user {
        Some(u) => u.with_fallback(Aliases::builtin()),
        None => Aliases::builtin(),
    };
    let resolution: Resolution = names.resolve(&aliases, user_entries);
    let keys: Vec<String> = (0..resolution.clusters.len() as u32)
        .map(|c| resolution.entity_key(c))
        .collect();
    let key_of = |item: &Value| {
        let (c, l, i) = name_of(item)?;
        let row = names.row_of(&c, &l, i.as_deref())?;
        keys.get(resolution.cluster[row as usize] as usize).cloned()
    };
    let mut summary = ResolveSummary {
        names: names.len(),
        entities: resolution.clusters.len(),
        ..ResolveSummary::default()
    };
    for_lines(input, |line| {
        summary.lines += 1;
        let record = serde_json::from_slice::<Value>(line).ok().filter(annotated);
        match record {
            Some(mut record) => {
                // A mention may carry another label than its entity (a member word, a name
                // the recognizer tagged otherwise once): it takes the key of the article's
                // entity with its canonical name.
                let mut by_canonical: HashMap<String, String> = HashMap::new();
                for item in items(&record, "entity_summary") {
                    if let (Some(k), Some(c)) = (key_of(item), text(item.get("canonical"))) {
                        by_canonical.entry(c).or_insert(k);
                    }
                }
                for field in ["entity_summary", "entities"] {
                    if let Some(list) = record.get_mut(field).and_then(Value::as_array_mut) {
                        for item in list.iter_mut().filter(|v| v.is_object()) {
                            let k = key_of(item).or_else(|| {
                                by_canonical.get(&text(item.get("canonical"))?).cloned()
                            });
                            if let Some(k) = k {
                                item["entity"] = Value::String(k);
                            }
                        }
                    }
                }
                summary.records += 1;
                serde_json::to_writer(&mut *out, &record)?;
            }
            None => out.write_all(line)?,
        }
        out.write_all(b"\n")?;
        Ok(())
    })?;
    out.flush()?;
    Ok(summary)
}

pub(super) fn resolve(a: ResolveArgs) -> Result<i32> {
    if a.input.as_os_str() == "-" {
        bail!("resolve reads its input twice: give a file, not standard input");
    }
    let user = a.aliases.as_deref().map(Aliases::from_file).transpose()?;
    let mut out = open_output(a.output.as_ref())?;
    let s = resolve_file(&a.input, &mut out, &a.date_field, user)?;
    eprintln!(
        "ontleed resolve: {} lines, {} records; {} names resolved into {} entities",
        s.lines, s.records, s.names, s.entities
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_like_the_report() {
        let v: Value = serde_json::from_str(
            r#"{"canonical":" Thierry Baudet ","label":"PER","id":7,"text":"Baudet"}"#,
        )
        .unwrap();
        assert_eq!(
            name_of(&v),
            Some(("Thierry Baudet".into(), "PER".into(), Some("7".into())))
        );
        let v: Value = serde_json::from_str(r#"{"text":"FvD"}"#).unwrap();
        assert_eq!(name_of(&v), Some(("FvD".into(), "MISC".into(), None)));
        let err: Value = serde_json::from_str(r#"{"line":3,"error":{"kind":"x"}}"#).unwrap();
        assert!(!annotated(&err));
        let skipped: Value = serde_json::from_str(r#"{"skipped":{"reason":"language"}}"#).unwrap();
        assert!(!annotated(&skipped));
    }
}
