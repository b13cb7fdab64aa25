//! Integration tests of categories, fine topics and the title field: the binary with the fast
//! NER model (categories and topics do not depend on the NER model), `train-topics` and
//! `eval-topics`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn ontleed() -> Command {
    Command::cargo_bin("ontleed").expect("binary builds")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("crates/ontleed-cli/tests/fixtures/categories")
        .join(name)
}

/// A file of `../shared` (or of `ONTLEED_SHARED`); tests that need it print `SKIPPED`.
fn shared(rel: &str) -> PathBuf {
    std::env::var_os("ONTLEED_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("../shared")
        })
        .join(rel)
}

/// Asserts that a run succeeded, showing its stderr when not.
fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Annotates JSONL text with the fast model; one record per line.
fn annotate(input: &str) -> Vec<Value> {
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(input)
        .output()
        .expect("runs");
    assert_success(&out);
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn a_tennis_report_that_mentions_a_court_is_sport_not_justice() {
    let line = serde_json::json!({
        "title": "Tennisster wint na zware strijd in Rotterdam",
        "text": "De Nederlandse tennisster won zaterdag op het centre court in drie sets. \
                 Na een discussie met de scheidsrechter over een bal die volgens haar uit was, \
                 herpakte ze zich. In de finale treft ze de nummer één van de wereld.\n\n\
                 Het toernooi trekt dit jaar meer toeschouwers dan ooit."
    });
    let r = &annotate(&format!("{line}\n"))[0];
    let categories = ids(&r["categories"]);
    assert_eq!(categories.first().map(String::as_str), Some("sport"), "{r}");
    assert!(!categories.contains(&"justice".to_string()), "{r}");
    let topics = ids(&r["topics"]);
    assert!(!topics.contains(&"justice".to_string()), "{r}");
    let c = &r["categories"][0];
    assert_eq!(c["iptc"], "medtop:15000000");
    assert_eq!(c["label"], "Sport");
    let score = c["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    assert!(r["ontleed"]["categories"].as_str().is_some());
}

#[test]
fn every_fine_topic_names_its_category() {
    let line = serde_json::json!({
        "text": "De Tweede Kamer debatteert over de verkiezingen. De coalitie en de oppositie \
                 verschillen van mening over het kabinetsbeleid. De minister-president verdedigde \
                 de plannen van zijn kabinet in de Kamer."
    });
    let r = &annotate(&format!("{line}\n"))[0];
    let topics = r["topics"].as_array().expect("topics");
    assert!(!topics.is_empty(), "{r}");
    for t in topics {
        assert!(t["category"].as_str().is_some(), "{t}");
    }
    assert!(
        ids(&r["categories"]).contains(&"politics".to_string()),
        "{r}"
    );
}

#[test]
fn the_huawei_article_keeps_5g_and_sanctions() {
    let path = shared("data/articles/huawei-5g-nl.txt");
    if !path.exists() {
        eprintln!("SKIPPED: {} is missing", path.display());
        return;
    }
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let topics = ids(&r["topics"]);
    assert!(topics.contains(&"5g".to_string()), "{topics:?}");
    assert!(topics.contains(&"sanctions".to_string()), "{topics:?}");
    assert_eq!(
        ids(&r["categories"])[0],
        "technology",
        "{}",
        r["categories"]
    );
}

#[test]
fn a_headline_is_annotated_with_offsets_into_the_title() {
    let title = "Rutte spreekt met Macron in Parijs";
    let text = "Premier Mark Rutte sprak dinsdag in Parijs met de Franse president.";
    let line = serde_json::json!({"id": 7, "title": title, "text": text});
    let r = &annotate(&format!("{line}\n"))[0];
    let entities = r["entities"].as_array().expect("entities");
    let chars = |s: &str, a: u64, b: u64| -> String {
        s.chars().skip(a as usize).take((b - a) as usize).collect()
    };
    let mut in_title = 0;
    for e in entities {
        let (a, b) = (e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap());
        let field = if e["field"] == "title" {
            in_title += 1;
            title
        } else {
            assert!(e.get("field").is_none(), "{e}");
            text
        };
        assert_eq!(chars(field, a, b), e["text"].as_str().unwrap(), "{e}");
    }
    assert!(in_title >= 1, "{entities:?}");
    // Paragraphs: the headline's is marked, the body's offsets are into the text.
    let paragraphs = r["paragraphs"].as_array().expect("paragraphs");
    assert_eq!(paragraphs[0]["field"], "title");
    assert_eq!(paragraphs[0]["start"], 0);
    assert_eq!(paragraphs[1]["start"], 0);
    assert_eq!(paragraphs[1]["end"], text.chars().count());
    // Input fields come back unchanged.
    assert_eq!(r["title"], title);
    assert_eq!(r["text"], text);
}

#[test]
fn a_title_with_an_empty_text_is_annotated_and_a_bad_title_is_an_error_record() {
    let input = concat!(
        r#"{"title": "Storing legt treinverkeer rond Utrecht stil", "text": ""}"#,
        "\n",
        r#"{"title": 5, "text": "Ajax won zondag met 4-0 van PSV in Amsterdam."}"#,
        "\n",
        r#"{"title": null, "text": "Ajax won zondag met 4-0 van PSV in Amsterdam."}"#,
        "\n"
    );
    let out = ontleed()
        .args(["annotate", "-q", "--ner-model", "fast"])
        .write_stdin(input)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let records: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert!(records[0]["error"].is_null(), "{}", records[0]);
    assert_eq!(ids(&records[0]["categories"]), ["transport"]);
    assert_eq!(records[1]["error"]["kind"], "title_not_string");
    assert!(records[2]["error"].is_null());
}

#[test]
fn an_article_in_another_language_has_no_categories() {
    let line = serde_json::json!({
        "text": "The government announced on Tuesday that it will raise taxes on large \
                 companies next year, a move that business groups immediately criticised."
    });
    let r = &annotate(&format!("{line}\n"))[0];
    assert!(r["skipped"].is_object(), "{r}");
    assert!(r["categories"].is_null(), "{r}");
}

#[test]
fn eval_topics_scores_a_labelled_file_per_category() {
    let out = ontleed()
        .arg("eval-topics")
        .arg(fixture("labelled.jsonl"))
        .output()
        .expect("runs");
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("micro")), "{text}");
    assert!(text.contains("4 articles"), "{text}");
    // The four items are plain cases: the built-in model gets their first category.
    let sport = text.lines().find(|l| l.starts_with("sport")).unwrap();
    assert!(
        sport.split_whitespace().nth(3).unwrap() == "100.0",
        "{text}"
    );
}

/// `eval-topics` on the fixture with the category model `model`.
#[cfg(feature = "train")]
fn eval_with(model: &Path) -> std::process::Output {
    ontleed()
        .arg("eval-topics")
        .arg(fixture("labelled.jsonl"))
        .arg("--categories")
        .arg(model)
        .output()
        .expect("runs")
}

#[cfg(feature = "train")]
#[test]
fn train_topics_writes_a_model_that_eval_topics_loads() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.bin.gz");
    let out = ontleed()
        .args(["train-topics", "--epochs", "3", "--folds", "2", "--train"])
        .arg(fixture("labelled.jsonl"))
        .arg("-o")
        .arg(&model)
        .output()
        .expect("runs");
    assert_success(&out);
    let out = eval_with(&model);
    assert_success(&out);
    // A damaged model file is a clear error, not a panic or an empty result.
    std::fs::write(&model, b"not a model").unwrap();
    let out = eval_with(&model);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("category model"));
}
