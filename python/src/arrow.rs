//! Arrow: the typed annotation columns (schema version 2) and the Arrow C data interface, through
//! the PyCapsule protocol (`__arrow_c_array__`), so that no JSON text is made on the way.
//!
//! Annotation columns, in this order, all nullable, read from the annotation's JSON (so that
//! they follow the records whatever the Rust types behind them):
//!
//! | column | type | null when |
//! |---|---|---|
//! | `language` | struct<code: utf8, name: utf8, confidence: float64, reliable: bool> | error row |
//! | `entities` | list<struct<text: utf8, label: utf8, start: int64, end: int64, score: float64, canonical: utf8, id: utf8, boilerplate: bool, field: utf8, compound: bool>> | error row, or not run (`skipped`) |
//! | `entity_summary` | list<struct<canonical: utf8, label: utf8, mentions: int64, first_offset: int64, id: utf8>> | error row, not run, or a library without entity grouping |
//! | `topics` | list<struct<id: utf8, label: utf8, score: float64, evidence: list<utf8>, category: utf8>> | error row, or not run |
//! | `categories` | list<struct<id: utf8, iptc: utf8, label: utf8, score: float64>> | error row, or not run |
//! | `paragraphs` | list<struct<start: int64, end: int64, kind: utf8, language: utf8, field: utf8>> | error row |
//! | `skipped` | struct<reason: utf8, message: utf8> | entities and topics were run, or error row |
//! | `error` | struct<kind: utf8, message: utf8> | the row was annotated |
//! | `ontleed` | struct<version: utf8, ner_model: utf8, topics: utf8, categories: utf8> | error row |
//!
//! Offsets are code points, as in the JSONL records; `field` is `"title"` for an entity or
//! paragraph in the headline (its offsets are then into the headline) and null for the text;
//! `boilerplate` is false where the records leave it out; `canonical`/`id`, a topic's
//! `category` and a category's `iptc` are null where the records have none. The version is in
//! the schema metadata under `ontleed.arrow_schema_version`; a record key not in this table is
//! not in the Arrow output until a later schema version adds it. Version 2 added `categories`,
//! `ontleed.categories`, and the struct fields `field` (entities, paragraphs) and `category`
//! (topics), each at the end of its struct.

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema};
use ontleed::io::InputError;
use ontleed::pipeline::Annotation;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The version of the annotation columns' layout.
pub const ARROW_SCHEMA_VERSION: &str = "2";

/// The type of one struct field, and how it is read from the record's JSON.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    /// A flag the records leave out when false.
    Flag,
    StrList,
}

type Spec = &'static [(&'static str, Kind)];

const LANGUAGE: Spec = &[
    ("code", Kind::Str),
    ("name", Kind::Str),
    ("confidence", Kind::Float),
    ("reliable", Kind::Bool),
];
const ENTITY: Spec = &[
    ("text", Kind::Str),
    ("label", Kind::Str),
    ("start", Kind::Int),
    ("end", Kind::Int),
    ("score", Kind::Float),
    ("canonical", Kind::Str),
    ("id", Kind::Str),
    ("boilerplate", Kind::Flag),
    ("field", Kind::Str),
    ("compound", Kind::Flag),
];
const ENTITY_SUMMARY: Spec = &[
    ("canonical", Kind::Str),
    ("label", Kind::Str),
    ("mentions", Kind::Int),
    ("first_offset", Kind::Int),
    ("id", Kind::Str),
];
const TOPIC: Spec = &[
    ("id", Kind::Str),
    ("label", Kind::Str),
    ("score", Kind::Float),
    ("evidence", Kind::StrList),
    ("category", Kind::Str),
];
const CATEGORY: Spec = &[
    ("id", Kind::Str),
    ("iptc", Kind::Str),
    ("label", Kind::Str),
    ("score", Kind::Float),
];
const PARAGRAPH: Spec = &[
    ("start", Kind::Int),
    ("end", Kind::Int),
    ("kind", Kind::Str),
    ("language", Kind::Str),
    ("field", Kind::Str),
];
const SKIPPED: Spec = &[("reason", Kind::Str), ("message", Kind::Str)];
const ERROR: Spec = &[("kind", Kind::Str), ("message", Kind::Str)];
const PROVENANCE: Spec = &[
    ("version", Kind::Str),
    ("ner_model", Kind::Str),
    ("topics", Kind::Str),
    ("categories", Kind::Str),
];

/// Whether a column is a struct or a list of structs.
#[derive(Clone, Copy)]
enum Shape {
    One,
    List,
}

/// The annotation columns: name, shape, struct fields.
const COLUMNS: [(&str, Shape, Spec); 9] = [
    ("language", Shape::One, LANGUAGE),
    ("entities", Shape::List, ENTITY),
    ("entity_summary", Shape::List, ENTITY_SUMMARY),
    ("topics", Shape::List, TOPIC),
    ("categories", Shape::List, CATEGORY),
    ("paragraphs", Shape::List, PARAGRAPH),
    ("skipped", Shape::One, SKIPPED),
    ("error", Shape::One, ERROR),
    ("ontleed", Shape::One, PROVENANCE),
];

/// Names of the annotation columns, in order.
pub const ANNOTATION_COLUMNS: [&str; 9] = [
    "language",
    "entities",
    "entity_summary",
    "topics",
    "categories",
    "paragraphs",
    "skipped",
    "error",
    "ontleed",
];

fn columns() -> impl Iterator<Item = &'static (&'static str, Shape, Spec)> {
    COLUMNS.iter()
}

fn kind_type(kind: Kind) -> DataType {
    match kind {
        Kind::Str => DataType::Utf8,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Bool | Kind::Flag => DataType::Boolean,
        Kind::StrList => list_of(DataType::Utf8),
    }
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

fn struct_fields(spec: Spec) -> Fields {
    spec.iter()
        .map(|(name, kind)| Field::new(*name, kind_type(*kind), true))
        .collect()
}

/// The annotation fields (see the module docs).
pub fn annotation_fields() -> Vec<Field> {
    columns()
        .map(|(name, shape, spec)| {
            let item = DataType::Struct(struct_fields(spec));
            let ty = match shape {
                Shape::One => item,
                Shape::List => list_of(item),
            };
            Field::new(*name, ty, true)
        })
        .collect()
}

/// What became of one row.
pub enum Outcome {
    /// Annotated: the annotation as its JSON object (as in the record), so that the columns
    /// follow the records whatever the Rust types behind them.
    Done(Map<String, Value>),
    /// Not annotated: what was wrong.
    Failed(InputError),
}

impl Outcome {
    /// The outcome of an annotation.
    pub fn done(annotation: &Annotation) -> Self {
        match serde_json::to_value(annotation) {
            Ok(Value::Object(m)) => Outcome::Done(m),
            _ => Outcome::Failed(InputError {
                kind: "internal",
                message: "internal error: the annotation is not a JSON object".into(),
                id: None,
            }),
        }
    }
}

/// The provenance strings: version, NER model, taxonomy, category model.
pub struct Provenance {
    pub version: String,
    pub ner_model: String,
    pub topics: String,
    pub categories: String,
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

/// A struct column from optional JSON objects (`None`: a null struct).
fn struct_column(spec: Spec, rows: &[Option<&Map<String, Value>>]) -> ArrayRef {
    let get = |name: &'static str| rows.iter().map(move |r| r.and_then(|m| m.get(name)));
    let arrays: Vec<ArrayRef> =
        spec.iter()
            .map(|(name, kind)| -> ArrayRef {
                match kind {
                    Kind::Str => Arc::new(StringArray::from_iter(
                        get(name).map(|v| v.and_then(Value::as_str)),
                    )),
                    Kind::Int => Arc::new(Int64Array::from_iter(get(name).map(|v| {
                        v.and_then(|v| v.as_i64().or_else(|| v.as_u64().map(|u| u as i64)))
                    }))),
                    Kind::Float => Arc::new(Float64Array::from_iter(
                        get(name).map(|v| v.and_then(Value::as_f64)),
                    )),
                    Kind::Bool => Arc::new(BooleanArray::from_iter(
                        get(name).map(|v| v.and_then(Value::as_bool)),
                    )),
                    Kind::Flag => Arc::new(BooleanArray::from_iter(rows.iter().map(|r| {
                        r.map(|m| m.get(*name).and_then(Value::as_bool).unwrap_or(false))
                    }))),
                    Kind::StrList => {
                        let lists: Vec<Option<&Vec<Value>>> =
                            get(name).map(|v| v.and_then(Value::as_array)).collect();
                        let values = StringArray::from_iter(
                            lists
                                .iter()
                                .flatten()
                                .flat_map(|l| l.iter().map(Value::as_str)),
                        );
                        list_column(DataType::Utf8, &lists, Arc::new(values))
                    }
                }
            })
            .collect();
    Arc::new(StructArray::new(
        struct_fields(spec),
        arrays,
        nulls(rows.iter().map(Option::is_some).collect()),
    ))
}

/// A list column over `values`, with the lengths and validity of `lists`.
fn list_column(item: DataType, lists: &[Option<&Vec<Value>>], values: ArrayRef) -> ArrayRef {
    let field: FieldRef = Arc::new(Field::new_list_field(item, true));
    Arc::new(ListArray::new(
        field,
        OffsetBuffer::from_lengths(lists.iter().map(|l| l.map_or(0, |l| l.len()))),
        values,
        nulls(lists.iter().map(Option::is_some).collect()),
    ))
}

/// Builds the annotation columns for `rows`, in the order of [`annotation_fields`].
pub fn annotation_columns(rows: &[&Outcome], prov: &Provenance) -> Vec<ArrayRef> {
    let done: Vec<Option<&Map<String, Value>>> = rows
        .iter()
        .map(|r| match r {
            Outcome::Done(m) => Some(m),
            Outcome::Failed(_) => None,
        })
        .collect();
    let errors: Vec<Option<Map<String, Value>>> = rows
        .iter()
        .map(|r| match r {
            Outcome::Failed(e) => {
                let mut m = Map::new();
                m.insert("kind".into(), Value::from(e.kind));
                m.insert("message".into(), Value::from(e.message.clone()));
                Some(m)
            }
            Outcome::Done(_) => None,
        })
        .collect();
    let mut provenance = Map::new();
    provenance.insert("version".into(), Value::from(prov.version.clone()));
    provenance.insert("ner_model".into(), Value::from(prov.ner_model.clone()));
    provenance.insert("topics".into(), Value::from(prov.topics.clone()));
    provenance.insert("categories".into(), Value::from(prov.categories.clone()));

    columns()
        .map(|(name, shape, spec)| match (*name, shape) {
            ("error", _) => {
                struct_column(spec, &errors.iter().map(Option::as_ref).collect::<Vec<_>>())
            }
            ("ontleed", _) => struct_column(
                spec,
                &done
                    .iter()
                    .map(|d| d.map(|_| &provenance))
                    .collect::<Vec<_>>(),
            ),
            (name, Shape::One) => struct_column(
                spec,
                &done
                    .iter()
                    .map(|d| d.and_then(|m| m.get(name)).and_then(Value::as_object))
                    .collect::<Vec<_>>(),
            ),
            (name, Shape::List) => {
                let lists: Vec<Option<&Vec<Value>>> = done
                    .iter()
                    .map(|d| d.and_then(|m| m.get(name)).and_then(Value::as_array))
                    .collect();
                let items: Vec<Option<&Map<String, Value>>> = lists
                    .iter()
                    .flatten()
                    .flat_map(|l| l.iter().map(Value::as_object))
                    .collect();
                let values = struct_column(spec, &items);
                list_column(DataType::Struct(struct_fields(spec)), &lists, values)
            }
        })
        .collect()
}

/// Schema metadata: the schema version and the provenance.
pub fn metadata(prov: &Provenance) -> HashMap<String, String> {
    HashMap::from([
        (
            "ontleed.arrow_schema_version".to_string(),
            ARROW_SCHEMA_VERSION.to_string(),
        ),
        ("ontleed.version".to_string(), prov.version.clone()),
        ("ontleed.ner_model".to_string(), prov.ner_model.clone()),
        ("ontleed.topics".to_string(), prov.topics.clone()),
        ("ontleed.categories".to_string(), prov.categories.clone()),
    ])
}

/// Reads a record batch from any object with `__arrow_c_array__` (a `pyarrow.RecordBatch`, …).
pub fn import_batch(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    if !obj.hasattr("__arrow_c_array__")? {
        return Err(PyTypeError::new_err(format!(
            "expected a pyarrow.RecordBatch (an object with __arrow_c_array__), found {}",
            crate::convert::type_name(obj)
        )));
    }
    let pair = obj.call_method0("__arrow_c_array__")?;
    let pair = pair.cast::<PyTuple>()?;
    if pair.len() != 2 {
        return Err(PyValueError::new_err(
            "__arrow_c_array__ did not return (schema, array) capsules",
        ));
    }
    let schema_capsule = pair.get_item(0)?;
    let array_capsule = pair.get_item(1)?;
    let schema_capsule = schema_capsule.cast::<PyCapsule>()?;
    let array_capsule = array_capsule.cast::<PyCapsule>()?;
    let schema_ptr = schema_capsule.pointer_checked(Some(c"arrow_schema"))?;
    let array_ptr = array_capsule.pointer_checked(Some(c"arrow_array"))?;
    // SAFETY: the capsules are named per the Arrow PyCapsule interface, so they point at a valid
    // ArrowSchema and ArrowArray. The array is moved out (its release callback is left null in
    // the capsule, which the producer's capsule destructor then skips); the schema is borrowed
    // while the capsule is alive.
    let data = unsafe {
        let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast::<FFI_ArrowArray>());
        let schema = &*(schema_ptr.as_ptr().cast::<FFI_ArrowSchema>());
        from_ffi(array, schema)
    }
    .map_err(|e| PyValueError::new_err(format!("cannot import the Arrow data: {e}")))?;
    let array = arrow_array::make_array(data);
    let Some(structs) = array.as_struct_opt() else {
        return Err(PyTypeError::new_err(format!(
            "expected a record batch (an Arrow struct array), found an Arrow {} array",
            array.data_type()
        )));
    };
    Ok(RecordBatch::from(structs.clone()))
}

/// A record batch on its way out, handed over through `__arrow_c_array__`.
#[pyclass(module = "ontleed._native", name = "ArrowBatch", frozen)]
pub struct ArrowBatch {
    parts: Mutex<Option<(FFI_ArrowSchema, FFI_ArrowArray)>>,
}

impl ArrowBatch {
    /// Wraps `batch`, its schema carrying `metadata`.
    pub fn new(batch: RecordBatch, metadata: HashMap<String, String>) -> PyResult<Self> {
        let schema = batch.schema();
        let field = Field::new("", DataType::Struct(schema.fields().clone()), false)
            .with_metadata(metadata);
        let ffi_schema = FFI_ArrowSchema::try_from(&field)
            .map_err(|e| PyValueError::new_err(format!("cannot export the schema: {e}")))?;
        let data = StructArray::from(batch).into_data();
        let ffi_array = FFI_ArrowArray::new(&data);
        Ok(Self {
            parts: Mutex::new(Some((ffi_schema, ffi_array))),
        })
    }
}

#[pymethods]
impl ArrowBatch {
    /// The Arrow PyCapsule interface: `(schema capsule, array capsule)`; can be taken once.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let taken = self
            .parts
            .lock()
            .map_err(|_| PyValueError::new_err("the Arrow batch is poisoned"))?
            .take();
        let Some((schema, array)) = taken else {
            return Err(PyValueError::new_err(
                "this Arrow batch was already taken (it can be imported once)",
            ));
        };
        // Dropping an FFI struct calls its release callback unless the consumer moved it out.
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        Ok((schema, array))
    }
}

/// A column of text (utf8, large utf8, utf8 view, or the binary kinds), as optional bytes.
pub fn bytes_column(array: &dyn Array) -> Option<Vec<Option<&[u8]>>> {
    fn collect<'a, T: Iterator<Item = Option<&'a [u8]>>>(it: T) -> Vec<Option<&'a [u8]>> {
        it.collect()
    }
    if let Some(a) = array.as_string_opt::<i32>() {
        return Some(collect(a.iter().map(|s| s.map(str::as_bytes))));
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Some(collect(a.iter().map(|s| s.map(str::as_bytes))));
    }
    if let Some(a) = array.as_string_view_opt() {
        return Some(collect(a.iter().map(|s| s.map(str::as_bytes))));
    }
    if let Some(a) = array.as_binary_opt::<i32>() {
        return Some(collect(a.iter()));
    }
    if let Some(a) = array.as_binary_opt::<i64>() {
        return Some(collect(a.iter()));
    }
    if let Some(a) = array.as_binary_view_opt() {
        return Some(collect(a.iter()));
    }
    None
}

/// A column of integers (any width), as optional i64.
pub fn int_column(array: &dyn Array) -> Option<Vec<Option<i64>>> {
    let cast = arrow_array::cast::as_primitive_array::<arrow_array::types::Int64Type>;
    match array.data_type() {
        DataType::Int64 => Some(cast(array).iter().collect()),
        DataType::Int32 => Some(
            array
                .as_primitive::<arrow_array::types::Int32Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
        ),
        _ => None,
    }
}

/// A schema from fields, with metadata.
pub fn schema(fields: Vec<FieldRef>, metadata: HashMap<String, String>) -> Arc<Schema> {
    Arc::new(Schema::new_with_metadata(fields, metadata))
}
