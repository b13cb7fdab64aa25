//! Training and tagging with the transformer NER model (`ontleed train --arch transformer`):
//! the loss goes down, a resumed run equals an uninterrupted one, training continues from a
//! fine-tuned model, training fits a tag-bigram prior (`fit-transitions` refits it), the saved
//! model loads through `--ner-model DIR` in `annotate` and `eval`, and long sentences are
//! windowed.
//!
//! Needs the weights: `scripts/fetch-e5.sh` (or `E5_Q4_BIN=/path/to/e5-small-q4.bin`); without
//! them the tests print SKIPPED and pass. Run in release (debug builds are very slow):
//!
//! ```text
//! cargo test --release --features transformer --test transformer_ner
//! ```
#![cfg(feature = "train")]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use assert_cmd::Command;
use ontleed::ner::Recognizer;
use ontleed::ner::transformer::TransformerNer;
use ontleed::ner::transformer::ner::read_transitions;
use ontleed_train::transformer::TrainOptions;
use ontleed_train::transformer::convert::convert;
use ontleed_train::transformer::train::{TRANSITION_WEIGHTS, train};
use serde_json::Value;

fn manifest_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn q4_bin() -> PathBuf {
    std::env::var_os("E5_Q4_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/e5/e5-small-q4.bin"))
}

/// The converted base model (converted once, kept between runs); `None` when the weights are
/// missing.
fn base() -> Option<&'static Path> {
    static BASE: OnceLock<Option<PathBuf>> = OnceLock::new();
    BASE.get_or_init(|| {
        let bin = q4_bin();
        if !bin.exists() {
            println!(
                "SKIPPED: run scripts/fetch-e5.sh ({} is missing)",
                bin.display()
            );
            return None;
        }
        let dir = manifest_dir().join("target/e5/ner-test-base");
        if !dir.join("tokenizer.json").exists() {
            convert(&bin, &dir).unwrap();
        }
        Some(dir)
    })
    .as_deref()
}

/// Training runs one at a time: each uses both cores, and they share nothing else.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tiny CoNLL-2002 style training set: `n` sentences over a few documents.
fn conll(n: usize) -> String {
    let sentences = [
        "Jan B-PER\nPeeters I-PER\nwerkt O\nbij O\nPhilips B-ORG\nin O\nEindhoven B-LOC\n. O\n",
        "De O\nBelgische B-MISC\nregering O\nvergaderde O\nin O\nBrussel B-LOC\n. O\n",
        "Marie B-PER\nJanssens I-PER\nspeelde O\nvoor O\nAnderlecht B-ORG\n. O\n",
        "Het O\nWK B-MISC\nvoetbal O\nbegint O\nin O\nParijs B-LOC\n. O\n",
        "Volgens O\nDe B-ORG\nMorgen I-ORG\nis O\nhet O\nrustig O\nin O\nGent B-LOC\n. O\n",
        "Minister O\nVerhofstadt B-PER\nsprak O\nmet O\nde O\nEuropese B-ORG\nCommissie I-ORG\n. O\n",
    ];
    let mut out = String::new();
    for i in 0..n {
        if i % 4 == 0 {
            out.push_str("-DOCSTART- -DOCSTART- O\n\n");
        }
        out.push_str(sentences[i % sentences.len()]);
        out.push('\n');
    }
    out
}

struct Data {
    dir: tempfile::TempDir,
}

impl Data {
    fn new(train_sentences: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.conll"), conll(train_sentences)).unwrap();
        std::fs::write(dir.path().join("dev.conll"), conll(6)).unwrap();
        Self { dir }
    }

    fn options(&self, base: &Path, out: &str) -> TrainOptions {
        let p = self.dir.path();
        let mut o = TrainOptions::new(
            base.to_path_buf(),
            vec![p.join("train.conll")],
            p.join("dev.conll"),
            p.join(out),
        );
        o.batch_size = 4;
        o.max_len = 64;
        o.context_sentences = 1;
        o.log_steps = 100;
        o
    }

    /// Options for `steps` updates at a constant `lr` without dropout: with 4 sentences and
    /// batches of 4, every update sees the same batch, so the losses are comparable.
    fn repeated(&self, base: &Path, out: &str, steps: usize, lr: f64) -> TrainOptions {
        let mut o = self.options(base, out);
        o.max_steps = Some(steps);
        o.warmup = 0.0;
        o.lr = lr;
        o.dropout = 0.0;
        o
    }
}

#[test]
fn loss_goes_down_on_a_repeated_batch() {
    let Some(base) = base() else { return };
    let _guard = serial();
    let data = Data::new(4);
    let o = data.repeated(base, "loss", 8, 3e-4);
    let r = train(&o).unwrap();
    assert_eq!(r.steps, 8);
    assert!(r.finished);
    let first = r.losses[0].1;
    let last = r.losses.last().unwrap().1;
    println!(
        "loss {first:.4} → {last:.4}, {:.2} s/update",
        r.seconds_per_step
    );
    assert!(last < 0.7 * first, "loss {first} → {last}");
    assert!(
        r.vocab_size < 10_000,
        "vocabulary not trimmed: {}",
        r.vocab_size
    );
    let fit = r.transitions.expect("a finished run fits the prior");
    assert_eq!(fit.scores.len(), TRANSITION_WEIGHTS.len());
    assert_eq!(
        read_transitions(&o.out.join("config.json"), 9).unwrap(),
        Some(fit.transitions)
    );
}

#[test]
fn training_continues_from_a_fine_tuned_model() {
    use ontleed_train::transformer::modeldir::quantize_dir;
    let Some(base) = base() else { return };
    let _guard = serial();
    let data = Data::new(4);
    let a = data.repeated(base, "first", 8, 3e-4);
    let first = train(&a).unwrap();

    // Each update's loss is measured before its step, on the same batch (no dropout), so a run
    // continued from a model starts at the loss that model would have had next.
    let continued = |dir: &Path, out: &str| {
        let r = train(&data.repeated(dir, out, 1, 1e-5)).unwrap();
        assert_eq!(r.vocab_size, first.vocab_size, "{out}");
        r.losses[0].1
    };
    let losses: Vec<f64> = first.losses.iter().map(|l| l.1).collect();
    println!("first run's losses {losses:.4?}");
    // The last checkpoint (f32): below the loss of the last update.
    let from_ckpt = continued(&a.out.join("checkpoint"), "from-checkpoint");
    println!("from the checkpoint: {from_ckpt:.4}");
    assert!(from_ckpt < losses[7], "{from_ckpt} vs {losses:?}");
    // The best model in OUT (f16) and its Q8_0 copy: the loss after the saved update.
    let saved = first.best.as_ref().unwrap().step;
    if saved < losses.len() {
        let q8 = data.dir.path().join("first-q8");
        quantize_dir(&a.out, &q8, candle_core::quantized::GgmlDType::Q8_0).unwrap();
        for (dir, out) in [(a.out.clone(), "from-out"), (q8, "from-q8")] {
            let loss = continued(&dir, out);
            println!(
                "{out}: {loss:.4}, the first run after update {saved}: {:.4}",
                losses[saved]
            );
            assert!(
                (loss - losses[saved]).abs() < 0.02 * losses[saved],
                "{out}: {loss}"
            );
        }
    }

    // A directory whose labels are not the 9 IOB2 tags is refused.
    let odd = data.dir.path().join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(a.out.join(f), odd.join(f)).unwrap();
    }
    std::fs::write(odd.join("labels.json"), r#"["O","B-PER","I-PER"]"#).unwrap();
    let mut c = data.options(&odd, "odd-out");
    c.max_steps = Some(1);
    let err = format!("{:#}", train(&c).unwrap_err());
    assert!(err.contains("labels"), "{err}");
}

fn read_weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let t = candle_core::safetensors::load(path, &candle_core::Device::Cpu).unwrap();
    let mut v: Vec<(String, Vec<f32>)> = t
        .into_iter()
        .map(|(k, v)| {
            let v = v
                .to_dtype(candle_core::DType::F32)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            (k, v)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn resuming_equals_an_uninterrupted_run() {
    let Some(base) = base() else { return };
    let _guard = serial();
    let data = Data::new(24);
    // 24 sentences, batches of 4: 6 updates per epoch; 8 updates cross an epoch end.
    let steps = 8;
    let mut a = data.options(base, "straight");
    a.max_steps = Some(steps);
    let straight = train(&a).unwrap();
    assert_eq!(straight.losses.len(), steps);

    let mut b = data.options(base, "interrupted");
    b.max_steps = Some(steps);
    b.stop_after_steps = Some(3);
    let first = train(&b).unwrap();
    assert!(!first.finished);
    assert_eq!(first.steps, 3);
    b.stop_after_steps = None;
    b.resume = true;
    let second = train(&b).unwrap();
    assert!(second.finished);
    let losses: Vec<(usize, f64)> = first.losses.iter().chain(&second.losses).copied().collect();
    assert_eq!(losses, straight.losses, "losses differ");

    let wa = read_weights(
        &data
            .dir
            .path()
            .join("straight/checkpoint/model.safetensors"),
    );
    let wb = read_weights(
        &data
            .dir
            .path()
            .join("interrupted/checkpoint/model.safetensors"),
    );
    assert_eq!(wa.len(), wb.len());
    for ((na, va), (nb, vb)) in wa.iter().zip(&wb) {
        assert_eq!(na, nb);
        assert!(va == vb, "{na} differs after resuming");
    }
    let ma = read_weights(
        &data
            .dir
            .path()
            .join("straight/checkpoint/optimizer.safetensors"),
    );
    let mb = read_weights(
        &data
            .dir
            .path()
            .join("interrupted/checkpoint/optimizer.safetensors"),
    );
    assert!(ma == mb, "optimizer moments differ after resuming");

    // A changed setting is refused.
    let mut c = data.options(base, "interrupted");
    c.max_steps = Some(steps);
    c.resume = true;
    c.lr = 1e-3;
    let err = train(&c).unwrap_err().to_string();
    assert!(err.contains("lr"), "{err}");
}

fn ontleed() -> Command {
    Command::cargo_bin("ontleed").expect("binary builds")
}

/// Trains a small model through the command line; returns its directory.
fn cli_model(data: &Data) -> PathBuf {
    let base = base().unwrap();
    let out = data.dir.path().join("cli");
    let p = data.dir.path();
    ontleed()
        .args(["train", "--arch", "transformer", "--base"])
        .arg(base)
        .arg("--train")
        .arg(p.join("train.conll"))
        .arg("--dev")
        .arg(p.join("dev.conll"))
        .arg("--out")
        .arg(&out)
        .args([
            "--max-steps",
            "6",
            "--lr",
            "3e-4",
            "--batch-size",
            "4",
            "--max-len",
            "64",
            "--context-sentences",
            "1",
            "--vocab",
            "trim",
            "--threads",
            "2",
        ])
        .assert()
        .success();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "labels.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    out
}

#[test]
fn saved_model_works_in_eval_annotate_and_tag() {
    if base().is_none() {
        return;
    }
    let _guard = serial();
    let data = Data::new(16);
    let model = cli_model(&data);

    let eval = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&model)
        .arg(data.dir.path().join("dev.conll"))
        .assert()
        .success();
    let report = String::from_utf8(eval.get_output().stdout.clone()).unwrap();
    assert!(
        report.starts_with("processed 45 tokens with 13 phrases;"),
        "{report}"
    );

    let article = serde_json::json!({
        "id": "t1",
        "text": "Jan Peeters werkt bij Philips in Eindhoven. De Belgische regering vergaderde in Brussel.\n\nMarie Janssens speelde voor Anderlecht."
    });
    let annotate = ontleed()
        .args(["annotate", "-q", "--ner-model"])
        .arg(&model)
        .arg("-")
        .write_stdin(format!("{article}\n"))
        .assert()
        .success();
    let out = String::from_utf8(annotate.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let record: Value = serde_json::from_str(lines[0]).unwrap();
    let text: Vec<char> = record["text"].as_str().unwrap().chars().collect();
    for e in record["entities"].as_array().expect("entities array") {
        let (s, t) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            text[s..t].iter().collect::<String>(),
            e["text"].as_str().unwrap()
        );
        let score = e["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert!(["PER", "ORG", "LOC", "MISC"].contains(&e["label"].as_str().unwrap()));
    }

    // Training fitted the tag-bigram prior into config.json; fit-transitions fits it again,
    // prints every weight tried, and a broken prior is a clear error.
    let config = model.join("config.json");
    let fitted = read_transitions(&config, 9)
        .unwrap()
        .expect("a fitted prior");
    assert!(TRANSITION_WEIGHTS.contains(&fitted.weight));
    let fit = ontleed()
        .args(["fit-transitions", "--ner-model"])
        .arg(&model)
        .arg("--train")
        .arg(data.dir.path().join("train.conll"))
        .arg("--dev")
        .arg(data.dir.path().join("dev.conll"))
        .assert()
        .success();
    let out = String::from_utf8(fit.get_output().stdout.clone()).unwrap();
    assert_eq!(
        out.lines().count(),
        1 + TRANSITION_WEIGHTS.len() + 1,
        "{out}"
    );
    assert_eq!(out.matches("(kept)").count(), 1, "{out}");
    assert_eq!(read_transitions(&config, 9).unwrap(), Some(fitted));
    let text = std::fs::read_to_string(&config).unwrap();
    let mut broken: Value = serde_json::from_str(&text).unwrap();
    broken["ontleed"]["transitions"]["log_probs"] = serde_json::json!([[0.0]]);
    std::fs::write(&config, broken.to_string()).unwrap();
    let bad = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&model)
        .arg(data.dir.path().join("dev.conll"))
        .assert()
        .code(2);
    let err = String::from_utf8(bad.get_output().stderr.clone()).unwrap();
    assert!(err.contains("transition table"), "{err}");
    std::fs::write(&config, text).unwrap();

    let tagged = ontleed()
        .args(["tag", "--ner-model"])
        .arg(&model)
        .arg(data.dir.path().join("dev.conll"))
        .assert()
        .success();
    let out = String::from_utf8(tagged.get_output().stdout.clone()).unwrap();
    let token_lines = out
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("-DOCSTART-"))
        .count();
    assert_eq!(token_lines, 45);

    // A directory that is not a model is a clear error, not a panic.
    let empty = data.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("config.json"), "{}").unwrap();
    std::fs::write(empty.join("model.safetensors"), "x").unwrap();
    std::fs::write(empty.join("tokenizer.json"), "{}").unwrap();
    std::fs::write(empty.join("labels.json"), "[]").unwrap();
    let bad = ontleed()
        .args(["eval", "--ner-model"])
        .arg(&empty)
        .arg(data.dir.path().join("dev.conll"))
        .assert()
        .code(2);
    let err = String::from_utf8(bad.get_output().stderr.clone()).unwrap();
    assert!(err.contains("cannot load the transformer model"), "{err}");
}

#[test]
fn a_600_word_sentence_is_windowed() {
    if base().is_none() {
        return;
    }
    let _guard = serial();
    let data = Data::new(8);
    let model_dir = cli_model(&data);
    let model = TransformerNer::load(&model_dir).unwrap();
    let vocab = [
        "Jan",
        "Peeters",
        "werkt",
        "bij",
        "Philips",
        "in",
        "Eindhoven",
        ",",
        "en",
        "Marie",
        "speelde",
        "voor",
        "Anderlecht",
        "onderbroken",
        "donderdag",
    ];
    let long: Vec<&str> = (0..600).map(|i| vocab[(i * 7) % vocab.len()]).collect();
    let short = vec!["Jan", "Peeters", "werkt", "in", "Gent", "."];
    let doc = vec![short.clone(), long.clone(), short.clone(), vec![]];
    let t = std::time::Instant::now();
    let tags = model.tag_document(&doc).unwrap();
    println!("tagged 612 words in {:.2} s", t.elapsed().as_secs_f64());
    assert_eq!(tags.len(), 4);
    for (s, t) in doc.iter().zip(&tags) {
        assert_eq!(s.len(), t.len());
        let mut prev = ontleed::ner::Tag::O;
        for x in t {
            assert!((0.0..=1.0).contains(&x.score) && x.score > 0.0);
            assert!(x.tag.may_follow(prev), "{prev} then {}", x.tag);
            prev = x.tag;
        }
    }
    let pieces = model
        .tagger()
        .doc_pieces(std::slice::from_ref(&long))
        .unwrap();
    let n: usize = pieces[0].iter().map(Vec::len).sum();
    assert!(n > 2 * 64, "the long sentence has only {n} pieces");
}

#[test]
fn trimmed_vocabulary_tokenizes_like_the_full_one() {
    let Some(base) = base() else { return };
    use ontleed_train::transformer::vocab::trim;
    let full = tokenizers::Tokenizer::from_file(base.join("tokenizer.json")).unwrap();
    // The words of the sample articles, split at spaces.
    let text: String = std::fs::read_to_string(manifest_dir().join("data/samples/articles.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
                + " "
        })
        .collect();
    let words: Vec<&str> = text.split_whitespace().collect();
    let ids = |t: &tokenizers::Tokenizer, w: &str| -> Vec<u32> {
        t.encode(w, false).unwrap().get_ids().to_vec()
    };
    let used: std::collections::BTreeSet<u32> = words.iter().flat_map(|w| ids(&full, w)).collect();
    let trimmed = trim(&full, &used).unwrap();
    assert!(trimmed.old_ids.len() < 20_000, "{}", trimmed.old_ids.len());
    for w in &words {
        let new: Vec<u32> = ids(&trimmed.tokenizer, w)
            .iter()
            .map(|&i| trimmed.old_ids[i as usize])
            .collect();
        assert_eq!(new, ids(&full, w), "{w:?}");
    }
    // Special tokens keep their ids; unseen European text still avoids <unk> (id 3).
    let enc = trimmed
        .tokenizer
        .encode("Zoë ŝtelis ĉokoladon €5", true)
        .unwrap();
    assert_eq!(enc.get_ids()[0], 0);
    assert_eq!(*enc.get_ids().last().unwrap(), 2);
    assert!(!enc.get_ids().contains(&3), "{:?}", enc.get_tokens());
}

/// Inference speed of a trained model directory on a CoNLL file, one document at a time as
/// `ontleed eval` does (ignored by default; run in release):
///
/// ```text
/// ONTLEED_NER_DIR=target/tr-exp/partial ONTLEED_CONLL=../shared/data/conll2002-nl/ned.testa \
///   cargo test --release --features transformer --test transformer_ner -- --ignored --nocapture
/// ```
#[test]
#[ignore = "benchmark; needs ONTLEED_NER_DIR and ONTLEED_CONLL"]
fn bench_inference() {
    let (Some(dir), Some(file)) = (
        std::env::var_os("ONTLEED_NER_DIR"),
        std::env::var_os("ONTLEED_CONLL"),
    ) else {
        println!("SKIPPED: set ONTLEED_NER_DIR and ONTLEED_CONLL");
        return;
    };
    let model = TransformerNer::load(Path::new(&dir)).unwrap();
    let docs = ontleed::ner::conll::read_file(Path::new(&file)).unwrap();
    let docs: Vec<Vec<Vec<&str>>> = docs
        .iter()
        .map(|d| {
            d.iter()
                .map(|s| s.words.iter().map(String::as_str).collect())
                .collect()
        })
        .collect();
    let (mut words, mut pieces) = (0usize, 0usize);
    for d in &docs {
        for s in model.tagger().doc_pieces(d).unwrap() {
            words += s.len();
            pieces += s.iter().map(Vec::len).sum::<usize>();
        }
    }
    let t = std::time::Instant::now();
    let mut tagged = 0;
    for d in &docs {
        tagged += model
            .tag_document(d)
            .unwrap()
            .iter()
            .map(Vec::len)
            .sum::<usize>();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(tagged, words);
    println!(
        "{} documents, {words} words, {pieces} word pieces in {secs:.1} s: {:.0} words/s, {:.0} pieces/s \
         (pieces of the sentences themselves; context and window overlap not counted)",
        docs.len(),
        words as f64 / secs,
        pieces as f64 / secs
    );
}

#[test]
fn quantized_and_averaged_models_keep_weights_and_tags() {
    use ontleed::ner::transformer::files::QUANT_WEIGHTS_FILE;
    use ontleed::ner::transformer::ner::read_weights;
    use ontleed_train::transformer::modeldir::quantize_dir;
    if base().is_none() {
        return;
    }
    let _guard = serial();
    let data = Data::new(16);
    let model = cli_model(&data);
    let q8 = data.dir.path().join("q8");
    ontleed()
        .args(["quantize", "--ner-model"])
        .arg(&model)
        .arg("--out")
        .arg(&q8)
        .assert()
        .success();
    assert!(q8.join(QUANT_WEIGHTS_FILE).is_file());
    assert!(!q8.join("model.safetensors").exists());
    assert!(quantize_dir(&model, &model, candle_core::quantized::GgmlDType::Q8_0).is_err());

    // Same tensors; Q8_0 rounds each weight to within half a step of its block's scale.
    let cpu = candle_core::Device::Cpu;
    let a = read_weights(&model, &cpu).unwrap();
    let b = read_weights(&q8, &cpu).unwrap();
    let mut names_a: Vec<&String> = a.keys().collect();
    let mut names_b: Vec<&String> = b.keys().collect();
    names_a.sort();
    names_b.sort();
    assert_eq!(names_a, names_b);
    for (name, t) in &a {
        let u = &b[name];
        assert_eq!(t.dims(), u.dims(), "{name}");
        let max = t
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let diff = (t - u).unwrap().abs().unwrap().max_all().unwrap();
        let diff = diff.to_scalar::<f32>().unwrap();
        assert!(diff <= max / 127.0 + 1e-6, "{name}: {diff} vs max {max}");
    }

    // Tags on the dev file: (nearly) the same.
    let tag = |dir: &Path| {
        let out = ontleed()
            .args(["tag", "--format", "conll", "--ner-model"])
            .arg(dir)
            .arg(data.dir.path().join("dev.conll"))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let (ta, tb) = (tag(&model), tag(&q8));
    let lines: Vec<(&str, &str)> = ta.lines().zip(tb.lines()).collect();
    assert_eq!(ta.lines().count(), tb.lines().count());
    let same = lines.iter().filter(|(x, y)| x == y).count();
    assert!(
        same * 10 >= lines.len() * 9,
        "{same} of {} lines agree",
        lines.len()
    );

    // `ontleed average`: the mean of the model and its Q8_0 copy, in f32, without a prior.
    let avg = data.dir.path().join("avg");
    ontleed()
        .args(["average", "--ner-model"])
        .arg(&model)
        .arg(&q8)
        .arg("--out")
        .arg(&avg)
        .assert()
        .success();
    let c = read_weights(&avg, &cpu).unwrap();
    assert_eq!(c.len(), a.len());
    for (name, t) in &a {
        let mean = ((t + &b[name]).unwrap() / 2.0).unwrap();
        let diff = (mean - &c[name]).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6, "{name}");
    }
    let config = |dir: &Path| std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(config(&model).contains("\"transitions\""));
    assert!(!config(&avg).contains("transitions"), "{}", config(&avg));
    assert_eq!(
        std::fs::read(avg.join("tokenizer.json")).unwrap(),
        std::fs::read(model.join("tokenizer.json")).unwrap()
    );
    // One model, or models with other labels, are refused.
    ontleed()
        .args(["average", "--out"])
        .arg(data.dir.path().join("avg1"))
        .arg("--ner-model")
        .arg(&model)
        .assert()
        .failure();
    std::fs::write(avg.join("labels.json"), r#"["O","B-PER","I-PER"]"#).unwrap();
    let out = ontleed()
        .args(["average", "--out"])
        .arg(data.dir.path().join("avg2"))
        .arg("--ner-model")
        .arg(&model)
        .arg(&avg)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("differ in tokenizer or labels"), "{err}");
}
