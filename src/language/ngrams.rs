//! A compact character n-gram model for the confusable groups, distilled from lingua's.
//!
//! lingua (high accuracy mode) tells close languages apart well, but its models take about
//! 53 MB of the binary and it scores a text slowly. This module keeps lingua's n-gram
//! probabilities and its way of scoring, in a form that is small and fast:
//!
//! * **The model** (`ngrams.bin.gz`, built by `data/language-dev/distill`): lingua's
//!   n-grams of 1 to 5 letters for the 22 languages of the groups, pruned to those whose joint
//!   probability in their language is at least e^-15 (rare n-grams are rare in any text, so
//!   they change few decisions), their conditional log probabilities rounded to 0.1 nat: 5.8 MB
//!   instead of 53 MB. One hash table holds, per n-gram, the languages that have it, so a text
//!   is read once for all candidate languages.
//! * **The score** is lingua's: every n-gram of every word (orders 1 to 5; only trigrams once
//!   the text has [`LONG_TEXT_LETTERS`] letters), looked up in each language, backing off to
//!   its prefixes when the language lacks it; the sum per language divided by the number of
//!   the text's letters the language knows, which makes it a per-letter average log
//!   probability. The confidence of a language is the softmax of these averages over the
//!   candidates, as in lingua.
//! * **One change to lingua's score:** lingua lets a letter that a language never has count for
//!   nothing, and has separate rules for such letters; here it costs as much as the rarest
//!   n-gram the model keeps (e^-15), so `ы` in a text speaks against Ukrainian and `ã` against
//!   Spanish within the same sum.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

/// The distilled model, embedded.
static MODEL: &[u8] = include_bytes!("ngrams.bin.gz");

/// From this many letters on, only trigrams are scored (lingua's rule: plenty of evidence, and
/// a third of the work).
pub(crate) const LONG_TEXT_LETTERS: usize = usize::MAX;

/// The cost of a letter a language lacks, in tenths of a nat (like the model's values).
const UNKNOWN_LETTER: u16 = 150;

/// Longest n-gram in the model.
const MAX_ORDER: usize = 5;

/// The keys are already well-mixed hashes: use them as they are.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The hash of an n-gram extended by one letter (a multiply-xorshift mix; collisions among the
/// model's 900,000 n-grams are vanishingly unlikely).
fn extend(hash: u64, c: char) -> u64 {
    let mut h = (hash ^ u64::from(c)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    h.wrapping_add(0x632B_E59B_D9B4_E019)
}

/// The compact n-gram model.
pub(crate) struct Model {
    /// ISO 639-1 code of each language index.
    codes: Vec<&'static str>,
    /// n-gram hash → (start, end) of its languages in `values`.
    table: HashMap<u64, (u32, u32), BuildHasherDefault<Identity>>,
    /// (language index, -ln p * 10).
    values: Vec<(u8, u8)>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("languages", &self.codes)
            .field("ngrams", &self.table.len())
            .finish()
    }
}

/// The ISO 639-1 codes the model may name, as static strings.
const KNOWN_CODES: [&str; 22] = [
    "af", "az", "be", "bg", "ca", "da", "de", "en", "es", "fr", "it", "mk", "nb", "nl", "nn", "pl",
    "pt", "ru", "sr", "sv", "tr", "uk",
];

impl Model {
    /// The embedded model. Panics only if the embedded file is corrupt (a build error, caught
    /// by the tests).
    pub(crate) fn embedded() -> Self {
        Self::parse(MODEL).expect("the embedded n-gram model is valid")
    }

    fn parse(gz: &[u8]) -> Option<Self> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).ok()?;
        let rest = raw.strip_prefix(b"ONG1")?;
        let (&n, mut rest) = rest.split_first()?;
        let mut codes = Vec::new();
        for _ in 0..n {
            let code = std::str::from_utf8(rest.get(..2)?).ok()?;
            codes.push(*KNOWN_CODES.iter().find(|&&k| k == code)?);
            rest = &rest[2..];
        }
        let mut table = HashMap::with_capacity_and_hasher(900_000, Default::default());
        let mut values = Vec::with_capacity(2_000_000);
        while let Some((&len, tail)) = rest.split_first() {
            let key = std::str::from_utf8(tail.get(..usize::from(len))?).ok()?;
            let (&count, tail) = tail.get(usize::from(len)..)?.split_first()?;
            let pairs = tail.get(..2 * usize::from(count))?;
            let start = u32::try_from(values.len()).ok()?;
            for pair in pairs.chunks_exact(2) {
                if usize::from(pair[0]) >= codes.len() {
                    return None;
                }
                values.push((pair[0], pair[1]));
            }
            let end = u32::try_from(values.len()).ok()?;
            table.insert(key.chars().fold(0, extend), (start, end));
            rest = &tail[2 * usize::from(count)..];
        }
        Some(Self {
            codes,
            table,
            values,
        })
    }

    /// The index of a language in the model.
    pub(crate) fn index(&self, code: &str) -> Option<u8> {
        self.codes.iter().position(|&c| c == code).map(|i| i as u8)
    }

    /// The ISO 639-1 code of a language index.
    pub(crate) fn code(&self, index: u8) -> &'static str {
        self.codes[usize::from(index)]
    }

    /// Every language of the model.
    #[cfg(test)]
    pub(crate) fn codes(&self) -> &[&'static str] {
        &self.codes
    }

    /// Confidence of each candidate language (indices from [`index`](Self::index)) that
    /// `text` is in it, best first: the softmax of `weight` times each language's average log
    /// probability per letter (so the log of the ratio of two confidences is `weight` times the
    /// difference of their averages). They sum to 1, or are all 0 when no candidate knows any
    /// letter of the text.
    pub(crate) fn confidences(&self, text: &str, candidates: &[u8], weight: f64) -> Vec<(u8, f64)> {
        let k = candidates.len();
        let mut slot = [u8::MAX; 256];
        for (i, &c) in candidates.iter().enumerate() {
            slot[usize::from(c)] = i as u8;
        }
        // Per candidate: the sum of -ln p in tenths of a nat, and how many of the text's
        // letters it knows.
        let mut sums = vec![0u64; k];
        let mut known = vec![0u32; k];
        let mut positions = 0u32;
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        let orders = if letters >= LONG_TEXT_LETTERS {
            3..=3
        } else {
            1..=MAX_ORDER
        };
        // For the n-grams starting at one letter: per candidate, its value for the prefix of
        // each length (0 = the language lacks it).
        let mut found = vec![[0u16; MAX_ORDER + 1]; k];
        let mut word: Vec<char> = Vec::with_capacity(32);
        for w in text.split(|c: char| !c.is_alphabetic()) {
            if w.is_empty() {
                continue;
            }
            word.clear();
            word.extend(w.chars());
            for start in 0..word.len() {
                let longest = (word.len() - start).min(*orders.end());
                if longest < *orders.start() {
                    break;
                }
                positions += 1;
                for f in found.iter_mut() {
                    *f = [0; MAX_ORDER + 1];
                }
                let mut hash = 0;
                for len in 1..=longest {
                    hash = extend(hash, word[start + len - 1]);
                    let Some(&(s, e)) = self.table.get(&hash) else {
                        // No language has a longer n-gram when it lacks this prefix.
                        break;
                    };
                    for &(lang, q) in &self.values[s as usize..e as usize] {
                        let i = slot[usize::from(lang)];
                        if i != u8::MAX {
                            // Stored +1 so that 0 means absent.
                            found[usize::from(i)][len] = u16::from(q) + 1;
                        }
                    }
                }
                for (i, f) in found.iter().enumerate() {
                    // A letter the language never has: as unlikely as the rarest letter the
                    // model keeps.
                    let mut value = if f[1] == 0 {
                        UNKNOWN_LETTER
                    } else {
                        known[i] += 1;
                        f[1] - 1
                    };
                    for order in 1..=longest {
                        // lingua's backoff: the n-gram, else its longest known prefix.
                        if f[order] != 0 {
                            value = f[order] - 1;
                        }
                        if orders.contains(&order) {
                            sums[i] += u64::from(value);
                        }
                    }
                }
            }
        }
        // Per-letter averages (in nats); a language that knows no letter of the text is out.
        let averages: Vec<f64> = (0..k)
            .map(|i| {
                if known[i] == 0 {
                    f64::NEG_INFINITY
                } else {
                    -(sums[i] as f64) / 10.0 / f64::from(positions)
                }
            })
            .collect();
        let best = averages.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut out: Vec<(u8, f64)> = if best == f64::NEG_INFINITY {
            candidates.iter().map(|&c| (c, 0.0)).collect()
        } else {
            let odds = |a: f64| (weight * (a - best)).exp();
            let total: f64 = averages.iter().map(|&a| odds(a)).sum();
            candidates
                .iter()
                .zip(&averages)
                .map(|(&c, &a)| (c, odds(a) / total))
                .collect()
        };
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_parses_and_knows_its_languages() {
        let model = Model::embedded();
        assert_eq!(model.codes().len(), 22);
        assert!(model.table.len() > 100_000, "{model:?}");
        for code in ["nl", "af", "de", "en", "es", "pt", "ca", "ru", "uk", "bg"] {
            assert!(model.index(code).is_some(), "{code}");
        }
    }

    #[test]
    fn corrupt_models_are_refused() {
        assert!(Model::parse(b"").is_none());
        assert!(Model::parse(b"not gzip at all").is_none());
    }

    #[test]
    fn tells_close_languages_apart() {
        let model = Model::embedded();
        let cases = [
            ("het kabinet heeft dinsdag besloten de accijns niet te verhogen", "nl"),
            ("die regering het gesê dat hulle nie die belasting sal verhoog nie", "af"),
            ("el gobierno decidió el martes no subir el impuesto", "es"),
            ("o governo decidiu na terça-feira não aumentar o imposto", "pt"),
            ("el govern va decidir dimarts no apujar l'impost", "ca"),
        ];
        let all: Vec<u8> = ["nl", "af", "de", "en", "es", "pt", "ca"]
            .iter()
            .filter_map(|c| model.index(c))
            .collect();
        for (text, want) in cases {
            let got = model.confidences(text, &all, 1.0);
            assert_eq!(model.code(got[0].0), want, "{text}: {got:?}");
            let total: f64 = got.iter().map(|g| g.1).sum();
            assert!((total - 1.0).abs() < 1e-9);
        }
        // A Latin text is unknown to Cyrillic languages.
        let cyrillic: Vec<u8> = ["ru", "uk"].iter().filter_map(|c| model.index(c)).collect();
        assert!(model.confidences("de kat", &cyrillic, 1.0).iter().all(|g| g.1 == 0.0));
    }
}
