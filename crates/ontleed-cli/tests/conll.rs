//! Integration tests of `ontleed train`, `eval` and `tag` on small CoNLL files.

use assert_cmd::Command;
use std::path::Path;

fn ontleed() -> Command {
    Command::cargo_bin("ontleed").expect("binary builds")
}

/// A tiny training set in CoNLL-2002 format (IOB2) with documents.
#[cfg(feature = "train")]
const TRAIN: &str = "-DOCSTART- -DOCSTART- O
Jan N B-PER
Jansen N I-PER
werkt V O
bij Prep O
Philips N B-ORG
in Prep O
Eindhoven N B-LOC
. Punc O

Jansen N B-PER
woont V O
in Prep O
Gent N B-LOC
. Punc O

-DOCSTART- -DOCSTART- O
Piet N B-PER
Peters N I-PER
werkt V O
bij Prep O
Shell N B-ORG
in Prep O
Rotterdam N B-LOC
. Punc O
";

#[cfg(feature = "train")]
#[test]
fn train_eval_and_tag_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.conll");
    std::fs::write(&train, TRAIN).unwrap();
    let model = dir.path().join("model");
    let a = ontleed()
        .args(["train", "--epochs", "5", "--min-count", "1", "--train"])
        .arg(&train)
        .arg("--dev")
        .arg(&train)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        stderr.contains("epoch  1/5") && stderr.contains("F1"),
        "a progress line per epoch: {stderr}"
    );
    assert!(model.join("model.bin").exists());

    // Training is seeded: the same command gives the same file.
    let model2 = dir.path().join("model2");
    ontleed()
        .args(["train", "--epochs", "5", "--min-count", "1", "--train"])
        .arg(&train)
        .arg("--dev")
        .arg(&train)
        .arg("--out")
        .arg(&model2)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(model.join("model.bin")).unwrap(),
        std::fs::read(model2.join("model.bin")).unwrap()
    );

    let out = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&model)
        .arg(&train)
        .assert()
        .success();
    let report = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let overall: f64 = report
        .lines()
        .nth(1)
        .and_then(|l| l.rsplit("FB1:").next())
        .and_then(|v| v.trim().parse().ok())
        .expect("an overall FB1");
    assert!(
        overall >= 75.0,
        "learns most of its own training data: {report}"
    );
    for label in ["PER:", "ORG:", "LOC:", "MISC:"] {
        assert!(report.contains(label));
    }

    let out = ontleed()
        .args(["tag", "--format", "conll", "--ner-model"])
        .arg(&model)
        .arg(&train)
        .assert()
        .success();
    let tagged = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let tagged_lines: Vec<&str> = tagged.lines().collect();
    let input_lines: Vec<&str> = TRAIN.lines().collect();
    assert_eq!(
        tagged_lines.len(),
        input_lines.len(),
        "one output line per input line"
    );
    for (out, inp) in tagged_lines.iter().zip(&input_lines) {
        let fields: Vec<&str> = inp.split_whitespace().collect();
        match fields.as_slice() {
            [] => assert_eq!(*out, "", "blank lines kept"),
            ["-DOCSTART-", ..] => assert_eq!(out, inp, "-DOCSTART- lines echoed"),
            [word, ..] => {
                let (w, tag) = out.split_once(' ').expect("TOKEN TAG");
                assert_eq!(w, *word);
                assert!(
                    tag == "O" || tag.starts_with("B-") || tag.starts_with("I-"),
                    "{tag}"
                );
            }
        }
    }
    // IOB2: an entity never starts with I-.
    let mut prev = "O".to_string();
    for l in tagged_lines
        .iter()
        .filter(|l| l.contains(' ') && !l.starts_with("-DOCSTART-"))
    {
        let tag = l.split_once(' ').unwrap().1;
        if let Some(label) = tag.strip_prefix("I-") {
            assert!(prev.ends_with(label), "I-{label} after {prev}");
        }
        prev = tag.to_string();
    }
}

#[cfg(feature = "train")]
#[test]
fn reads_indexed_iob1_and_unlabelled_input() {
    let dir = tempfile::tempdir().unwrap();
    let wiki = dir.path().join("wiki.conllu");
    // Tab-separated INDEX TOKEN TAG, IOB1 (I- at the start of an entity).
    std::fs::write(
        &wiki,
        "0\tFC\tI-ORG\n1\tTwente\tI-ORG\n2\twint\tO\n\n0\tIn\tO\n1\tEnschede\tI-LOC\n",
    )
    .unwrap();
    let model = dir.path().join("m");
    ontleed()
        .args(["train", "--epochs", "3", "--min-count", "1", "--train"])
        .arg(&wiki)
        .arg("--dev")
        .arg(&wiki)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let out = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&model)
        .arg(&wiki)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("with 2 phrases"));

    // Tagging needs only the token column.
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "FC\nTwente\nwint\n").unwrap();
    let out = ontleed()
        .args(["tag", "--ner-model"])
        .arg(&model)
        .arg(&plain)
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .lines()
            .count(),
        3
    );
}

#[cfg(feature = "train")]
#[test]
fn bad_training_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conll");
    std::fs::write(&bad, "Jan N B-PERSON\n").unwrap();
    let a = ontleed()
        .args(["train", "--train"])
        .arg(&bad)
        .arg("--dev")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("unknown entity label"));
    let a = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&bad)
        .arg(&bad)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("not a valid fast model"));
}

/// A default build answers the training and model-writing commands with the install hint.
#[cfg(not(feature = "train"))]
#[test]
fn a_build_without_training_says_how_to_get_it() {
    for cmd in [
        "train",
        "train-topics",
        "fit-transitions",
        "quantize",
        "average",
    ] {
        ontleed()
            .args([cmd, "--train", "x.conll"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--features train"));
    }
    ontleed()
        .arg("trian")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown command"));
}

/// The shipped fast model on CoNLL-2002 `ned.testa` (from `../shared`, when present).
#[test]
fn shipped_model_scores_on_testa() {
    let testa = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("../shared/data/conll2002-nl/ned.testa");
    if !testa.exists() {
        eprintln!(
            "SKIPPED: {} is missing (it lives in ../shared beside the checkout)",
            testa.display()
        );
        return;
    }
    let out = ontleed()
        .args(["eval", "--ner-model", "fast"])
        .arg(&testa)
        .assert()
        .success();
    let report = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let f1: f64 = report
        .lines()
        .nth(1)
        .and_then(|l| l.rsplit("FB1:").next())
        .and_then(|v| v.trim().parse().ok())
        .expect("an overall FB1");
    // The model card states the figure; this guards against a broken or wrong model.
    assert!(f1 > 80.0, "fast model F1 on testa {f1}");
}
