//! Writing records as JSON lines.

use super::{Article, InputError};
use serde_json::{Map, Value, json};
use std::io::Write;

/// The record written in place of a bad input line:
/// `{"line": N, "source": ..., "id": ... (when known), "error": {"kind": ..., "message": ...}}`.
pub fn error_record(source: &str, line: usize, error: &InputError) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("line".into(), json!(line));
    m.insert("source".into(), json!(source));
    if let Some(id) = &error.id {
        m.insert("id".into(), id.clone());
    }
    m.insert(
        "error".into(),
        json!({"kind": error.kind, "message": error.message}),
    );
    m
}

/// Writes one record as a line of JSON.
pub fn write_record(out: &mut impl Write, record: &Map<String, Value>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// Writes the record of an article as a line of JSON, with the input's own text for the fields
/// that hold numbers and pass through unchanged (see [`Article::raw_numbers`]): numbers come
/// back byte for byte. `id_field` is the input field the record's `id` came from.
pub fn write_article_record(
    out: &mut impl Write,
    record: &Map<String, Value>,
    article: &Article,
    id_field: &str,
) -> std::io::Result<()> {
    if article.raw_numbers.is_empty() {
        return write_record(out, record);
    }
    write_article_record_with(out, record, article, id_field, |_, _| None)
}

/// [`write_article_record`], with the values of some fields written by `custom` instead:
/// `custom(key, out)` writes the value of field `key` and returns `Some`, or returns `None` for
/// the record's own. Used to write large parts of a record from the structures they come from
/// rather than from a JSON tree.
pub fn write_article_record_with<W: Write>(
    out: &mut W,
    record: &Map<String, Value>,
    article: &Article,
    id_field: &str,
    mut custom: impl FnMut(&str, &mut W) -> Option<std::io::Result<()>>,
) -> std::io::Result<()> {
    out.write_all(b"{")?;
    for (i, (key, value)) in record.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        if let Some(written) = custom(key, out) {
            written?;
            continue;
        }
        let field = if key == "id" { id_field } else { key.as_str() };
        let raw = article
            .raw_numbers
            .iter()
            .find(|(k, _)| k == field)
            .filter(|_| article.fields.get(field) == Some(value));
        match raw {
            Some((_, raw)) => out.write_all(raw.as_bytes())?,
            None => serde_json::to_writer(&mut *out, value)?,
        }
    }
    out.write_all(b"}\n")
}
