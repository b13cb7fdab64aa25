//! Feature extraction for the fast model: every feature is a 64-bit hash of a template id and a
//! string, so nothing is allocated per feature and the model stores no feature strings.

use super::clusters::Clusters;
use super::gazetteer::Gazetteer;
use std::collections::HashMap;

/// FNV-1a, 64-bit: stable across platforms and releases, so model files stay valid.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    pub fn new(template: u8) -> Self {
        Fnv(0xcbf2_9ce4_8422_2325).byte(template)
    }
    pub fn byte(self, b: u8) -> Self {
        Fnv((self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    }
    fn str(self, s: &str) -> Self {
        s.bytes().fold(self.byte(0xff), Fnv::byte)
    }
    fn u32(self, v: u32) -> Self {
        v.to_le_bytes().into_iter().fold(self, Fnv::byte)
    }
    pub fn finish(self) -> u64 {
        self.0
    }
}

/// Hash of a lower-cased phrase, as used by the gazetteer.
pub fn phrase_hash(words: &[String]) -> u64 {
    let mut h = Fnv::new(0);
    for w in words {
        h = h.str(w);
    }
    h.finish()
}

/// A word's shape: upper-case letters become `X`, lower-case `x`, digits `d`; other characters
/// stay. The short shape collapses runs (`Xxxxx` → `Xx`).
fn shapes(word: &str) -> (String, String) {
    let mut long = String::new();
    let mut short = String::new();
    for c in word.chars().take(24) {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        long.push(s);
        if !short.ends_with(s) {
            short.push(s);
        }
    }
    (long, short)
}

/// What the rest of the document says about a word form.
#[derive(Default)]
pub struct DocStats {
    /// Word forms seen capitalised in a non-initial position.
    capitalised_inside: HashMap<String, u32>,
    /// Lower-cased forms seen written in lower case.
    lowercase: HashMap<String, u32>,
}

impl DocStats {
    /// Collects the statistics of one document.
    pub fn new(sentences: &[Vec<&str>]) -> Self {
        let mut stats = DocStats::default();
        for s in sentences {
            for (i, w) in s.iter().enumerate() {
                let first = w.chars().next();
                if first.is_some_and(char::is_uppercase) {
                    if i > 0 && !is_after_sentence_start(s, i) {
                        *stats.capitalised_inside.entry(w.to_string()).or_default() += 1;
                    }
                } else if first.is_some_and(char::is_lowercase) {
                    *stats.lowercase.entry(w.to_lowercase()).or_default() += 1;
                }
            }
        }
        stats
    }
}

/// Whether token `i` follows an opening quote, a colon or a dash at the start of a sentence (so
/// its capital letter says little).
fn is_after_sentence_start(s: &[&str], i: usize) -> bool {
    s[..i]
        .iter()
        .all(|w| w.chars().all(|c| !c.is_alphanumeric()))
        || matches!(s[i - 1], ":" | "\"" | "“" | "'" | "‘" | "(" | "–" | "-")
}

/// Extracts the features of every token of one sentence.
pub struct Extractor<'g> {
    pub gazetteer: &'g Gazetteer,
    pub clusters: &'g Clusters,
}

/// Prefix lengths of cluster paths used as features.
const CLUSTER_PREFIXES: [u8; 4] = [4, 6, 10, 20];

/// The first `k` bits of a path (the whole path if it is shorter).
fn prefix((bits, len): (u32, u8), k: u8) -> (u32, u8) {
    if len <= k {
        (bits, len)
    } else {
        (bits >> (len - k), k)
    }
}

const BOS: &str = "<s>";
const EOS: &str = "</s>";

impl Extractor<'_> {
    /// Features of each token of `words`, given the document statistics.
    pub fn sentence(&self, words: &[&str], doc: &DocStats) -> Vec<Vec<u64>> {
        let n = words.len();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let shape: Vec<(String, String)> = words.iter().map(|w| shapes(w)).collect();
        let gaz = self.gazetteer.matches(&lower);
        let lw = |i: isize| -> &str {
            if i < 0 {
                BOS
            } else if i as usize >= n {
                EOS
            } else {
                &lower[i as usize]
            }
        };
        let sh = |i: isize| -> &str {
            if i < 0 {
                BOS
            } else if i as usize >= n {
                EOS
            } else {
                &shape[i as usize].1
            }
        };
        let cluster: Vec<Option<(u32, u8)>> = if self.clusters.is_empty() {
            Vec::new()
        } else {
            words.iter().map(|w| self.clusters.path(w)).collect()
        };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let ii = i as isize;
            let w = words[i];
            let l = &lower[i];
            let mut f = Vec::with_capacity(48);
            f.push(Fnv::new(1).finish());
            f.push(Fnv::new(2).str(l).finish());
            f.push(Fnv::new(3).str(w).finish());
            f.push(Fnv::new(4).str(lw(ii - 1)).finish());
            f.push(Fnv::new(5).str(lw(ii + 1)).finish());
            f.push(Fnv::new(6).str(lw(ii - 2)).finish());
            f.push(Fnv::new(7).str(lw(ii + 2)).finish());
            f.push(Fnv::new(8).str(sh(ii)).finish());
            f.push(Fnv::new(9).str(sh(ii - 1)).finish());
            f.push(Fnv::new(10).str(sh(ii + 1)).finish());
            f.push(
                Fnv::new(11)
                    .str(sh(ii - 1))
                    .str(sh(ii))
                    .str(sh(ii + 1))
                    .finish(),
            );
            f.push(Fnv::new(12).str(&shape[i].0).finish());
            let chars: Vec<(usize, char)> = l.char_indices().collect();
            for k in 1..=4.min(chars.len()) {
                let end = chars.get(k).map_or(l.len(), |c| c.0);
                f.push(Fnv::new(13).byte(k as u8).str(&l[..end]).finish());
            }
            for k in 1..=5.min(chars.len()) {
                let start = chars[chars.len() - k].0;
                f.push(Fnv::new(14).byte(k as u8).str(&l[start..]).finish());
            }
            f.push(Fnv::new(15).str(lw(ii - 1)).str(l).finish());
            f.push(Fnv::new(16).str(l).str(lw(ii + 1)).finish());
            f.push(Fnv::new(17).str(lw(ii - 1)).str(sh(ii)).finish());
            f.push(Fnv::new(18).str(sh(ii)).str(lw(ii + 1)).finish());
            let first = i == 0 || is_after_sentence_start(words, i);
            let cap = w.chars().next().is_some_and(char::is_uppercase);
            f.push(Fnv::new(19).byte(first as u8).byte(cap as u8).finish());
            if first {
                f.push(Fnv::new(20).str(l).finish());
            }
            let len = chars.len().min(12) as u8;
            f.push(Fnv::new(21).byte(len).byte(cap as u8).finish());
            // Character trigrams of capitalised words: cues to the type of unknown names.
            if cap && chars.len() > 3 {
                for k in 0..chars.len() - 2 {
                    let end = chars.get(k + 3).map_or(l.len(), |c| c.0);
                    f.push(Fnv::new(32).str(&l[chars[k].0..end]).finish());
                }
            }
            // Gazetteer: which lists cover this token, and where in the phrase it stands.
            for g in &gaz[i] {
                f.push(Fnv::new(22).byte(*g).finish());
                f.push(Fnv::new(23).byte(*g).byte(cap as u8).finish());
            }
            if ii > 0 {
                for g in &gaz[i - 1] {
                    f.push(Fnv::new(24).byte(*g).finish());
                }
            }
            if i + 1 < n {
                for g in &gaz[i + 1] {
                    f.push(Fnv::new(25).byte(*g).finish());
                }
            }
            // Document context.
            if cap {
                let inside = doc.capitalised_inside.get(w).copied().unwrap_or(0);
                let low = doc.lowercase.get(l).copied().unwrap_or(0);
                let own = (!first) as u32;
                f.push(
                    Fnv::new(26)
                        .byte(first as u8)
                        .byte(bucket(inside.saturating_sub(own)))
                        .byte(bucket(low))
                        .finish(),
                );
            }
            // Word clusters of the word and its neighbours, at several granularities.
            if !cluster.is_empty() {
                for off in -1isize..=1 {
                    let j = ii + off;
                    let t = Fnv::new(50).byte((off + 2) as u8);
                    if j < 0 || j as usize >= n {
                        continue;
                    }
                    match cluster[j as usize] {
                        Some(p) => {
                            for k in CLUSTER_PREFIXES {
                                let (b, l) = prefix(p, k);
                                f.push(t.byte(k).byte(l).u32(b).finish());
                            }
                        }
                        None => f.push(t.byte(0xff).finish()),
                    }
                }
            }
            out.push(f);
        }
        out
    }
}

/// A count in four buckets: 0, 1, 2–3, 4 or more.
pub fn bucket(n: u32) -> u8 {
    match n {
        0 => 0,
        1 => 1,
        2..=3 => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_collapse() {
        assert_eq!(shapes("Huawei"), ("Xxxxxx".into(), "Xx".into()));
        assert_eq!(
            shapes("5G-netwerken"),
            ("dX-xxxxxxxxx".into(), "dX-x".into())
        );
    }

    #[test]
    fn features_are_deterministic() {
        let g = Gazetteer::default();
        let c = Clusters::default();
        let e = Extractor {
            gazetteer: &g,
            clusters: &c,
        };
        let s = vec![vec!["Vincent", "Pang", "werkt", "bij", "Huawei", "."]];
        let d = DocStats::new(&s);
        assert_eq!(e.sentence(&s[0], &d), e.sentence(&s[0], &d));
        assert_ne!(
            Fnv::new(2).str("ab").finish(),
            Fnv::new(2).str("ba").finish()
        );
    }

    #[test]
    fn cluster_prefixes() {
        assert_eq!(prefix((0b101101, 6), 4), (0b1011, 4));
        assert_eq!(prefix((0b101, 3), 4), (0b101, 3));
        // Words with a cluster get more features than without.
        let g = Gazetteer::default();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.txt");
        std::fs::write(&f, "0110\tHuawei\t3\n").unwrap();
        let c = Clusters::from_file(&f).unwrap();
        let none = Clusters::default();
        let s = vec![vec!["bij", "Huawei"]];
        let d = DocStats::new(&s);
        let with = Extractor {
            gazetteer: &g,
            clusters: &c,
        }
        .sentence(&s[0], &d);
        let without = Extractor {
            gazetteer: &g,
            clusters: &none,
        }
        .sentence(&s[0], &d);
        assert!(with[1].len() > without[1].len());
        assert!(with[0].len() > without[0].len());
    }
}
