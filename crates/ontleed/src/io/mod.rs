//! Input and output: articles in (JSONL, gzip, stdin, text files), records out (JSONL).

mod input;
mod output;
mod sha256;

pub use input::{
    Article, Chunk, FieldNames, InputError, Item, Reader, Source, line_limit, line_too_large,
    parse_line, parse_line_limited,
};
pub(crate) use input::{LineStatus, read_line_limited};
pub use output::{error_record, write_article_record, write_article_record_with, write_record};
pub use sha256::sha256_hex;
