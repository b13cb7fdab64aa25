//! ontleed: a batch pipeline for Dutch news. For every article it detects the language, finds the
//! named entities, tags topics, and writes annotated JSONL.
//!
//! The stages, in order: [`io`] reads articles, [`text`] splits them into paragraphs, sentences
//! and tokens with offsets, [`language`] identifies the language, [`ner`] finds entities,
//! [`topics`] tags topics, and [`pipeline`] ties them into one record per article; [`batch`]
//! runs a pipeline over many articles in parallel for every front end.

pub mod batch;
pub mod entities;
pub mod io;
pub mod language;
pub mod ner;
pub mod pipeline;
pub mod report;
pub mod text;
pub mod topics;
