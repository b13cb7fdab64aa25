//! Fine-tuning the e5 encoder for NER (`ontleed train --arch transformer`).
//!
//! The recipe: token classification labelled at each word's first piece, AdamW (weight decay
//! 0.01, not on biases and LayerNorm weights), linear warm-up then linear decay to zero,
//! gradient clipping at a global norm of 1.0, dropout 0.1, batches of sentences of similar
//! length, FLERT-style document context ([`ontleed::ner::transformer::window`]). Everything random (the head's
//! initialisation, the batch order, the dropout masks) comes from the seed.
//!
//! The vocabulary is trimmed to the pieces the training, development and `--vocab-from` data
//! use ([`super::vocab`]) unless `--vocab full` or `--vocab frozen` is asked for.
//!
//! The base may also be a fine-tuned model directory (`OUT` of an earlier run, or a shipped model
//! such as `models/accurate/`, Q8_0 matrices expanded to f32): training then continues from its
//! encoder, head and tokenizer, with a fresh optimizer and learning-rate schedule, e.g. to adapt
//! it to annotated text of one's own.
//!
//! `OUT/checkpoint/` is rewritten at each epoch end, every `--checkpoint-steps` updates and when
//! a run stops early (`--stop-after-steps`, `--time-limit`). It is itself a loadable model
//! directory (f32 weights) plus `optimizer.safetensors` (AdamW moments) and `state.json`
//! (step, position in the epoch, dropout generator state, best score, the run's settings);
//! `--resume` continues from it exactly: the same batches, masks and updates as a run that was
//! never interrupted. The development set is scored (conlleval rules) at each epoch end and at
//! the last step; the best model so far is written to `OUT` (`config.json`,
//! `model.safetensors` in f16 unless `--save-f32`, `tokenizer.json`, `labels.json`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use super::ops::{Dropout, DropoutState};
use super::optim::{AdamW, AdamWConfig};
use super::vocab;
use ontleed::ner::conll::{self, Doc};
use ontleed::ner::eval::Scorer;
use ontleed::ner::transformer::files::{CONFIG_FILE, LABELS_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use ontleed::ner::transformer::model::{Config, Weights};
use ontleed::ner::transformer::ner::{
    Decoding, ENCODER_PREFIX, HEAD_PREFIX, Inputs, Settings, Specials, Tagger, TokenClassifier,
    Transitions, decode, read_labels, word_pieces,
};
use ontleed::ner::transformer::window::{self, Layout, Segment, WordPieces};
use ontleed::ner::{Tag, TokenTag};

/// Name of the checkpoint directory inside `OUT`.
pub const CHECKPOINT_DIR: &str = "checkpoint";
/// Optimizer moments inside the checkpoint.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// Training state inside the checkpoint.
pub const STATE_FILE: &str = "state.json";

/// Name of the word-embedding table in a token-classification model.
const WORD_EMBEDDINGS: &str = "bert.embeddings.word_embeddings.weight";

/// Sentences per length-sorted pool when batching (in batches).
const POOL_BATCHES: usize = 50;

/// What happens to the word-embedding table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VocabMode {
    /// Keep only the pieces the data uses, and train them.
    #[default]
    Trim,
    /// Keep and train all 250k rows.
    Full,
    /// Keep all rows and do not train them.
    Frozen,
}

/// Options of `ontleed train --arch transformer`.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Base encoder directory (`config.json`, `model.safetensors`, `tokenizer.json`), as
    /// written by [`super::convert::convert`], or a fine-tuned model directory (with
    /// `labels.json`) whose training continues. Not read when resuming.
    pub base: PathBuf,
    /// Training files (CoNLL).
    pub train: Vec<PathBuf>,
    /// Development file: scored at each epoch end; the best model is kept.
    pub dev: PathBuf,
    /// Output directory.
    pub out: PathBuf,
    /// Passes over the training data (ignored when `max_steps` is given).
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Sentences (segments) per batch.
    pub batch_size: usize,
    /// Fraction of the updates spent warming up.
    pub warmup: f64,
    /// Seed of everything random.
    pub seed: u64,
    /// Longest sequence in pieces.
    pub max_len: usize,
    /// Neighbouring sentences used as context on each side.
    pub context_sentences: usize,
    /// Pack consecutive sentences into one sequence (see [`ontleed::ner::transformer::window`]).
    pub pack_sentences: bool,
    /// Total updates (the learning-rate schedule is laid out over these).
    pub max_steps: Option<usize>,
    /// Stop (with a checkpoint) once this many updates are done, without changing the schedule.
    pub stop_after_steps: Option<usize>,
    /// Stop (with a checkpoint) before this much wall time is used up.
    pub time_limit: Option<Duration>,
    /// Write a checkpoint every this many updates (besides each epoch end).
    pub checkpoint_steps: Option<usize>,
    /// Continue from `OUT/checkpoint`.
    pub resume: bool,
    /// What happens to the embedding table.
    pub vocab: VocabMode,
    /// Extra CoNLL files whose pieces are kept when trimming.
    pub vocab_from: Vec<PathBuf>,
    /// Dropout probability (hidden states, attention, classifier input).
    pub dropout: f32,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Gradient clipping threshold (global L2 norm).
    pub max_grad_norm: f64,
    /// Print a progress line every this many updates.
    pub log_steps: usize,
    /// Save the final model in f32 instead of f16.
    pub save_f32: bool,
    /// Where to train.
    pub device: Device,
}

impl TrainOptions {
    /// The sequence layout these options train with.
    fn settings(&self) -> Settings {
        Settings {
            max_len: self.max_len,
            context_sentences: self.context_sentences,
            pack_sentences: self.pack_sentences,
        }
    }

    /// Checks that `--max-len` fits the positions of a model with `config`.
    fn check_max_len(&self, config: &Config) -> Result<()> {
        ensure!(
            self.max_len >= 3 && self.max_len <= config.max_position_embeddings,
            "--max-len {} is outside 3..={} (the model's positions)",
            self.max_len,
            config.max_position_embeddings
        );
        Ok(())
    }

    /// Options with the reference recipe's defaults.
    pub fn new(base: PathBuf, train: Vec<PathBuf>, dev: PathBuf, out: PathBuf) -> Self {
        Self {
            base,
            train,
            dev,
            out,
            epochs: 3,
            lr: 5e-5,
            batch_size: 16,
            warmup: 0.1,
            seed: 42,
            max_len: 256,
            context_sentences: 0,
            pack_sentences: false,
            max_steps: None,
            stop_after_steps: None,
            time_limit: None,
            checkpoint_steps: None,
            resume: false,
            vocab: VocabMode::Trim,
            vocab_from: Vec::new(),
            dropout: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            log_steps: 10,
            save_f32: false,
            device: Device::Cpu,
        }
    }
}

/// The settings that define a run; a resumed run must have the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunConfig {
    train: Vec<String>,
    dev: String,
    epochs: usize,
    lr: f64,
    batch_size: usize,
    warmup: f64,
    seed: u64,
    max_len: usize,
    context_sentences: usize,
    #[serde(default)]
    pack_sentences: bool,
    max_steps: Option<usize>,
    vocab: VocabMode,
    vocab_from: Vec<String>,
    dropout: f32,
    weight_decay: f64,
    max_grad_norm: f64,
}

impl RunConfig {
    fn of(o: &TrainOptions) -> Self {
        let s = |p: &PathBuf| p.display().to_string();
        Self {
            train: o.train.iter().map(s).collect(),
            dev: s(&o.dev),
            epochs: o.epochs,
            lr: o.lr,
            batch_size: o.batch_size,
            warmup: o.warmup,
            seed: o.seed,
            max_len: o.max_len,
            context_sentences: o.context_sentences,
            pack_sentences: o.pack_sentences,
            max_steps: o.max_steps,
            vocab: o.vocab,
            vocab_from: o.vocab_from.iter().map(s).collect(),
            dropout: o.dropout,
            weight_decay: o.weight_decay,
            max_grad_norm: o.max_grad_norm,
        }
    }

    /// Names of the fields that differ.
    fn differences(&self, other: &Self) -> Vec<&'static str> {
        let a = serde_json::to_value(self).unwrap_or_default();
        let b = serde_json::to_value(other).unwrap_or_default();
        const FIELDS: [&str; 16] = [
            "train",
            "dev",
            "epochs",
            "lr",
            "batch_size",
            "warmup",
            "seed",
            "max_len",
            "context_sentences",
            "pack_sentences",
            "max_steps",
            "vocab",
            "vocab_from",
            "dropout",
            "weight_decay",
            "max_grad_norm",
        ];
        FIELDS
            .into_iter()
            .filter(|f| a.get(f) != b.get(f))
            .collect()
    }
}

/// A development score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevScore {
    /// Epoch (1-based) the score was taken in.
    pub epoch: usize,
    /// Updates done.
    pub step: usize,
    /// Entity F1 (conlleval) in percent.
    pub f1: f64,
    /// Mean training loss since the previous score.
    pub loss: f64,
}

/// The training state saved in a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    run: RunConfig,
    /// Updates done.
    step: usize,
    /// Current epoch (0-based).
    epoch: usize,
    /// Batches of the current epoch done.
    batch: usize,
    total_steps: usize,
    dropout: DropoutState,
    best: Option<DevScore>,
    history: Vec<DevScore>,
    /// Loss sum and count since the last development score.
    loss_sum: f64,
    loss_count: usize,
    /// Seconds spent training so far, over all runs.
    seconds: f64,
}

/// What a call to [`train`] did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// Updates done (in total, including earlier runs when resuming).
    pub steps: usize,
    /// Updates the schedule is laid out over.
    pub total_steps: usize,
    /// Updates per epoch.
    pub steps_per_epoch: usize,
    /// Whether training reached its end (false when stopped early for a later `--resume`).
    pub finished: bool,
    /// The loss of each update done in this call: `(step, loss)`.
    pub losses: Vec<(usize, f64)>,
    /// Development scores so far.
    pub history: Vec<DevScore>,
    /// The best development score (the model in `OUT`).
    pub best: Option<DevScore>,
    /// conlleval report of the last development scoring in this call.
    pub dev_report: Option<String>,
    /// The tag-bigram prior fitted for the model in `OUT` when training finished.
    pub transitions: Option<TransitionFit>,
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Trained parameters.
    pub trainable_params: usize,
    /// Mean seconds per update in this call (first update excluded when there are several).
    pub seconds_per_step: f64,
    /// Wall seconds of this call.
    pub seconds: f64,
}

/// One training example: a segment and the gold tag index of each target.
struct Example {
    segment: Segment,
    labels: Vec<u32>,
}

/// The labels the model predicts: the 9 IOB2 tags, in [`Tag::index`] order.
pub fn iob2_labels() -> Vec<Tag> {
    (0..Tag::COUNT).map(Tag::from_index).collect()
}

/// The documents of several CoNLL files, in order.
pub fn read_docs(paths: &[PathBuf]) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for p in paths {
        docs.extend(conll::read_file(p)?);
    }
    Ok(docs)
}

/// Word pieces of every distinct word, tokenized in parallel.
fn tokenize_words<'a>(
    tokenizer: &Tokenizer,
    words: impl IntoIterator<Item = &'a str>,
    unk: u32,
) -> Result<HashMap<&'a str, Vec<u32>>> {
    let unique: Vec<&str> = words
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let pieces: Vec<Vec<u32>> = unique
        .par_iter()
        .map(|w| word_pieces(tokenizer, w, unk))
        .collect::<Result<_>>()?;
    Ok(unique.into_iter().zip(pieces).collect())
}

fn doc_words(docs: &[Doc]) -> impl Iterator<Item = &str> {
    docs.iter()
        .flatten()
        .flat_map(|s| s.words.iter().map(String::as_str))
}

fn doc_pieces(doc: &Doc, table: &HashMap<&str, Vec<u32>>) -> Vec<WordPieces> {
    doc.iter()
        .map(|s| {
            s.words
                .iter()
                .map(|w| table.get(w.as_str()).cloned().unwrap_or_default())
                .collect()
        })
        .collect()
}

/// The batches of one epoch: a seeded shuffle, sorted by length within pools of
/// [`POOL_BATCHES`] batches, cut into batches, the batches shuffled.
fn epoch_batches(lens: &[usize], batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.shuffle(&mut rng);
    for pool in order.chunks_mut(batch_size * POOL_BATCHES) {
        pool.sort_by_key(|&i| lens[i]);
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    batches.shuffle(&mut rng);
    batches
}

/// Learning-rate factor of update `t` (0-based) of `total`, `warm` of them warming up.
fn lr_factor(t: usize, total: usize, warm: usize) -> f64 {
    if t < warm {
        (t + 1) as f64 / warm as f64
    } else {
        (total - t) as f64 / (total - warm).max(1) as f64
    }
}

/// Everything a run needs in memory.
struct Run {
    tagger: Tagger,
    /// Trained variables by name; frozen tensors live only in `all`.
    vars: Vec<(String, Var)>,
    /// All weights by name (variables' tensors included).
    all: Vec<(String, Tensor)>,
    config_json: serde_json::Value,
}

impl Run {
    /// Builds the model from named tensors; `frozen` names stay constants.
    fn new(
        tensors: HashMap<String, Tensor>,
        frozen: &HashSet<&str>,
        config_json: serde_json::Value,
        tokenizer: Tokenizer,
        settings: Settings,
        device: &Device,
    ) -> Result<Self> {
        let config: Config = serde_json::from_value(config_json.clone())
            .context("the model config is not a BERT config")?;
        let mut names: Vec<String> = tensors.keys().cloned().collect();
        names.sort();
        let mut vars = Vec::new();
        let mut all = Vec::new();
        let mut map = HashMap::new();
        for name in names {
            let t = tensors[&name].to_dtype(DType::F32)?.to_device(device)?;
            let t = if frozen.contains(name.as_str()) {
                t.contiguous()?
            } else {
                let v = Var::from_tensor(&t)?;
                let t = v.as_tensor().clone();
                vars.push((name.clone(), v));
                t
            };
            map.insert(name.clone(), t.clone());
            all.push((name, t));
        }
        let vb = VarBuilder::from_tensors(map, DType::F32, device);
        let model = TokenClassifier::load(&Weights::new(vb), &config, iob2_labels())?;
        let specials = Specials::of(&tokenizer)?;
        Ok(Self {
            tagger: Tagger {
                model,
                tokenizer,
                settings,
                specials,
                device: device.clone(),
                // Dev F1 during training is the model's own, sentence by sentence.
                decoding: Decoding::default(),
            },
            vars,
            all,
            config_json,
        })
    }

    /// Writes the model directory `dir` (weights in f16 when `f16`).
    fn save(&self, dir: &Path, f16: bool) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut tensors = HashMap::new();
        for (name, t) in &self.all {
            let t = t.to_device(&Device::Cpu)?;
            let t = if f16 { t.to_dtype(DType::F16)? } else { t };
            tensors.insert(name.clone(), t);
        }
        let tmp = dir.join(format!("{WEIGHTS_FILE}.tmp"));
        candle_core::safetensors::save(&tensors, &tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join(WEIGHTS_FILE))?;
        write_file(
            &dir.join(CONFIG_FILE),
            &(serde_json::to_string_pretty(&self.config_json)? + "\n"),
        )?;
        let labels: Vec<String> = self
            .tagger
            .model
            .labels
            .iter()
            .map(|t| t.to_string())
            .collect();
        write_file(
            &dir.join(LABELS_FILE),
            &(serde_json::to_string(&labels)? + "\n"),
        )?;
        let tok = dir.join(format!("{TOKENIZER_FILE}.tmp"));
        self.tagger
            .tokenizer
            .save(&tok, false)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tok.display()))?;
        std::fs::rename(&tok, dir.join(TOKENIZER_FILE))?;
        Ok(())
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The token-classification config: the base BERT config with the labels, the vocabulary
/// size and the sequence layout.
fn ner_config(
    base: &serde_json::Value,
    vocab_size: usize,
    settings: Settings,
) -> Result<serde_json::Value> {
    let mut c = base.clone();
    let obj = c
        .as_object_mut()
        .context("the base config.json is not a JSON object")?;
    let labels = iob2_labels();
    obj.insert(
        "architectures".into(),
        serde_json::json!(["BertForTokenClassification"]),
    );
    obj.insert("vocab_size".into(), vocab_size.into());
    obj.insert("tokenizer_vocab_size".into(), vocab_size.into());
    obj.insert(
        "id2label".into(),
        labels
            .iter()
            .enumerate()
            .map(|(i, t)| (i.to_string(), serde_json::Value::from(t.to_string())))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    obj.insert(
        "label2id".into(),
        labels
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), serde_json::Value::from(i)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    obj.insert("ontleed".into(), serde_json::to_value(settings)?);
    Ok(c)
}

/// Initial weights from a fine-tuned model directory (`ontleed train`'s output, or a shipped
/// model such as `models/accurate/`, in either weights format): its tokenizer, encoder and head
/// as they are, so training continues from it (with a fresh optimizer and schedule). Only the
/// sequence layout of the config is replaced by this run's.
fn from_model(o: &TrainOptions) -> Result<(HashMap<String, Tensor>, Tokenizer, serde_json::Value)> {
    let files = ontleed::ner::transformer::files::ModelFiles::read(&o.base)?;
    ensure!(
        files.labels()? == iob2_labels(),
        "{} has other labels than the 9 IOB2 tags training uses",
        files.name_of(LABELS_FILE)
    );
    o.check_max_len(&Config::parse(&files.config, &files.name_of(CONFIG_FILE))?)?;
    let config_json: serde_json::Value = serde_json::from_str(&files.config)
        .with_context(|| format!("cannot parse {}", files.name_of(CONFIG_FILE)))?;
    let tokenizer = Tokenizer::from_bytes(files.tokenizer.as_ref())
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", files.name_of(TOKENIZER_FILE)))?;
    let tensors = files.load_f32(&Device::Cpu)?;
    ensure!(
        tensors.contains_key(WORD_EMBEDDINGS)
            && tensors.contains_key(&format!("{HEAD_PREFIX}.weight")),
        "{} lacks the encoder's embeddings or the classifier head",
        files.name_of(files.format.file_name())
    );
    eprintln!(
        "continuing from the fine-tuned model {} (vocabulary {} pieces)",
        files.origin,
        tensors[WORD_EMBEDDINGS].dim(0)?
    );
    let rows = tensors[WORD_EMBEDDINGS].dim(0)?;
    Ok((
        tensors,
        tokenizer,
        ner_config(&config_json, rows, o.settings())?,
    ))
}

/// Initial weights from the base encoder: trimmed (or not), renamed under `bert.`, with a
/// fresh head (normal(0, 0.02) weights from the seed, zero bias). Returns the tensors, the
/// tokenizer and the config.
fn from_base(
    o: &TrainOptions,
    train: &[Doc],
    dev: &[Doc],
) -> Result<(HashMap<String, Tensor>, Tokenizer, serde_json::Value)> {
    let config_path = o.base.join(CONFIG_FILE);
    let config = Config::load(&config_path)?;
    o.check_max_len(&config)?;
    let base_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&config_path)
            .with_context(|| format!("cannot read {}", config_path.display()))?,
    )?;
    let tok_path = o.base.join(TOKENIZER_FILE);
    let base_tok = Tokenizer::from_file(&tok_path)
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", tok_path.display()))?;
    let weights = o.base.join(WEIGHTS_FILE);
    let base = candle_core::safetensors::load(&weights, &Device::Cpu)
        .with_context(|| format!("cannot load {}", weights.display()))?;
    let mut tensors: HashMap<String, Tensor> = base
        .into_iter()
        .map(|(k, v)| (format!("{ENCODER_PREFIX}.{k}"), v))
        .collect();
    ensure!(
        tensors.contains_key(WORD_EMBEDDINGS),
        "{} has no embeddings.word_embeddings.weight",
        weights.display()
    );

    let tokenizer = if o.vocab == VocabMode::Trim {
        let t = Instant::now();
        let unk = Specials::of(&base_tok)?.unk;
        let extra = read_docs(&o.vocab_from)?;
        let words = doc_words(train)
            .chain(doc_words(dev))
            .chain(doc_words(&extra));
        let table = tokenize_words(&base_tok, words, unk)?;
        let used: BTreeSet<u32> = table.values().flatten().copied().collect();
        let trimmed = vocab::trim(&base_tok, &used)?;
        // The trimmed tokenizer must split the data's words as the full one did.
        let new_table = tokenize_words(&trimmed.tokenizer, table.keys().copied(), unk)?;
        let differing = table
            .iter()
            .filter(|(w, old)| {
                let new: Vec<u32> = new_table[*w]
                    .iter()
                    .map(|&i| trimmed.old_ids[i as usize])
                    .collect();
                &&new != old
            })
            .count();
        let rows = Tensor::from_slice(&trimmed.old_ids, trimmed.old_ids.len(), &Device::Cpu)?;
        let table_t = tensors[WORD_EMBEDDINGS].index_select(&rows, 0)?;
        eprintln!(
            "vocabulary trimmed to {} of {} pieces ({} distinct words, {} tokenized differently) in {:.1} s",
            trimmed.old_ids.len(),
            tensors[WORD_EMBEDDINGS].dim(0)?,
            table.len(),
            differing,
            t.elapsed().as_secs_f64()
        );
        tensors.insert(WORD_EMBEDDINGS.into(), table_t);
        trimmed.tokenizer
    } else {
        base_tok
    };

    let hidden = config.hidden_size;
    let n_labels = Tag::COUNT;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let head: Vec<f32> = (0..n_labels * hidden)
        .map(|_| {
            // Box–Muller.
            let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = rng.random();
            (0.02 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        })
        .collect();
    tensors.insert(
        format!("{HEAD_PREFIX}.weight"),
        Tensor::from_vec(head, (n_labels, hidden), &Device::Cpu)?,
    );
    tensors.insert(
        format!("{HEAD_PREFIX}.bias"),
        Tensor::zeros(n_labels, DType::F32, &Device::Cpu)?,
    );
    let rows = tensors[WORD_EMBEDDINGS].dim(0)?;
    Ok((
        tensors,
        tokenizer,
        ner_config(&base_json, rows, o.settings())?,
    ))
}

fn build_examples(docs: &[Doc], tagger: &Tagger) -> Result<Vec<Example>> {
    let table = tokenize_words(&tagger.tokenizer, doc_words(docs), tagger.specials.unk)?;
    let layout: Layout = tagger.layout();
    let mut out = Vec::new();
    for doc in docs {
        let pieces = doc_pieces(doc, &table);
        for segment in window::segments(&pieces, &layout) {
            let labels = segment
                .targets
                .iter()
                .map(|t| doc[t.sentence].tags[t.word].index() as u32)
                .collect();
            out.push(Example { segment, labels });
        }
    }
    Ok(out)
}

/// The word pieces of every document of `docs`, tokenized with `tagger`'s tokenizer.
fn tagger_pieces(tagger: &Tagger, docs: &[Doc]) -> Result<Vec<Vec<WordPieces>>> {
    let table = tokenize_words(&tagger.tokenizer, doc_words(docs), tagger.specials.unk)?;
    Ok(docs.iter().map(|d| doc_pieces(d, &table)).collect())
}

/// conlleval scores of `tags` against the gold tags of `docs`.
fn score_tags(docs: &[Doc], tags: &[Vec<Vec<TokenTag>>]) -> Scorer {
    let mut scorer = Scorer::default();
    for (doc, tags) in docs.iter().zip(tags) {
        for (s, t) in doc.iter().zip(tags) {
            let pred: Vec<Tag> = t.iter().map(|t| t.tag).collect();
            scorer.add(&s.tags, &pred);
        }
    }
    scorer
}

/// Scores `tagger` on `docs` (conlleval); all documents' segments are batched together.
pub fn evaluate(tagger: &Tagger, docs: &[Doc]) -> Result<Scorer> {
    let tags = tagger.tag_documents(&tagger_pieces(tagger, docs)?)?;
    Ok(score_tags(docs, &tags))
}

/// Weights of the tag-bigram prior that [`fit_transitions`] tries.
pub const TRANSITION_WEIGHTS: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// What [`fit_transitions`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionFit {
    /// The prior, with the best weight.
    pub transitions: Transitions,
    /// Development entity F1 with each weight of [`TRANSITION_WEIGHTS`].
    pub scores: Vec<(f32, f64)>,
}

impl TransitionFit {
    /// The development F1 without the prior and with the chosen weight.
    pub fn gain(&self) -> (f64, f64) {
        let at = |w: f32| {
            self.scores
                .iter()
                .find(|(x, _)| *x == w)
                .map_or(f64::NAN, |s| s.1)
        };
        (at(0.0), at(self.transitions.weight))
    }
}

/// Fits `tagger`'s tag-bigram prior ([`Transitions`]): the bigram probabilities of `train`'s gold
/// tags, and the weight of [`TRANSITION_WEIGHTS`] with the best entity F1 on `dev` under the
/// tagger's own decoding (the smallest such weight on a tie). The model runs once over `dev`.
pub fn fit_transitions(tagger: &Tagger, train: &[Doc], dev: &[Doc]) -> Result<TransitionFit> {
    let labels = &tagger.model.labels;
    let table = Transitions::estimate(
        train.iter().flatten().map(|s| s.tags.as_slice()),
        labels,
        0.0,
    );
    let pieces = tagger_pieces(tagger, dev)?;
    let probs = tagger.word_probabilities(&pieces)?;
    let mut scores = Vec::with_capacity(TRANSITION_WEIGHTS.len());
    for w in TRANSITION_WEIGHTS {
        let decoding = Decoding {
            transitions: Some(table.with_weight(w)),
            ..tagger.decoding.clone()
        };
        let tags = decode(&pieces, &probs, labels, &decoding)?;
        scores.push((w, score_tags(dev, &tags).overall().f1()));
    }
    let best = scores
        .iter()
        .fold(scores[0], |b, &s| if s.1 > b.1 { s } else { b });
    Ok(TransitionFit {
        transitions: table.with_weight(best.0),
        scores,
    })
}

/// Fits the tag-bigram prior of the model directory `dir` ([`fit_transitions`], with the
/// decoding and the int8 arithmetic of inference where the CPU has it) and writes it into its
/// `config.json`.
pub fn fit_model_transitions(dir: &Path, train: &[Doc], dev: &[Doc]) -> Result<TransitionFit> {
    let model = ontleed::ner::transformer::TransformerNer::load(dir)?.with_int8()?;
    let fit = fit_transitions(model.tagger(), train, dev)?;
    super::modeldir::write_transitions(dir, &fit.transitions)?;
    Ok(fit)
}

/// Trains (or resumes training) and writes the model; see the module documentation.
pub fn train(o: &TrainOptions) -> Result<TrainReport> {
    let started = Instant::now();
    ensure!(!o.train.is_empty(), "no training files given");
    ensure!(o.batch_size > 0, "--batch-size must be at least 1");
    ensure!(
        o.max_steps.is_some() || o.epochs > 0,
        "--epochs must be at least 1"
    );
    ensure!(o.max_steps != Some(0), "--max-steps must be at least 1");
    ensure!(o.lr > 0.0 && o.lr.is_finite(), "--lr must be positive");
    ensure!((0.0..=1.0).contains(&o.warmup), "--warmup must be in 0..=1");
    ensure!((0.0..1.0).contains(&o.dropout), "--dropout must be in 0..1");
    ensure!(o.max_grad_norm > 0.0, "--max-grad-norm must be positive");
    let run_config = RunConfig::of(o);
    let ckpt = o.out.join(CHECKPOINT_DIR);

    let train_docs = read_docs(&o.train)?;
    let dev_docs = conll::read_file(&o.dev)?;
    let n_sentences: usize = train_docs.iter().map(Vec::len).sum();
    ensure!(n_sentences > 0, "the training files hold no sentences");
    eprintln!(
        "{} training documents ({n_sentences} sentences), {} dev documents",
        train_docs.len(),
        dev_docs.len()
    );

    let (tensors, tokenizer, config_json, settings, state, moments) = if o.resume {
        let state: State = serde_json::from_str(
            &std::fs::read_to_string(ckpt.join(STATE_FILE)).with_context(|| {
                format!("cannot resume: no {}", ckpt.join(STATE_FILE).display())
            })?,
        )
        .context("cannot read the checkpoint state")?;
        let diff = state.run.differences(&run_config);
        if !diff.is_empty() {
            bail!(
                "cannot resume: the checkpoint was made with different {} (give the same options)",
                diff.join(", ")
            );
        }
        let config_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ckpt.join(CONFIG_FILE))?)?;
        let tokenizer = Tokenizer::from_file(ckpt.join(TOKENIZER_FILE))
            .map_err(|e| anyhow::anyhow!("cannot load the checkpoint tokenizer: {e}"))?;
        let labels = read_labels(&ckpt.join(LABELS_FILE))?;
        ensure!(labels == iob2_labels(), "the checkpoint has other labels");
        let tensors = candle_core::safetensors::load(ckpt.join(WEIGHTS_FILE), &Device::Cpu)
            .context("cannot load the checkpoint weights")?;
        let moments = candle_core::safetensors::load(ckpt.join(OPTIMIZER_FILE), &Device::Cpu)
            .context("cannot load the checkpoint optimizer state")?;
        let settings = ontleed::ner::transformer::ner::read_settings(&ckpt.join(CONFIG_FILE))?;
        eprintln!(
            "resuming from {} at update {} (epoch {}, batch {})",
            ckpt.display(),
            state.step,
            state.epoch + 1,
            state.batch
        );
        (
            tensors,
            tokenizer,
            config_json,
            settings,
            Some(state),
            Some(moments),
        )
    } else {
        let (tensors, tokenizer, config_json) =
            if ontleed::ner::transformer::files::is_model_dir(&o.base) {
                from_model(o)?
            } else {
                from_base(o, &train_docs, &dev_docs)?
            };
        (tensors, tokenizer, config_json, o.settings(), None, None)
    };
    let frozen: HashSet<&str> = match o.vocab {
        VocabMode::Frozen => [WORD_EMBEDDINGS].into(),
        _ => HashSet::new(),
    };
    let run = Run::new(
        tensors,
        &frozen,
        config_json,
        tokenizer,
        settings,
        &o.device,
    )?;

    let examples = build_examples(&train_docs, &run.tagger)?;
    let lens: Vec<usize> = examples.iter().map(|e| e.segment.ids.len()).collect();
    let pieces: usize = lens.iter().sum();
    let steps_per_epoch = examples.len().div_ceil(o.batch_size);
    let total = o.max_steps.unwrap_or(o.epochs * steps_per_epoch);
    let warm = (o.warmup * total as f64).ceil() as usize;
    let vocab_size = run.tagger.model.bert.config.vocab_size;
    let trainable_params: usize = run.vars.iter().map(|(_, v)| v.elem_count()).sum();
    eprintln!(
        "{} sequences ({pieces} pieces, {:.1} per sequence), {steps_per_epoch} updates per epoch, \
         {total} updates ({warm} warm-up), {trainable_params} trained parameters, vocabulary {vocab_size}",
        examples.len(),
        pieces as f64 / examples.len().max(1) as f64
    );

    let mut opt = AdamW::new(
        run.vars.clone(),
        AdamWConfig {
            weight_decay: o.weight_decay,
            ..AdamWConfig::default()
        },
        o.device.is_cpu(),
    )?;
    let mut dropout = Dropout::new(o.seed.wrapping_add(1), o.dropout, o.dropout);
    let mut state = match state {
        Some(s) => {
            ensure!(
                s.total_steps == total,
                "cannot resume: the number of updates changed"
            );
            opt.step = s.step as u64;
            dropout.restore(s.dropout);
            s
        }
        None => State {
            run: run_config,
            step: 0,
            epoch: 0,
            batch: 0,
            total_steps: total,
            dropout: dropout.state(o.seed.wrapping_add(1)),
            best: None,
            history: Vec::new(),
            loss_sum: 0.0,
            loss_count: 0,
            seconds: 0.0,
        },
    };
    if let Some(m) = &moments {
        opt.set_moments(m)?;
    }
    std::fs::create_dir_all(&o.out)
        .with_context(|| format!("cannot create {}", o.out.display()))?;

    let mut losses = Vec::new();
    let mut dev_report = None;
    let mut step_seconds: Vec<f64> = Vec::new();
    let mut log_loss = (0.0, 0usize);
    let mut log_time = Instant::now();
    let mut seconds_base = state.seconds;
    let mut since = Instant::now();
    let dropout_seed = o.seed.wrapping_add(1);

    // Scores the dev set, keeps the best model, records the score.
    let score = |state: &mut State, run: &Run, dev_report: &mut Option<String>| -> Result<()> {
        let t = Instant::now();
        let scorer = evaluate(&run.tagger, &dev_docs)?;
        let f1 = scorer.overall().f1();
        let loss = state.loss_sum / state.loss_count.max(1) as f64;
        let s = DevScore {
            epoch: state.epoch + 1,
            step: state.step,
            f1,
            loss,
        };
        state.loss_sum = 0.0;
        state.loss_count = 0;
        let better = state.best.as_ref().is_none_or(|b| f1 > b.f1);
        eprintln!(
            "dev F1 {f1:.2} at update {} (epoch {}, mean loss {loss:.4}) in {:.1} s{}",
            s.step,
            s.epoch,
            t.elapsed().as_secs_f64(),
            if better { ", best so far: saved" } else { "" }
        );
        if better {
            run.save(&o.out, !o.save_f32)?;
            state.best = Some(s.clone());
        }
        state.history.push(s);
        *dev_report = Some(scorer.report());
        Ok(())
    };
    let checkpoint = |state: &State, opt: &AdamW, run: &Run| -> Result<()> {
        let tmp = o.out.join(format!("{CHECKPOINT_DIR}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        run.save(&tmp, false)?;
        candle_core::safetensors::save(&opt.moments()?, tmp.join(OPTIMIZER_FILE))?;
        write_file(
            &tmp.join(STATE_FILE),
            &(serde_json::to_string_pretty(state)? + "\n"),
        )?;
        let old = o.out.join(format!("{CHECKPOINT_DIR}.old"));
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        if ckpt.exists() {
            std::fs::rename(&ckpt, &old)?;
        }
        std::fs::rename(&tmp, &ckpt)?;
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    };

    let mut finished = false;
    'epochs: loop {
        if state.step >= total {
            finished = true;
            break;
        }
        let batches = epoch_batches(&lens, o.batch_size, o.seed, state.epoch);
        while state.batch < batches.len() && state.step < total {
            let elapsed = started.elapsed().as_secs_f64();
            let typical = step_seconds.last().copied().unwrap_or(0.0);
            let out_of_time = o
                .time_limit
                .is_some_and(|l| elapsed + 2.0 * typical > l.as_secs_f64());
            if o.stop_after_steps.is_some_and(|s| state.step >= s) || out_of_time {
                state.seconds = seconds_base + since.elapsed().as_secs_f64();
                state.dropout = dropout.state(dropout_seed);
                checkpoint(&state, &opt, &run)?;
                eprintln!(
                    "stopped at update {}: checkpoint written, continue with --resume",
                    state.step
                );
                break 'epochs;
            }
            let t = Instant::now();
            let batch: Vec<&Segment> = batches[state.batch]
                .iter()
                .map(|&i| &examples[i].segment)
                .collect();
            let labels: Vec<u32> = batches[state.batch]
                .iter()
                .flat_map(|&i| examples[i].labels.iter().copied())
                .collect();
            let inputs = Inputs::new(&batch, run.tagger.specials.pad, &o.device)?;
            let n = labels.len();
            let targets = Tensor::from_vec(labels, n, &o.device)?;
            let logits = run.tagger.model.forward_t(&inputs, Some(&mut dropout))?;
            let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
            let loss_value = loss.to_scalar::<f32>()? as f64;
            ensure!(
                loss_value.is_finite(),
                "the loss became {loss_value} at update {}",
                state.step + 1
            );
            let grads = loss.backward()?;
            let norm = opt.grad_norm(&grads)?;
            let scale = if norm > o.max_grad_norm {
                o.max_grad_norm / (norm + 1e-6)
            } else {
                1.0
            };
            let lr = o.lr * lr_factor(state.step, total, warm);
            opt.update(&grads, lr, scale)?;
            drop(grads);
            state.step += 1;
            state.batch += 1;
            state.loss_sum += loss_value;
            state.loss_count += 1;
            losses.push((state.step, loss_value));
            step_seconds.push(t.elapsed().as_secs_f64());
            log_loss.0 += loss_value;
            log_loss.1 += 1;
            if state.step % o.log_steps.max(1) == 0 || state.step == total {
                let dt = log_time.elapsed().as_secs_f64();
                let left = (total - state.step) as f64 * dt / log_loss.1 as f64;
                eprintln!(
                    "update {}/{total} epoch {} loss {:.4} lr {lr:.2e} grad-norm {norm:.2} \
                     {:.2} updates/s ({:.2} s/update), {:.1} min left",
                    state.step,
                    state.epoch + 1,
                    log_loss.0 / log_loss.1 as f64,
                    log_loss.1 as f64 / dt.max(1e-9),
                    dt / log_loss.1 as f64,
                    left / 60.0
                );
                log_loss = (0.0, 0);
                log_time = Instant::now();
            }
            if o.checkpoint_steps
                .is_some_and(|c| c > 0 && state.step % c == 0)
                && state.step < total
            {
                state.seconds = seconds_base + since.elapsed().as_secs_f64();
                seconds_base = state.seconds;
                since = Instant::now();
                state.dropout = dropout.state(dropout_seed);
                checkpoint(&state, &opt, &run)?;
            }
        }
        let epoch_done = state.batch >= batches.len();
        if epoch_done || state.step >= total {
            score(&mut state, &run, &mut dev_report)?;
            if epoch_done {
                state.epoch += 1;
                state.batch = 0;
            }
            state.seconds = seconds_base + since.elapsed().as_secs_f64();
            seconds_base = state.seconds;
            since = Instant::now();
            state.dropout = dropout.state(dropout_seed);
            checkpoint(&state, &opt, &run)?;
        }
        log_time = Instant::now();
    }

    let timed: &[f64] = if step_seconds.len() > 1 {
        &step_seconds[1..]
    } else {
        &step_seconds
    };
    let seconds_per_step = timed.iter().sum::<f64>() / timed.len().max(1) as f64;
    // The model in OUT gets the tag-bigram prior that suits it best on the dev data.
    let transitions = if finished {
        let fit = fit_model_transitions(&o.out, &train_docs, &dev_docs)?;
        let (without, with) = fit.gain();
        eprintln!(
            "tag-bigram prior: weight {} (dev F1 {with:.2}, {without:.2} without it), written to {}",
            fit.transitions.weight,
            o.out.join(CONFIG_FILE).display()
        );
        Some(fit)
    } else {
        None
    };
    let _ = std::io::stderr().flush();
    Ok(TrainReport {
        steps: state.step,
        total_steps: total,
        steps_per_epoch,
        finished,
        losses,
        history: state.history.clone(),
        best: state.best.clone(),
        dev_report,
        transitions,
        vocab_size,
        trainable_params,
        seconds_per_step,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_near_zero() {
        let f: Vec<f64> = (0..10).map(|t| lr_factor(t, 10, 2)).collect();
        assert_eq!(f[0], 0.5);
        assert_eq!(f[1], 1.0);
        assert_eq!(f[2], 1.0);
        assert!(f.windows(2).skip(2).all(|w| w[1] < w[0]));
        assert!((f[9] - 1.0 / 8.0).abs() < 1e-12);
        assert_eq!(lr_factor(0, 1, 0), 1.0);
    }

    #[test]
    fn batches_cover_everything_and_are_seeded() {
        let lens: Vec<usize> = (0..1000).map(|i| (i * 7919) % 97).collect();
        let a = epoch_batches(&lens, 16, 42, 0);
        assert_eq!(a, epoch_batches(&lens, 16, 42, 0));
        assert_ne!(a, epoch_batches(&lens, 16, 42, 1));
        let mut all: Vec<usize> = a.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        // Grouped by length: the spread inside a batch is small.
        let spread: usize = a
            .iter()
            .map(|b| {
                let l: Vec<usize> = b.iter().map(|&i| lens[i]).collect();
                l.iter().max().unwrap() - l.iter().min().unwrap()
            })
            .sum();
        assert!(spread / a.len() < 10, "mean spread {}", spread / a.len());
    }
}
