//! Integration tests of `ontleed annotate`: the binary on the sample articles, on every kind of
//! bad input, and on the scraped Huawei article from `../shared` (when present).

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn ontleed() -> Command {
    Command::cargo_bin("ontleed").expect("binary builds")
}

/// The name of the default NER model of this build.
fn default_model() -> &'static str {
    if cfg!(feature = "transformer") {
        "accurate"
    } else {
        "fast"
    }
}

fn samples() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("data/samples")
}

/// A file of `../shared` (beside the checkout; `ONTLEED_SHARED=DIR` points elsewhere, e.g. at a
/// missing folder to run the tests as on a fresh clone). Tests that need it print `SKIPPED`.
fn shared(rel: &str) -> PathBuf {
    std::env::var_os("ONTLEED_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("../shared")
        })
        .join(rel)
}

/// A validator of `schema/record.schema.json`.
fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .join("schema/record.schema.json"),
        )
        .expect("the schema file"),
    )
    .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn records(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .expect("output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

/// Runs `ontleed annotate -q INPUT`, expects success, and returns the records.
fn annotate_ok(input: &Path) -> Vec<Value> {
    let out = ontleed()
        .args(["annotate", "-q"])
        .arg(input)
        .assert()
        .success();
    records(&out.get_output().stdout)
}

/// `text[start:end] == entity.text` in code points, for every entity of a record (offsets of
/// an entity with `"field": "title"` are into the headline).
fn assert_offsets(record: &Value) {
    let chars = |field: &str| -> Vec<char> {
        record[field]
            .as_str()
            .expect("text passed through")
            .chars()
            .collect()
    };
    let body = chars("text");
    for e in record["entities"].as_array().into_iter().flatten() {
        let title;
        let text = if e["field"] == "title" {
            title = chars("title");
            &title
        } else {
            &body
        };
        let (s, t) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        let slice: String = text[s..t].iter().collect();
        assert_eq!(slice, e["text"].as_str().unwrap(), "offsets of {e}");
    }
}

/// The record is tagged with the topics 5G and sanctions.
fn assert_5g_and_sanctions(record: &Value) {
    let topics: Vec<&str> = record["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(
        topics.contains(&"5g") && topics.contains(&"sanctions"),
        "{topics:?}"
    );
}

#[test]
fn annotates_the_sample_articles_in_order() {
    let input = samples().join("articles.jsonl");
    let recs = annotate_ok(&input);
    let ids: Vec<Value> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .collect();
    assert_eq!(recs.len(), ids.len(), "one record per input line");
    for (r, id) in recs.iter().zip(&ids) {
        assert_eq!(&r["id"], id, "same order as the input");
        assert!(r["language"]["code"].is_string());
        assert!(r["date"].is_string(), "input fields pass through");
        assert_eq!(r["ontleed"]["ner_model"], default_model());
        assert_offsets(r);
        if r["language"]["code"] == "nl" {
            assert!(
                r["entities"].as_array().is_some_and(|e| !e.is_empty()),
                "{id}: entities found"
            );
        } else {
            assert!(
                r["entities"].is_null() && r["skipped"]["reason"] == "language",
                "{id}: skipped"
            );
        }
    }
    let huawei = recs
        .iter()
        .find(|r| r["id"] == "nl-huawei-5g-sancties")
        .expect("Huawei sample");
    let labels: Vec<(String, String)> = huawei["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["text"].as_str().unwrap().to_string(),
                e["label"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        labels.contains(&("Ren Zhengfei".into(), "PER".into())),
        "{labels:?}"
    );
    assert_5g_and_sanctions(huawei);
}

#[test]
fn other_languages_are_marked_not_dropped_and_can_be_enabled() {
    let line = r#"{"id": "en1", "text": "The European Commission announced new tariffs on Chinese electric cars on Tuesday, saying the subsidies distort competition."}"#;
    let out = ontleed()
        .args(["annotate", "-q"])
        .write_stdin(line)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = &records(&out)[0];
    assert_eq!(r["language"]["code"], "en");
    assert!(r["entities"].is_null() && r["topics"].is_null());
    assert_eq!(r["skipped"]["reason"], "language");

    let out = ontleed()
        .args(["annotate", "-q", "--languages", "nl,en"])
        .write_stdin(line)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = &records(&out)[0];
    assert!(r["entities"].is_array() && r.get("skipped").is_none());
}

#[test]
fn every_bad_line_becomes_an_error_record_in_place() {
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(
        b"{\"id\": \"ok1\", \"text\": \"Huawei werkt samen met Nokia in Amsterdam.\"}\n",
    );
    input.extend_from_slice(b"{not json\n");
    input.extend_from_slice(b"[1, 2, 3]\n");
    input.extend_from_slice(b"{\"id\": \"no-text\"}\n");
    input.extend_from_slice(b"{\"id\": \"num\", \"text\": 42}\n");
    input.extend_from_slice(b"{\"id\": \"bad-utf8\", \"text\": \"caf\xe9\"}\n");
    input.extend_from_slice(b"{\"id\": \"empty\", \"text\": \"\"}\n");
    let big = "Minister Jansen sprak in Den Haag met de Europese Commissie over sancties. "
        .repeat(70_000);
    assert!(big.len() > 5_000_000);
    input.extend_from_slice(
        serde_json::json!({"id": "big", "text": big})
            .to_string()
            .as_bytes(),
    );
    input.push(b'\n');
    input.extend_from_slice(
        b"{\"id\": \"ok2\", \"text\": \"Ericsson levert 5G-netwerken aan KPN.\"}\n",
    );

    // The fast model: 840,000 words would take the transformer minutes (this test is about
    // error records, not about the model).
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(input)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let recs = records(&out);
    assert_eq!(recs.len(), 9);
    let kinds: Vec<Option<&str>> = recs.iter().map(|r| r["error"]["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            None,
            Some("invalid_json"),
            Some("not_an_object"),
            Some("missing_text"),
            Some("text_not_string"),
            Some("invalid_utf8"),
            Some("empty_text"),
            None,
            None
        ]
    );
    assert_eq!(recs[1]["line"], 2);
    assert_eq!(recs[3]["id"], "no-text");
    assert_eq!(recs[7]["id"], "big");
    assert!(recs[7]["entities"].as_array().unwrap().len() > 10_000);
    assert_eq!(recs[8]["id"], "ok2");
    for r in &recs {
        if r.get("error").is_none() {
            assert_offsets(r);
        }
    }
}

#[test]
fn too_large_lines_are_records_too() {
    let input = "{\"id\": 1, \"text\": \"Een korte tekst over Nokia.\"}\n{\"id\": 2, \"text\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n";
    let out = ontleed()
        .args(["annotate", "-q", "--max-bytes", "60"])
        .write_stdin(input)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let recs = records(&out);
    assert_eq!(recs[1]["error"]["kind"], "too_large");
    assert_eq!(recs[1]["line"], 2);
    assert_eq!(recs[1]["id"], 2);
}

/// `--max-bytes` measures the article (text and headline), not the JSON line, and 0 is refused.
#[test]
fn max_bytes_measures_the_article() {
    let pad = "p".repeat(500);
    let input = format!(
        "{{\"id\": 1, \"text\": \"Nokia groeit.\", \"extra\": \"{pad}\"}}\n{{\"id\": 2, \"text\": \"{}\"}}\n{{\"id\": 3, \"title\": \"{}\", \"text\": \"Nokia.\"}}\n",
        "x".repeat(61),
        "t".repeat(58),
    );
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast", "--max-bytes", "60"])
        .write_stdin(input)
        .assert()
        .code(1);
    let recs = records(&out.get_output().stdout);
    assert!(
        recs[0].get("error").is_none(),
        "a long line with a short text is accepted"
    );
    assert_eq!(recs[1]["error"]["kind"], "too_large");
    assert_eq!(recs[2]["error"]["kind"], "too_large", "the headline counts");
    let a = ontleed()
        .args(["annotate", "-q", "--max-bytes", "0"])
        .write_stdin("")
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("at least 1"));
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let input = "{\"id\": 1, \"text\": \"Nokia groeit.\"}\n{oops\n{\"id\": 3, \"text\": \"Ericsson ook.\"}\n";
    let assert = ontleed()
        .args(["annotate", "-q", "--strict"])
        .write_stdin(input)
        .assert()
        .code(3);
    let recs = records(&assert.get_output().stdout);
    assert_eq!(recs.len(), 1, "lines before the bad one are written");
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("line 2"));
}

#[test]
fn reads_gzip_text_files_directories_and_custom_fields() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("in.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    writeln!(
        enc,
        r#"{{"body": "Vincent Pang sprak in Brussel met de NAVO.", "key": "k1"}}"#
    )
    .unwrap();
    writeln!(
        enc,
        r#"{{"body": "Een tweede artikel zonder sleutel over Rotterdam."}}"#
    )
    .unwrap();
    enc.finish().unwrap();
    let out_file = dir.path().join("out.jsonl");
    ontleed()
        .args([
            "annotate",
            "-q",
            "--text-field",
            "body",
            "--id-field",
            "key",
            "-o",
        ])
        .arg(&out_file)
        .arg(&gz)
        .assert()
        .success();
    let recs = records(&std::fs::read(&out_file).unwrap());
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["id"], "k1");
    assert_eq!(recs[1]["id"], 2, "line number when the id field is missing");

    let txt = samples().join("txt");
    let recs = annotate_ok(&txt);
    assert!(!recs.is_empty());
    for r in &recs {
        assert!(r["id"].as_str().unwrap().ends_with(".txt"));
        assert_offsets(r);
    }
}

/// A UTF-8 byte-order mark at the start of a JSONL file, of stdin or of a text file is skipped.
#[test]
fn byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("bom.jsonl");
    std::fs::write(
        &jsonl,
        "\u{feff}{\"id\": \"b1\", \"text\": \"Nokia groeit.\"}\n{\"id\": \"b2\", \"text\": \"Ericsson ook.\"}\n",
    )
    .unwrap();
    let txt = dir.path().join("bom.txt");
    std::fs::write(&txt, "\u{feff}Nokia groeit in Finland.").unwrap();
    let out = ontleed()
        .args(["annotate", "-q", "--strict", "--ner-model", "fast"])
        .arg(&jsonl)
        .arg(&txt)
        .assert()
        .success();
    let recs = records(&out.get_output().stdout);
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["id"], "b1");
    assert_eq!(recs[2]["text"], "Nokia groeit in Finland.");
    let out = ontleed()
        .args(["annotate", "-q", "--strict", "--ner-model", "fast"])
        .write_stdin(std::fs::read(&jsonl).unwrap())
        .assert()
        .success();
    assert_eq!(records(&out.get_output().stdout)[0]["id"], "b1");
}

/// `--threads` is capped: a huge count is refused at once with a clear message, not spawned.
#[test]
fn threads_are_capped() {
    for n in ["100000", "257", "0"] {
        let a = ontleed()
            .args(["annotate", "-q", "--ner-model", "fast", "--threads", n])
            .write_stdin("{\"text\": \"Nokia groeit.\"}\n")
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("from 1 to 256"), "{n}: {err}");
    }
    ontleed()
        .args(["annotate", "-q", "--ner-model", "fast", "--threads", "256"])
        .write_stdin("{\"text\": \"Nokia groeit.\"}\n")
        .assert()
        .success();
}

/// Directories: `.txt`, `.jsonl` and `.jsonl.gz` files; a symbolic link loop ends (every
/// directory and file is read once); a broken link is one `read_error` record, not an abort.
#[cfg(unix)]
#[test]
fn directories_follow_links_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), "Nokia groeit in Finland.").unwrap();
    std::fs::write(
        d.join("b.jsonl"),
        "{\"id\": \"b1\", \"text\": \"Ericsson groeit.\"}\n{\"id\": \"b2\", \"text\": \"KPN ook.\"}\n",
    )
    .unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(d.join("c.jsonl.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    writeln!(enc, r#"{{"id": "c1", "text": "Huawei in Shenzhen."}}"#).unwrap();
    enc.finish().unwrap();
    std::fs::write(d.join("notes.md"), "not an input").unwrap();
    symlink(d.join("nowhere.txt"), d.join("dangling.txt")).unwrap();
    symlink(".", d.join("loop")).unwrap();
    std::fs::create_dir(d.join("s")).unwrap();
    std::fs::write(d.join("s/d.txt"), "Philips in Eindhoven.").unwrap();
    symlink(d.join("s"), d.join("t")).unwrap();
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .arg(d)
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .code(1);
    let recs = records(&out.get_output().stdout);
    let ids: Vec<String> = recs
        .iter()
        .map(|r| {
            let id = r["id"].as_str().or(r["source"].as_str()).unwrap();
            id.strip_prefix(&d.display().to_string())
                .unwrap_or(id)
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        ["/a.txt", "b1", "b2", "c1", "/dangling.txt", "/s/d.txt"],
        "{recs:?}"
    );
    assert_eq!(recs[4]["error"]["kind"], "read_error");
    assert!(
        recs[4]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("broken symbolic link")
    );
}

/// Numbers pass through byte for byte: ids beyond u64, more digits than f64 holds, beyond f64.
#[test]
fn numbers_pass_through_byte_exact() {
    let line = r#"{"id": 18446744073709551616, "text": "Nokia groeit in Finland.", "x": 1.000000000000000000001, "big": 1e400, "nested": {"a": [1.10, -0, 2E+3]}, "n": 5, "s": "1e400"}"#;
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(format!("{line}\n"))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for field in [
        r#""id":18446744073709551616,"#,
        r#""x":1.000000000000000000001,"#,
        r#""big":1e400,"#,
        r#""nested":{"a": [1.10, -0, 2E+3]},"#,
        r#""n":5,"#,
        r#""s":"1e400","#,
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    assert!(text.contains(r#""language":{"#), "annotated: {text}");
    // The id field chosen by --id-field is written exactly too.
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast", "--id-field", "key"])
        .write_stdin("{\"key\": 123456789012345678901234567890, \"text\": \"Nokia groeit.\"}\n")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.starts_with(
            r#"{"id":123456789012345678901234567890,"key":123456789012345678901234567890,"#
        ),
        "{text}"
    );
}

/// A gzip that breaks off: every line decoded before the break is annotated and written, the
/// break is one `truncated_input` record, and the next input is read (exit status 1).
#[test]
fn truncated_gzip_keeps_every_decoded_line() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("cut.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 1..=3000 {
        writeln!(
            enc,
            r#"{{"id": {i}, "text": "Artikel {i}: Nokia en Ericsson bouwen {} masten in regio {}."}}"#,
            i * 7919 % 10007,
            i * 31 % 97
        )
        .unwrap();
    }
    let full = enc.finish().unwrap();
    let cut = &full[..full.len() / 2];
    std::fs::write(&gz, cut).unwrap();
    // The lines a decoder gets out of the cut file before it fails.
    let mut decoded = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(cut);
    let mut chunk = [0u8; 4096];
    loop {
        match dec.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => decoded.extend_from_slice(&chunk[..n]),
        }
    }
    let whole = decoded.iter().filter(|&&b| b == b'\n').count();
    assert!(whole > 600 && whole < 3000, "{whole}");
    let next = dir.path().join("next.jsonl");
    std::fs::write(&next, "{\"id\": \"next\", \"text\": \"KPN groeit.\"}\n").unwrap();
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .arg(&gz)
        .arg(&next)
        .assert()
        .code(1);
    let recs = records(&out.get_output().stdout);
    assert_eq!(recs.len(), whole + 2);
    for (i, r) in recs[..whole].iter().enumerate() {
        assert_eq!(r["id"], i + 1);
        assert!(r.get("error").is_none());
    }
    assert_eq!(recs[whole]["error"]["kind"], "truncated_input");
    assert_eq!(recs[whole]["line"], whole + 1);
    assert_eq!(recs[whole + 1]["id"], "next");
}

/// An input field named `error`, `line` or `source` passes through into an annotated record,
/// which has `ontleed`; error records never have it. The JSON Schema tells them apart, and so
/// does `report`.
#[test]
fn error_records_cannot_be_confused_with_articles() {
    let validator = schema_validator();
    let input = concat!(
        r#"{"id": "e1", "text": "Nokia groeit in Finland.", "line": 4, "source": "x.jsonl", "error": {"kind": "invalid_json", "message": "from the input"}}"#,
        "\n{broken\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let annotated = dir.path().join("out.jsonl");
    ontleed()
        .args(["annotate", "-q", "--ner-model", "fast", "-o"])
        .arg(&annotated)
        .write_stdin(input)
        .assert()
        .code(1);
    let recs = records(&std::fs::read(&annotated).unwrap());
    assert_eq!(
        recs[0]["error"]["message"], "from the input",
        "passed through"
    );
    assert!(recs[0]["ontleed"].is_object());
    assert!(recs[1].get("ontleed").is_none());
    for r in &recs {
        let errors: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} in {r}");
    }
    let mut both = recs[1].clone();
    both["ontleed"] = recs[0]["ontleed"].clone();
    assert!(!validator.is_valid(&both), "an error record with ontleed");
    let json = dir.path().join("report.json");
    ontleed()
        .args(["report", "--json"])
        .arg(&json)
        .arg(&annotated)
        .assert()
        .success();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(doc["summary"]["records"], 2);
}

/// A closed standard output (`>&-`) is an error (status 2), not output silently lost;
/// `> /dev/null` is a choice (status 0).
#[cfg(target_os = "linux")]
#[test]
fn closed_stdout_is_an_error() {
    let bin = Path::new(env!("CARGO_BIN_EXE_ontleed"));
    let run = |redirect: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo '{{\"text\": \"Nokia groeit.\"}}' | '{}' annotate -q --ner-model fast {redirect}",
                bin.display()
            ))
            .output()
            .unwrap()
    };
    let closed = run(">&-");
    assert_eq!(closed.status.code(), Some(2), "{closed:?}");
    assert!(String::from_utf8_lossy(&closed.stderr).contains("standard output is closed"));
    let null = run("> /dev/null");
    assert_eq!(null.status.code(), Some(0), "{null:?}");
}

/// `pip install './python[spark]'` brings pandas, which PySpark's Arrow path imports.
#[test]
fn python_spark_extra_has_pandas() {
    let text = std::fs::read_to_string(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("python/pyproject.toml"),
    )
    .unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let spark = doc["project"]["optional-dependencies"]["spark"]
        .as_array()
        .unwrap();
    assert!(
        spark
            .iter()
            .any(|d| d.as_str().is_some_and(|d| d.starts_with("pandas"))),
        "{spark:?}"
    );
}

/// `ontleed export --help` says that it needs the rust-bert feature.
#[test]
fn export_help_names_the_feature() {
    let out = ontleed().args(["export", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(help.contains("needs the rust-bert feature"), "{help}");
    let out = ontleed().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(help.contains("needs the rust-bert feature"), "{help}");
}

/// `-o FILE` is written through `FILE.part` (no half-written FILE); a run killed mid-way
/// continues with `--resume` from its last whole record, and the output is byte for byte that
/// of an uninterrupted run. The input is a named pipe fed half-way, so the kill lands at a
/// known point without timing.
#[cfg(target_os = "linux")]
#[test]
fn killed_run_resumes_to_identical_output() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = (1..=60)
        .map(|i| match i {
            20 | 57 => "{broken".to_string(),
            _ => format!(
                r#"{{"id": {i}, "n": 1.0{i}, "text": "Artikel {i}: Nokia en Ericsson bouwen masten in Utrecht."}}"#
            ),
        })
        .collect();
    let text = lines.join("\n") + "\n";
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&input)
            .status()
            .unwrap()
            .success()
    );
    let out = dir.path().join("out.jsonl");
    let (part, state) = (
        dir.path().join("out.jsonl.part"),
        dir.path().join("out.jsonl.resume"),
    );
    let args = [
        "annotate",
        "-q",
        "--ner-model",
        "fast",
        "--chunk-size",
        "10",
        "-o",
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ontleed"))
        .args(args)
        .arg(&out)
        .arg(&input)
        .spawn()
        .unwrap();
    // Opened without blocking (O_NONBLOCK), so that a run that fails before it reads fails
    // the test instead of hanging it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let mut fifo = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(0o4000)
            .open(&input)
        {
            Ok(f) => break f,
            Err(e) => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("the run ended before reading: {status}");
                }
                assert!(std::time::Instant::now() < deadline, "{e}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    };
    fifo.write_all(lines[..55].join("\n").as_bytes()).unwrap();
    fifo.write_all(b"\n").unwrap();
    fifo.flush().unwrap();
    // The run reads 55 lines and then waits for more: 5 chunks of 10 are written.
    loop {
        let line = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["line"].as_u64());
        if line == Some(50) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no progress: {line:?}"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!out.exists(), "FILE appears only when the run is complete");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(fifo);
    // A write torn by the kill: half a record at the end of the .part file.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .unwrap();
    f.write_all(br#"{"id":51,"n":1.05"#).unwrap();
    drop(f);
    std::fs::remove_file(&input).unwrap();
    std::fs::write(&input, &text).unwrap();

    ontleed()
        .args(args)
        .arg(&out)
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(1);
    assert!(!part.exists() && !state.exists(), "nothing left behind");
    let whole = dir.path().join("whole.jsonl");
    ontleed()
        .args(args)
        .arg(&whole)
        .arg(&input)
        .assert()
        .code(1);
    let (resumed, expected) = (std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
    assert_eq!(records(&expected).len(), 60);
    assert!(
        resumed == expected,
        "resumed output differs from an uninterrupted run"
    );

    // Nothing to resume, and options that differ from the interrupted run's, are refused.
    let a = ontleed()
        .args(args)
        .arg(&out)
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("nothing to resume"));
    ontleed()
        .args(["annotate", "-q", "--resume"])
        .write_stdin("")
        .assert()
        .code(2);
}

/// A model directory whose weights do not match the SHA-256 in its `config.json` fails to load
/// (status 2, the file named), instead of loading and finding nothing.
#[cfg(feature = "transformer")]
#[test]
fn damaged_model_files_fail_loudly() {
    let shipped = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("models/accurate");
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "tokenizer.json", "labels.json", "model.gguf"] {
        std::fs::copy(shipped.join(f), dir.path().join(f)).unwrap();
    }
    let line = "{\"text\": \"Nokia groeit in Finland.\"}\n";
    ontleed()
        .args(["annotate", "-q", "--ner-model"])
        .arg(dir.path())
        .write_stdin(line)
        .assert()
        .success();
    // 200 KB of weight bytes overwritten, past the GGUF header.
    let weights = dir.path().join("model.gguf");
    let mut bytes = std::fs::read(&weights).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 200_000].fill(0x55);
    std::fs::write(&weights, &bytes).unwrap();
    let a = ontleed()
        .args(["annotate", "-q", "--ner-model"])
        .arg(dir.path())
        .write_stdin(line)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("model.gguf does not match its checksum"),
        "{err}"
    );
}

#[test]
fn missing_input_and_bad_options_are_clear_errors() {
    let a = ontleed()
        .args(["annotate", "/nonexistent/file.jsonl"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("does not exist"));
    let a = ontleed()
        .args(["annotate", "--ner-model", "/nonexistent/model"])
        .write_stdin("")
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("no NER model"));
    ontleed()
        .args(["annotate", "--languages", "Dutch"])
        .write_stdin("")
        .assert()
        .code(2);
}

/// The scraped article from `../shared/data/articles` (not part of the project: its copyright
/// stays with its publisher).
#[test]
fn huawei_article_from_shared() {
    let path = shared("data/articles/huawei-5g-nl.txt");
    if !path.exists() {
        eprintln!(
            "SKIPPED: {} is missing (it lives in ../shared beside the checkout)",
            path.display()
        );
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let r = &annotate_ok(&path)[0];
    assert_eq!(r["language"]["code"], "nl");
    assert_offsets(r);
    let chars: Vec<char> = text.chars().collect();
    let entities = r["entities"].as_array().unwrap();
    for (name, label) in [
        ("Huawei", "ORG"),
        ("Vincent Pang", "PER"),
        ("Ren Zhengfei", "PER"),
        ("Ericsson", "ORG"),
        ("Nokia", "ORG"),
        ("Reuters", "ORG"),
    ] {
        // The first occurrence of the name in the text, as a code-point offset.
        let byte = text.find(name).unwrap();
        let start = text[..byte].chars().count();
        let end = start + name.chars().count();
        assert_eq!(chars[start..end].iter().collect::<String>(), name);
        assert!(
            entities
                .iter()
                .any(|e| e["start"] == start && e["end"] == end && e["label"] == label),
            "{name}/{label} at {start}..{end} not in {entities:?}"
        );
    }
    assert_5g_and_sanctions(r);
    let kinds: Vec<&str> = r["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.first(),
        Some(&"boilerplate"),
        "section label 'Nieuws'"
    );
    assert_eq!(
        kinds
            .iter()
            .rev()
            .take(5)
            .filter(|k| **k == "boilerplate")
            .count(),
        5,
        "page furniture at the end"
    );
}

#[test]
fn records_follow_the_json_schema() {
    let validator = schema_validator();
    let mut input = std::fs::read(samples().join("articles.jsonl")).unwrap();
    input.extend_from_slice(b"{broken\n[1]\n{\"id\": 3}\n{\"text\": \"\"}\n");
    // The fast model: 840,000 words would take the transformer minutes (this test is about
    // error records, not about the model).
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(input)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let recs = records(&out);
    assert!(recs.len() > 10);
    for r in &recs {
        let errors: Vec<String> = validator
            .iter_errors(r)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {r}");
    }
    // The schema is not vacuous: a record with a bad label fails it.
    let mut bad = recs[0].clone();
    bad["entities"] =
        serde_json::json!([{"text": "X", "label": "PERSON", "start": 0, "end": 1, "score": 0.5}]);
    assert!(!validator.is_valid(&bad));
}

/// `annotate | report`: the samples plus the scraped Huawei article (when ../shared is present)
/// give an entity table and an HTML page that name the people and companies with their counts.
#[test]
fn annotate_then_report_names_the_entities() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = dir.path().join("annotated.jsonl");
    let mut cmd = ontleed();
    cmd.args(["annotate", "-q", "-o"])
        .arg(&annotated)
        .arg(samples().join("articles.jsonl"));
    let huawei = shared("data/articles/huawei-5g-nl.txt");
    if huawei.exists() {
        cmd.arg(&huawei);
    } else {
        eprintln!(
            "SKIPPED (in part): {} is missing (it lives in ../shared beside the checkout); \
             reporting on the samples only",
            huawei.display()
        );
    }
    cmd.assert().success();

    // Within an article, mentions are grouped: "Zhengfei" gets the canonical "Ren Zhengfei".
    let recs = records(&std::fs::read(&annotated).unwrap());
    let sample = recs
        .iter()
        .find(|r| r["id"] == "nl-huawei-5g-sancties")
        .unwrap();
    let summary = sample["entity_summary"].as_array().unwrap();
    let ren = summary
        .iter()
        .find(|s| s["canonical"] == "Ren Zhengfei")
        .expect("Ren Zhengfei in the summary");
    assert_eq!(ren["label"], "PER");
    assert!(ren["mentions"].as_u64().unwrap() >= 2, "{ren}");
    for e in sample["entities"].as_array().unwrap() {
        assert!(e["canonical"].is_string());
    }

    let (csv, html) = (
        dir.path().join("entities.csv"),
        dir.path().join("report.html"),
    );
    ontleed()
        .args(["report", "--csv"])
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .arg(&annotated)
        .assert()
        .success();
    let table = std::fs::read_to_string(&csv).unwrap();
    // Vincent Pang appears only in the shared article: without it, the samples' people.
    let names: &[&str] = if huawei.exists() {
        &["Huawei", "Ren Zhengfei", "Vincent Pang"]
    } else {
        &["Huawei", "Ren Zhengfei"]
    };
    for &name in names {
        let row = table
            .lines()
            .find(|l| l.split(',').nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} in the entity table:\n{table}"));
        let mentions: u64 = row.split(',').nth(5).unwrap().parse().unwrap();
        assert!(mentions >= 2, "{row}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    for &name in names {
        assert!(page.contains(name), "{name} on the HTML page");
    }
    ontleed()
        .args(["report", "-"])
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn names_inside_compounds_are_their_own_entities() {
    let text = "Volgens VVD-fractievoorzitter Dilan Yeşilgöz-Zegerius moeten de EU-landen \
                strenger zijn. De Huawei-topman sprak over de Oekraïne-steun. In Amsterdam-Noord \
                bleef het rustig.";
    let line = serde_json::json!({ "text": text });
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(format!("{line}\n"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let entities = r["entities"].as_array().expect("entities");
    let find = |name: &str| entities.iter().find(|e| e["text"] == name);
    for (name, label) in [
        ("VVD", "ORG"),
        ("EU", "ORG"),
        ("Huawei", "ORG"),
        ("Oekraïne", "LOC"),
    ] {
        let e = find(name).unwrap_or_else(|| panic!("{name} in {entities:?}"));
        assert_eq!(e["label"], label, "{e}");
        assert_eq!(e["compound"], true, "{e}");
        let part: String = text
            .chars()
            .skip(e["start"].as_u64().unwrap() as usize)
            .take((e["end"].as_u64().unwrap() - e["start"].as_u64().unwrap()) as usize)
            .collect();
        assert_eq!(part, name);
    }
    assert!(entities.iter().all(|e| {
        let t = e["text"].as_str().unwrap();
        !t.ends_with("voorzitter") && !t.ends_with("landen") && !t.ends_with("steun")
    }));
    // Compounds that are names as a whole stay whole and are not marked.
    for name in ["Dilan Yeşilgöz-Zegerius", "Amsterdam-Noord"] {
        if let Some(e) = find(name) {
            assert!(e.get("compound").is_none(), "{e}");
        }
    }
}
