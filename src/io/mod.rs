//! Input and output: articles in (JSONL, gzip, stdin, text files), records out (JSONL).

mod input;
mod output;

pub use input::{Article, FieldNames, InputError, Item, Reader, Source, parse_line};
pub use output::{error_record, write_record};
