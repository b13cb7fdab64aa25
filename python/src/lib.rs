//! `ontleed._native`: the Rust side of the `ontleed` Python package. The public, documented API
//! is the Python package (`ontleed.Pipeline`); this module is its engine.
//!
//! Every input takes the CLI's road: a `dict` or `str` becomes the JSONL line the CLI would
//! read (`str` as `{"text": ...}`), parsed by `ontleed::io::parse_line_limited`, and annotated
//! by the CLI's batch driver (`ontleed::batch::Driver`: worker threads, input order, an
//! `internal` error for an article whose annotation fails), so records are the CLI's, key for key.

mod arrow;
mod convert;

use crate::arrow::{ArrowBatch, Outcome, Provenance};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, FieldRef};
use ontleed::batch::{Annotated, Driver, INTERNAL};
use ontleed::entities::Aliases;
use ontleed::io::{Article, FieldNames, InputError, Item, parse_line_limited};
use ontleed::pipeline::{NerModel, NerPrecision, Pipeline};
use ontleed::topics::Taxonomy;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyType};
use serde_json::{Map, Value};
use std::sync::Arc;

static ONTLEED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INPUT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static MODEL_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn error_class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyType>> {
    cell.import(py, "ontleed._errors", name)
}

/// `ontleed.ModelError(message)`.
fn model_error(py: Python<'_>, message: String) -> PyErr {
    match error_class(py, &MODEL_ERROR, "ModelError").and_then(|c| c.call1((message,))) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// `ontleed.OntleedError(message)`.
fn ontleed_error(py: Python<'_>, message: String) -> PyErr {
    match error_class(py, &ONTLEED_ERROR, "OntleedError").and_then(|c| c.call1((message,))) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// The input of one item, read while holding the GIL.
enum Raw {
    /// A JSONL line (from `bytes`) or the line made from a `dict` or `str`.
    Line(Vec<u8>),
    /// Not something that can become a line.
    Failed(InputError),
}

/// A line's output: the CLI's record as JSON, or the typed row.
enum LineRow {
    Json(String),
    Typed(Box<TypedRow>),
}

/// A typed row of `annotate_lines(output="arrow")`.
struct TypedRow {
    source: Arc<str>,
    line: usize,
    id: Option<String>,
    text: Option<String>,
    fields: Option<String>,
    outcome: Outcome,
}

/// The pipeline, as the Python package's `Pipeline` uses it.
#[pyclass(module = "ontleed._native", name = "Pipeline", frozen)]
struct NativePipeline {
    driver: Driver,
    fields: FieldNames,
    max_bytes: usize,
    prov: Provenance,
}

impl NativePipeline {
    /// Reads one Python item (`str`, `bytes`, `bytearray` or `dict`) into a line.
    fn raw(&self, obj: &Bound<'_, PyAny>) -> Raw {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Raw::Line(b.as_bytes().to_vec());
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Raw::Line(b.to_vec());
        }
        let value = if let Ok(s) = obj.cast::<PyString>() {
            match s.to_cow() {
                Ok(text) => {
                    let mut m = Map::new();
                    m.insert(self.fields.text.clone(), Value::String(text.into_owned()));
                    Value::Object(m)
                }
                Err(e) => {
                    return Raw::Failed(InputError::new(
                        "invalid_utf8",
                        format!("text is not valid Unicode: {e}"),
                    ));
                }
            }
        } else if obj.cast::<PyDict>().is_ok() {
            match convert::py_to_json(obj) {
                Ok(v) => v,
                Err(e) => {
                    return Raw::Failed(InputError::new(
                        "invalid_json",
                        format!("the dict is not JSON: {e}"),
                    ));
                }
            }
        } else {
            return Raw::Failed(InputError::new(
                "not_an_object",
                format!(
                    "expected a str, bytes or dict, found {}",
                    convert::type_name(obj)
                ),
            ));
        };
        match serde_json::to_vec(&value) {
            Ok(line) => Raw::Line(line),
            Err(e) => Raw::Failed(InputError::new("invalid_json", format!("not JSON: {e}"))),
        }
    }

    /// Parses one line the way the CLI does (`None`: a blank line, which carries no article).
    fn parse(
        &self,
        line: &[u8],
        n: usize,
        skip_blank: bool,
    ) -> Option<Result<Article, InputError>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if skip_blank && line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(parse_line_limited(line, n, &self.fields, self.max_bytes))
    }

    /// The item of one Python input (a blank line is an `empty_text` error).
    fn item(&self, raw: Raw, source: Arc<str>, line: usize) -> Item {
        let article = match raw {
            Raw::Line(l) => self
                .parse(&l, line, false)
                .unwrap_or_else(|| Err(InputError::new("empty_text", "the line is blank"))),
            Raw::Failed(e) => Err(e),
        };
        Item {
            source,
            source_index: 0,
            line,
            article,
        }
    }

    /// Annotates the headline and text of an article (no record), as the CLI does.
    fn annotate_only(&self, article: &Article) -> Outcome {
        match self.driver.annotation(article) {
            Ok(a) => Outcome::done(&a),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The typed row of one line.
    fn line_row(
        &self,
        article: Result<Article, InputError>,
        source: Arc<str>,
        line: usize,
    ) -> LineRow {
        let row = match article {
            Ok(a) => {
                let rest: Map<String, Value> = a
                    .fields
                    .iter()
                    .filter(|(k, _)| **k != self.fields.id && **k != self.fields.text)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                TypedRow {
                    id: id_text(&a.id),
                    fields: Some(Value::Object(rest).to_string()),
                    outcome: self.annotate_only(&a),
                    text: Some(a.text),
                    source,
                    line,
                }
            }
            Err(e) => TypedRow {
                id: e.id.as_ref().and_then(id_text),
                text: None,
                fields: None,
                outcome: Outcome::Failed(e),
                source,
                line,
            },
        };
        LineRow::Typed(Box::new(row))
    }

    fn metadata(&self) -> std::collections::HashMap<String, String> {
        arrow::metadata(&self.prov)
    }
}

/// The article of one Arrow row: its text and headline (either may be null), checked as the
/// CLI checks a line (`missing_text`, `too_large` over the two together, `invalid_utf8`, and
/// `empty_text` only without a headline).
fn arrow_article(
    text: Option<&[u8]>,
    title: Option<&[u8]>,
    text_column: &str,
    max_bytes: usize,
) -> Result<Article, InputError> {
    let Some(text) = text else {
        return Err(InputError::new(
            "missing_text",
            format!("column {text_column:?} is null"),
        ));
    };
    let size = text.len() + title.map_or(0, <[u8]>::len);
    if size > max_bytes {
        return Err(InputError::new(
            "too_large",
            format!("the article is {size} bytes, over the size limit of {max_bytes} bytes"),
        ));
    }
    let text = std::str::from_utf8(text)
        .map_err(|e| InputError::new("invalid_utf8", format!("text is not valid UTF-8: {e}")))?;
    let title = match title.map(std::str::from_utf8) {
        None => None,
        Some(Ok(t)) => Some(t).filter(|t| !t.trim().is_empty()),
        Some(Err(e)) => {
            return Err(InputError::new(
                "invalid_utf8",
                format!("title is not valid UTF-8: {e}"),
            ));
        }
    };
    if text.trim().is_empty() && title.is_none() {
        return Err(InputError::new(
            "empty_text",
            format!("column {text_column:?} is empty"),
        ));
    }
    Ok(Article {
        id: Value::Null,
        text: text.to_string(),
        title: title.map(str::to_string),
        fields: Map::new(),
        raw_numbers: Vec::new(),
    })
}

fn py_id<'py>(py: Python<'py>, id: &Option<Value>) -> PyResult<Bound<'py, PyAny>> {
    match id {
        Some(v) => convert::json_to_py(py, v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// An id as text: strings as they are, other JSON values as JSON.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[pymethods]
impl NativePipeline {
    /// Loads the models. `threads`: worker threads of the pool (`None`: `ONTLEED_THREADS`, else
    /// rayon's default, all cores).
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (ner_model = "accurate", topics = None, aliases = None, languages = None, threads = None, text_field = "text", id_field = "id", max_bytes = 16 << 20, title_field = "title", ner_precision = "int8"))]
    fn new(
        py: Python<'_>,
        ner_model: &str,
        topics: Option<String>,
        aliases: Option<String>,
        languages: Option<Vec<String>>,
        threads: Option<usize>,
        text_field: &str,
        id_field: &str,
        max_bytes: usize,
        title_field: &str,
        ner_precision: &str,
    ) -> PyResult<Self> {
        let threads = match threads {
            Some(n) => n,
            None => match std::env::var("ONTLEED_THREADS") {
                Ok(s) if !s.trim().is_empty() => s.trim().parse::<usize>().map_err(|_| {
                    PyValueError::new_err(format!(
                        "ONTLEED_THREADS={s:?} is not a number of threads"
                    ))
                })?,
                _ => 0,
            },
        };
        let model: NerModel = match ner_model.parse() {
            Ok(m) => m,
            Err(never) => match never {},
        };
        let precision: NerPrecision = ner_precision
            .parse()
            .map_err(|e: String| PyValueError::new_err(format!("ner_precision: {e}")))?;
        let built = py.detach(|| -> anyhow::Result<Driver> {
            let mut builder = Pipeline::builder()
                .ner_model(model)
                .ner_precision(precision);
            if let Some(langs) = languages {
                builder = builder.languages(langs);
            }
            if let Some(path) = topics {
                builder = builder.taxonomy(Taxonomy::from_file(std::path::Path::new(&path))?);
            }
            if let Some(path) = aliases {
                builder = builder.aliases(Aliases::from_file(std::path::Path::new(&path))?);
            }
            let pipeline = builder.build()?;
            Ok(Driver::new(pipeline, Some(threads).filter(|&n| n > 0))?)
        });
        let driver = built.map_err(|e| model_error(py, format!("{e:#}")))?;
        let provenance = driver.pipeline().provenance();
        let text = |k: &str| {
            provenance
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let prov = Provenance {
            version: text("version"),
            ner_model: text("ner_model"),
            topics: text("topics"),
            categories: text("categories"),
        };
        Ok(Self {
            driver,
            fields: FieldNames {
                text: text_field.to_string(),
                id: id_field.to_string(),
                title: title_field.to_string(),
            },
            max_bytes,
            prov,
        })
    }

    /// Number of worker threads.
    #[getter]
    fn threads(&self) -> usize {
        self.driver.threads()
    }

    /// The `ontleed` block of each record.
    fn provenance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.driver.pipeline().provenance())
    }

    /// Annotates one item; raises `InputError` for bad input.
    #[pyo3(signature = (item, line = 1, source = "<python>"))]
    fn annotate<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
        line: usize,
        source: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let raw = self.raw(item);
        let source: Arc<str> = source.into();
        let annotated: Option<Annotated> = py.detach(|| {
            let item = self.item(raw, source.clone(), line);
            self.driver.annotate(vec![item]).pop()
        });
        let Some(annotated) = annotated else {
            return Err(ontleed_error(
                py,
                "the batch driver returned no result".into(),
            ));
        };
        match &annotated.result {
            Ok(record) => convert::map_to_py(py, record),
            Err(e) if e.kind == INTERNAL => Err(ontleed_error(py, e.message.clone())),
            Err(e) => {
                let e = e.clone();
                let record = convert::map_to_py(py, &annotated.into_record())?;
                let class = error_class(py, &INPUT_ERROR, "InputError")?;
                let exc = class.call1((
                    e.message.as_str(),
                    e.kind,
                    py_id(py, &e.id)?,
                    line,
                    source.as_ref(),
                    record,
                ))?;
                Err(PyErr::from_value(exc))
            }
        }
    }

    /// Annotates a list of items in parallel, without the GIL; one record per item, in order,
    /// error records in place. Item `i` is line `first_line + i`.
    #[pyo3(signature = (items, first_line = 1, source = "<python>"))]
    fn annotate_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyList>,
        first_line: usize,
        source: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let raws: Vec<Raw> = items.iter().map(|o| self.raw(&o)).collect();
        let source: Arc<str> = source.into();
        let records: Vec<Map<String, Value>> = py.detach(|| {
            let items = raws
                .into_iter()
                .enumerate()
                .map(|(i, raw)| self.item(raw, source.clone(), first_line + i))
                .collect();
            self.driver
                .annotate(items)
                .into_iter()
                .map(Annotated::into_record)
                .collect()
        });
        let out = PyList::empty(py);
        for r in &records {
            out.append(convert::map_to_py(py, r)?)?;
        }
        Ok(out)
    }

    /// Annotates the text column of a record batch, with the headline of `title_column` when
    /// one is named (null or blank: no headline); returns the batch `id`, the input columns
    /// (less `id` and the annotation names), and the annotation columns.
    #[pyo3(signature = (batch, text_column = "text", id_column = None, first_line = 1, title_column = None))]
    fn annotate_arrow(
        &self,
        py: Python<'_>,
        batch: &Bound<'_, PyAny>,
        text_column: &str,
        id_column: Option<&str>,
        first_line: i64,
        title_column: Option<&str>,
    ) -> PyResult<ArrowBatch> {
        let batch = arrow::import_batch(batch)?;
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let Ok(text_idx) = schema.index_of(text_column) else {
            return Err(PyKeyError::new_err(format!(
                "no column {text_column:?} (choose another with text_column=); the columns are {names:?}"
            )));
        };
        let texts = arrow::bytes_column(batch.column(text_idx).as_ref()).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "column {text_column:?} is {}, not text (utf8 or binary)",
                schema.field(text_idx).data_type()
            ))
        })?;
        let titles = match title_column {
            None => None,
            Some(name) => {
                let Ok(i) = schema.index_of(name) else {
                    return Err(PyKeyError::new_err(format!(
                        "no title column {name:?}; the columns are {names:?}"
                    )));
                };
                Some(
                    arrow::bytes_column(batch.column(i).as_ref()).ok_or_else(|| {
                        PyTypeError::new_err(format!(
                            "title column {name:?} is {}, not text (utf8 or binary)",
                            schema.field(i).data_type()
                        ))
                    })?,
                )
            }
        };
        let id_array: ArrayRef = match id_column {
            Some(name) => match schema.index_of(name) {
                Ok(i) => batch.column(i).clone(),
                Err(_) => {
                    return Err(PyKeyError::new_err(format!(
                        "no id column {name:?}; the columns are {names:?}"
                    )));
                }
            },
            None => match schema.index_of("id") {
                Ok(i) => batch.column(i).clone(),
                Err(_) => Arc::new(Int64Array::from_iter_values(
                    (0..batch.num_rows() as i64).map(|i| first_line + i),
                )),
            },
        };
        let max_bytes = self.max_bytes;
        let outcomes: Vec<Outcome> = py.detach(|| {
            let articles: Vec<Result<Article, InputError>> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let title = titles.as_ref().and_then(|c| c[i]);
                    arrow_article(*t, title, text_column, max_bytes)
                })
                .collect();
            self.driver.map(articles, |_, article| match article {
                Ok(a) => self.annotate_only(&a),
                Err(e) => Outcome::Failed(e),
            })
        });
        let mut fields: Vec<FieldRef> = vec![Arc::new(Field::new(
            "id",
            id_array.data_type().clone(),
            true,
        ))];
        let mut columns: Vec<ArrayRef> = vec![id_array];
        for (i, f) in schema.fields().iter().enumerate() {
            let name = f.name().as_str();
            if name == "id" || arrow::ANNOTATION_COLUMNS.contains(&name) {
                continue;
            }
            fields.push(f.clone());
            columns.push(batch.column(i).clone());
        }
        fields.extend(arrow::annotation_fields().into_iter().map(Arc::new));
        let outcomes: Vec<&Outcome> = outcomes.iter().collect();
        columns.extend(arrow::annotation_columns(&outcomes, &self.prov));
        let out = RecordBatch::try_new(arrow::schema(fields, self.metadata()), columns)
            .map_err(|e| PyValueError::new_err(format!("cannot build the output batch: {e}")))?;
        ArrowBatch::new(out, self.metadata())
    }

    /// Annotates JSONL lines: a batch with `value` (the line, utf8 or binary), `source` (utf8)
    /// and `line` (int). Blank lines are dropped, as the CLI skips them. `output="jsonl"`: one
    /// utf8 column `value`, each the CLI's record as JSON; `output="arrow"`: `source`, `line`,
    /// `id` (utf8), `text`, `fields` (the other input fields as a JSON object) and the
    /// annotation columns.
    #[pyo3(signature = (batch, output = "jsonl"))]
    fn annotate_lines(
        &self,
        py: Python<'_>,
        batch: &Bound<'_, PyAny>,
        output: &str,
    ) -> PyResult<ArrowBatch> {
        let as_json = match output {
            "jsonl" => true,
            "arrow" => false,
            other => {
                return Err(PyValueError::new_err(format!(
                    "output={other:?}: use \"jsonl\" or \"arrow\""
                )));
            }
        };
        let batch = arrow::import_batch(batch)?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| PyKeyError::new_err(format!("no column {name:?}")))
        };
        let values = arrow::bytes_column(column("value")?.as_ref())
            .ok_or_else(|| PyTypeError::new_err("column \"value\" must be utf8 or binary"))?;
        let sources = arrow::bytes_column(column("source")?.as_ref())
            .ok_or_else(|| PyTypeError::new_err("column \"source\" must be utf8"))?;
        let lines = arrow::int_column(column("line")?.as_ref())
            .ok_or_else(|| PyTypeError::new_err("column \"line\" must be int64 or int32"))?;
        // Each line goes to its output form inside the parallel map, so that a batch holds
        // output rows only (not records, annotations and articles at once).
        let rows: Vec<LineRow> = py.detach(|| {
            let mut last: Option<(&[u8], Arc<str>)> = None;
            let mut items = Vec::with_capacity(values.len());
            for ((v, s), l) in values.iter().zip(&sources).zip(&lines) {
                let s = s.unwrap_or_default();
                let source = match &last {
                    Some((b, a)) if *b == s => a.clone(),
                    _ => {
                        let a: Arc<str> = String::from_utf8_lossy(s).into();
                        last = Some((s, a.clone()));
                        a
                    }
                };
                let line = l.unwrap_or(0).max(0) as usize;
                if let Some(article) = self.parse(v.unwrap_or_default(), line, true) {
                    items.push(Item {
                        source,
                        source_index: 0,
                        line,
                        article,
                    });
                }
            }
            self.driver.map(items, |driver, item| {
                if as_json {
                    // The CLI's bytes: written from the annotation, input numbers as written.
                    let mut json = driver.line(item, &self.fields.id).json;
                    json.pop();
                    LineRow::Json(String::from_utf8_lossy(&json).into_owned())
                } else {
                    self.line_row(item.article, item.source, item.line)
                }
            })
        });
        let (fields, columns): (Vec<FieldRef>, Vec<ArrayRef>) = if as_json {
            let json = StringArray::from_iter_values(rows.iter().map(|r| match r {
                LineRow::Json(s) => s.as_str(),
                LineRow::Typed { .. } => "",
            }));
            (
                vec![Arc::new(Field::new("value", DataType::Utf8, true))],
                vec![Arc::new(json) as ArrayRef],
            )
        } else {
            let typed: Vec<&TypedRow> = rows
                .iter()
                .filter_map(|r| match r {
                    LineRow::Typed(t) => Some(t.as_ref()),
                    LineRow::Json(_) => None,
                })
                .collect();
            let source: ArrayRef = Arc::new(StringArray::from_iter_values(
                typed.iter().map(|t| t.source.as_ref()),
            ));
            let line: ArrayRef = Arc::new(Int64Array::from_iter_values(
                typed.iter().map(|t| t.line as i64),
            ));
            let id: ArrayRef = Arc::new(StringArray::from_iter(
                typed.iter().map(|t| t.id.as_deref()),
            ));
            let text: ArrayRef = Arc::new(StringArray::from_iter(
                typed.iter().map(|t| t.text.as_deref()),
            ));
            let other: ArrayRef = Arc::new(StringArray::from_iter(
                typed.iter().map(|t| t.fields.as_deref()),
            ));
            let outcomes: Vec<&Outcome> = typed.iter().map(|t| &t.outcome).collect();
            let mut fields: Vec<FieldRef> = vec![
                Arc::new(Field::new("source", DataType::Utf8, true)),
                Arc::new(Field::new("line", DataType::Int64, true)),
                Arc::new(Field::new("id", DataType::Utf8, true)),
                Arc::new(Field::new("text", DataType::Utf8, true)),
                Arc::new(Field::new("fields", DataType::Utf8, true)),
            ];
            fields.extend(arrow::annotation_fields().into_iter().map(Arc::new));
            let mut columns = vec![source, line, id, text, other];
            columns.extend(arrow::annotation_columns(&outcomes, &self.prov));
            (fields, columns)
        };
        let out = RecordBatch::try_new(arrow::schema(fields, self.metadata()), columns)
            .map_err(|e| PyValueError::new_err(format!("cannot build the output batch: {e}")))?;
        ArrowBatch::new(out, self.metadata())
    }
}

/// The engine of the `ontleed` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativePipeline>()?;
    m.add_class::<ArrowBatch>()?;
    m.add("ARROW_SCHEMA_VERSION", arrow::ARROW_SCHEMA_VERSION)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
