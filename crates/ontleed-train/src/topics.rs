//! Training the category model (`ontleed train-topics`): one-vs-rest logistic regression with
//! AdaGrad and L2, per-category thresholds fitted on out-of-fold probabilities (k-fold cross-
//! validation, maximum F1), then a final fit on all the data. Inference ([`ontleed::topics::categories`])
//! does not use this module.

use anyhow::{Result, bail};
use ontleed::pipeline::{article_text, furniture};
use ontleed::text::Document;
use ontleed::topics::categories::{
    Category, CategoryModel, Features, Header, features, sigmoid, width,
};
use ontleed::topics::labelled::{LabelledArticle, micro, prf};
use ontleed::topics::{Taxonomy, TopicTagger};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;

/// Options of a training run.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Hash buckets of the word features.
    pub dim: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad learning rate.
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Folds for fitting the thresholds.
    pub folds: usize,
    /// Shuffling seed.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            dim: 1 << 17,
            epochs: 30,
            learning_rate: 3.0,
            l2: 1e-4,
            folds: 5,
            seed: 42,
        }
    }
}

/// A training example: features, gold category mask, weight in the loss, and whether it takes
/// part in fitting the thresholds.
#[derive(Debug, Clone)]
pub struct Example {
    features: Features,
    gold: u16,
    weight: f32,
    calibrate: bool,
}

/// Turns labelled articles into examples, with the features the pipeline computes.
pub fn examples(
    articles: &[LabelledArticle],
    taxonomy: &Taxonomy,
    dim: usize,
    weight: f32,
    calibrate: bool,
) -> Vec<Example> {
    let tagger = TopicTagger::new(taxonomy.clone());
    let index = topic_index(taxonomy);
    articles
        .iter()
        .map(|a| {
            let text = article_text(a.title.as_deref(), &a.text);
            let doc = Document::new(&text);
            let paragraphs = article_paragraphs(&doc, a.title.is_some());
            let topics = tagger.tag(&doc, &paragraphs);
            let gold = a
                .categories
                .iter()
                .filter_map(|c| Category::index(c))
                .fold(0u16, |m, i| m | 1 << i);
            Example {
                features: features(dim, &index, &doc, &paragraphs, &topics),
                gold,
                weight,
                calibrate,
            }
        })
        .collect()
}

/// The article paragraphs as the pipeline marks them: not page furniture (the headline never
/// is). The pipeline also leaves out paragraphs in another language; training data has none.
pub fn article_paragraphs(doc: &Document, has_title: bool) -> Vec<bool> {
    let texts: Vec<&str> = doc
        .paragraphs
        .iter()
        .map(|p| doc.paragraph_text(p))
        .collect();
    furniture(&texts, has_title).iter().map(|f| !f).collect()
}

fn topic_index(taxonomy: &Taxonomy) -> HashMap<String, usize> {
    taxonomy
        .topic_ids()
        .enumerate()
        .map(|(i, t)| (t.to_string(), i))
        .collect()
}

/// Fits weights on `data` (indices into `examples`).
fn fit(examples: &[Example], data: &[usize], width: usize, o: &TrainOptions) -> Vec<f32> {
    let k = Category::ALL.len();
    let mut w = vec![0f32; k * width];
    let mut g2 = vec![1e-6f32; k * width];
    let mut order = data.to_vec();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed);
    for _ in 0..o.epochs {
        order.shuffle(&mut rng);
        for &e in &order {
            let ex = &examples[e];
            for c in 0..k {
                let row = &mut w[c * width..(c + 1) * width];
                let acc = &mut g2[c * width..(c + 1) * width];
                let z: f32 = ex.features.iter().map(|&(i, x)| row[i as usize] * x).sum();
                let y = if ex.gold & (1 << c) != 0 { 1.0 } else { 0.0 };
                let err = (sigmoid(z) - y) * ex.weight;
                for &(i, x) in &ex.features {
                    let i = i as usize;
                    let g = err * x + o.l2 * row[i];
                    acc[i] += g * g;
                    row[i] -= o.learning_rate * g / acc[i].sqrt();
                }
            }
        }
    }
    w
}

/// Raw scores (before the sigmoid) of each category.
fn scores(w: &[f32], width: usize, f: &Features) -> Vec<f32> {
    w.chunks_exact(width)
        .map(|row| f.iter().map(|&(i, x)| row[i as usize] * x).sum())
        .collect()
}

/// Platt scaling: `[a, b]` minimising the log loss of `sigmoid(a·z + b)` against `y`, by
/// Newton's method with step halving (the loss never increases).
fn platt(z: &[f32], y: &[bool]) -> [f32; 2] {
    let loss = |a: f64, b: f64| -> f64 {
        z.iter()
            .zip(y)
            .map(|(&z, &y)| {
                let t = a * f64::from(z) + b;
                // log(1 + e^t) - y·t, computed stably
                let softplus = if t > 0.0 {
                    t + (-t).exp().ln_1p()
                } else {
                    t.exp().ln_1p()
                };
                softplus - if y { t } else { 0.0 }
            })
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-6, 0.0, 1e-6);
        for (&z, &y) in z.iter().zip(y) {
            let z = f64::from(z);
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let d = p - if y { 1.0 } else { 0.0 };
            let h = p * (1.0 - p);
            ga += d * z;
            gb += d;
            haa += h * z * z;
            hab += h * z;
            hbb += h;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        let mut step = 1.0;
        while step > 1e-6 {
            let next = loss(a - step * da, b - step * db);
            if next <= current {
                a -= step * da;
                b -= step * db;
                let gain = current - next;
                current = next;
                if gain < 1e-9 {
                    return [a as f32, b as f32];
                }
                break;
            }
            step /= 2.0;
        }
        if step <= 1e-6 {
            break;
        }
    }
    [a as f32, b as f32]
}

/// The decision of a model as a category mask ([`ontleed::topics::categories::decide`]).
fn decide(probs: &[f32], thresholds: &[f32], best_floor: f32) -> u16 {
    ontleed::topics::categories::decide(probs, thresholds, best_floor)
        .into_iter()
        .fold(0u16, |m, (i, _)| m | 1 << i)
}

/// Trains a model: thresholds from `folds`-fold out-of-fold probabilities (on the examples
/// marked `calibrate`), weights from all examples. `log` receives progress lines.
pub fn train(
    examples: &[Example],
    taxonomy: &Taxonomy,
    o: &TrainOptions,
    name: &str,
    mut log: impl FnMut(&str),
) -> Result<CategoryModel> {
    if examples.is_empty() {
        bail!("no training examples");
    }
    let k = Category::ALL.len();
    let topics: Vec<String> = taxonomy.topic_ids().map(str::to_string).collect();
    let width = width(o.dim, topics.len());
    let folds = o.folds.max(2);
    let mut oof: Vec<Option<Vec<f32>>> = vec![None; examples.len()];
    for fold in 0..folds {
        let train: Vec<usize> = (0..examples.len()).filter(|i| i % folds != fold).collect();
        let w = fit(examples, &train, width, o);
        for (i, ex) in examples.iter().enumerate() {
            if i % folds == fold && ex.calibrate {
                oof[i] = Some(scores(&w, width, &ex.features));
            }
        }
        log(&format!("fold {}/{folds} fitted", fold + 1));
    }
    let raw: Vec<(&Vec<f32>, u16)> = oof
        .iter()
        .zip(examples)
        .filter_map(|(p, ex)| p.as_ref().map(|p| (p, ex.gold)))
        .collect();
    // Calibration per category on the out-of-fold scores, then calibrated probabilities.
    let calibration: Vec<[f32; 2]> = (0..k)
        .map(|c| {
            let z: Vec<f32> = raw.iter().map(|(s, _)| s[c]).collect();
            let y: Vec<bool> = raw.iter().map(|(_, g)| g & (1 << c) != 0).collect();
            platt(&z, &y)
        })
        .collect();
    let probs: Vec<(Vec<f32>, u16)> = raw
        .iter()
        .map(|(s, g)| {
            let p = s
                .iter()
                .zip(&calibration)
                .map(|(&z, &[a, b])| sigmoid(a * z + b))
                .collect();
            (p, *g)
        })
        .collect();
    let calib: Vec<(&Vec<f32>, u16)> = probs.iter().map(|(p, g)| (p, *g)).collect();
    // Per category, the threshold with the best F1 on the out-of-fold probabilities.
    let grid: Vec<f32> = (2..=95).map(|t| t as f32 / 100.0).collect();
    let mut thresholds = vec![0.5f32; k];
    for (c, threshold) in thresholds.iter_mut().enumerate() {
        let mut best = (-1.0, 0.5);
        for &t in &grid {
            let (mut tp, mut fp, mut fnn) = (0, 0, 0);
            for (p, gold) in &calib {
                let pred = p[c] >= t;
                let g = gold & (1 << c) != 0;
                match (pred, g) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fnn += 1,
                    _ => {}
                }
            }
            let f = prf(tp, fp, fnn).2;
            if f > best.0 {
                best = (f, t);
            }
        }
        *threshold = best.1;
    }
    // The floor for the most probable category, by the same out-of-fold micro-F1.
    let score = |floor: f32| {
        let pairs: Vec<(u16, u16)> = calib
            .iter()
            .map(|(p, gold)| (decide(p, &thresholds, floor), *gold))
            .collect();
        (micro(&pairs), pairs.len())
    };
    let mut best_floor = 1.0f32;
    let mut best = score(1.0).0;
    for floor in [0.0f32, 0.25, 0.5, 0.75] {
        let s = score(floor).0;
        log(&format!(
            "best-category floor {floor:.2}: micro F1 {:.1}",
            s.2
        ));
        if s.2 > best.2 {
            (best_floor, best) = (floor, s);
        }
    }
    let ((p, r, f), n) = score(best_floor);
    log(&format!(
        "cross-validated on {n} articles (floor {best_floor:.2}): micro P {p:.1} R {r:.1} F1 {f:.1}"
    ));
    let all: Vec<usize> = (0..examples.len()).collect();
    let weights = fit(examples, &all, width, o);
    let header = Header {
        name: name.to_string(),
        dim: o.dim,
        categories: Category::ALL.iter().map(|c| c.id.to_string()).collect(),
        topics,
        calibration,
        thresholds,
        best_floor,
        training: serde_json::json!({
            "examples": examples.len(),
            "epochs": o.epochs,
            "learning_rate": shortest(o.learning_rate),
            "l2": shortest(o.l2),
            "folds": folds,
            "seed": o.seed,
            "cross_validated_micro": {"precision": round1(p), "recall": round1(r), "f1": round1(f)},
        }),
    };
    CategoryModel::new(header, weights)
}

/// An `f32` as the `f64` with the same shortest decimal form (`1e-4`, not
/// `9.999999747378752e-5`).
fn shortest(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
