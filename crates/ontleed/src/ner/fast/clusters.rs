//! Brown word clusters (Brown et al. 1992), induced from running text with the windowed
//! algorithm of Liang (2005): words enter in order of frequency, at most `classes + 1` clusters
//! are active, and each step merges the two whose merge loses the least average mutual
//! information between adjacent clusters. The remaining clusters are then merged into one
//! binary tree; a word's cluster is its path from the root (`0` left, `1` right), and the
//! model uses prefixes of the path as features at several granularities.
//!
//! Losses are kept for every pair of active clusters and updated in O(1) per pair after each
//! step, so a step costs O(classes²).

use super::features::Fnv;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// Longest path stored (bits); longer paths are cut. Features use prefixes up to 20.
pub const MAX_BITS: u8 = 32;

/// Word clusters as bit paths, looked up by the FNV hash of the word form.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    /// Word hash → (path bits, most significant first, right-aligned; path length).
    pub paths: HashMap<u64, (u32, u8)>,
}

/// Hash of a word form as used for cluster lookups.
pub fn word_hash(w: &str) -> u64 {
    w.bytes().fold(Fnv::new(60), Fnv::byte).finish()
}

impl Clusters {
    /// Whether there are no clusters.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Number of words with a cluster.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Adds a word with a path written as `0`/`1` characters.
    fn insert(&mut self, word: &str, path: &str) -> Result<()> {
        let mut bits = 0u32;
        let mut len = 0u8;
        for c in path.chars().take(MAX_BITS as usize) {
            bits = bits << 1
                | match c {
                    '0' => 0,
                    '1' => 1,
                    _ => bail!("bad cluster path {path:?}"),
                };
            len += 1;
        }
        self.paths.insert(word_hash(word), (bits, len));
        Ok(())
    }

    /// The path of a word: its own form, else its lower-cased form, else the form with only
    /// the first letter upper case.
    pub fn path(&self, word: &str) -> Option<(u32, u8)> {
        if let Some(&p) = self.paths.get(&word_hash(word)) {
            return Some(p);
        }
        let lower = word.to_lowercase();
        if let Some(&p) = self.paths.get(&word_hash(&lower)) {
            return Some(p);
        }
        let mut cs = lower.chars();
        let title: String = cs
            .next()
            .map(|c| c.to_uppercase().chain(cs).collect())
            .unwrap_or_default();
        self.paths.get(&word_hash(&title)).copied()
    }

    /// Reads a cluster file in the format of Liang's `wcluster`: `PATH<TAB>WORD[<TAB>COUNT]`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read cluster file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in cluster file {}", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        let mut c = Clusters::default();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            let (Some(p), Some(w)) = (f.next(), f.next()) else {
                bail!("line {}: expected PATH<TAB>WORD", n + 1);
            };
            c.insert(w, p).with_context(|| format!("line {}", n + 1))?;
        }
        Ok(c)
    }
}

/// Result of [`induce`]: each vocabulary word with its path and count, most frequent first.
#[derive(Debug, Clone)]
pub struct Induced {
    /// (word, path of `0`/`1`, count).
    pub words: Vec<(String, String, u32)>,
}

impl Induced {
    /// The clusters as a lookup table.
    pub fn clusters(&self) -> Clusters {
        let mut c = Clusters::default();
        for (w, p, _) in &self.words {
            c.insert(w, p).expect("induced paths are binary");
        }
        c
    }

    /// Writes the clusters in `wcluster` format (`PATH<TAB>WORD<TAB>COUNT`, sorted by path).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut rows: Vec<&(String, String, u32)> = self.words.iter().collect();
        rows.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        let mut out = String::new();
        for (w, p, n) in rows {
            writeln!(out, "{p}\t{w}\t{n}").expect("writing to a string");
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `p log(p / (pl pr))`, 0 where `p` is 0.
#[inline]
fn q(p: f64, pl: f64, pr: f64) -> f64 {
    if p > 0.0 {
        p * (p / (pl * pr)).ln()
    } else {
        0.0
    }
}

/// The active clusters of the windowed algorithm, in `slots` fixed slots.
struct Window {
    n: usize,
    /// Bigram probabilities `p[a * n + b]` (cluster a followed by cluster b).
    p: Vec<f64>,
    /// Unigram probabilities.
    p1: Vec<f64>,
    /// `q[a * n + b]` = `q(p(a,b), p1(a), p1(b))`.
    q: Vec<f64>,
    /// Merge loss of each pair, `loss[a * n + b]` for `a < b`.
    loss: Vec<f64>,
    /// Tree node of the cluster in each slot; `None` for a free slot.
    node: Vec<Option<usize>>,
}

impl Window {
    fn active(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(|&s| self.node[s].is_some())
    }

    fn recompute_q(&mut self, a: usize) {
        let n = self.n;
        for d in 0..n {
            if self.node[d].is_some() {
                self.q[a * n + d] = q(self.p[a * n + d], self.p1[a], self.p1[d]);
                self.q[d * n + a] = q(self.p[d * n + a], self.p1[d], self.p1[a]);
            }
        }
    }

    /// The loss of merging `a` and `b`, computed from scratch (O(active)).
    fn direct_loss(&self, a: usize, b: usize) -> f64 {
        let n = self.n;
        let pm = self.p1[a] + self.p1[b];
        let mut before = 0.0;
        let mut after = 0.0;
        for d in self.active() {
            before += self.q[a * n + d] + self.q[d * n + a] + self.q[b * n + d] + self.q[d * n + b];
            if d != a && d != b {
                let pmd = self.p[a * n + d] + self.p[b * n + d];
                let pdm = self.p[d * n + a] + self.p[d * n + b];
                after += q(pmd, pm, self.p1[d]) + q(pdm, self.p1[d], pm);
            }
        }
        // Terms counted twice above.
        before -= self.q[a * n + a] + self.q[b * n + b] + self.q[a * n + b] + self.q[b * n + a];
        let pmm = self.p[a * n + a] + self.p[a * n + b] + self.p[b * n + a] + self.p[b * n + b];
        after += q(pmm, pm, pm);
        before - after
    }

    fn set_loss(&mut self, a: usize, b: usize, v: f64) {
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        self.loss[a * self.n + b] = v;
    }

    /// Pairs `(c, d)`, `c < d`, of active slots other than `skip`.
    fn pairs(&self, skip: &[usize]) -> Vec<(usize, usize)> {
        let act: Vec<usize> = self.active().filter(|s| !skip.contains(s)).collect();
        let mut out = Vec::with_capacity(act.len() * act.len() / 2);
        for (i, &c) in act.iter().enumerate() {
            for &d in &act[i + 1..] {
                out.push((c, d));
            }
        }
        out
    }

    /// Terms of the pair `(c, d)`'s loss that involve cluster `x`: what `c` and `d` alone
    /// share with `x`, minus what their merge would.
    fn with(&self, c: usize, d: usize, x: usize) -> f64 {
        let n = self.n;
        let pcd = self.p1[c] + self.p1[d];
        let own = self.q[c * n + x] + self.q[x * n + c] + self.q[d * n + x] + self.q[x * n + d];
        let merged = q(self.p[c * n + x] + self.p[d * n + x], pcd, self.p1[x])
            + q(self.p[x * n + c] + self.p[x * n + d], self.p1[x], pcd);
        own - merged
    }

    /// Puts a new cluster into free slot `x`, given its bigram and unigram probabilities.
    fn add(&mut self, x: usize, node: usize, right: &[f64], left: &[f64], self_p: f64, p1: f64) {
        let n = self.n;
        self.node[x] = Some(node);
        self.p1[x] = p1;
        for d in 0..n {
            self.p[x * n + d] = right[d];
            self.p[d * n + x] = left[d];
        }
        self.p[x * n + x] = self_p;
        self.recompute_q(x);
        // Every other pair's loss gains the terms with the new cluster.
        for (c, d) in self.pairs(&[x]) {
            let v = self.with(c, d, x);
            self.loss[c * n + d] += v;
        }
        let others: Vec<usize> = self.active().filter(|&d| d != x).collect();
        for d in others {
            let v = self.direct_loss(x, d);
            self.set_loss(x, d, v);
        }
    }

    /// The pair with the smallest loss.
    fn best_pair(&self) -> (usize, usize) {
        let mut best = (f64::INFINITY, (0, 0));
        for (c, d) in self.pairs(&[]) {
            let v = self.loss[c * self.n + d];
            if v < best.0 {
                best = (v, (c, d));
            }
        }
        best.1
    }

    /// Merges slot `b` into slot `a` as tree node `node`; frees `b`.
    fn merge(&mut self, a: usize, b: usize, node: usize) {
        let n = self.n;
        let pairs = self.pairs(&[a, b]);
        // Remove the terms with a and b from the other pairs' losses...
        for &(c, d) in &pairs {
            let v = self.with(c, d, a) + self.with(c, d, b);
            self.loss[c * n + d] -= v;
        }
        // ...merge the counts...
        let paa = self.p[a * n + a] + self.p[a * n + b] + self.p[b * n + a] + self.p[b * n + b];
        for d in 0..n {
            self.p[a * n + d] += self.p[b * n + d];
            self.p[d * n + a] += self.p[d * n + b];
            self.p[b * n + d] = 0.0;
            self.p[d * n + b] = 0.0;
        }
        self.p[a * n + a] = paa;
        self.p1[a] += self.p1[b];
        self.p1[b] = 0.0;
        self.node[b] = None;
        self.node[a] = Some(node);
        self.recompute_q(a);
        // ...and add the terms with the merged cluster.
        for &(c, d) in &pairs {
            let v = self.with(c, d, a);
            self.loss[c * n + d] += v;
        }
        let others: Vec<usize> = self.active().filter(|&d| d != a).collect();
        for d in others {
            let v = self.direct_loss(a, d);
            self.set_loss(a, d, v);
        }
    }
}

/// Induces Brown clusters from sentences of words (case kept). Words seen fewer than
/// `min_count` times get no cluster; `classes` is the number of clusters of the window (the
/// number of distinct paths). Deterministic: ties go to the more frequent words.
pub fn induce(sentences: &[Vec<&str>], classes: usize, min_count: u32) -> Induced {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for s in sentences {
        for w in s {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut vocab: Vec<(&str, u32)> = counts
        .into_iter()
        .filter(|&(_, c)| c >= min_count.max(1))
        .collect();
    vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let id: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, w)| (w.0, i)).collect();
    let v = vocab.len();
    if v == 0 {
        return Induced { words: Vec::new() };
    }
    // Word bigrams (both words in the vocabulary), as adjacency lists.
    let mut bigrams: HashMap<(usize, usize), u32> = HashMap::new();
    let mut total_bigrams = 0u64;
    for s in sentences {
        for pair in s.windows(2) {
            if let (Some(&a), Some(&b)) = (id.get(pair[0]), id.get(pair[1])) {
                *bigrams.entry((a, b)).or_default() += 1;
                total_bigrams += 1;
            }
        }
    }
    let mut right: Vec<Vec<(usize, u32)>> = vec![Vec::new(); v];
    let mut left: Vec<Vec<(usize, u32)>> = vec![Vec::new(); v];
    for (&(a, b), &c) in &bigrams {
        right[a].push((b, c));
        left[b].push((a, c));
    }
    for l in right.iter_mut().chain(left.iter_mut()) {
        l.sort_unstable();
    }
    let nb = total_bigrams.max(1) as f64;
    let nu: f64 = vocab.iter().map(|w| w.1 as f64).sum();

    let classes = classes.max(1).min(v);
    let slots = classes + 1;
    let mut win = Window {
        n: slots,
        p: vec![0.0; slots * slots],
        p1: vec![0.0; slots],
        q: vec![0.0; slots * slots],
        loss: vec![0.0; slots * slots],
        node: vec![None; slots],
    };
    // The slot of each word that has entered the window.
    let mut slot_of: Vec<Option<usize>> = vec![None; v];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); slots];
    // Tree: children of each internal node; nodes 0..v are words.
    let mut children: Vec<(usize, usize)> = Vec::new();
    let mut next_node = v;

    let enter = |win: &mut Window, slot_of: &mut Vec<Option<usize>>, w: usize, x: usize| {
        let mut r = vec![0.0; slots];
        let mut l = vec![0.0; slots];
        let mut self_p = 0.0;
        for &(u, c) in &right[w] {
            if u == w {
                self_p += c as f64 / nb;
            } else if let Some(s) = slot_of[u] {
                r[s] += c as f64 / nb;
            }
        }
        for &(u, c) in &left[w] {
            if u != w
                && let Some(s) = slot_of[u]
            {
                l[s] += c as f64 / nb;
            }
        }
        win.add(x, w, &r, &l, self_p, vocab[w].1 as f64 / nu);
        slot_of[w] = Some(x);
    };
    // Phase 1: fill the window, then add one word and merge one pair at a time.
    let mut flat_node = vec![0usize; v];
    for w in 0..v {
        let x = (0..slots)
            .find(|&s| win.node[s].is_none())
            .expect("a free slot");
        enter(&mut win, &mut slot_of, w, x);
        members[x].push(w);
        if win.active().count() == slots {
            let (a, b) = win.best_pair();
            let moved = std::mem::take(&mut members[b]);
            for &m in &moved {
                slot_of[m] = Some(a);
            }
            members[a].extend(moved);
            win.merge(a, b, next_node);
            next_node += 1;
        }
    }
    // The flat clusters: each active slot's members become one leaf of the hierarchy.
    for (s, m) in members.iter().enumerate() {
        for &w in m {
            flat_node[w] = s;
        }
    }
    // Phase 2: merge the remaining clusters into one tree. Leaves are the slots.
    let mut leaf_of_slot: Vec<usize> = (0..slots).collect();
    let leaves = slots;
    let mut tree_node = leaves;
    while win.active().count() > 1 {
        let (a, b) = win.best_pair();
        children.push((leaf_of_slot[a], leaf_of_slot[b]));
        leaf_of_slot[a] = tree_node;
        win.merge(a, b, next_node);
        next_node += 1;
        tree_node += 1;
    }
    // Paths: walk down from the root (the last node).
    let mut path_of = vec![String::new(); leaves + children.len()];
    for k in (0..children.len()).rev() {
        let node = leaves + k;
        let (l, r) = children[k];
        path_of[l] = format!("{}0", path_of[node]);
        path_of[r] = format!("{}1", path_of[node]);
    }
    let words = vocab
        .iter()
        .enumerate()
        .map(|(w, &(word, c))| (word.to_string(), path_of[flat_node[w]].clone(), c))
        .collect();
    Induced { words }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy corpus with two obvious word classes: names follow "meneer", towns follow "in".
    fn corpus() -> Vec<Vec<&'static str>> {
        let names = ["Jansen", "Peeters", "Claes", "Maes"];
        let towns = ["Gent", "Brugge", "Leuven", "Hasselt"];
        let verbs = ["woont", "werkt", "slaapt"];
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            for (j, t) in towns.iter().enumerate() {
                out.push(vec!["meneer", n, verbs[(i + j) % 3], "in", t, "."]);
            }
        }
        out
    }

    fn path<'a>(ind: &'a Induced, w: &str) -> &'a str {
        &ind.words.iter().find(|x| x.0 == w).unwrap().1
    }

    #[test]
    fn similar_words_share_clusters() {
        let ind = induce(&corpus(), 6, 1);
        assert_eq!(ind.words.len(), 14);
        // Names share a path, towns share a path, and the two differ.
        let n = path(&ind, "Jansen");
        let t = path(&ind, "Gent");
        assert!(
            ["Peeters", "Claes", "Maes"]
                .iter()
                .all(|w| path(&ind, w) == n)
        );
        assert!(
            ["Brugge", "Leuven", "Hasselt"]
                .iter()
                .all(|w| path(&ind, w) == t)
        );
        assert_ne!(n, t);
        // Six classes: six distinct paths, none a prefix of another (they are leaves).
        let mut paths: Vec<&str> = ind.words.iter().map(|w| w.1.as_str()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), 6);
        for a in &paths {
            for b in &paths {
                assert!(a == b || !b.starts_with(a));
            }
        }
    }

    #[test]
    fn incremental_losses_match_direct_ones() {
        // After a run of adds and merges the kept losses equal the losses computed afresh.
        let sents = corpus();
        let words: Vec<&str> = {
            let mut w: Vec<&str> = sents.iter().flatten().copied().collect();
            w.sort();
            w.dedup();
            w
        };
        let id: HashMap<&str, usize> = words.iter().enumerate().map(|(i, w)| (*w, i)).collect();
        let n = 6;
        let mut win = Window {
            n,
            p: vec![0.0; n * n],
            p1: vec![0.0; n],
            q: vec![0.0; n * n],
            loss: vec![0.0; n * n],
            node: vec![None; n],
        };
        let total: f64 = sents.iter().map(|s| s.len() as f64 - 1.0).sum();
        let mut slot_of: HashMap<usize, usize> = HashMap::new();
        for (k, w) in words.iter().enumerate().take(9) {
            let x = (0..n).find(|&s| win.node[s].is_none()).unwrap();
            let (mut r, mut l, mut sp) = (vec![0.0; n], vec![0.0; n], 0.0);
            for s in &sents {
                for p in s.windows(2) {
                    let (a, b) = (id[p[0]], id[p[1]]);
                    if a == k && b == k {
                        sp += 1.0 / total;
                    } else if a == k {
                        if let Some(&s) = slot_of.get(&b) {
                            r[s] += 1.0 / total;
                        }
                    } else if b == k
                        && let Some(&s) = slot_of.get(&a)
                    {
                        l[s] += 1.0 / total;
                    }
                }
            }
            let c = sents.iter().flatten().filter(|x| *x == w).count() as f64;
            win.add(x, k, &r, &l, sp, c / 96.0);
            slot_of.insert(k, x);
            if win.active().count() == n {
                let (a, b) = win.best_pair();
                for s in slot_of.values_mut() {
                    if *s == b {
                        *s = a;
                    }
                }
                win.merge(a, b, 100 + k);
            }
            for (c, d) in win.pairs(&[]) {
                let kept = win.loss[c * n + d];
                let fresh = win.direct_loss(c, d);
                assert!((kept - fresh).abs() < 1e-9, "{kept} vs {fresh}");
            }
        }
    }

    #[test]
    fn file_round_trip_and_lookup_fallbacks() {
        let ind = induce(&corpus(), 4, 1);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.txt");
        ind.write(&f).unwrap();
        let c = Clusters::from_file(&f).unwrap();
        assert_eq!(c.len(), 14);
        let gent = c.path("Gent").unwrap();
        assert_eq!(gent.1 as usize, path(&ind, "Gent").len());
        // "GENT" is not in the table: falls back to "Gent" via the title-cased form.
        assert_eq!(c.path("GENT"), Some(gent));
        // "Meneer" at a sentence start finds "meneer".
        assert_eq!(c.path("Meneer"), c.path("meneer"));
        assert!(c.path("Antwerpen").is_none());
        assert!(Clusters::parse("01x\tGent\n").is_err());
    }
}
