//! Training the fast model: structured averaged perceptron, seeded and reproducible, selecting
//! the epoch with the best development F1.

use anyhow::{Result, bail};
use ontleed::ner::conll::{self, Doc};
use ontleed::ner::eval::Scorer;
use ontleed::ner::fast::features::{DocStats, Extractor};
use ontleed::ner::fast::{
    Clusters, FastModel, FeatureMap, Gazetteer, T, clusters, history, scheme, viterbi,
    viterbi_with_marginals,
};
use ontleed::ner::tags::Tag;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `ontleed train` for the fast model.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Training files (CoNLL or indexed tab-separated).
    pub train: Vec<PathBuf>,
    /// Development file, used to pick the epoch and fit the confidence temperature.
    pub dev: PathBuf,
    /// Where to write `model.bin`.
    pub out: PathBuf,
    /// Number of passes over the training data.
    pub epochs: usize,
    /// Seed of the shuffling (of the first run).
    pub seed: u64,
    /// Independent runs (seeds `seed..seed+seeds`) whose weights are averaged.
    pub seeds: usize,
    /// Directory of gazetteer lists (`*.txt`), if any.
    pub gazetteers: Option<PathBuf>,
    /// Brown cluster file (`PATH<TAB>WORD[<TAB>COUNT]`), stored inside the model.
    pub clusters: Option<PathBuf>,
    /// Induce Brown clusters from the words of these files first (written to
    /// `OUT/clusters.txt` and used instead of `clusters`).
    pub cluster_text: Vec<PathBuf>,
    /// Number of Brown clusters to induce.
    pub cluster_classes: usize,
    /// Words seen fewer times than this in the cluster text get no cluster.
    pub cluster_min_count: u32,
    /// Feature dropout: during training each feature of a sentence is left out with this
    /// probability (a fresh draw per epoch); 0 turns it off.
    pub dropout: f32,
    /// Features seen fewer times than this in training are dropped.
    pub min_count: u32,
    /// Name recorded in the model and in output records.
    pub name: String,
}

/// One sentence, ready for training: feature rows per token and gold tag indexes.
struct Example {
    feats: Vec<Vec<u32>>,
    gold: Vec<usize>,
}

/// Result of training.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// Best epoch (1-based).
    pub best_epoch: usize,
    /// Development F1 of the saved (quantised) model.
    pub dev_f1: f64,
    /// The saved model's full conlleval report on the development set.
    pub dev_report: String,
    /// Number of feature rows in the saved model.
    pub features: usize,
    /// Seconds spent.
    pub seconds: f64,
}

fn doc_features(ex: &Extractor<'_>, doc: &Doc) -> Vec<Vec<Vec<u64>>> {
    let words = conll::words(doc);
    let stats = DocStats::new(&words);
    words.iter().map(|w| ex.sentence(w, &stats)).collect()
}

/// Trains a fast model, prints one progress line per epoch to stderr, saves the best epoch.
pub fn train(opts: &TrainOptions) -> Result<TrainReport> {
    let start = Instant::now();
    if opts.train.is_empty() {
        bail!("no training files given");
    }
    let gazetteer = match &opts.gazetteers {
        Some(dir) => Gazetteer::from_dir(dir)?,
        None => Gazetteer::default(),
    };
    let clusters = if !opts.cluster_text.is_empty() {
        let mut docs = Vec::new();
        for f in &opts.cluster_text {
            docs.extend(conll::read_file(f)?);
        }
        let sentences: Vec<Vec<&str>> = docs
            .iter()
            .flatten()
            .map(|s| s.words.iter().map(String::as_str).collect())
            .collect();
        let t0 = Instant::now();
        let induced = clusters::induce(&sentences, opts.cluster_classes, opts.cluster_min_count);
        let path = opts.out.join("clusters.txt");
        induced.write(&path)?;
        eprintln!(
            "induced {} Brown clusters of {} words from {} sentences in {:.1}s: {}",
            opts.cluster_classes,
            induced.words.len(),
            sentences.len(),
            t0.elapsed().as_secs_f64(),
            path.display()
        );
        induced.clusters()
    } else {
        match &opts.clusters {
            Some(f) => Clusters::from_file(f)?,
            None => Clusters::default(),
        }
    };
    let extractor = Extractor {
        gazetteer: &gazetteer,
        clusters: &clusters,
    };
    let mut train_docs = Vec::new();
    for f in &opts.train {
        let docs = conll::read_file(f)?;
        eprintln!(
            "read {}: {} documents, {} sentences",
            f.display(),
            docs.len(),
            docs.iter().map(Vec::len).sum::<usize>()
        );
        train_docs.extend(docs);
    }
    let dev_docs = conll::read_file(&opts.dev)?;

    // Hash features, count them, index the frequent ones.
    let hashed: Vec<Vec<Vec<Vec<u64>>>> = train_docs
        .iter()
        .map(|doc| doc_features(&extractor, doc))
        .collect();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for tok in hashed.iter().flatten().flatten() {
        for h in tok {
            *counts.entry(*h).or_default() += 1;
        }
    }
    let mut kept: Vec<u64> = counts
        .into_iter()
        .filter(|&(_, c)| c >= opts.min_count)
        .map(|(h, _)| h)
        .collect();
    kept.extend(history::all_hashes());
    kept.sort_unstable();
    kept.dedup();
    let mut index = FeatureMap::with_capacity_and_hasher(kept.len(), Default::default());
    for (i, h) in kept.iter().enumerate() {
        index.insert(*h, i as u32);
    }
    let train_set: Vec<DocExample> = train_docs
        .iter()
        .zip(hashed)
        .map(|(doc, feats)| DocExample::new(doc, feats, &index))
        .collect();
    let dev: Vec<DocExample> = dev_docs
        .iter()
        .map(|doc| DocExample::new(doc, doc_features(&extractor, doc), &index))
        .collect();
    let tokens: usize = train_set
        .iter()
        .flat_map(|d| &d.sentences)
        .map(|e| e.gold.len())
        .sum();
    eprintln!(
        "{} training documents ({tokens} tokens), {} dev documents, {} features (min count {})",
        train_set.len(),
        dev.len(),
        index.len(),
        opts.min_count
    );

    let runs: Vec<Run> = (0..opts.seeds.max(1) as u64)
        .into_par_iter()
        .map(|k| train_run(opts, opts.seed + k, &train_set, &dev, &index))
        .collect();
    let best_epoch = runs.iter().map(|r| r.epoch).max().unwrap_or(0);
    if best_epoch == 0 {
        bail!("no epochs run (--epochs must be at least 1)");
    }
    // Parameter mixing: the mean of the runs' averaged weights.
    let n = runs.len() as f32;
    let mean = |pick: fn(&Run) -> &Vec<f32>| -> Vec<f32> {
        let mut m = vec![0.0f32; pick(&runs[0]).len()];
        for r in &runs {
            add(&mut m, pick(r));
        }
        m.iter_mut().for_each(|v| *v /= n);
        m
    };
    let (avg, tavg) = (mean(|r| &r.weights), mean(|r| &r.transitions));
    if runs.len() > 1 {
        eprintln!(
            "mixture of {} runs: dev F1 {:.2}",
            runs.len(),
            score(&dev, &avg, &tavg, &index).overall().f1()
        );
    }

    // Keep rows with any non-zero weight.
    let mut model_index = FeatureMap::default();
    let mut weights = Vec::new();
    for (&h, &row) in &index {
        let r = &avg[row as usize * T..(row as usize + 1) * T];
        if r.iter().any(|v| v.abs() > 1e-3) {
            model_index.insert(h, (weights.len() / T) as u32);
            weights.extend_from_slice(r);
        }
    }
    let temperature = fit_temperature(&dev, &avg, &tavg, &index);
    let model = FastModel {
        name: opts.name.clone(),
        index: model_index,
        weights,
        transitions: tavg,
        temperature,
        gazetteer: gazetteer.clone(),
        clusters: clusters.clone(),
    };
    let path = opts.out.join("model.bin");
    model.save(&path)?;
    // Score what was saved (quantised weights), through the same path inference uses.
    let saved = FastModel::load(&path)?;
    let mut scorer = Scorer::default();
    scorer.add_documents(&saved, &dev_docs)?;
    eprintln!(
        "saved {} (epoch {best_epoch}, {} features, temperature {temperature:.2}): dev F1 {:.2}",
        path.display(),
        saved.feature_count(),
        scorer.overall().f1()
    );
    Ok(TrainReport {
        best_epoch,
        dev_f1: scorer.overall().f1(),
        dev_report: scorer.report(),
        features: saved.feature_count(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn emissions(w: &[f32], feats: &[Vec<u32>]) -> Vec<f32> {
    let mut e = vec![0.0f32; feats.len() * T];
    for (i, fs) in feats.iter().enumerate() {
        let row = &mut e[i * T..(i + 1) * T];
        for &f in fs {
            for (a, b) in row.iter_mut().zip(&w[f as usize * T..(f as usize + 1) * T]) {
                *a += b;
            }
        }
    }
    e
}

fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// The best epoch of one training run.
struct Run {
    epoch: usize,
    weights: Vec<f32>,
    transitions: Vec<f32>,
}

/// One seeded training run; returns the averaged weights of its best epoch on the dev set.
fn train_run(
    opts: &TrainOptions,
    seed: u64,
    train_set: &[DocExample],
    dev: &[DocExample],
    index: &FeatureMap,
) -> Run {
    let mut p = Perceptron::new(index.len());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Feature dropout has its own generator, so that the shuffling does not depend on it.
    let mut drop_rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x00d2_0b0a);
    let dropout = opts.dropout.clamp(0.0, 0.9);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut best: Option<(f64, Run)> = None;
    for epoch in 1..=opts.epochs {
        let t0 = Instant::now();
        order.shuffle(&mut rng);
        let mut errors = 0usize;
        for doc in order.iter().map(|&i| &train_set[i]) {
            // First pass: static features only; its predictions feed the history features.
            // With dropout, each sentence sees a random subset of its features in this epoch.
            let masked: Vec<Option<Vec<Vec<u32>>>> = doc
                .sentences
                .iter()
                .map(|ex| (dropout > 0.0).then(|| mask(&ex.feats, dropout, &mut drop_rng)))
                .collect();
            let feats = |k: usize| -> &[Vec<u32>] {
                masked[k]
                    .as_deref()
                    .unwrap_or(doc.sentences[k].feats.as_slice())
            };
            let mut pass1 = Vec::with_capacity(doc.sentences.len());
            for (k, ex) in doc.sentences.iter().enumerate() {
                let pred = viterbi(&emissions(&p.w, feats(k)), &p.tw);
                if pred != ex.gold {
                    p.update(&[feats(k)], &ex.gold, &pred);
                }
                pass1.push(pred);
            }
            let mut hist = doc.history(&pass1, index);
            if dropout > 0.0 {
                for h in &mut hist {
                    *h = mask(h, dropout, &mut drop_rng);
                }
            }
            for (k, (ex, h)) in doc.sentences.iter().zip(&hist).enumerate() {
                let mut e = emissions(&p.w, feats(k));
                add(&mut e, &emissions(&p.w, h));
                let pred = viterbi(&e, &p.tw);
                if pred != ex.gold {
                    errors += 1;
                    p.update(&[feats(k), h], &ex.gold, &pred);
                }
            }
        }
        let (mut weights, transitions) = p.averaged();
        if dropout > 0.0 {
            // Training saw a fraction 1 - dropout of the features: scale to the full set.
            let keep = 1.0 - dropout;
            weights.iter_mut().for_each(|w| *w *= keep);
        }
        let scorer = score(dev, &weights, &transitions, index);
        let f1 = scorer.overall().f1();
        eprintln!(
            "seed {seed} epoch {epoch:>2}/{}: {errors} sentences wrong in training, dev P {:.2} R {:.2} F1 {f1:.2} ({:.1}s)",
            opts.epochs,
            scorer.overall().precision(),
            scorer.overall().recall(),
            t0.elapsed().as_secs_f64()
        );
        if best.as_ref().is_none_or(|b| f1 > b.0) {
            best = Some((
                f1,
                Run {
                    epoch,
                    weights,
                    transitions,
                },
            ));
        }
    }
    best.map(|b| b.1).unwrap_or(Run {
        epoch: 0,
        weights: p.w,
        transitions: p.tw,
    })
}

/// A copy of feature rows with each feature dropped with probability `p`.
fn mask(feats: &[Vec<u32>], p: f32, rng: &mut impl rand::Rng) -> Vec<Vec<u32>> {
    feats
        .iter()
        .map(|tok| {
            tok.iter()
                .copied()
                .filter(|_| rng.random::<f32>() >= p)
                .collect()
        })
        .collect()
}

/// Both passes over one document with fixed weights; returns each sentence's second-pass
/// emissions.
fn two_pass(doc: &DocExample, w: &[f32], tw: &[f32], index: &FeatureMap) -> Vec<Vec<f32>> {
    let first: Vec<Vec<f32>> = doc
        .sentences
        .iter()
        .map(|ex| emissions(w, &ex.feats))
        .collect();
    let pass1: Vec<Vec<usize>> = first.iter().map(|e| viterbi(e, tw)).collect();
    let hist = doc.history(&pass1, index);
    first
        .into_iter()
        .zip(&hist)
        .map(|(mut e, h)| {
            add(&mut e, &emissions(w, h));
            e
        })
        .collect()
}

fn score(dev: &[DocExample], w: &[f32], tw: &[f32], index: &FeatureMap) -> Scorer {
    let mut scorer = Scorer::default();
    for doc in dev {
        for (ex, e) in doc.sentences.iter().zip(two_pass(doc, w, tw, index)) {
            let pred = viterbi(&e, tw);
            scorer.add(&scheme::decode(&ex.gold), &scheme::decode(&pred));
        }
    }
    scorer
}

/// The softmax temperature over max-marginals that minimises the gold tags' negative
/// log-likelihood on the development set.
fn fit_temperature(dev: &[DocExample], w: &[f32], tw: &[f32], index: &FeatureMap) -> f32 {
    let margins: Vec<(Vec<f32>, &[usize])> = dev
        .iter()
        .flat_map(|doc| {
            doc.sentences
                .iter()
                .zip(two_pass(doc, w, tw, index))
                .map(|(ex, e)| (viterbi_with_marginals(&e, tw).1, ex.gold.as_slice()))
        })
        .collect();
    let nll = |temp: f32| -> f64 {
        let mut total = 0.0f64;
        for (m, gold) in &margins {
            for (i, &g) in gold.iter().enumerate() {
                let row = &m[i * T..(i + 1) * T];
                let top = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let z: f32 = row.iter().map(|&v| ((v - top) / temp).exp()).sum();
                let p = ((row[g] - top) / temp).exp() / z;
                total -= (p.max(1e-9) as f64).ln();
            }
        }
        total
    };
    let mut best = (f64::INFINITY, 1.0f32);
    let mut temp = 0.25f32;
    while temp < 200.0 {
        let v = nll(temp);
        if v < best.0 {
            best = (v, temp);
        }
        temp *= 1.25;
    }
    best.1
}

/// The averaged perceptron's weights: current `w`, and `u`, the sum of each update times the
/// step it happened at, so that the average is `w - u / c`.
struct Perceptron {
    w: Vec<f32>,
    u: Vec<f32>,
    tw: Vec<f32>,
    tu: Vec<f32>,
    c: f32,
}

impl Perceptron {
    fn new(features: usize) -> Self {
        Self {
            w: vec![0.0; features * T],
            u: vec![0.0; features * T],
            tw: vec![0.0; (T + 1) * T],
            tu: vec![0.0; (T + 1) * T],
            c: 1.0,
        }
    }

    /// Moves weights towards the gold tags and away from the predicted ones.
    fn update(&mut self, feats: &[&[Vec<u32>]], gold: &[usize], pred: &[usize]) {
        let c = self.c;
        for i in 0..pred.len() {
            let (g, p) = (gold[i], pred[i]);
            if g != p {
                for fs in feats {
                    for &f in &fs[i] {
                        let r = f as usize * T;
                        self.w[r + g] += 1.0;
                        self.u[r + g] += c;
                        self.w[r + p] -= 1.0;
                        self.u[r + p] -= c;
                    }
                }
            }
            let gp = if i == 0 { 0 } else { gold[i - 1] + 1 };
            let pp = if i == 0 { 0 } else { pred[i - 1] + 1 };
            if (gp, g) != (pp, p) {
                self.tw[gp * T + g] += 1.0;
                self.tu[gp * T + g] += c;
                self.tw[pp * T + p] -= 1.0;
                self.tu[pp * T + p] -= c;
            }
        }
        self.c += 1.0;
    }

    /// The averaged weights and transitions.
    fn averaged(&self) -> (Vec<f32>, Vec<f32>) {
        let avg = |w: &[f32], u: &[f32]| w.iter().zip(u).map(|(w, u)| w - u / self.c).collect();
        (avg(&self.w, &self.u), avg(&self.tw, &self.tu))
    }
}

/// A document ready for training: its words and, per sentence, feature rows and gold tags.
struct DocExample {
    words: Vec<Vec<String>>,
    sentences: Vec<Example>,
}

impl DocExample {
    fn new(doc: &Doc, feats: Vec<Vec<Vec<u64>>>, index: &FeatureMap) -> Self {
        DocExample {
            words: doc.iter().map(|s| s.words.clone()).collect(),
            sentences: feats
                .into_iter()
                .zip(doc)
                .map(|(f, s)| Example {
                    feats: rows(f, index),
                    gold: scheme::encode(&s.tags),
                })
                .collect(),
        }
    }

    /// History feature rows of each sentence, given first-pass tags.
    fn history(&self, pass1: &[Vec<usize>], index: &FeatureMap) -> Vec<Vec<Vec<u32>>> {
        let words: Vec<Vec<&str>> = self
            .words
            .iter()
            .map(|s| s.iter().map(String::as_str).collect())
            .collect();
        let pass1: Vec<Vec<Tag>> = pass1.iter().map(|t| scheme::decode(t)).collect();
        history::features(&words, &pass1)
            .into_iter()
            .map(|f| rows(f, index))
            .collect()
    }
}

/// Maps hashed features to weight rows, dropping unknown ones.
fn rows(f: Vec<Vec<u64>>, index: &FeatureMap) -> Vec<Vec<u32>> {
    f.into_iter()
        .map(|tok| tok.iter().filter_map(|h| index.get(h).copied()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_mask_keeps_about_the_rest() {
        let feats: Vec<Vec<u32>> = (0..100)
            .map(|i| (0..50).map(|f| i * 50 + f).collect())
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let m = mask(&feats, 0.3, &mut rng);
        let kept: usize = m.iter().map(Vec::len).sum();
        assert!((3200..=3800).contains(&kept), "{kept} of 5000 kept");
        // Kept features stay in order and come from their own token.
        for (a, b) in m.iter().zip(&feats) {
            assert!(a.iter().all(|f| b.contains(f)));
            assert!(a.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(mask(&feats, 0.0, &mut rng), feats);
    }
}
