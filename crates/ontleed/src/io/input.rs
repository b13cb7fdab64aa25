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
    /// An entry of a directory that cannot be read (a broken symbolic link, a folder without
    /// permission): one `read_error` record.
    Unreadable {
        /// The entry's path.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl Source {
    /// Expands command-line inputs: `-` is stdin, a directory yields its `.txt`, `.jsonl` and
    /// `.jsonl.gz` files (recursively, in path order; symbolic links are followed, but every
    /// directory and file is read once, so a link loop ends), `.txt` files are single articles,
    /// anything else is JSONL. An entry of a directory that cannot be read (a broken link)
    /// becomes a [`Source::Unreadable`], an error record, not a failure of the run.
    pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for input in inputs {
            if input.as_os_str() == "-" {
                out.push(Source::Stdin);
            } else if input.is_dir() {
                collect_dir(input, &mut seen, &mut out)
                    .with_context(|| format!("cannot read directory {}", input.display()))?;
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
            Source::Jsonl(p) | Source::Text(p) | Source::Unreadable { path: p, .. } => {
                p.display().to_string()
            }
        }
    }
}

/// The kind of file a directory entry is read as, by its name.
fn dir_entry_source(path: &Path) -> Option<Source> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".txt") {
        Some(Source::Text(path.to_path_buf()))
    } else if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") {
        Some(Source::Jsonl(path.to_path_buf()))
    } else {
        None
    }
}

/// Walks `dir` depth-first in path order. `seen` holds the canonical paths of the directories
/// and files already taken, so a symbolic link is followed at most once and a loop ends.
fn collect_dir(
    dir: &Path,
    seen: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<Source>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        let unreadable = |message: String| Source::Unreadable {
            path: path.clone(),
            message,
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                // Only entries that would have been read are reported.
                if link || dir_entry_source(&path).is_some() {
                    out.push(unreadable(if link {
                        format!("broken symbolic link: {e}")
                    } else {
                        format!("cannot read: {e}")
                    }));
                }
                continue;
            }
        };
        if meta.is_dir() {
            if let Err(e) = collect_dir(&path, seen, out) {
                out.push(unreadable(format!("cannot read directory: {e}")));
            }
        } else if let Some(source) = dir_entry_source(&path) {
            match std::fs::canonicalize(&path) {
                Ok(real) => {
                    if seen.insert(real) {
                        out.push(source);
                    }
                }
                Err(e) => out.push(unreadable(format!("cannot read: {e}"))),
            }
        }
    }
    Ok(())
}

/// The UTF-8 byte-order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

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
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// The JSON text, as in the input, of the top-level fields that hold numbers: a
    /// [`Value`] cannot hold every number exactly (`18446744073709551616`, `1.000000000000000000001`,
    /// `1e400`), so [`write_article_record`](crate::io::write_article_record) writes these
    /// back byte for byte. A number beyond `f64` (`1e400`) is `null` in `fields`.
    pub raw_numbers: Vec<(String, String)>,
}

/// What is wrong with one input line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// A stable machine-readable kind: `invalid_json`, `not_an_object`, `missing_text`,
    /// `text_not_string`, `title_not_string`, `invalid_utf8`, `empty_text` (no text and no
    /// headline), `too_large`, `truncated_input` (a file that ends or breaks off in the middle,
    /// such as a truncated gzip), `read_error` (a file or link that cannot be read); and
    /// `internal` (annotating the article failed: [`crate::batch`]).
    pub kind: &'static str,
    /// A message for people.
    pub message: String,
    /// The id, when the line had one.
    pub id: Option<Value>,
}

impl InputError {
    /// An error of `kind` without an id.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
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
    /// The source's index in the list the [`Reader`] was given.
    pub source_index: usize,
    /// 1-based line number in the source (1 for text files).
    pub line: usize,
    /// The article or what is wrong with the line.
    pub article: Result<Article, InputError>,
}

/// Reads items from a list of sources, one at a time, in order.
pub struct Reader {
    sources: std::iter::Enumerate<std::vec::IntoIter<Source>>,
    current: Option<(std::sync::Arc<str>, usize, LineSource)>,
    fields: FieldNames,
    max_bytes: usize,
    /// Where to start: sources before `.0` are skipped, and the first `.1` lines of source `.0`.
    start: (usize, usize),
}

enum LineSource {
    Lines {
        reader: Box<dyn BufRead + Send>,
        line: usize,
    },
    Done,
}

/// The longest JSONL line read, for articles of up to `max_bytes` of text: JSON escapes may
/// write a character of text in up to 6 bytes (`\u00e9`), plus room for other fields.
pub fn line_limit(max_bytes: usize) -> usize {
    max_bytes.saturating_mul(6).saturating_add(1 << 20)
}

/// The `too_large` error of a line longer than [`line_limit`].
pub fn line_too_large(max_bytes: usize) -> InputError {
    InputError::new(
        "too_large",
        format!(
            "line is longer than {} bytes, too long for an article within the size limit of {max_bytes} bytes",
            line_limit(max_bytes)
        ),
    )
}

/// Parses one JSONL line (without its newline) as the [`Reader`] does, limits included: a line
/// longer than [`line_limit`] and an article whose text and headline together are longer than
/// `max_bytes` are `too_large`; otherwise as [`parse_line`]. Blank lines are the caller's
/// business (the reader skips them).
pub fn parse_line_limited(
    bytes: &[u8],
    line: usize,
    names: &FieldNames,
    max_bytes: usize,
) -> Result<Article, InputError> {
    if bytes.len() > line_limit(max_bytes) {
        return Err(line_too_large(max_bytes));
    }
    let article = parse_line(bytes, line, names)?;
    let size = article.text.len() + article.title.as_ref().map_or(0, String::len);
    if size > max_bytes {
        return Err(InputError {
            id: Some(article.id),
            ..InputError::new(
                "too_large",
                format!("the article is {size} bytes, over the size limit of {max_bytes} bytes"),
            )
        });
    }
    Ok(article)
}

/// Items read together: at most a number of articles and about a number of bytes of text.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The items, in input order.
    pub items: Vec<Item>,
    /// The bad item a chunk read with `stop_at_bad_line` stopped at (not in `items`).
    pub stopped: Option<Item>,
}

impl Chunk {
    /// Whether the input is exhausted: nothing read and nothing stopped at.
    pub fn is_end(&self) -> bool {
        self.items.is_empty() && self.stopped.is_none()
    }
}

impl Reader {
    /// A reader over `sources`; articles whose text (with the headline) is longer than
    /// `max_bytes` become `too_large` errors.
    pub fn new(sources: Vec<Source>, fields: FieldNames, max_bytes: usize) -> Self {
        Self {
            sources: sources.into_iter().enumerate(),
            current: None,
            fields,
            max_bytes,
            start: (0, 0),
        }
    }

    /// Starts reading after line `line` of source `source` (an index into the sources): the
    /// sources before it and its first `line` lines are skipped without being parsed. For
    /// resuming a run.
    pub fn skip_to(&mut self, source: usize, line: usize) {
        self.start = (source, line);
    }

    /// The next item; `Err` only when standard input cannot be read. A file that cannot be
    /// opened or breaks off (a truncated gzip) gives an error item, after every line read
    /// before it, and reading goes on with the next source.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        loop {
            if self.current.is_none() {
                let Some((index, source)) = self.sources.next() else {
                    return Ok(None);
                };
                let (start, skip) = self.start;
                if index < start || (index == start && skip > 0 && !source.has_lines()) {
                    continue;
                }
                let skip = if index == start { skip } else { 0 };
                let name: std::sync::Arc<str> = source.name().into();
                let item = |article| Item {
                    source: name.clone(),
                    source_index: index,
                    line: 1,
                    article,
                };
                let reader: Box<dyn BufRead + Send> = match source {
                    Source::Text(path) => return Ok(Some(item(self.read_text_file(&path)))),
                    Source::Unreadable { message, .. } => {
                        return Ok(Some(item(Err(InputError::new("read_error", message)))));
                    }
                    Source::Stdin => Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())),
                    Source::Jsonl(path) => match open_jsonl(&path) {
                        Ok(r) => r,
                        Err(e) => {
                            return Ok(Some(item(Err(InputError::new(
                                "read_error",
                                format!("{e:#}"),
                            )))));
                        }
                    },
                };
                let mut src = LineSource::Lines { reader, line: 0 };
                if let LineSource::Lines { reader, line } = &mut src {
                    let mut sink = Vec::new();
                    while *line < skip {
                        match read_line_limited(reader.as_mut(), &mut sink, 0) {
                            Ok(LineStatus::Eof) | Err(_) => break,
                            Ok(_) => *line += 1,
                        }
                    }
                    if *line < skip {
                        // The input ended (or broke off) where the run had stopped.
                        continue;
                    }
                }
                self.current = Some((name, index, src));
            }
            let Some((name, index, src)) = self.current.as_mut() else {
                continue;
            };
            let LineSource::Lines { reader, line } = src else {
                self.current = None;
                continue;
            };
            let limit = line_limit(self.max_bytes);
            let mut buf = Vec::new();
            let status = match read_line_limited(reader.as_mut(), &mut buf, limit) {
                Ok(status) => status,
                Err(e) if name.as_ref() == "-" => {
                    return Err(anyhow::Error::new(e).context("cannot read standard input"));
                }
                Err(e) => {
                    // The lines before were whole; the damage is one error record, and the run
                    // goes on with the next source.
                    *line += 1;
                    let n = *line;
                    let kind = match e.kind() {
                        std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::InvalidData => "truncated_input",
                        _ => "read_error",
                    };
                    let partial = if buf.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} bytes of an unfinished line dropped)", buf.len())
                    };
                    let item = Item {
                        source: name.clone(),
                        source_index: *index,
                        line: n,
                        article: Err(InputError::new(
                            kind,
                            format!("the input breaks off at line {n}: {e}{partial}"),
                        )),
                    };
                    *src = LineSource::Done;
                    self.current = None;
                    return Ok(Some(item));
                }
            };
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
            // A UTF-8 byte-order mark at the start of a file is not part of its first line.
            if n == 1 && buf.starts_with(BOM) {
                buf.drain(..BOM.len());
            }
            // Blank lines carry no article; skip them (they are not errors).
            if !too_long && buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let article = if too_long {
                Err(line_too_large(self.max_bytes))
            } else {
                parse_line_limited(&buf, n, &self.fields, self.max_bytes)
            };
            return Ok(Some(Item {
                source: name.clone(),
                source_index: *index,
                line: n,
                article,
            }));
        }
    }

    /// The next items: up to `max_items`, and no more once their text reaches `max_bytes`
    /// (bounding the memory of a chunk). With `stop_at_bad_line`, reading stops at the first bad
    /// line, which is returned apart ([`Chunk::stopped`]). `Err` as [`Reader::next_item`].
    pub fn next_chunk(
        &mut self,
        max_items: usize,
        max_bytes: usize,
        stop_at_bad_line: bool,
    ) -> Result<Chunk> {
        let mut chunk = Chunk::default();
        let mut bytes = 0;
        while chunk.items.len() < max_items.max(1) && bytes < max_bytes {
            let Some(item) = self.next_item()? else {
                break;
            };
            if stop_at_bad_line && item.article.is_err() {
                chunk.stopped = Some(item);
                break;
            }
            bytes += item.article.as_ref().map_or(0, |a| a.text.len());
            chunk.items.push(item);
        }
        Ok(chunk)
    }

    fn read_text_file(&self, path: &Path) -> Result<Article, InputError> {
        let id = Value::String(path.display().to_string());
        let with_id = |e: InputError| InputError {
            id: Some(id.clone()),
            ..e
        };
        let mut bytes = Vec::new();
        // One byte more than the limit tells a file that is too large without reading all of it.
        let read = File::open(path).and_then(|f| {
            f.take(self.max_bytes as u64 + BOM.len() as u64 + 1)
                .read_to_end(&mut bytes)
        });
        if let Err(e) = read {
            return Err(with_id(InputError::new(
                "read_error",
                format!("cannot read {}: {e}", path.display()),
            )));
        }
        if bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        if bytes.len() > self.max_bytes {
            return Err(with_id(InputError::new(
                "too_large",
                format!(
                    "file is larger than the size limit of {} bytes",
                    self.max_bytes
                ),
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            with_id(InputError::new(
                "invalid_utf8",
                format!("file is not valid UTF-8: {}", e.utf8_error()),
            ))
        })?;
        if text.trim().is_empty() {
            return Err(with_id(InputError::new("empty_text", "file is empty")));
        }
        let mut fields = Map::new();
        fields.insert(self.fields.text.clone(), Value::String(text.clone()));
        Ok(Article {
            id,
            text,
            title: None,
            fields,
            raw_numbers: Vec::new(),
        })
    }
}

impl Source {
    /// Whether the source is read line by line (JSONL, stdin) rather than as one item.
    fn has_lines(&self) -> bool {
        matches!(self, Source::Stdin | Source::Jsonl(_))
    }
}

impl Iterator for Reader {
    type Item = Result<Item>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

fn open_jsonl(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let magic = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?;
    let gz = magic.starts_with(&[0x1f, 0x8b]) || path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    })
}

pub(crate) enum LineStatus {
    Eof,
    Line,
    TooLong,
}

/// Reads one line (without its newline) into `buf`, keeping at most `max` bytes; a longer line
/// is consumed to its end and reported as [`LineStatus::TooLong`].
pub(crate) fn read_line_limited(
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
/// Size limits: [`parse_line_limited`].
pub fn parse_line(bytes: &[u8], line: usize, names: &FieldNames) -> Result<Article, InputError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| InputError::new("invalid_utf8", format!("line is not valid UTF-8: {e}")))?;
    let (fields, raw_numbers) = parse_object(text)?;
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
                format!("no {:?} field (the field of the article text)", names.text),
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
        raw_numbers,
    })
}

/// The fields of a JSON object, in input order (a repeated name keeps its first place and its
/// last value, as in [`serde_json::Map`]), and the input text of those holding numbers.
type Fields = (Map<String, Value>, Vec<(String, String)>);

/// Parses a line holding one JSON object into its fields. Each field is read from its own text,
/// so that fields holding numbers keep that text (see [`Article::raw_numbers`]); a number
/// beyond `f64` (`1e400`) leaves its field `null` there instead of failing the line.
fn parse_object(text: &str) -> Result<Fields, InputError> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    use serde_json::value::RawValue;

    let invalid =
        |e: serde_json::Error| InputError::new("invalid_json", format!("invalid JSON: {e}"));
    // Syntax first (iteratively, without building anything): the whole line, nothing after it.
    let raw: &RawValue = serde_json::from_str(text).map_err(invalid)?;
    let found = match raw.get().as_bytes().first() {
        Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        _ => Some("a number"),
    };
    if let Some(found) = found {
        return Err(InputError::new(
            "not_an_object",
            format!("expected a JSON object, found {found}"),
        ));
    }

    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                out.push((key, map.next_value::<&'de RawValue>()?));
            }
            Ok(out)
        }
    }
    let pairs = serde_json::Deserializer::from_str(raw.get())
        .deserialize_map(Pairs)
        .map_err(invalid)?;
    let mut fields = Map::new();
    let mut raw_numbers: Vec<(String, String)> = Vec::new();
    for (key, raw) in pairs {
        let value = match serde_json::from_str::<Value>(raw.get()) {
            Ok(v) => v,
            Err(e) if e.to_string().starts_with("number out of range") => Value::Null,
            Err(e) => return Err(invalid(e)),
        };
        raw_numbers.retain(|(k, _)| *k != key);
        if (value.is_null() && !raw.get().starts_with('n')) || has_number(&value) {
            raw_numbers.push((key.clone(), raw.get().to_string()));
        }
        fields.insert(key, value);
    }
    Ok((fields, raw_numbers))
}

/// Whether a value holds a number anywhere.
fn has_number(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::Array(a) => a.iter().any(has_number),
        Value::Object(o) => o.values().any(has_number),
        _ => false,
    }
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
