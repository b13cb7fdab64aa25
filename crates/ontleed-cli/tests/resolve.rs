//! Entity resolution across articles, end to end: hand-written articles with gold entities
//! (tests/fixtures/resolve, see its README) are grouped per article with the real grouping,
//! written as annotated records, resolved with `ontleed resolve`, and checked: the name
//! variants of each entity (full name, surname, genitive, initials, typo, acronym, member word)
//! end in one entity, and people who share a surname stay apart. `ontleed report` is checked
//! on the same records. With ../shared/data/conll2002-nl present, the CoNLL-2002 articles are
//! regrouped and resolved too (skipped with a message otherwise).

use ontleed::entities::{Aliases, Mention, group};
use ontleed::ner::Label;
use ontleed::report::{ReportOptions, run};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Entities whose variants must end in one entity each.
const CLUSTERS: [&str; 15] = [
    "baudet",
    "rutte",
    "fvd",
    "om",
    "grapperhaus",
    "halsema",
    "macron",
    "trump",
    "may",
    "erdogan",
    "pvda",
    "verbrugge",
    "kuipers",
    "rivm",
    "nvb",
];

/// Different people who share a surname: never one entity.
const PAIRS: [(&str, &str); 6] = [
    ("ewiebes", "lwiebes"),
    ("hdejonge", "fdejonge"),
    ("trump", "itrump"),
    ("whoekstra", "phoekstra"),
    ("ftimmermans", "jtimmermans"),
    ("lasscher", "aasscher"),
];

fn fixture() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("crates/ontleed-cli/tests/fixtures/resolve/articles.jsonl")
}

fn label(s: &str) -> Label {
    s.parse().expect("a label")
}

/// An annotated record as `ontleed annotate` writes it, from an article's mentions: the real
/// per-article grouping gives canonical names, ids, labels and the entity summary.
fn annotate(id: &str, date: Option<&str>, text: &str, mentions: &[Mention]) -> Value {
    let g = group(mentions, &Aliases::builtin());
    let entities: Vec<Value> = mentions
        .iter()
        .zip(&g.mentions)
        .map(|(m, r)| {
            let mut v = json!({
                "text": m.text, "label": r.alias_label.unwrap_or(m.label).as_str(),
                "start": m.start, "end": m.end, "score": 0.9, "canonical": r.canonical,
            });
            if let Some(id) = &r.id {
                v["id"] = json!(id);
            }
            v
        })
        .collect();
    json!({
        "id": id, "date": date, "text": text,
        "language": {"code": "nl", "name": "Dutch", "confidence": 0.99, "reliable": true},
        "entities": entities, "entity_summary": g.summary, "topics": [],
        "ontleed": {"version": "test", "ner_model": "gold", "topics": "builtin"}
    })
}

/// The fixture articles as annotated records (one JSONL string) and, per record, the gold
/// entity of each mention.
fn records() -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(fixture()).expect("fixture");
    let mut out = String::new();
    let mut gold = Vec::new();
    for line in text.lines() {
        let a: Value = serde_json::from_str(line).expect("fixture line");
        let mentions: Vec<Mention> = a["gold"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| Mention {
                text: m["text"].as_str().unwrap().to_string(),
                label: label(m["label"].as_str().unwrap()),
                start: m["start"].as_u64().unwrap() as usize,
                end: m["end"].as_u64().unwrap() as usize,
            })
            .collect();
        gold.push(
            a["gold"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["entity"].as_str().unwrap().to_string())
                .collect(),
        );
        let rec = annotate(
            a["id"].as_str().unwrap(),
            a["date"].as_str(),
            a["text"].as_str().unwrap(),
            &mentions,
        );
        out.push_str(&rec.to_string());
        out.push('\n');
    }
    (out, gold)
}

fn resolve(input: &Path, output: &Path, extra: &[&str]) -> Vec<Value> {
    let status = Command::new(env!("CARGO_BIN_EXE_ontleed"))
        .arg("resolve")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(extra)
        .status()
        .expect("run ontleed resolve");
    assert!(status.success(), "ontleed resolve failed: {status}");
    std::fs::read_to_string(output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON record"))
        .collect()
}

/// Gold entity → the corpus-level entity keys its mentions got.
fn keys_by_gold(out: &[Value], gold: &[Vec<String>]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rec, gold) in out.iter().zip(gold) {
        let ents = rec["entities"].as_array().unwrap();
        assert_eq!(ents.len(), gold.len());
        for (e, g) in ents.iter().zip(gold) {
            let key = e["entity"].as_str().expect("an entity key").to_string();
            by.entry(g.clone()).or_default().insert(key);
        }
    }
    by
}

#[test]
fn clusters_join_and_shared_surnames_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, gold) = records();
    let input = dir.path().join("annotated.jsonl");
    std::fs::write(&input, &jsonl).unwrap();
    let out = resolve(&input, &dir.path().join("resolved.jsonl"), &[]);
    assert_eq!(out.len(), gold.len());
    let by = keys_by_gold(&out, &gold);

    let joined: Vec<&str> = CLUSTERS
        .iter()
        .copied()
        .filter(|c| by[*c].len() == 1)
        .collect();
    let split: Vec<(&str, &BTreeSet<String>)> = CLUSTERS
        .iter()
        .filter(|c| by[**c].len() != 1)
        .map(|c| (*c, &by[*c]))
        .collect();
    println!(
        "clusters in one entity: {} of {}; split: {split:?}",
        joined.len(),
        CLUSTERS.len()
    );
    assert!(split.is_empty(), "split clusters: {split:?}");
    let merged: Vec<(&str, &str)> = PAIRS
        .iter()
        .copied()
        .filter(|(a, b)| !by[*a].is_disjoint(&by[*b]))
        .collect();
    println!("pairs merged: {} of {}", merged.len(), PAIRS.len());
    assert!(
        merged.is_empty(),
        "merged pairs: {merged:?} {:?}",
        merged
            .iter()
            .map(|(a, b)| (&by[*a], &by[*b]))
            .collect::<Vec<_>>()
    );
    // The same entity key across articles, also on the summary entries.
    assert_eq!(
        by["baudet"].iter().next().map(String::as_str),
        Some("PER:Thierry Baudet")
    );
    let summary_keys: BTreeSet<&str> = out
        .iter()
        .flat_map(|r| r["entity_summary"].as_array().unwrap())
        .filter_map(|s| s["entity"].as_str())
        .filter(|k| k.contains("Baudet"))
        .collect();
    assert_eq!(summary_keys, BTreeSet::from(["PER:Thierry Baudet"]));
    // Records keep their other fields, in order.
    let first: Vec<&String> = out[0].as_object().unwrap().keys().collect();
    assert_eq!(first[..3], ["id", "date", "text"]);
}

#[test]
fn report_has_one_row_per_entity_with_its_variants() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, gold) = records();
    let input = dir.path().join("annotated.jsonl");
    std::fs::write(&input, &jsonl).unwrap();
    let opts = ReportOptions {
        inputs: vec![input],
        csv: Some(dir.path().join("entities.csv")),
        html: Some(dir.path().join("report.html")),
        top: 0,
        ..ReportOptions::default()
    };
    run(&opts).unwrap();
    let mut r = csv::Reader::from_path(opts.csv.as_ref().unwrap()).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let row = |name: &str| {
        let hits: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[1] == name).collect();
        assert_eq!(hits.len(), 1, "one row {name}");
        hits[0]
    };
    // Articles that mention Thierry Baudet, by the gold annotation.
    let baudet = gold
        .iter()
        .filter(|g| g.iter().any(|e| e == "baudet"))
        .count();
    let b = row("Thierry Baudet");
    assert_eq!(&b[4], baudet.to_string().as_str(), "{b:?}");
    for v in [
        "Baudet (",
        "Baudets [MISC] (",
        "Thiery Baudet (",
        "T. Baudet (",
    ] {
        assert!(b[10].contains(v), "{v} in {}", &b[10]);
    }
    assert!(
        !rows.iter().any(|r| &r[1] == "Baudet" || &r[1] == "NVB"),
        "no separate rows for joined names"
    );
    // An acronym the built-in table does not know, defined in one article.
    let f = row("Nederlandse Vereniging van Banken");
    assert!(f[10].contains("NVB ("), "{f:?}");
    // One the built-in table knows is joined in the articles already.
    let f = row("Forum voor Democratie");
    assert!(!rows.iter().any(|r| &r[1] == "FvD"), "{f:?}");
    let html = std::fs::read_to_string(opts.html.as_ref().unwrap()).unwrap();
    assert!(html.contains("class=\"variants\"") && html.contains("<li>Thiery Baudet "));
}

#[test]
fn user_aliases_win_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, gold) = records();
    let input = dir.path().join("annotated.jsonl");
    std::fs::write(&input, &jsonl).unwrap();
    // Keep the surname-only "Grapperhaus" and "Asscher" apart (joined automatically).
    let aliases = dir.path().join("aliases.toml");
    std::fs::write(
        &aliases,
        "[[entity]]\nname = \"Grapperhaus\"\nlabel = \"PER\"\n\n[[entity]]\nname = \"Asscher\"\n",
    )
    .unwrap();
    let plain = keys_by_gold(&resolve(&input, &dir.path().join("a.jsonl"), &[]), &gold);
    let out = resolve(
        &input,
        &dir.path().join("b.jsonl"),
        &["--aliases", aliases.to_str().unwrap()],
    );
    let user = keys_by_gold(&out, &gold);
    for g in ["grapperhaus", "lasscher"] {
        assert_eq!(plain[g].len(), 1, "{g}: {:?}", plain[g]);
        assert_eq!(user[g].len(), 2, "{g}: {:?}", user[g]);
    }
    assert!(user["lasscher"].is_disjoint(&user["aasscher"]));

    // Join what the corpus leaves ambiguous: "Wiebes" alone, with two Wiebeses around.
    let m = |text: &str| {
        vec![Mention {
            text: text.to_string(),
            label: Label::Per,
            start: 0,
            end: text.chars().count(),
        }]
    };
    let small: String = [
        annotate("w1", Some("2019-01-01"), "", &m("Eric Wiebes")),
        annotate("w2", Some("2019-01-02"), "", &m("Lorena Wiebes")),
        annotate("w3", Some("2019-01-03"), "", &m("Wiebes")),
    ]
    .iter()
    .map(|r| r.to_string() + "\n")
    .collect();
    let input = dir.path().join("small.jsonl");
    std::fs::write(&input, small).unwrap();
    let key = |out: &[Value], i: usize| {
        out[i]["entities"][0]["entity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let out = resolve(&input, &dir.path().join("c.jsonl"), &[]);
    assert_eq!(key(&out, 2), "PER:Wiebes");
    std::fs::write(
        &aliases,
        "[[entity]]\nname = \"Eric Wiebes\"\naliases = [\"Wiebes\"]\n",
    )
    .unwrap();
    let out = resolve(
        &input,
        &dir.path().join("d.jsonl"),
        &["--aliases", aliases.to_str().unwrap()],
    );
    assert_eq!(key(&out, 2), "PER:Eric Wiebes");
    assert_eq!(key(&out, 0), "PER:Eric Wiebes");
    assert_eq!(key(&out, 1), "PER:Lorena Wiebes");
}

/// The CoNLL-2002 Dutch articles (ned.train and ned.testa), regrouped per article with the
/// gold entities, resolved across the corpus. There is no gold for identity across articles:
/// the test prints how many surname-only person rows joined a full name, with examples, and
/// checks "Dehaene" → "Jean-Luc Dehaene".
#[test]
fn conll_articles_regrouped() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("../shared/data/conll2002-nl");
    if !dir.join("ned.train").exists() {
        println!(
            "skipped: {} not found (CoNLL-2002 Dutch data)",
            dir.display()
        );
        return;
    }
    let mut jsonl = String::new();
    for file in ["ned.train", "ned.testa"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for (n, doc) in text.split("-DOCSTART- -DOCSTART- O").enumerate() {
            let (mut words, mut mentions): (Vec<String>, Vec<Mention>) = (Vec::new(), Vec::new());
            let mut offset = 0usize;
            let mut open: Option<(usize, Label)> = None;
            let mut close = |open: &mut Option<(usize, Label)>, end: usize, words: &[String]| {
                if let Some((start, label)) = open.take() {
                    let joined = words.join(" ");
                    let text: String = joined.chars().skip(start).take(end - start).collect();
                    mentions.push(Mention {
                        text,
                        label,
                        start,
                        end,
                    });
                }
            };
            for line in doc.lines() {
                let cols: Vec<&str> = line.split(' ').collect();
                if cols.len() < 3 {
                    close(&mut open, offset.saturating_sub(1), &words);
                    continue;
                }
                let (word, tag) = (cols[0], cols[2]);
                let start = offset;
                if tag == "O" || tag.starts_with("B-") {
                    close(&mut open, start.saturating_sub(1), &words);
                }
                if let Some(l) = tag.strip_prefix("B-").or(tag.strip_prefix("I-"))
                    && open.is_none()
                {
                    open = Some((start, label(l)));
                }
                words.push(word.to_string());
                offset += word.chars().count() + 1;
            }
            close(&mut open, offset.saturating_sub(1), &words);
            if mentions.is_empty() {
                continue;
            }
            let rec = annotate(&format!("{file}-{n}"), None, &words.join(" "), &mentions);
            jsonl.push_str(&rec.to_string());
            jsonl.push('\n');
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("conll.jsonl");
    std::fs::write(&input, &jsonl).unwrap();
    let out = resolve(&input, &tmp.path().join("out.jsonl"), &[]);
    // Surname-only person names (one word, per article canonical) and where they went.
    let mut single: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rec in &out {
        for s in rec["entity_summary"].as_array().unwrap() {
            let c = s["canonical"].as_str().unwrap_or_default();
            if s["label"] == "PER" && !c.contains(' ') {
                single
                    .entry(c.to_string())
                    .or_default()
                    .insert(s["entity"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    let joined: Vec<(&String, &BTreeSet<String>)> = single
        .iter()
        .filter(|(c, k)| k.iter().any(|k| k != &format!("PER:{c}")))
        .collect();
    println!(
        "CoNLL-2002 ned.train+testa: {} articles; {} one-word person names, {} joined a fuller name; e.g. {:?}",
        out.len(),
        single.len(),
        joined.len(),
        joined.iter().take(12).collect::<Vec<_>>()
    );
    println!("Dehaene: {:?}", single.get("Dehaene"));
    if let Some(k) = single.get("Dehaene") {
        assert!(k.contains("PER:Jean-Luc Dehaene"), "{k:?}");
    }
}
