//! Tests of the corpus report: counts in the CSV and JSON tables, HTML escaping, and the HTML
//! page rendered in headless Chromium (skipped when Chromium is not installed).

use ontleed::report::{ReportOptions, ReportSummary, run};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EVIL: &str = r#"<img src=x onerror="document.title='pwned'">"#;
const EVIL_SCRIPT: &str = "</script><script>document.title='pwned2'</script>";

/// An annotated record with an entity summary: (canonical, label, mentions, id).
fn record(
    id: &str,
    date: Value,
    ents: &[(&str, &str, u64, Option<&str>)],
    topics: &[(&str, &str)],
) -> String {
    let summary: Vec<Value> = ents
        .iter()
        .enumerate()
        .map(|(i, (c, l, m, q))| {
            let mut v = json!({"canonical": c, "label": l, "mentions": m, "first_offset": i * 10});
            if let Some(q) = q {
                v["id"] = json!(q);
            }
            v
        })
        .collect();
    let topics: Vec<Value> = topics
        .iter()
        .map(|(i, l)| json!({"id": i, "label": l, "score": 0.9, "evidence": [l]}))
        .collect();
    json!({
        "id": id, "date": date, "title": format!("Artikel {id}"),
        "language": {"code": "nl", "name": "Dutch", "confidence": 0.99, "reliable": true},
        "entities": [], "entity_summary": summary, "topics": topics,
        "ontleed": {"version": "0.1.0", "ner_model": "test", "topics": "builtin"}
    })
    .to_string()
}

fn corpus() -> String {
    let vs = Some("Q30");
    let lines = [
        record(
            "a1",
            json!("2026-03-02"),
            &[("Vincent Pang", "PER", 3, None), ("Huawei", "ORG", 2, None), ("Verenigde Staten", "LOC", 1, vs)],
            &[("5g", "5G"), ("telecom", "Telecom")],
        ),
        record(
            "a2",
            json!("2026-03-09"),
            &[("Huawei", "ORG", 4, None), ("Ren Zhengfei", "PER", 2, None), ("Verenigde Staten", "LOC", 2, vs)],
            &[("5g", "5G")],
        ),
        record(
            "a3",
            json!("2026-03-10T08:00:00Z"),
            &[("Huawei", "ORG", 1, None), ("Europese Unie", "ORG", 1, Some("Q458")), (EVIL, "MISC", 1, None), (EVIL_SCRIPT, "<b>X</b>", 1, None)],
            &[("handel", "Handel & <i>economie</i>")],
        ),
        record("a4", Value::Null, &[("Vincent Pang", "PER", 1, None), ("Huawei", "ORG", 1, None)], &[]),
        record("a5", json!("not a date"), &[], &[]),
        json!({"id": "a6", "date": "2026-03-11", "language": {"code": "en"}, "entities": null, "topics": null,
               "skipped": {"reason": "language", "language": "en"}})
        .to_string(),
        json!({"line": 7, "error": {"kind": "json", "message": "expected value"}}).to_string(),
        "this is not json".to_string(),
        String::new(),
        // A record without entity_summary: the report falls back to the mention list.
        json!({"id": "a10", "date": "2026-03-16", "entities": [
            {"text": "Pang", "label": "PER", "start": 1, "end": 5, "score": 0.9, "canonical": "Vincent Pang"},
            {"text": "Pang", "label": "PER", "start": 9, "end": 13, "score": 0.9, "canonical": "Vincent Pang"},
            {"text": "VS", "label": "LOC", "start": 20, "end": 22, "score": 0.9, "canonical": "Verenigde Staten", "id": "Q30"}
        ], "topics": [{"id": "5g", "label": "5G", "score": 0.5, "evidence": []}]})
        .to_string(),
    ];
    lines.join("\n") + "\n"
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn options(dir: &Path, inputs: Vec<PathBuf>) -> ReportOptions {
    ReportOptions {
        inputs,
        csv: Some(dir.join("entities.csv")),
        json: Some(dir.join("entities.json")),
        html: Some(dir.join("report.html")),
        ..ReportOptions::default()
    }
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "rank",
            "canonical",
            "label",
            "id",
            "articles",
            "mentions",
            "first_date",
            "last_date",
            "cooccurring",
            "topics",
            "variants"
        ]
    );
    r.records().map(Result::unwrap).collect()
}

#[test]
fn counts_in_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write(&input, &corpus());
    let opts = options(dir.path(), vec![input]);
    let s = run(&opts).unwrap();
    assert_eq!(
        s,
        ReportSummary {
            records: 9,
            annotated: 6,
            skipped: 1,
            errors: 1,
            invalid: 1,
            too_long: 0,
            truncated: 0,
            undated: 2,
            entities: 7,
            mentions: 23,
            topics: 3,
            first_date: Some("2026-03-02".into()),
            last_date: Some("2026-03-16".into()),
        }
    );
    let text = s.to_string();
    assert!(
        text.contains("9 records") && text.contains("1 errors"),
        "{text}"
    );

    let rows = csv_rows(opts.csv.as_ref().unwrap());
    assert_eq!(rows.len(), 7);
    let row = |i: usize| rows[i].iter().collect::<Vec<_>>();
    assert_eq!(
        row(0)[..8],
        [
            "1",
            "Huawei",
            "ORG",
            "",
            "4",
            "8",
            "2026-03-02",
            "2026-03-10"
        ]
    );
    assert_eq!(
        row(1)[..8],
        [
            "2",
            "Vincent Pang",
            "PER",
            "",
            "3",
            "6",
            "2026-03-02",
            "2026-03-16"
        ]
    );
    assert_eq!(
        row(2)[..8],
        [
            "3",
            "Verenigde Staten",
            "LOC",
            "Q30",
            "3",
            "4",
            "2026-03-02",
            "2026-03-16"
        ]
    );
    assert_eq!(row(3)[..6], ["4", "Ren Zhengfei", "PER", "", "1", "2"]);
    assert!(
        row(0)[8].starts_with("Verenigde Staten (2); Vincent Pang (2)"),
        "{}",
        row(0)[8]
    );
    assert_eq!(row(0)[9], "5g (2); handel (1); telecom (1)");
    assert!(
        rows.iter().any(|r| &r[1] == EVIL),
        "names are kept verbatim in CSV"
    );

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(opts.json.as_ref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(doc["summary"]["annotated"], 6);
    assert_eq!(doc["summary"]["errors"], 1);
    let ents = doc["entities"].as_array().unwrap();
    assert_eq!(ents.len(), 7);
    assert_eq!(ents[0]["canonical"], "Huawei");
    assert_eq!(ents[0]["articles"], 4);
    assert_eq!(ents[0]["mentions"], 8);
    assert_eq!(
        ents[0]["weekly_mentions"],
        json!({"2026-W10": 2, "2026-W11": 5})
    );
    assert_eq!(
        ents[0]["cooccurring"][0],
        json!({"canonical": "Verenigde Staten", "label": "LOC", "id": "Q30", "articles": 2})
    );
    assert_eq!(ents[2]["id"], "Q30");
    assert!(ents[1].get("id").is_none());
    let topics = doc["topics"].as_array().unwrap();
    assert_eq!(topics[0]["id"], "5g");
    assert_eq!(topics[0]["articles"], 3);
    assert_eq!(
        topics[0]["weekly_articles"],
        json!({"2026-W10": 1, "2026-W11": 1, "2026-W12": 1})
    );
}

#[test]
fn gzip_and_several_inputs_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("in.jsonl");
    write(&plain, &corpus());
    let gz = dir.path().join("in.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(corpus().as_bytes()).unwrap();
    enc.finish().unwrap();
    let s = run(&options(dir.path(), vec![plain, gz])).unwrap();
    assert_eq!(
        (s.records, s.annotated, s.skipped, s.errors, s.invalid),
        (18, 12, 2, 2, 2)
    );
    assert_eq!(s.entities, 7);
    let rows = csv_rows(&dir.path().join("entities.csv"));
    assert_eq!(&rows[0][4], "8");
}

#[test]
fn missing_input_is_an_error_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let e = run(&options(dir.path(), vec![missing])).unwrap_err();
    assert!(format!("{e:#}").contains("nope.jsonl"), "{e:#}");
    assert!(run(&ReportOptions::default()).is_err());
}

/// Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
/// first) get a leading `'` in the CSV; the JSON keeps the names as they are.
#[test]
fn csv_cells_are_no_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let names = [
        r#"=HYPERLINK("http://example.com/x","klik")"#,
        "+31 20 123",
        "-2+3",
        "@SUM(A1)",
        "Gewoon",
    ];
    let ents: Vec<(&str, &str, u64, Option<&str>)> =
        names.iter().map(|n| (*n, "ORG", 1, None)).collect();
    let lines = [
        record(
            "f1",
            json!("2026-03-02"),
            &ents,
            &[("=cmd", "=cmd|' /C calc'!A0")],
        ),
        record(
            "f2",
            json!("2026-03-03"),
            &[("Gewoon", "ORG", 1, Some("-Q1"))],
            &[],
        ),
    ];
    write(&input, &(lines.join("\n") + "\n"));
    let opts = options(dir.path(), vec![input]);
    run(&opts).unwrap();
    let rows = csv_rows(opts.csv.as_ref().unwrap());
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "column {i} of {row:?}"
            );
        }
    }
    let canonical: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    for name in names {
        let expected = if name == "Gewoon" {
            name.to_string()
        } else {
            format!("'{name}")
        };
        assert!(
            canonical.contains(&expected.as_str()),
            "{expected} in {canonical:?}"
        );
    }
    assert!(
        rows.iter().any(|r| &r[1] == "Gewoon" && &r[3] == "'-Q1"),
        "ids too: {rows:?}"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(opts.json.as_ref().unwrap()).unwrap())
            .unwrap();
    assert!(
        doc["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["canonical"] == names[0]),
        "JSON keeps names verbatim"
    );
}

/// A gzip that breaks off: the lines before the break count, the tables are written, the next
/// input is read, and the command exits with status 1.
#[test]
fn truncated_gzip_input_is_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("cut.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..2000 {
        let name = format!("Bedrijf {}", i * 7919 % 10007);
        writeln!(
            enc,
            "{}",
            record(
                &format!("a{i}"),
                json!("2026-03-02"),
                &[(name.as_str(), "ORG", 1, None)],
                &[]
            )
        )
        .unwrap();
    }
    let full = enc.finish().unwrap();
    std::fs::write(&gz, &full[..full.len() / 2]).unwrap();
    let plain = dir.path().join("in.jsonl");
    write(&plain, &corpus());
    let opts = options(dir.path(), vec![gz.clone(), plain.clone()]);
    let s = run(&opts).unwrap();
    assert_eq!(s.truncated, 1);
    assert!(s.records > 500 && s.records < 2000 + 9, "{s:?}");
    assert_eq!(s.errors, 1, "the plain file was read after the break");
    assert!(csv_rows(opts.csv.as_ref().unwrap()).len() > 500);

    let csv = dir.path().join("cli.csv");
    let a = assert_cmd::Command::cargo_bin("ontleed")
        .unwrap()
        .args(["report", "--csv"])
        .arg(&csv)
        .arg(&gz)
        .arg(&plain)
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("breaks off"));
    assert!(csv_rows(&csv).len() > 500, "the CSV is written");
}

/// Lines longer than the limit are counted and skipped without being held in memory; lines
/// that are not JSON objects, too long, or a file that breaks off give exit status 1; error
/// records alone do not.
#[test]
fn report_line_limit_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let long = record(
        "long",
        json!("2026-03-02"),
        &[("L".repeat(5000).as_str(), "ORG", 1, None)],
        &[],
    );
    let short = record("s", json!("2026-03-02"), &[("Kort", "ORG", 1, None)], &[]);
    write(&input, &format!("{short}\n{long}\n{short}\n"));
    let opts = ReportOptions {
        max_line_bytes: 1000,
        ..options(dir.path(), vec![input.clone()])
    };
    let s = run(&opts).unwrap();
    assert_eq!((s.records, s.too_long, s.annotated), (2, 1, 2), "{s:?}");

    let ontleed = || assert_cmd::Command::cargo_bin("ontleed").unwrap();
    let csv = dir.path().join("out.csv");
    ontleed()
        .args(["report", "--max-line-bytes", "1000", "--csv"])
        .arg(&csv)
        .arg(&input)
        .assert()
        .code(1);
    ontleed()
        .args(["report", "--csv"])
        .arg(&csv)
        .arg(&input)
        .assert()
        .code(0);
    let errors = format!(
        "{short}\n{}\n",
        json!({"line": 2, "source": "-", "error": {"kind": "invalid_json", "message": "x"}})
    );
    ontleed()
        .args(["report", "--csv"])
        .arg(&csv)
        .arg("-")
        .write_stdin(errors)
        .assert()
        .code(0);
    ontleed()
        .args(["report", "--csv"])
        .arg(&csv)
        .arg("-")
        .write_stdin(format!("{short}\nnot json\n"))
        .assert()
        .code(1);
}

#[test]
fn html_escapes_names_from_data() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write(&input, &corpus());
    let opts = options(dir.path(), vec![input]);
    run(&opts).unwrap();
    let html = std::fs::read_to_string(opts.html.as_ref().unwrap()).unwrap();
    assert!(
        !html.contains("<img"),
        "raw markup from data must not reach the page"
    );
    assert!(!html.contains("<b>X"), "labels are escaped too");
    assert!(
        !html.contains("<i>economie"),
        "topic labels are escaped too"
    );
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"));
    for forbidden in ["<link", "src=\"http", "@import", "url(http"] {
        assert!(!html.contains(forbidden), "page must not load {forbidden}");
    }
}

#[test]
fn html_with_zero_and_one_week() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("empty.jsonl");
    write(&input, "");
    let opts = options(dir.path(), vec![input.clone()]);
    let s = run(&opts).unwrap();
    assert_eq!(s, ReportSummary::default());
    let html = std::fs::read_to_string(opts.html.as_ref().unwrap()).unwrap();
    assert!(html.contains("No dated articles") && html.contains("Fewer than two entities"));
    assert_eq!(csv_rows(opts.csv.as_ref().unwrap()).len(), 0);

    let one = record(
        "x",
        json!("2026-05-05"),
        &[("A", "PER", 1, None), ("B", "ORG", 2, None)],
        &[("t", "T")],
    );
    write(&input, &one);
    run(&opts).unwrap();
    let html = std::fs::read_to_string(opts.html.as_ref().unwrap()).unwrap();
    assert!(html.contains("2026-W19"));
    assert!(!html.contains("NaN") && !html.contains("inf"));

    // A stray epoch date does not stretch the charts over 56 years.
    let old = record("y", json!("1970-01-01"), &[("A", "PER", 1, None)], &[]);
    write(&input, &format!("{one}\n{old}\n"));
    run(&opts).unwrap();
    let html = std::fs::read_to_string(opts.html.as_ref().unwrap()).unwrap();
    assert!(html.contains("Only the last 261 weeks are drawn (the data start in 1970-W01)"));
    assert!(html.len() < 400_000, "{}", html.len());
}

// ---- Headless Chromium ----

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs Chromium headless with extra arguments; returns (stdout, stderr).
fn chromium(profile: &Path, args: &[&str]) -> (String, String) {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

/// Console output of the page (Chromium logs every console message and uncaught exception as a
/// CONSOLE line); the page itself logs nothing, so any such line is an error.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn html_renders_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: chromium not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write(&input, &corpus());
    let opts = options(dir.path(), vec![input]);
    run(&opts).unwrap();
    let url = format!("file://{}", opts.html.as_ref().unwrap().display());
    let profile = dir.path().join("profile");

    let (dom, stderr) = chromium(&profile, &["--dump-dom", &url]);
    assert!(
        console_lines(&stderr).is_empty(),
        "console errors: {:#?}",
        console_lines(&stderr)
    );
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    for name in [
        "Huawei",
        "Vincent Pang",
        "Verenigde Staten",
        "Ren Zhengfei",
        "Europese Unie",
    ] {
        assert!(dom.contains(name), "{name} is on the page");
    }
    assert!(dom.contains("7 of 7 shown"));
    assert!(
        dom.contains("&lt;img src=x"),
        "the evil name is shown as text"
    );
    assert!(!dom.contains("<img"), "no element was injected");
    assert!(
        dom.contains("<title>ontleed report</title>"),
        "the title was not changed by injected script"
    );
    assert!(dom.contains("<svg class=\"chart\"") && dom.contains("<svg class=\"matrix\""));

    // The search box filters rows (prefilled from the URL hash).
    let (dom, stderr) = chromium(&profile, &["--dump-dom", &format!("{url}#q=pang")]);
    assert!(
        console_lines(&stderr).is_empty(),
        "console errors: {:#?}",
        console_lines(&stderr)
    );
    assert!(dom.contains("1 of 7 shown"), "search filters the table");
    assert_eq!(dom.matches("<tr hidden=\"\">").count(), 6);

    let png = std::env::var_os("ONTLEED_REPORT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("report.png"));
    let shot = format!("--screenshot={}", png.display());
    let (_, stderr) = chromium(&profile, &[&shot, "--window-size=1280,2000", &url]);
    assert!(
        console_lines(&stderr).is_empty(),
        "console errors: {:#?}",
        console_lines(&stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "screenshot written"
    );
}

#[test]
fn empty_report_renders_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: chromium not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write(
        &input,
        "\n{\"line\": 1, \"error\": {\"kind\": \"io\", \"message\": \"x\"}}\n",
    );
    let opts = options(dir.path(), vec![input]);
    run(&opts).unwrap();
    let url = format!("file://{}", opts.html.as_ref().unwrap().display());
    let (dom, stderr) = chromium(&dir.path().join("profile"), &["--dump-dom", &url]);
    assert!(
        console_lines(&stderr).is_empty(),
        "console errors: {:#?}",
        console_lines(&stderr)
    );
    assert!(dom.contains("data-ready=\"true\"") && dom.contains("0 of 0 shown"));
}
