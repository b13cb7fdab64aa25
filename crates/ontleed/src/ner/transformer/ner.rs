//! Token classification on the e5 encoder: the model ([`TokenClassifier`]), its directory
//! format, and the [`Recognizer`] that tags documents with it ([`TransformerNer`]).
//!
//! A model directory holds `config.json` (a BERT config with `id2label` and an `ontleed`
//! section giving the sequence layout and, optionally, the tag-bigram prior of decoding), `model.safetensors` (`bert.*` encoder weights and a
//! `classifier.*` linear head, as Hugging Face's `BertForTokenClassification` names them; f16
//! or f32), `tokenizer.json` and `labels.json` (the tag of each output, in order).
//!
//! Each word is labelled at its first piece. Words are tokenized one by one (the tokenizer's
//! metaspace pre-tokenizer makes that the same as tokenizing the sentence); a word that yields
//! no piece (a control character, a zero-width space) is given `<unk>`.
//!
//! Threads: tagging runs candle on the calling thread. candle's CPU matmuls split into as many
//! rayon tasks as `RAYON_NUM_THREADS` says (default: the physical cores) and run them in the
//! rayon pool of the caller, so under `ontleed annotate --threads N` they share that pool with
//! the per-document parallelism. Large element-wise ops, however, go to candle's own pool of
//! `CANDLE_NUM_THREADS − 1` threads (default: cores − 1), which serialises concurrent callers
//! and spins between ops: set `CANDLE_NUM_THREADS=1` when annotating with this model (measured on
//! a shared 2-core machine, `annotate --threads 2` on 74 articles: 1,673 tokens/s with it, 967
//! without). `ontleed train` sets it itself when it is unset.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

pub use super::files::is_model_dir;
use super::files::{self, ModelFiles};
use super::files::{CONFIG_FILE, TOKENIZER_FILE};
use super::model::{BertModel, Config, Train, Weights};
use super::window::{self, Layout, Segment, Target, WordPieces};
use crate::ner::{Recognizer, RecognizerError, Tag, TokenTag};

/// Weight-name prefix of the encoder inside a token-classification model.
pub const ENCODER_PREFIX: &str = "bert";

/// Weight-name prefix of the classification head.
pub const HEAD_PREFIX: &str = "classifier";

/// Padded tokens per inference batch (sequences of similar length are batched together).
const BATCH_TOKENS: usize = 4096;

/// Most sequences per inference batch.
const BATCH_SEQUENCES: usize = 64;

/// How a model builds its input sequences: the `ontleed` section of `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Longest sequence in pieces, `<s>` and `</s>` included.
    pub max_len: usize,
    /// Neighbouring sentences of the same document used as context on each side.
    pub context_sentences: usize,
    /// Consecutive sentences of a document share a sequence ([`window`]); absent in models
    /// trained before it existed.
    #[serde(default)]
    pub pack_sentences: bool,
}

/// A prior over tag bigrams for [`viterbi`]: each step of a tag sequence adds
/// `weight · log P(tag | previous tag)` to the words' log-probabilities. The probabilities are
/// counted in the training data (add-one smoothed) and the weight is fitted on development data
/// ([`super::train::fit_transitions`]); it is kept in the `ontleed` section of `config.json`
/// (`"transitions"`), and a model without one decodes as before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transitions {
    /// Weight of the prior (0: none).
    pub weight: f32,
    /// `log_probs[i][j]` = log P(label `j` | label `i`), in the model's label order.
    pub log_probs: Vec<Vec<f32>>,
}

impl Transitions {
    /// Counts the tag bigrams of `sentences` (gold tags) in the order of `labels`, add-one
    /// smoothed, with weight `weight`.
    pub fn estimate<'a>(
        sentences: impl IntoIterator<Item = &'a [Tag]>,
        labels: &[Tag],
        weight: f32,
    ) -> Self {
        let n = labels.len();
        let mut counts = vec![vec![1.0f64; n]; n];
        let index = |t: &Tag| labels.iter().position(|l| l == t);
        for s in sentences {
            for w in s.windows(2) {
                if let (Some(i), Some(j)) = (index(&w[0]), index(&w[1])) {
                    counts[i][j] += 1.0;
                }
            }
        }
        let log_probs = counts
            .iter()
            .map(|row| {
                let total: f64 = row.iter().sum();
                row.iter().map(|c| (c / total).ln() as f32).collect()
            })
            .collect();
        Self { weight, log_probs }
    }

    /// The same probabilities with another weight.
    pub fn with_weight(&self, weight: f32) -> Self {
        Self {
            weight,
            log_probs: self.log_probs.clone(),
        }
    }

    /// Checks that the table is `n × n` and finite, for a model with `n` labels.
    pub fn check(&self, n: usize, origin: &str) -> Result<()> {
        ensure!(
            self.weight.is_finite() && self.weight >= 0.0,
            "{origin}: the transition weight must be a number >= 0"
        );
        ensure!(
            self.log_probs.len() == n
                && self
                    .log_probs
                    .iter()
                    .all(|r| r.len() == n && r.iter().all(|v| v.is_finite())),
            "{origin}: the transition table must be {n} x {n} finite log-probabilities"
        );
        Ok(())
    }
}

/// How the words' label probabilities become tags: the most probable valid IOB2 sequence of
/// each sentence ([`viterbi`], with the model's tag-bigram prior if it has one), then, with
/// `harmonize`, one label per name and document ([`harmonize_labels`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoding {
    /// The tag-bigram prior.
    pub transitions: Option<Transitions>,
    /// Whether mentions of the same name in a document get one label.
    pub harmonize: bool,
}

/// The encoder with a linear tagging head.
#[derive(Debug, Clone)]
pub struct TokenClassifier {
    /// The encoder.
    pub bert: BertModel,
    /// `[labels, hidden]` head.
    pub classifier: Linear,
    /// The tag of each output.
    pub labels: Vec<Tag>,
}

/// Encoder inputs for a batch of segments.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `[batch, seq]` u32 token ids, padded.
    pub ids: Tensor,
    /// `[batch, seq]` f32, 1 for real tokens.
    pub mask: Tensor,
    /// `[targets]` u32: `row · seq + position` of each labelled piece, in segment order.
    pub positions: Tensor,
}

impl Inputs {
    /// Pads `segments` into one batch.
    pub fn new(segments: &[&Segment], pad: u32, device: &Device) -> Result<Self> {
        ensure!(!segments.is_empty(), "empty batch");
        let seq = segments.iter().map(|s| s.ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(segments.len() * seq);
        let mut mask = Vec::with_capacity(segments.len() * seq);
        let mut positions = Vec::new();
        for (row, s) in segments.iter().enumerate() {
            ids.extend(s.ids.iter().copied());
            ids.extend(std::iter::repeat_n(pad, seq - s.ids.len()));
            mask.extend((0..seq).map(|j| if j < s.ids.len() { 1f32 } else { 0f32 }));
            positions.extend(s.targets.iter().map(|t| (row * seq + t.pos) as u32));
        }
        let shape = (segments.len(), seq);
        let n = positions.len();
        Ok(Self {
            ids: Tensor::from_vec(ids, shape, device)?,
            mask: Tensor::from_vec(mask, shape, device)?,
            positions: Tensor::from_vec(positions, n, device)?,
        })
    }
}

impl TokenClassifier {
    /// Loads `bert.*` and `classifier.*` from `w`.
    pub fn load(w: &Weights, config: &Config, labels: Vec<Tag>) -> Result<Self> {
        ensure!(!labels.is_empty(), "no labels");
        let bert = BertModel::load(&w.pp(ENCODER_PREFIX), config)?;
        let classifier = candle_nn::linear(
            config.hidden_size,
            labels.len(),
            w.pp(HEAD_PREFIX).var_builder(),
        )?;
        Ok(Self {
            bert,
            classifier,
            labels,
        })
    }

    /// Logits `[targets, labels]` of the labelled pieces of `inputs`. With `d` (training):
    /// dropout in the encoder and before the head, and differentiable ops throughout.
    pub fn forward_t(
        &self,
        inputs: &Inputs,
        mut d: Option<&mut (dyn Train + 'static)>,
    ) -> Result<Tensor> {
        let hidden = self
            .bert
            .forward_t(&inputs.ids, &inputs.mask, d.as_deref_mut())?;
        let (b, s, h) = hidden.dims3()?;
        let mut picked = hidden
            .reshape((b * s, h))?
            .index_select(&inputs.positions, 0)?;
        if let Some(d) = d {
            picked = d.drop_hidden(&picked)?;
        }
        Ok(self.classifier.forward(&picked)?)
    }
}

/// The pieces of one word (never empty: `<unk>` when the tokenizer yields nothing).
pub fn word_pieces(tokenizer: &Tokenizer, word: &str, unk: u32) -> Result<Vec<u32>> {
    let enc = tokenizer
        .encode(word, false)
        .map_err(|e| anyhow::anyhow!("cannot tokenize {word:?}: {e}"))?;
    let ids = enc.get_ids();
    Ok(if ids.is_empty() {
        vec![unk]
    } else {
        ids.to_vec()
    })
}

/// Special ids a model needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specials {
    /// `<s>`.
    pub bos: u32,
    /// `</s>`.
    pub eos: u32,
    /// `<pad>`.
    pub pad: u32,
    /// `<unk>`.
    pub unk: u32,
}

impl Specials {
    /// Looks up `<s>`, `</s>`, `<pad>` and `<unk>` in `tokenizer`.
    pub fn of(tokenizer: &Tokenizer) -> Result<Self> {
        let id = |t: &str| {
            tokenizer
                .token_to_id(t)
                .with_context(|| format!("the tokenizer has no {t} token"))
        };
        Ok(Self {
            bos: id("<s>")?,
            eos: id("</s>")?,
            pad: id("<pad>")?,
            unk: id("<unk>")?,
        })
    }
}

/// Tags documents with a [`TokenClassifier`]: the part of [`TransformerNer`] that does not
/// depend on where the model came from (training uses it on the model being trained).
#[derive(Debug, Clone)]
pub struct Tagger {
    /// The model.
    pub model: TokenClassifier,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Sequence layout.
    pub settings: Settings,
    /// Special ids.
    pub specials: Specials,
    /// Where the model runs.
    pub device: Device,
    /// How label probabilities become tags.
    pub decoding: Decoding,
}

/// The layout of a model's input sequences.
pub fn layout_of(specials: &Specials, settings: &Settings) -> Layout {
    Layout {
        bos: specials.bos,
        eos: specials.eos,
        max_len: settings.max_len,
        context_sentences: settings.context_sentences,
        pack_sentences: settings.pack_sentences,
    }
}

/// Word pieces of every word of a document (`tokenizer` word by word, `unk` for a word without
/// pieces), with a per-call cache.
pub fn doc_pieces(
    tokenizer: &Tokenizer,
    unk: u32,
    sentences: &[Vec<&str>],
) -> Result<Vec<WordPieces>> {
    let table = piece_table(tokenizer, unk, sentences)?;
    Ok(sentences
        .iter()
        .map(|s| s.iter().map(|w| table[w].clone()).collect())
        .collect())
}

/// The word pieces of each distinct word of a document ([`word_pieces`]), the words tokenized
/// in document order.
pub fn piece_table<'a>(
    tokenizer: &Tokenizer,
    unk: u32,
    sentences: &[Vec<&'a str>],
) -> Result<HashMap<&'a str, Vec<u32>>> {
    let mut table: HashMap<&str, Vec<u32>> = HashMap::new();
    for &w in sentences.iter().flatten() {
        if !table.contains_key(w) {
            table.insert(w, word_pieces(tokenizer, w, unk)?);
        }
    }
    Ok(table)
}

impl Tagger {
    /// The layout of input sequences.
    pub fn layout(&self) -> Layout {
        layout_of(&self.specials, &self.settings)
    }

    /// Word pieces of every word of a document, with a per-call cache.
    pub fn doc_pieces(&self, sentences: &[Vec<&str>]) -> Result<Vec<WordPieces>> {
        doc_pieces(&self.tokenizer, self.specials.unk, sentences)
    }

    /// Tags one document; fails only on an internal (candle) error.
    pub fn try_tag_document(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<TokenTag>>> {
        // Each word refers to its distinct word's pieces in a table: a vector of pieces per
        // word (`doc_pieces`) costs about 56 bytes a word, 150 MB for a 16 MiB article.
        let table = piece_table(&self.tokenizer, self.specials.unk, sentences)?;
        let doc: Vec<Vec<&[u32]>> = sentences
            .iter()
            .map(|s| s.iter().map(|w| table[w].as_slice()).collect())
            .collect();
        let mut all = self.tag_documents(std::slice::from_ref(&doc))?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Tags one document given as word pieces.
    pub fn tag_pieces(&self, doc: &[WordPieces]) -> Result<Vec<Vec<TokenTag>>> {
        let doc: Vec<Vec<&[u32]>> = doc
            .iter()
            .map(|s| s.iter().map(Vec::as_slice).collect())
            .collect();
        let mut all = self.tag_documents(std::slice::from_ref(&doc))?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Tags several documents given as word pieces ([`WordPieces`] or slices of pieces);
    /// sequences of all of them are batched together (context never crosses a document).
    pub fn tag_documents<W: AsRef<[u32]>>(
        &self,
        docs: &[Vec<Vec<W>>],
    ) -> Result<Vec<Vec<Vec<TokenTag>>>> {
        tag_batched(
            docs,
            &self.layout(),
            &self.model.labels,
            &self.decoding,
            |segs| self.probabilities(segs),
        )
    }

    /// The label probabilities of every word of `docs` ([`word_probabilities`]).
    pub fn word_probabilities(&self, docs: &[Vec<WordPieces>]) -> Result<WordProbs> {
        word_probabilities(docs, &self.layout(), |segs| self.probabilities(segs))
    }

    /// One row of label probabilities per labelled word of a batch, in segment order.
    fn probabilities(&self, segs: &[&Segment]) -> Result<Vec<Vec<f32>>> {
        let inputs = Inputs::new(segs, self.specials.pad, &self.device)?;
        let logits = self.model.forward_t(&inputs, None)?;
        Ok(candle_nn::ops::softmax_last_dim(&logits)?.to_vec2::<f32>()?)
    }
}

/// One row of label probabilities per word, by document and sentence.
pub type WordProbs = Vec<Vec<Vec<Vec<f32>>>>;

/// Tags documents given as word pieces ([`WordPieces`] or slices of pieces), whatever runs the
/// model (candle here, libtorch in the rust-bert backend): what [`word_probabilities`], then
/// [`decode`] give, but each sentence is decoded as soon as all its words have their label
/// probabilities, so that only the sentences in flight hold them (all of an article's take
/// about 70 bytes a word: 180 MB for a 16 MiB article). Harmonizing ([`harmonize_labels`])
/// follows on the whole documents.
pub fn tag_batched<W: AsRef<[u32]>>(
    docs: &[Vec<Vec<W>>],
    layout: &Layout,
    labels: &[Tag],
    decoding: &Decoding,
    probs: impl FnMut(&[&Segment]) -> Result<Vec<Vec<f32>>>,
) -> Result<Vec<Vec<Vec<TokenTag>>>> {
    const MISSING: &str = "internal error: a word without label probabilities";
    let prior = decoding.transitions.as_ref();
    let mut out: Vec<Vec<Vec<TokenTag>>> = docs
        .iter()
        .map(|d| (0..d.len()).map(|_| Vec::new()).collect())
        .collect();
    // The sentences with some of their words' rows, by (document, sentence): the rows, and
    // how many are missing.
    type Pending = HashMap<(usize, usize), (Vec<Vec<f32>>, usize)>;
    let mut pending = Pending::new();
    for_each_row(docs, layout, probs, |d, t, p| {
        ensure!(p.len() == labels.len(), MISSING);
        let key = (d, t.sentence);
        let (rows, missing) = pending.entry(key).or_insert_with(|| {
            let n = docs[d][t.sentence].len();
            (vec![Vec::new(); n], n)
        });
        ensure!(
            rows[t.word].is_empty(),
            "internal error: a word labelled twice"
        );
        rows[t.word] = p;
        *missing -= 1;
        if *missing == 0
            && let Some((rows, _)) = pending.remove(&key)
        {
            out[d][t.sentence] = viterbi(&rows, labels, prior);
        }
        Ok(())
    })?;
    let complete = docs
        .iter()
        .zip(&out)
        .all(|(d, o)| d.iter().zip(o).all(|(s, t)| s.len() == t.len()));
    ensure!(pending.is_empty() && complete, MISSING);
    if decoding.harmonize {
        for (doc, tags) in docs.iter().zip(out.iter_mut()) {
            harmonize_labels(doc, tags);
        }
    }
    Ok(out)
}

/// The label probabilities of every word of `docs`: builds the sequences of `layout`, batches
/// them by length, and gets from `probs` one row of label probabilities per labelled word of a
/// batch (in segment order).
pub fn word_probabilities(
    docs: &[Vec<WordPieces>],
    layout: &Layout,
    probs: impl FnMut(&[&Segment]) -> Result<Vec<Vec<f32>>>,
) -> Result<WordProbs> {
    // Each word's label probabilities; every word is the target of exactly one segment.
    let mut word_probs: WordProbs = docs
        .iter()
        .map(|d| d.iter().map(|s| vec![Vec::new(); s.len()]).collect())
        .collect();
    for_each_row(docs, layout, probs, |d, t, p| {
        word_probs[d][t.sentence][t.word] = p;
        Ok(())
    })?;
    Ok(word_probs)
}

/// Builds the sequences of `docs` as `layout` says, batches them by length, gets from `probs`
/// one row of label probabilities per labelled word of a batch (in segment order), and hands
/// each row to `row` with its document and target word.
fn for_each_row<W: AsRef<[u32]>>(
    docs: &[Vec<Vec<W>>],
    layout: &Layout,
    mut probs: impl FnMut(&[&Segment]) -> Result<Vec<Vec<f32>>>,
    mut row: impl FnMut(usize, &Target, Vec<f32>) -> Result<()>,
) -> Result<()> {
    let segments: Vec<(usize, Segment)> = docs
        .iter()
        .enumerate()
        .flat_map(|(d, doc)| {
            window::segments(doc, layout)
                .into_iter()
                .map(move |s| (d, s))
        })
        .collect();
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| segments[i].1.ids.len());
    let mut start = 0;
    while start < order.len() {
        // Lengths ascend, so the last segment of a batch sets its padded width; a batch stops
        // before padding would add more than about a sixteenth to its shortest member (the
        // int8 matrix products cost the same per row in a batch of any size).
        let len = |k: usize| segments[order[k]].1.ids.len();
        let first = len(start);
        let mut end = start + 1;
        while end < order.len()
            && end - start < BATCH_SEQUENCES
            && (end + 1 - start) * len(end) <= BATCH_TOKENS
            && len(end) <= first + first / 16 + 1
        {
            end += 1;
        }
        let batch: Vec<&(usize, Segment)> =
            order[start..end].iter().map(|&i| &segments[i]).collect();
        let segs: Vec<&Segment> = batch.iter().map(|(_, s)| s).collect();
        let mut rows = probs(&segs)?.into_iter();
        for (d, seg) in batch {
            for t in &seg.targets {
                let Some(p) = rows.next() else {
                    bail!("internal error: fewer outputs than labelled words");
                };
                row(*d, t, p)?;
            }
        }
        start = end;
    }
    Ok(())
}

/// Tags documents from their words' label probabilities (`probs`, as [`word_probabilities`]
/// gives them) as `decoding` says.
pub fn decode(
    docs: &[Vec<WordPieces>],
    probs: &[Vec<Vec<Vec<f32>>>],
    labels: &[Tag],
    decoding: &Decoding,
) -> Result<Vec<Vec<Vec<TokenTag>>>> {
    // Viterbi: +0.6 F1 on ned.testa over each word's arg-max with orphan I- tags repaired
    // (both the sentence-level and the packed model).
    let prior = decoding.transitions.as_ref();
    let mut out: Vec<Vec<Vec<TokenTag>>> = Vec::with_capacity(probs.len());
    for doc in probs {
        let mut tags = Vec::with_capacity(doc.len());
        for sentence in doc {
            if sentence.iter().any(|p| p.len() != labels.len()) {
                bail!("internal error: a word without label probabilities");
            }
            tags.push(viterbi(sentence, labels, prior));
        }
        out.push(tags);
    }
    if decoding.harmonize {
        for (doc, tags) in docs.iter().zip(out.iter_mut()) {
            harmonize_labels(doc, tags);
        }
    }
    Ok(out)
}

/// The best IOB2-valid tag sequence of a sentence (an `I-X` only after `B-X` or `I-X`) under
/// the product of the words' label probabilities `probs` (one row of `labels.len()` per word)
/// and, with `prior`, its weighted tag-bigram probabilities; each word's score is the
/// probability of its tag.
pub fn viterbi(probs: &[Vec<f32>], labels: &[Tag], prior: Option<&Transitions>) -> Vec<TokenTag> {
    let lattice = Iob2 {
        labels,
        prior: prior.filter(|t| t.weight > 0.0),
    };
    let emissions: Vec<f32> = probs
        .iter()
        .flat_map(|p| p.iter().map(|&v| v.max(1e-12).ln()))
        .collect();
    let best = crate::ner::decode::viterbi(&emissions, &lattice);
    probs
        .iter()
        .zip(best)
        .map(|(p, j)| TokenTag {
            tag: labels[j],
            score: p[j],
        })
        .collect()
}

/// The transformer's lattice: its labels under IOB2 ([`Tag::may_follow`]) and, when it has
/// one, the weighted tag-bigram prior between words.
struct Iob2<'a> {
    labels: &'a [Tag],
    prior: Option<&'a Transitions>,
}

impl crate::ner::decode::Lattice for Iob2<'_> {
    fn tags(&self) -> usize {
        self.labels.len()
    }

    fn transition(&self, prev: Option<usize>, cur: usize) -> f32 {
        let after = prev.map_or(Tag::O, |i| self.labels[i]);
        if !self.labels[cur].may_follow(after) {
            return f32::NEG_INFINITY;
        }
        match (prev, self.prior) {
            (Some(i), Some(t)) => t.weight * t.log_probs[i][cur],
            _ => 0.0,
        }
    }
}

/// Gives every mention of the same name in a document one label: the label with the largest
/// summed confidence over its mentions. A sentence-level tagger sometimes types a name
/// differently across an article ("Huawei" ORG in most sentences, PER in one); the article as a
/// whole is the better evidence. Mentions are compared by their word pieces; spans are not
/// moved, added or removed.
pub fn harmonize_labels<W: AsRef<[u32]>>(doc: &[Vec<W>], tags: &mut [Vec<TokenTag>]) {
    use crate::ner::Label;
    // (sentence, first word, end word, label, mean score) of every entity span.
    let mut spans: Vec<(usize, usize, usize, Label, f32)> = Vec::new();
    for (si, s) in tags.iter().enumerate() {
        let mut i = 0;
        while i < s.len() {
            let Tag::B(l) = s[i].tag else {
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j < s.len() && s[j].tag == Tag::I(l) {
                j += 1;
            }
            let score = s[i..j].iter().map(|t| t.score).sum::<f32>() / (j - i) as f32;
            spans.push((si, i, j, l, score));
            i = j;
        }
    }
    let key = |si: usize, i: usize, j: usize| -> Option<Vec<u32>> {
        let words = doc.get(si)?.get(i..j)?;
        Some(
            words
                .iter()
                .flat_map(|w| w.as_ref().iter().copied().chain([u32::MAX]))
                .collect(),
        )
    };
    let mut votes: HashMap<Vec<u32>, Vec<(Label, f32)>> = HashMap::new();
    for &(si, i, j, l, score) in &spans {
        let Some(k) = key(si, i, j) else { continue };
        let v = votes.entry(k).or_default();
        match v.iter_mut().find(|(x, _)| *x == l) {
            Some((_, total)) => *total += score,
            None => v.push((l, score)),
        }
    }
    for &(si, i, j, l, _) in &spans {
        let Some(v) = key(si, i, j).and_then(|k| votes.get(&k)) else {
            continue;
        };
        if v.len() < 2 {
            continue;
        }
        // Ties keep the first label seen, so the result does not depend on hash order.
        let best = v.iter().fold(v[0], |a, &b| if b.1 > a.1 { b } else { a }).0;
        if best != l {
            tags[si][i].tag = Tag::B(best);
            for t in &mut tags[si][i + 1..j] {
                t.tag = Tag::I(best);
            }
        }
    }
}

/// Turns an `I-X` that does not continue an `X` entity into `B-X` ([`crate::ner::tags::to_iob2`]).
pub fn repair_iob2(tags: &mut [TokenTag]) {
    crate::ner::tags::repair_iob2(tags, |t| &mut t.tag);
}

/// The transformer NER model as a [`Recognizer`].
#[derive(Debug, Clone)]
pub struct TransformerNer {
    name: String,
    tagger: Tagger,
}

/// Reads `labels.json`: a JSON array of IOB2 tags.
pub fn read_labels(path: &Path) -> Result<Vec<Tag>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    files::parse_labels(&text, &path.display().to_string())
}

/// Reads the `ontleed` section of a model's `config.json`.
pub fn read_settings(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    files::parse_settings(&text, &path.display().to_string())
}

/// Reads the tag-bigram prior of a model's `config.json` with `n` labels, if it has one.
pub fn read_transitions(path: &Path, n: usize) -> Result<Option<Transitions>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    files::parse_transitions(&text, &path.display().to_string(), n)
}

/// Every weight of a model directory as an f32 tensor, by its Hugging Face name (`bert.*`,
/// `classifier.*`), whatever the storage format of the file (quantized matrices dequantized).
pub fn read_weights(dir: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    ModelFiles::read(dir)?.load_f32(device)
}

impl TransformerNer {
    /// Loads a model directory onto the CPU.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_on(dir, &Device::Cpu)
    }

    /// Loads a model directory onto `device`.
    pub fn load_on(dir: &Path, device: &Device) -> Result<Self> {
        Self::from_files(&ModelFiles::read(dir)?, device)
    }

    /// Builds the model from the files of a model directory (read from disk or embedded).
    pub fn from_files(files: &ModelFiles, device: &Device) -> Result<Self> {
        let config_name = files.name_of(CONFIG_FILE);
        let config = Config::parse(&files.config, &config_name)?;
        let settings = files.settings()?;
        ensure!(
            settings.max_len >= 3 && settings.max_len <= config.max_position_embeddings,
            "{config_name}: max_len {} is outside 3..={}",
            settings.max_len,
            config.max_position_embeddings
        );
        let labels = files.labels()?;
        let transitions = files.transitions(labels.len())?;
        let tokenizer = Tokenizer::from_bytes(files.tokenizer.as_ref())
            .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", files.name_of(TOKENIZER_FILE)))?;
        // Quantized matrices are expanded to f32: candle's quantized matmul is several times
        // slower than its f32 one on these shapes (hidden size 384 is not a multiple of the
        // 256-value blocks its fast x86 kernels need; measured in the model card).
        let tensors = files.load_f32(device)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let model =
            TokenClassifier::load(&Weights::new(vb), &config, labels).with_context(|| {
                format!(
                    "{} does not match {CONFIG_FILE}",
                    files.name_of(files.format.file_name())
                )
            })?;
        let specials = Specials::of(&tokenizer)?;
        Ok(Self {
            name: files.origin.clone(),
            tagger: Tagger {
                model,
                tokenizer,
                settings,
                specials,
                device: device.clone(),
                decoding: Decoding {
                    transitions,
                    // +0.7 F1 on ned.testa (86.21 → 86.90 with the shipped model).
                    harmonize: true,
                },
            },
        })
    }

    /// Switches the encoder to int8 linear layers where this CPU has AVX-512 VNNI or AVX2
    /// ([`super::int8`]); unchanged elsewhere. For inference only.
    pub fn with_int8(mut self) -> Result<Self> {
        self.tagger.model.bert.use_int8()?;
        Ok(self)
    }

    /// Wraps a tagger (for instance the model being trained).
    pub fn from_tagger(tagger: Tagger, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tagger,
        }
    }

    /// Sets the name written into output records.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The tagger.
    pub fn tagger(&self) -> &Tagger {
        &self.tagger
    }
}

impl Recognizer for TransformerNer {
    fn name(&self) -> &str {
        &self.name
    }

    /// Tags a document; an internal (candle) error, which should not happen, is the
    /// article's error.
    fn tag_document(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<TokenTag>>, RecognizerError> {
        self.tagger
            .try_tag_document(sentences)
            .map_err(|e| RecognizerError::new(&self.name, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::Label;

    #[test]
    fn harmonize_gives_a_name_its_most_confident_label() {
        let t = |tag: &str, score: f32| TokenTag {
            tag: tag.parse().unwrap(),
            score,
        };
        // Pieces: "Huawei" = [7], "Vincent" = [8], "Pang" = [9], "zegt" = [5], "Ren" = [6].
        let doc: Vec<WordPieces> = vec![
            vec![vec![7], vec![5]],
            vec![vec![7], vec![5], vec![8], vec![9]],
            vec![vec![7], vec![6]],
        ];
        let mut tags = vec![
            vec![t("B-PER", 0.6), t("O", 0.9)],
            vec![
                t("B-ORG", 0.9),
                t("O", 0.9),
                t("B-PER", 0.9),
                t("I-PER", 0.9),
            ],
            vec![t("B-ORG", 0.8), t("B-PER", 0.7)],
        ];
        harmonize_labels(&doc, &mut tags);
        let got: Vec<Vec<String>> = tags
            .iter()
            .map(|s| s.iter().map(|t| t.tag.to_string()).collect())
            .collect();
        assert_eq!(
            got,
            [
                vec!["B-ORG", "O"],
                vec!["B-ORG", "O", "B-PER", "I-PER"],
                vec!["B-ORG", "B-PER"]
            ]
        );
        // A name seen once keeps its label; spans are never changed.
        let doc: Vec<WordPieces> = vec![vec![vec![7], vec![8]]];
        let mut tags = vec![vec![t("B-PER", 0.5), t("I-PER", 0.5)]];
        harmonize_labels(&doc, &mut tags);
        assert_eq!(tags[0][0].tag.to_string(), "B-PER");
        assert_eq!(tags[0][1].tag.to_string(), "I-PER");
    }

    /// Sentence-by-sentence decoding as rows arrive ([`tag_batched`], with pieces as slices
    /// into a table) gives what decoding the whole documents' probabilities gives ([`decode`]
    /// of [`word_probabilities`]), over packed sentences, sentences longer than a sequence
    /// (windows), an empty sentence and several documents.
    #[test]
    fn decoding_as_rows_arrive_matches_decoding_whole_documents() {
        let labels: Vec<Tag> = (0..Tag::COUNT).map(Tag::from_index).collect();
        // Word i of sentence s: pieces that repeat, so that names recur for harmonizing.
        let sentence = |s: usize, n: usize| -> WordPieces {
            (0..n)
                .map(|i| {
                    (0..1 + (i + s) % 3)
                        .map(|j| 10 + ((i * 7 + j) % 23) as u32)
                        .collect()
                })
                .collect()
        };
        let docs: Vec<Vec<WordPieces>> = vec![
            vec![sentence(0, 5), sentence(1, 40), Vec::new(), sentence(3, 7)],
            vec![sentence(4, 3)],
            vec![sentence(5, 12), sentence(6, 2), sentence(7, 9)],
        ];
        // Deterministic "probabilities" from the pieces around each target.
        let probs = |segs: &[&Segment]| -> Result<Vec<Vec<f32>>> {
            Ok(segs
                .iter()
                .flat_map(|s| {
                    s.targets.iter().map(|t| {
                        let mut row: Vec<f32> = (0..labels.len())
                            .map(|j| {
                                1.0 + ((s.ids[t.pos] as usize * 31 + j * 17 + s.ids.len()) % 11)
                                    as f32
                            })
                            .collect();
                        let total: f32 = row.iter().sum();
                        row.iter_mut().for_each(|v| *v /= total);
                        row
                    })
                })
                .collect())
        };
        let prior = Transitions::estimate(
            [[Tag::O, Tag::B(Label::Per), Tag::I(Label::Per)].as_slice()],
            &labels,
            0.5,
        );
        for pack_sentences in [false, true] {
            let layout = Layout {
                bos: 0,
                eos: 2,
                max_len: 16,
                context_sentences: 1,
                pack_sentences,
            };
            for decoding in [
                Decoding::default(),
                Decoding {
                    transitions: Some(prior.clone()),
                    harmonize: true,
                },
            ] {
                let whole = decode(
                    &docs,
                    &word_probabilities(&docs, &layout, probs).unwrap(),
                    &labels,
                    &decoding,
                )
                .unwrap();
                let slices: Vec<Vec<Vec<&[u32]>>> = docs
                    .iter()
                    .map(|d| {
                        d.iter()
                            .map(|s| s.iter().map(Vec::as_slice).collect())
                            .collect()
                    })
                    .collect();
                let streamed = tag_batched(&slices, &layout, &labels, &decoding, probs).unwrap();
                assert_eq!(streamed, whole);
                assert_eq!(streamed[0][2], Vec::new());
            }
        }
    }

    #[test]
    fn viterbi_finds_the_best_valid_sequence() {
        let labels: Vec<Tag> = (0..Tag::COUNT).map(Tag::from_index).collect();
        let row = |pairs: &[(&str, f32)]| {
            let mut p = vec![0.0; Tag::COUNT];
            for &(t, v) in pairs {
                p[t.parse::<Tag>().unwrap().index()] = v;
            }
            p
        };
        // Arg-max would give O I-PER (repaired to B-PER); the best valid path is B-PER I-PER.
        let probs = vec![
            row(&[("O", 0.55), ("B-PER", 0.45)]),
            row(&[("I-PER", 0.9), ("O", 0.1)]),
            row(&[("O", 1.0)]),
        ];
        let out = viterbi(&probs, &labels, None);
        let got: Vec<String> = out.iter().map(|t| t.tag.to_string()).collect();
        assert_eq!(got, ["B-PER", "I-PER", "O"]);
        assert!((out[0].score - 0.45).abs() < 1e-6);
        // An I- tag is never first, and never follows another type.
        let probs = vec![
            row(&[("I-LOC", 0.6), ("B-LOC", 0.4)]),
            row(&[("I-ORG", 0.7), ("I-LOC", 0.3)]),
        ];
        let out = viterbi(&probs, &labels, None);
        let got: Vec<String> = out.iter().map(|t| t.tag.to_string()).collect();
        assert_eq!(got, ["B-LOC", "I-LOC"]);
    }

    #[test]
    fn the_transition_prior_shifts_close_calls() {
        let labels: Vec<Tag> = (0..Tag::COUNT).map(Tag::from_index).collect();
        let tags = |s: &str| -> Vec<Tag> { s.split(' ').map(|t| t.parse().unwrap()).collect() };
        let sentences = [
            tags("B-PER I-PER O O B-LOC"),
            tags("O B-PER I-PER O"),
            tags("B-ORG I-ORG I-ORG O"),
        ];
        let t = Transitions::estimate(sentences.iter().map(Vec::as_slice), &labels, 1.0);
        t.check(labels.len(), "test").unwrap();
        let (per_b, per_i) = (Tag::B(Label::Per).index(), Tag::I(Label::Per).index());
        // B-PER → I-PER seen twice out of 2 B-PER bigrams, with add-one smoothing: 3 / 11.
        assert!((t.log_probs[per_b][per_i] - (3.0f32 / 11.0).ln()).abs() < 1e-6);
        for row in &t.log_probs {
            let total: f32 = row.iter().map(|v| v.exp()).sum();
            assert!((total - 1.0).abs() < 1e-5);
        }
        assert!(t.check(3, "test").is_err());
        assert!(t.with_weight(f32::NAN).check(labels.len(), "test").is_err());

        // "Jan" B-PER, then a word slightly more B-PER than I-PER: two names without the prior,
        // one name with it (B-PER → B-PER is rare in the data, B-PER → I-PER common).
        let row = |pairs: &[(&str, f32)]| {
            let mut p = vec![0.0; Tag::COUNT];
            for &(t, v) in pairs {
                p[t.parse::<Tag>().unwrap().index()] = v;
            }
            p
        };
        let probs = vec![
            row(&[("B-PER", 1.0)]),
            row(&[("B-PER", 0.52), ("I-PER", 0.48)]),
        ];
        let got = |prior: Option<&Transitions>| -> Vec<String> {
            viterbi(&probs, &labels, prior)
                .iter()
                .map(|t| t.tag.to_string())
                .collect()
        };
        assert_eq!(got(None), ["B-PER", "B-PER"]);
        assert_eq!(got(Some(&t.with_weight(0.0))), ["B-PER", "B-PER"]);
        assert_eq!(got(Some(&t)), ["B-PER", "I-PER"]);
        // The scores stay the words' own probabilities.
        assert!((viterbi(&probs, &labels, Some(&t))[1].score - 0.48).abs() < 1e-6);
    }

    #[test]
    fn repair_turns_orphan_inside_tags_into_begin() {
        let t = |tag: &str| TokenTag {
            tag: tag.parse().unwrap(),
            score: 1.0,
        };
        let mut tags = vec![
            t("I-PER"),
            t("I-PER"),
            t("O"),
            t("I-LOC"),
            t("B-ORG"),
            t("I-MISC"),
        ];
        repair_iob2(&mut tags);
        let got: Vec<Tag> = tags.iter().map(|t| t.tag).collect();
        assert_eq!(
            got,
            [
                Tag::B(Label::Per),
                Tag::I(Label::Per),
                Tag::O,
                Tag::B(Label::Loc),
                Tag::B(Label::Org),
                Tag::B(Label::Misc)
            ]
        );
    }
}
