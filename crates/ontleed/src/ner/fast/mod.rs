//! The fast model: a structured averaged perceptron over hashed word, shape, affix, gazetteer and
//! document-context features, decoded with first-order Viterbi under IOB2 constraints.
//!
//! Confidences are per-token max-marginals (the best path's score through each tag) turned into
//! probabilities with a softmax whose temperature is fitted on the development set.

pub mod clusters;
pub mod features;
mod gazetteer;
pub mod history;
pub mod scheme;

pub use clusters::{Clusters, Induced, induce};
pub use gazetteer::Gazetteer;

use super::{Recognizer, Tag, TokenTag};
use anyhow::{Context, Result, bail};
use features::{DocStats, Extractor};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

const MAGIC: &[u8; 8] = b"ONTLFST5";
/// The previous format, without word clusters; still read.
const MAGIC_V4: &[u8; 8] = b"ONTLFST4";
/// Tags of the internal scheme (weights per feature row).
pub const T: usize = scheme::COUNT;

/// Keys are already hashes: pass them through.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Feature hash → row of the weight matrix.
pub type FeatureMap = HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>;

/// A trained fast model.
///
/// The fields are public for the trainer (`ontleed-train`), which builds models field by field.
pub struct FastModel {
    /// The model's name in output records.
    pub name: String,
    /// Feature hash → row in `weights`.
    pub index: FeatureMap,
    /// `T` weights per feature row.
    pub weights: Vec<f32>,
    /// `transitions[(prev + 1) * T + cur]`; row 0 is the sentence start.
    pub transitions: Vec<f32>,
    /// Softmax temperature for confidences.
    pub temperature: f32,
    /// Name lists, as phrase hashes.
    pub gazetteer: Gazetteer,
    /// Word clusters (empty in the shipped model).
    pub clusters: Clusters,
}

impl std::fmt::Debug for FastModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastModel")
            .field("name", &self.name)
            .field("features", &self.index.len())
            .field("gazetteer_lists", &self.gazetteer.names)
            .field("cluster_words", &self.clusters.len())
            .finish()
    }
}

impl FastModel {
    /// Number of feature rows.
    pub fn feature_count(&self) -> usize {
        self.index.len()
    }

    /// Sets the name written into output records.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Emission scores of one sentence, `T` per token.
    fn emissions(&self, feats: &[Vec<u64>]) -> Vec<f32> {
        let mut e = vec![0.0f32; feats.len() * T];
        for (i, fs) in feats.iter().enumerate() {
            let row = &mut e[i * T..(i + 1) * T];
            for h in fs {
                if let Some(&r) = self.index.get(h) {
                    let w = &self.weights[r as usize * T..(r as usize + 1) * T];
                    for (a, b) in row.iter_mut().zip(w) {
                        *a += b;
                    }
                }
            }
        }
        e
    }

    /// Tags a document in two passes: the second adds what the first said about the same word
    /// forms elsewhere in the document.
    fn tag_words(&self, sentences: &[Vec<&str>]) -> Vec<Vec<TokenTag>> {
        let doc = DocStats::new(sentences);
        let extractor = Extractor {
            gazetteer: &self.gazetteer,
            clusters: &self.clusters,
        };
        let first: Vec<Vec<f32>> = sentences
            .iter()
            .map(|s| self.emissions(&extractor.sentence(s, &doc)))
            .collect();
        let pass1: Vec<Vec<usize>> = first
            .iter()
            .map(|e| viterbi(e, &self.transitions))
            .collect();
        let pass1: Vec<Vec<Tag>> = pass1.iter().map(|t| scheme::decode(t)).collect();
        let hist = history::features(sentences, &pass1);
        first
            .into_iter()
            .zip(&hist)
            .map(|(mut e, h)| {
                for (a, b) in e.iter_mut().zip(self.emissions(h)) {
                    *a += b;
                }
                let (best, margins) = viterbi_with_marginals(&e, &self.transitions);
                best.iter()
                    .enumerate()
                    .map(|(i, &t)| {
                        let m = &margins[i * T..(i + 1) * T];
                        let top = m[t];
                        let z: f32 = m
                            .iter()
                            .map(|&v| ((v - top) / self.temperature).exp())
                            .sum();
                        TokenTag {
                            tag: scheme::to_tag(t),
                            score: 1.0 / z,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Saves the model to a file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut rows: Vec<(u64, u32)> = self.index.iter().map(|(&k, &v)| (k, v)).collect();
        rows.sort_unstable();
        let max = self
            .weights
            .iter()
            .fold(0.0f32, |m, w| m.max(w.abs()))
            .max(1e-9);
        let scale = max / i16::MAX as f32;
        let mut out = Vec::with_capacity(rows.len() * (8 + 2 * T) + 1024);
        out.extend_from_slice(MAGIC);
        put_str(&mut out, &self.name);
        out.extend_from_slice(&self.temperature.to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        for t in &self.transitions {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
        for (k, _) in &rows {
            out.extend_from_slice(&k.to_le_bytes());
        }
        for (_, r) in &rows {
            for w in &self.weights[*r as usize * T..(*r as usize + 1) * T] {
                out.extend_from_slice(&((w / scale).round() as i16).to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.gazetteer.names.len() as u64).to_le_bytes());
        for n in &self.gazetteer.names {
            put_str(&mut out, n);
        }
        let mut gaz: Vec<(u64, u16)> = self
            .gazetteer
            .entries
            .iter()
            .map(|(&k, &v)| (k, v))
            .collect();
        gaz.sort_unstable();
        out.extend_from_slice(&(gaz.len() as u64).to_le_bytes());
        for (k, v) in gaz {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        let mut cl: Vec<(u64, (u32, u8))> =
            self.clusters.paths.iter().map(|(&k, &v)| (k, v)).collect();
        cl.sort_unstable();
        out.extend_from_slice(&(cl.len() as u64).to_le_bytes());
        for (k, (bits, len)) in cl {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&bits.to_le_bytes());
            out.push(len);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_bytes(&bytes)
            .with_context(|| format!("{} is not a valid fast model", path.display()))
    }

    /// Reads a model from the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(8)?;
        let has_clusters = magic == MAGIC;
        if !has_clusters && magic != MAGIC_V4 {
            bail!("wrong magic number (not an ontleed fast model, or an incompatible version)");
        }
        let name = r.string()?;
        let temperature = r.f32()?;
        let scale = r.f32()?;
        let transitions = (0..(T + 1) * T)
            .map(|_| r.f32())
            .collect::<Result<Vec<_>>>()?;
        let n = r.count(8 + 2 * T)?;
        let mut index = FeatureMap::with_capacity_and_hasher(n, Default::default());
        for row in 0..n {
            index.insert(r.u64()?, row as u32);
        }
        let raw = r.take(n * T * 2)?;
        let weights = raw
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 * scale)
            .collect();
        let lists = r.count(8)?;
        let names = (0..lists).map(|_| r.string()).collect::<Result<Vec<_>>>()?;
        let entries_n = r.count(10)?;
        let mut entries = HashMap::with_capacity(entries_n);
        for _ in 0..entries_n {
            let k = r.u64()?;
            let v = u16::from_le_bytes(r.take(2)?.try_into()?);
            entries.insert(k, v);
        }
        let mut clusters = Clusters::default();
        if has_clusters {
            let n = r.count(13)?;
            clusters.paths.reserve(n);
            for _ in 0..n {
                let k = r.u64()?;
                let bits = u32::from_le_bytes(r.take(4)?.try_into()?);
                let len = r.take(1)?[0];
                if len > clusters::MAX_BITS {
                    bail!("cluster path of {len} bits");
                }
                clusters.paths.insert(k, (bits, len));
            }
        }
        if r.pos != bytes.len() {
            bail!("{} unexpected bytes after the model", bytes.len() - r.pos);
        }
        Ok(FastModel {
            name,
            index,
            weights,
            transitions,
            temperature,
            gazetteer: Gazetteer { names, entries },
            clusters,
        })
    }
}

impl Recognizer for FastModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag_document(
        &self,
        sentences: &[Vec<&str>],
    ) -> Result<Vec<Vec<TokenTag>>, super::RecognizerError> {
        Ok(self.tag_words(sentences))
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            bail!("file truncated at byte {}", self.pos);
        };
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into()?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into()?))
    }
    /// A count of items of `item_size` bytes each, checked against the bytes left.
    fn count(&mut self, item_size: usize) -> Result<usize> {
        let n = self.u64()?;
        if n.saturating_mul(item_size as u64) > (self.bytes.len() - self.pos) as u64 {
            bail!("count {n} at byte {} exceeds the file", self.pos - 8);
        }
        Ok(n as usize)
    }
    fn string(&mut self) -> Result<String> {
        let n = self.count(1)?;
        Ok(String::from_utf8(self.take(n)?.to_vec())?)
    }
}

/// The fast model's lattice: its BILOU states ([`scheme`]) with the learned transition
/// weights (`[(1 + T) × T]`: from the sentence start, then from each tag).
struct Bilou<'a>(&'a [f32]);

impl super::decode::Lattice for Bilou<'_> {
    fn tags(&self) -> usize {
        T
    }

    /// The learned weight, `-inf` where the BILOU scheme forbids the transition.
    fn transition(&self, prev: Option<usize>, cur: usize) -> f32 {
        if scheme::allowed(prev, cur) {
            self.0[prev.map_or(0, |p| p + 1) * T + cur]
        } else {
            f32::NEG_INFINITY
        }
    }

    fn end(&self, last: usize) -> f32 {
        if scheme::may_end(last) {
            0.0
        } else {
            f32::NEG_INFINITY
        }
    }
}

/// Best tag sequence of a sentence (internal scheme) from emissions `[words, T]`.
pub fn viterbi(e: &[f32], transitions: &[f32]) -> Vec<usize> {
    super::decode::viterbi(e, &Bilou(transitions))
}

/// [`viterbi`], with each tag's max-marginal score.
pub fn viterbi_with_marginals(e: &[f32], transitions: &[f32]) -> (Vec<usize>, Vec<f32>) {
    super::decode::viterbi_with_marginals(e, &Bilou(transitions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viterbi_respects_the_tag_scheme() {
        use crate::ner::Label;
        let bl = scheme::encode(&[Tag::B(Label::Per), Tag::I(Label::Per)]);
        let inside =
            scheme::encode(&[Tag::B(Label::Per), Tag::I(Label::Per), Tag::I(Label::Per)])[1];
        // Emissions favour an Inside tag at the start, which the scheme forbids.
        let mut e = vec![0.0f32; 2 * T];
        e[inside] = 5.0;
        e[bl[0]] = 4.0;
        e[T + bl[1]] = 3.0;
        let tr = vec![0.0f32; (T + 1) * T];
        let best = viterbi(&e, &tr);
        assert_eq!(best, bl);
        assert_eq!(
            scheme::decode(&best),
            [Tag::B(Label::Per), Tag::I(Label::Per)]
        );
        let (_, m) = viterbi_with_marginals(&e, &tr);
        // The best path's margin equals its total score at every position.
        assert!((m[best[0]] - 7.0).abs() < 1e-6 && (m[T + best[1]] - 7.0).abs() < 1e-6);
    }

    #[test]
    fn corrupt_files_are_errors() {
        assert!(FastModel::from_bytes(b"nonsense").is_err());
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(FastModel::from_bytes(&b).is_err());
    }
}
