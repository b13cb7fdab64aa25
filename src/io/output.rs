//! Writing records as JSON lines.

use super::InputError;
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
