//! Reading articles: JSONL (plain, gzip, or stdin), text files and directories of text files.
//!
//! Reading never fails on one bad line: every line becomes an [`Item`], either an [`Article`] or
//! an [`InputError`] saying what is wrong with it, so the batch can go on.

use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where articles come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// JSONL on standard input.
    Stdin,
    /// A JSONL file, gzip-compressed when its name ends in `.gz` or its content starts with the
    /// gzip magic bytes.
    Jsonl(PathBuf),
    /// A text file: one article, its path the id.
    Text(PathBuf),
}

impl Source {
    /// Expands command-line inputs: `-` is stdin, a directory yields its `.txt` files (recursively,
    /// sorted), `.txt` files are single articles, anything else is JSONL.
    pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        for input in inputs {
            if input.as_os_str() == "-" {
                out.push(Source::Stdin);
            } else if input.is_dir() {
                let mut files = Vec::new();
                collect_text_files(input, &mut files)?;
                files.sort();
                out.extend(files.into_iter().map(Source::Text));
            } else if !input.exists() {
                anyhow::bail!("input {} does not exist", input.display());
            } else if input.extension().is_some_and(|e| e == "txt") {
                out.push(Source::Text(input.clone()));
            } else {
                out.push(Source::Jsonl(input.clone()));
            }
        }
        if out.is_empty() {
            out.push(Source::Stdin);
        }
        Ok(out)
    }

    /// A name for messages and error records.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::Jsonl(p) | Source::Text(p) => p.display().to_string(),
        }
    }
}

fn collect_text_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
    {
        let path = entry?.path();
        if path.is_dir() {
            collect_text_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "txt") {
            out.push(path);
        }
    }
    Ok(())
}

/// How to read fields from JSONL objects.
#[derive(Debug, Clone)]
pub struct FieldNames {
    /// Field holding the article text.
    pub text: String,
    /// Field holding the article id; when absent from a line, the line number is the id.
    pub id: String,
    /// Field holding the headline, when a record has one (a missing or `null` field means no
    /// headline). The headline is annotated together with the text as one article.
    pub title: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        Self {
            text: "text".into(),
            id: "id".into(),
            title: "title".into(),
        }
    }
}

/// An article ready for the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// The id: the id field's value, the file path, or the line number.
    pub id: Value,
    /// The text (the body; may be empty when there is a headline).
    pub text: String,
    /// The headline, from the title field, when the record has a non-empty one.
    pub title: Option<String>,
    /// All fields of the input object, in input order (for JSONL); empty for text files except
    /// for the text itself.
    pub fields: Map<String, Value>,
}

/// What is wrong with one input line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// A stable machine-readable kind: `invalid_json`, `not_an_object`, `missing_text`,
    /// `text_not_string`, `title_not_string`, `invalid_utf8`, `empty_text` (no text and no
    /// headline), `too_large`, `read_error`.
    pub kind: &'static str,
    /// A message for people.
    pub message: String,
    /// The id, when the line had one.
    pub id: Option<Value>,
}

impl InputError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            id: None,
        }
    }
}

/// One input line (or text file), read.
#[derive(Debug, Clone)]
pub struct Item {
    /// The source's name (`-` for stdin).
    pub source: std::sync::Arc<str>,
    /// 1-based line number in the source (1 for text files).
    pub line: usize,
    /// The article or what is wrong with the line.
    pub article: Result<Article, InputError>,
}

/// Reads items from a list of sources, one at a time, in order.
pub struct Reader {
    sources: std::vec::IntoIter<Source>,
    current: Option<(std::sync::Arc<str>, LineSource)>,
    fields: FieldNames,
    max_bytes: usize,
}

enum LineSource {
    Lines {
        reader: Box<dyn BufRead + Send>,
        line: usize,
    },
    Done,
}

impl Reader {
    /// A reader over `sources`; articles longer than `max_bytes` become `too_large` errors.
    pub fn new(sources: Vec<Source>, fields: FieldNames, max_bytes: usize) -> Self {
        Self {
            sources: sources.into_iter(),
            current: None,
            fields,
            max_bytes,
        }
    }

    /// The next item; `Err` only when a source cannot be opened or read at all.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        loop {
            if self.current.is_none() {
                let Some(source) = self.sources.next() else {
                    return Ok(None);
                };
                let name: std::sync::Arc<str> = source.name().into();
                match source {
                    Source::Text(path) => {
                        return Ok(Some(Item {
                            source: name,
                            line: 1,
                            article: self.read_text_file(&path)?,
                        }));
                    }
                    Source::Stdin => {
                        let reader = Box::new(BufReader::with_capacity(1 << 16, std::io::stdin()));
                        self.current = Some((name, LineSource::Lines { reader, line: 0 }));
                    }
                    Source::Jsonl(path) => {
                        let reader = open_jsonl(&path)?;
                        self.current = Some((name, LineSource::Lines { reader, line: 0 }));
                    }
                }
            }
            let Some((name, src)) = self.current.as_mut() else {
                continue;
            };
            let LineSource::Lines { reader, line } = src else {
                self.current = None;
                continue;
            };
            let mut buf = Vec::new();
            let status = read_line_limited(reader.as_mut(), &mut buf, self.max_bytes)
                .with_context(|| format!("cannot read {name}"))?;
            let too_long = match status {
                LineStatus::Eof => {
                    *src = LineSource::Done;
                    self.current = None;
                    continue;
                }
                LineStatus::Line => false,
                LineStatus::TooLong => true,
            };
            *line += 1;
            let n = *line;
            // Blank lines carry no article; skip them (they are not errors).
            if !too_long && buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let article = if too_long {
                Err(InputError::new(
                    "too_large",
                    format!(
                        "line is longer than {} bytes (raise --max-bytes to accept it)",
                        self.max_bytes
                    ),
                ))
            } else {
                parse_line(&buf, n, &self.fields)
            };
            return Ok(Some(Item {
                source: name.clone(),
                line: n,
                article,
            }));
        }
    }

    fn read_text_file(&self, path: &Path) -> Result<Result<Article, InputError>> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let id = Value::String(path.display().to_string());
        if bytes.len() > self.max_bytes {
            return Ok(Err(InputError {
                id: Some(id),
                ..InputError::new(
                    "too_large",
                    format!(
                        "file is larger than {} bytes (raise --max-bytes to accept it)",
                        self.max_bytes
                    ),
                )
            }));
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(InputError {
                    id: Some(id),
                    ..InputError::new(
                        "invalid_utf8",
                        format!("file is not valid UTF-8: {}", e.utf8_error()),
                    )
                }));
            }
        };
        if text.trim().is_empty() {
            return Ok(Err(InputError {
                id: Some(id),
                ..InputError::new("empty_text", "file is empty")
            }));
        }
        let mut fields = Map::new();
        fields.insert(self.fields.text.clone(), Value::String(text.clone()));
        Ok(Ok(Article {
            id,
            text,
            title: None,
            fields,
        }))
    }
}

impl Iterator for Reader {
    type Item = Result<Item>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

fn open_jsonl(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let gz = (n == 2 && magic == [0x1f, 0x8b]) || path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

enum LineStatus {
    Eof,
    Line,
    TooLong,
}

/// Reads one line (without its newline) into `buf`, keeping at most `max` bytes; a longer line
/// is consumed to its end and reported as [`LineStatus::TooLong`].
fn read_line_limited(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineStatus> {
    let mut any = false;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (chunk, found) = match memchr_newline(available) {
            Some(i) => (&available[..i], Some(i)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = found.map_or(chunk.len(), |i| i + 1);
        reader.consume(used);
        if found.is_some() {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(match (any, too_long) {
        (false, _) => LineStatus::Eof,
        (true, true) => LineStatus::TooLong,
        (true, false) => LineStatus::Line,
    })
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Parses one JSONL line (without its newline) into an article, as the JSONL reader does: the
/// same error kinds (`invalid_utf8`, `invalid_json`, `not_an_object`, `missing_text`,
/// `text_not_string`, `empty_text`), and `line` as the id when the object has no id field.
/// Public for the Python bindings, which parse lines one by one (`too_large` and blank lines are
/// the caller's business, as in [`Reader`]).
pub fn parse_line(bytes: &[u8], line: usize, names: &FieldNames) -> Result<Article, InputError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| InputError::new("invalid_utf8", format!("line is not valid UTF-8: {e}")))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| InputError::new("invalid_json", format!("invalid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(InputError::new(
            "not_an_object",
            format!("expected a JSON object, found {}", json_type(&value)),
        ));
    };
    let id = fields
        .get(&names.id)
        .cloned()
        .unwrap_or_else(|| Value::from(line));
    let with_id = |e: InputError| InputError {
        id: Some(id.clone()),
        ..e
    };
    let text = match fields.get(&names.text) {
        None => {
            return Err(with_id(InputError::new(
                "missing_text",
                format!(
                    "no {:?} field (choose another with --text-field)",
                    names.text
                ),
            )));
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(with_id(InputError::new(
                "text_not_string",
                format!(
                    "field {:?} is {}, not a string",
                    names.text,
                    json_type(other)
                ),
            )));
        }
    };
    let title = match fields.get(&names.title) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        Some(other) => {
            return Err(with_id(InputError::new(
                "title_not_string",
                format!(
                    "field {:?} is {}, not a string",
                    names.title,
                    json_type(other)
                ),
            )));
        }
    };
    if text.trim().is_empty() && title.is_none() {
        return Err(with_id(InputError::new(
            "empty_text",
            format!("field {:?} is empty", names.text),
        )));
    }
    Ok(Article {
        id,
        text,
        title,
        fields,
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Article, InputError> {
        parse_line(s.as_bytes(), 7, &FieldNames::default())
    }

    #[test]
    fn classifies_bad_lines() {
        assert_eq!(parse("{").unwrap_err().kind, "invalid_json");
        assert_eq!(parse("[1]").unwrap_err().kind, "not_an_object");
        assert_eq!(parse(r#"{"id": 1}"#).unwrap_err().kind, "missing_text");
        assert_eq!(
            parse(r#"{"id": 1, "text": 5}"#).unwrap_err().kind,
            "text_not_string"
        );
        assert_eq!(parse(r#"{"text": "  "}"#).unwrap_err().kind, "empty_text");
        assert_eq!(
            parse_line(b"{\"text\": \"\xff\"}", 1, &FieldNames::default())
                .unwrap_err()
                .kind,
            "invalid_utf8"
        );
    }

    #[test]
    fn line_number_is_default_id() {
        let a = parse(r#"{"text": "Hallo", "x": 1}"#).unwrap();
        assert_eq!(a.id, Value::from(7));
        assert_eq!(a.fields.len(), 2);
    }

    #[test]
    fn long_lines_are_skipped_to_their_end() {
        let data = b"0123456789\nabc\n";
        let mut r: &[u8] = data;
        let mut buf = Vec::new();
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 5).unwrap(),
            LineStatus::TooLong
        ));
        buf.clear();
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 5).unwrap(),
            LineStatus::Line
        ));
        assert_eq!(buf, b"abc");
        buf.clear();
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 5).unwrap(),
            LineStatus::Eof
        ));
    }
}
