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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples")
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

/// `text[start:end] == entity.text` in code points, for every entity of a record.
fn assert_offsets(record: &Value) {
    let text: Vec<char> = record["text"]
        .as_str()
        .expect("text passed through")
        .chars()
        .collect();
    for e in record["entities"].as_array().into_iter().flatten() {
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
    let input = "{\"id\": 1, \"text\": \"Een korte tekst over Nokia.\"}\n{\"id\": 2, \"text\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n";
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
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/articles/huawei-5g-nl.txt");
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
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/record.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
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
    let huawei =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/articles/huawei-5g-nl.txt");
    if huawei.exists() {
        cmd.arg(&huawei);
    } else {
        eprintln!(
            "note: {} is missing; reporting on the samples only",
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
    for name in ["Huawei", "Ren Zhengfei", "Vincent Pang"] {
        let row = table
            .lines()
            .find(|l| l.split(',').nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} in the entity table:\n{table}"));
        let mentions: u64 = row.split(',').nth(5).unwrap().parse().unwrap();
        assert!(mentions >= 2, "{row}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    for name in ["Huawei", "Ren Zhengfei", "Vincent Pang"] {
        assert!(page.contains(name), "{name} on the HTML page");
    }
    ontleed()
        .args(["report", "-"])
        .write_stdin("")
        .assert()
        .code(2);
}
