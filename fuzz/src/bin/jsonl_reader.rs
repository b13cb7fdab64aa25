//! The JSONL input reader (src/io/input.rs) on a file of fuzzed bytes. The first byte picks how:
//! bit 0 and 1: a plain `.jsonl` file, the bytes as a `.jsonl.gz` file (the gzip decoder on
//! raw bytes), or the bytes gzip-compressed by the target (the reader's line logic behind the
//! decoder); the upper bits pick a small `--max-bytes` so the `too_large` paths run too.
//! Every record is read; the reader must never panic or stop early.

use ontleed::io::{FieldNames, Reader, Source};
use ontleed_fuzz::scratch_file;
use std::io::Write;

fn main() {
    let plain = scratch_file("input.jsonl");
    let gz = scratch_file("input.jsonl.gz");
    afl::fuzz!(|data: &[u8]| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let (path, bytes) = match mode % 3 {
            0 => (&plain, rest.to_vec()),
            1 => (&gz, rest.to_vec()),
            _ => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(rest).unwrap();
                (&gz, enc.finish().unwrap())
            }
        };
        std::fs::write(path, &bytes).unwrap();
        let max_bytes = match mode >> 2 {
            0 => 16 << 20,
            n => n as usize * 7,
        };
        let reader = Reader::new(
            vec![Source::Jsonl(path.clone())],
            FieldNames::default(),
            max_bytes,
        );
        let mut last_line = 0;
        for item in reader {
            let item = item.expect("only standard input can fail the reader");
            assert!(item.line > last_line, "line numbers go up");
            last_line = item.line;
            if let Ok(article) = &item.article {
                assert!(article.text.len() <= max_bytes);
            }
        }
    });
}
