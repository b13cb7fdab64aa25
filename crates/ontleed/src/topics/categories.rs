//! News categories: the 1–3 main subjects of an article, from a learned, calibrated model.
//!
//! The 15 categories are those of the project's labelling guide (sport, economy, politics, …;
//! [`Category::ALL`]). The model is a one-vs-rest logistic regression over
//!
//! - hashed words of the article text: each word (lower-cased), its first five characters (a
//!   cheap stem: `verkiezingen` and `verkiezingsuitslag` share `verki`), and, for the headline and
//!   lead (the first two article paragraphs), the five-character stem again in a headline space,
//!   counted as `1 + ln(count)` and L2-normalised;
//! - the fine topics the keyword matcher found ([`super::TopicMatch`]), their scores as features;
//! - the article's length class (a headline alone: up to 20 words; a brief: up to 150; longer),
//!   one-hot, so that each category has its own intercept per class and the probabilities of a
//!   headline and of a long article are calibrated alike;
//! - a bias.
//!
//! It needs no NER model, so `--ner-model fast` and `accurate` give the same categories at the
//! same cost. A category is a main subject when its probability reaches the category's own
//! threshold, fitted by cross-validation on the labelled training data (maximum F1 per category);
//! at most three are reported, best first, and none when no category reaches its threshold.
//! Training lives in `ontleed train-topics` (module `topics::train`); this module only loads and
//! applies a model.
//!
//! # File format
//!
//! A gzip stream holding the line `ontleed-categories`, one line of JSON ([`Header`]), then the
//! weights as little-endian `f32`, category-major: `categories × (dim + topics + 4)`.

use super::TopicMatch;
use crate::text::Document;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The model compiled into the binary.
const BUILTIN: &[u8] = include_bytes!("../../../../models/categories/model.bin.gz");

/// First line of a model file.
const MAGIC: &str = "ontleed-categories";

/// Characters of a word kept as its stem feature.
const STEM_CHARS: usize = 5;

/// Most categories reported for one article.
pub const MAX_CATEGORIES: usize = 3;

/// A news category (what an editor files an article under).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Stable id.
    pub id: &'static str,
    /// Dutch label, used in the output.
    pub label: &'static str,
    /// IPTC Media Topic top-level code, where one fits (transport and international have none).
    pub iptc: Option<&'static str>,
}

impl Category {
    /// The 15 categories, in the order of the labelling guide.
    pub const ALL: [Category; 15] = [
        Category::new("sport", "Sport", Some("medtop:15000000")),
        Category::new("economy", "Economie", Some("medtop:04000000")),
        Category::new("politics", "Politiek", Some("medtop:11000000")),
        Category::new("justice", "Justitie en misdaad", Some("medtop:02000000")),
        Category::new("culture", "Cultuur en media", Some("medtop:01000000")),
        Category::new("international", "Internationaal", None),
        Category::new("conflict", "Conflict en defensie", Some("medtop:16000000")),
        Category::new("health", "Gezondheid", Some("medtop:07000000")),
        Category::new("technology", "Technologie", Some("medtop:13000000")),
        Category::new("labour", "Werk", Some("medtop:09000000")),
        Category::new("disaster", "Rampen en ongevallen", Some("medtop:03000000")),
        Category::new("environment", "Milieu en klimaat", Some("medtop:06000000")),
        Category::new(
            "education",
            "Onderwijs en wetenschap",
            Some("medtop:05000000"),
        ),
        Category::new("transport", "Verkeer en vervoer", None),
        Category::new("society", "Samenleving", Some("medtop:14000000")),
    ];

    const fn new(id: &'static str, label: &'static str, iptc: Option<&'static str>) -> Self {
        Self { id, label, iptc }
    }

    /// The category with this id.
    pub fn from_id(id: &str) -> Option<&'static Category> {
        Self::ALL.iter().find(|c| c.id == id)
    }

    /// Index of the category with this id in [`Category::ALL`].
    pub fn index(id: &str) -> Option<usize> {
        Self::ALL.iter().position(|c| c.id == id)
    }
}

/// A category of an article, as written into records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScore {
    /// Category id.
    pub id: &'static str,
    /// IPTC Media Topic code, where one fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptc: Option<&'static str>,
    /// Dutch label.
    pub label: &'static str,
    /// The model's probability that the category is a main subject, in `0..=1`.
    pub score: f64,
}

/// The model file's header line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Name and version written into records (`ontleed.categories`).
    pub name: String,
    /// Hash buckets of the word features.
    pub dim: usize,
    /// Category ids, in weight order (must be [`Category::ALL`]'s).
    pub categories: Vec<String>,
    /// Fine topic ids whose scores are features, in weight order.
    pub topics: Vec<String>,
    /// Platt scaling per category, `[a, b]`: the probability is `sigmoid(a·z + b)` of the raw
    /// score `z`, fitted on out-of-fold scores so that it is calibrated.
    #[serde(default)]
    pub calibration: Vec<[f32; 2]>,
    /// Decision threshold per category (on the calibrated probability).
    pub thresholds: Vec<f32>,
    /// The most probable category is also a main subject when its probability reaches this
    /// fraction of its threshold (fitted by cross-validation with the thresholds; 1 = no
    /// special treatment).
    #[serde(default = "one")]
    pub best_floor: f32,
    /// How the model was trained (data, options, cross-validated scores), for people.
    #[serde(default)]
    pub training: serde_json::Value,
}

/// A loaded category model. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct CategoryModel {
    header: Header,
    topic_index: HashMap<String, usize>,
    /// `categories × width` weights.
    weights: Vec<f32>,
}

/// Sparse features of one article: `(index, value)`, indices below the model's width.
pub type Features = Vec<(u32, f32)>;

impl CategoryModel {
    /// The model compiled into the binary (`models/categories/model.bin.gz`).
    pub fn builtin() -> Result<Self> {
        Self::from_bytes(BUILTIN).context("the built-in category model is damaged")
    }

    /// Loads a model file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read category model {}", path.display()))?;
        Self::from_bytes(&bytes)
            .with_context(|| format!("category model {} is not valid", path.display()))
    }

    /// Parses a model from the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .context("not a gzip stream")?;
        let mut parts = raw.splitn(3, |&b| b == b'\n');
        if parts.next() != Some(MAGIC.as_bytes()) {
            bail!("missing the {MAGIC:?} line");
        }
        let header: Header =
            serde_json::from_slice(parts.next().unwrap_or_default()).context("bad header")?;
        let body = parts.next().unwrap_or_default();
        let weights: Vec<f32> = body
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Self::new(header, weights)
    }

    /// Builds a model from its parts, checking that they fit together.
    pub fn new(header: Header, weights: Vec<f32>) -> Result<Self> {
        let ids: Vec<&str> = Category::ALL.iter().map(|c| c.id).collect();
        if header.categories != ids {
            bail!(
                "categories {:?} differ from the known ones {:?}",
                header.categories,
                ids
            );
        }
        if header.thresholds.len() != ids.len() {
            bail!(
                "{} thresholds for {} categories",
                header.thresholds.len(),
                ids.len()
            );
        }
        if !header.calibration.is_empty() && header.calibration.len() != ids.len() {
            bail!(
                "{} calibrations for {} categories",
                header.calibration.len(),
                ids.len()
            );
        }
        if header.dim == 0 {
            bail!("dim is 0");
        }
        let width = width(header.dim, header.topics.len());
        if weights.len() != width * ids.len() {
            bail!(
                "{} weights where {} categories × {width} features need {}",
                weights.len(),
                ids.len(),
                width * ids.len()
            );
        }
        if weights.iter().any(|w| !w.is_finite()) {
            bail!("weights hold a value that is not finite");
        }
        let topic_index = header
            .topics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        Ok(Self {
            header,
            topic_index,
            weights,
        })
    }

    /// The file bytes of this model (see the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        writeln!(enc, "{MAGIC}")?;
        serde_json::to_writer(&mut enc, &self.header)?;
        enc.write_all(b"\n")?;
        for w in &self.weights {
            enc.write_all(&w.to_le_bytes())?;
        }
        Ok(enc.finish()?)
    }

    /// The header (name, thresholds, training notes).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of features per category.
    pub fn width(&self) -> usize {
        width(self.header.dim, self.header.topics.len())
    }

    /// The features of an article: `article_paragraphs[i]` marks the paragraphs that count (as
    /// for topics); `topics` are the fine topics the matcher found.
    pub fn features(
        &self,
        doc: &Document,
        article_paragraphs: &[bool],
        topics: &[TopicMatch],
    ) -> Features {
        features(
            self.header.dim,
            &self.topic_index,
            doc,
            article_paragraphs,
            topics,
        )
    }

    /// The calibrated probability of each category (in [`Category::ALL`] order).
    pub fn probabilities(&self, features: &Features) -> Vec<f32> {
        self.weights
            .chunks_exact(self.width())
            .enumerate()
            .map(|(c, w)| {
                let z: f32 = features.iter().map(|&(i, x)| w[i as usize] * x).sum();
                let [a, b] = self
                    .header
                    .calibration
                    .get(c)
                    .copied()
                    .unwrap_or([1.0, 0.0]);
                sigmoid(a * z + b)
            })
            .collect()
    }

    /// Whether category `c` reaches its threshold at probability `p`.
    pub fn passes(&self, c: usize, p: f32) -> bool {
        self.header.thresholds.get(c).is_some_and(|&t| p >= t)
    }

    /// The main subjects: categories whose probability reaches their threshold (the most
    /// probable one: `best_floor` times its threshold), best first, at most [`MAX_CATEGORIES`].
    pub fn decide(&self, probabilities: &[f32]) -> Vec<CategoryScore> {
        decide(
            probabilities,
            &self.header.thresholds,
            self.header.best_floor,
        )
        .into_iter()
        .map(|(c, p)| {
            let cat = &Category::ALL[c];
            CategoryScore {
                id: cat.id,
                iptc: cat.iptc,
                label: cat.label,
                score: (f64::from(p) * 1000.0).round() / 1000.0,
            }
        })
        .collect()
    }
}

/// Upper bounds (in words of article text) of the length classes but the last.
const LENGTH_CLASSES: [usize; 2] = [20, 150];

/// Features per category: hash buckets, fine topics, length classes, bias.
pub fn width(dim: usize, topics: usize) -> usize {
    dim + topics + LENGTH_CLASSES.len() + 2
}

fn one() -> f32 {
    1.0
}

/// The decision rule: categories at or above their threshold, and the most probable one at or
/// above `best_floor` times its threshold; best first, at most [`MAX_CATEGORIES`]. Returns
/// indices and probabilities.
pub fn decide(probabilities: &[f32], thresholds: &[f32], best_floor: f32) -> Vec<(usize, f32)> {
    let mut out: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rank = 0;
    out.retain(|&(c, p)| {
        let t = thresholds.get(c).copied().unwrap_or(f32::INFINITY);
        let keep = p >= t || (rank == 0 && p >= best_floor * t);
        rank += 1;
        keep
    });
    out.truncate(MAX_CATEGORIES);
    out
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Paragraphs that count as headline and lead (the first ones of the article text).
const LEAD_PARAGRAPHS: usize = 2;

/// FNV-1a over a namespace byte and a string.
fn hash(space: u8, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(space).chain(s.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// See [`CategoryModel::features`]; `dim` hash buckets, then one feature per fine topic of
/// `topic_index`, then the length classes, then the bias.
pub fn features(
    dim: usize,
    topic_index: &HashMap<String, usize>,
    doc: &Document,
    article_paragraphs: &[bool],
    topics: &[TopicMatch],
) -> Features {
    let mut counts: HashMap<u32, f32> = HashMap::new();
    let mut add = |space: u8, s: &str| {
        let i = (hash(space, s) % dim as u64) as u32;
        *counts.entry(i).or_insert(0.0) += 1.0;
    };
    let mut seen = 0usize;
    let mut words = 0usize;
    for (p, paragraph) in doc.paragraphs.iter().enumerate() {
        if article_paragraphs.get(p) != Some(&true) {
            continue;
        }
        let lead = seen < LEAD_PARAGRAPHS;
        seen += 1;
        for t in super::matcher::paragraph_tokens(doc, &paragraph.sentences) {
            let word = doc.token_text(t);
            if !word.chars().any(char::is_alphabetic) {
                continue;
            }
            words += 1;
            let lower = word.to_lowercase();
            add(b'w', &lower);
            let stem: String = lower.chars().take(STEM_CHARS).collect();
            if stem.len() < lower.len() {
                add(b's', &stem);
            }
            if lead {
                add(b'h', &stem);
            }
        }
    }
    let mut out: Features = counts.into_iter().map(|(i, c)| (i, 1.0 + c.ln())).collect();
    out.sort_unstable_by_key(|&(i, _)| i);
    let norm = out.iter().map(|&(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut out {
            *x /= norm;
        }
    }
    for t in topics {
        if let Some(&k) = topic_index.get(&t.id) {
            out.push(((dim + k) as u32, t.score as f32));
        }
    }
    let base = dim + topic_index.len();
    let class = LENGTH_CLASSES
        .iter()
        .position(|&max| words <= max)
        .unwrap_or(LENGTH_CLASSES.len());
    out.push(((base + class) as u32, 1.0));
    out.push(((base + LENGTH_CLASSES.len() + 1) as u32, 1.0));
    out
}
