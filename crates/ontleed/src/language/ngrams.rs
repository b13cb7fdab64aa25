//! A compact character n-gram model for the confusable groups, distilled from lingua's.
//!
//! lingua (high accuracy mode) tells close languages apart well, but its model crates took
//! about 105 MB of the binary (release without the transformer: 124.4 MB with lingua, 28.6 MB
//! with this model) and it scores a text slowly (16 times whatlang's time on lingua's test
//! sentences). This module keeps lingua's n-gram probabilities and its way of scoring, in a
//! form that is small and fast:
//!
//! * **The model** (`models/language/ngrams.bin`, built by `data/language-dev/distill`): lingua's
//!   n-grams of 1 to 5 letters for the 22 languages of the groups, pruned to those whose joint
//!   probability in their language is at least e^-15 (rare n-grams are rare in any text, so
//!   they change few decisions), their conditional log probabilities rounded to 0.1 nat: 14.7
//!   MB instead of lingua's 105 MB (models and test data). It is laid out to be used where it
//!   lies in the binary: n-gram hashes in order, with a bucket index built at start-up (a
//!   millisecond), so nothing is unpacked. Per n-gram it lists the languages that have it, so a
//!   text is read once for all candidate languages.
//! * **The score** is lingua's: every n-gram of every word (orders 1 to 5), looked up in each
//!   language, backing off to its prefixes when the language lacks it, summed per language and
//!   divided by the number of letters: a per-letter average log probability. lingua reads only
//!   trigrams from 120 letters on, to save time; here all orders are read for every text (the
//!   caller passes at most a few hundred characters), which keeps the score's scale the same
//!   for short and long texts and gains 0.8 points on Spanish against Portuguese (measured).
//!   The confidence of a language is the softmax of these averages over the candidates,
//!   weighted by the caller (see `mod.rs`, rule 6).
//! * **One change to lingua's score:** lingua lets a letter that a language never has count for
//!   nothing, and has separate rules for such letters; here it costs as much as the rarest
//!   n-gram the model keeps (e^-15), so `ы` in a text speaks against Ukrainian and `ã` against
//!   Spanish within the same sum.

/// The distilled model, embedded (format: `data/language-dev/distill/src/main.rs`).
static MODEL: &[u8] = include_bytes!("../../../../models/language/ngrams.bin");

/// The cost of a letter a language lacks, in tenths of a nat (like the model's values).
const UNKNOWN_LETTER: u16 = 150;

/// Longest n-gram in the model.
const MAX_ORDER: usize = 5;

/// Bits of the hash that pick a bucket of the index (about 3.4 n-grams per bucket).
const BUCKET_BITS: u32 = 18;

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
    /// The n-grams' hashes, ascending (u64 little-endian each).
    keys: &'static [u8],
    /// Where each n-gram's values start (u32 little-endian each, one more than the n-grams).
    starts: &'static [u8],
    /// (language index, -ln p * 10) per n-gram and language.
    values: &'static [u8],
    /// The first n-gram of each bucket (the top [`BUCKET_BITS`] bits of the hash), and the end.
    buckets: Vec<u32>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("languages", &self.codes)
            .field("ngrams", &(self.keys.len() / 8))
            .finish()
    }
}

/// The ISO 639-1 codes the model may name, as static strings.
const KNOWN_CODES: [&str; 22] = [
    "af", "az", "be", "bg", "ca", "da", "de", "en", "es", "fr", "it", "mk", "nb", "nl", "nn", "pl",
    "pt", "ru", "sr", "sv", "tr", "uk",
];

fn u32_at(bytes: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"))
}

impl Model {
    /// The embedded model. Panics only if the embedded file is corrupt (a build error, caught
    /// by the tests).
    pub(crate) fn embedded() -> Self {
        Self::parse(MODEL).expect("the embedded n-gram model is valid")
    }

    fn parse(bytes: &'static [u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(b"ONG2")?;
        let (&n, mut rest) = rest.split_first()?;
        let mut codes = Vec::new();
        for _ in 0..n {
            let code = std::str::from_utf8(rest.get(..2)?).ok()?;
            codes.push(*KNOWN_CODES.iter().find(|&&k| k == code)?);
            rest = &rest[2..];
        }
        let ngrams = u32_at(rest.get(..4)?, 0) as usize;
        let entries = u32_at(rest.get(4..8)?, 0) as usize;
        let rest = &rest[8..];
        let keys = rest.get(..8 * ngrams)?;
        let starts = rest.get(8 * ngrams..8 * ngrams + 4 * (ngrams + 1))?;
        let values = rest.get(12 * ngrams + 4..)?;
        if values.len() != 2 * entries
            || u32_at(starts, ngrams) as usize != entries
            || values
                .chunks_exact(2)
                .any(|v| usize::from(v[0]) >= codes.len())
        {
            return None;
        }
        let mut buckets = vec![0u32; (1 << BUCKET_BITS) + 1];
        let mut previous = 0;
        for i in 0..ngrams {
            let key = u64_at(keys, i);
            if i > 0 && key <= previous {
                return None;
            }
            previous = key;
            // Counted in the bucket after the key's, then summed: each bucket's start.
            buckets[(key >> (64 - BUCKET_BITS)) as usize + 1] += 1;
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        Some(Self {
            codes,
            keys,
            starts,
            values,
            buckets,
        })
    }

    /// The values of the n-gram with this hash, if the model has it.
    fn lookup(&self, hash: u64) -> Option<&'static [u8]> {
        let bucket = (hash >> (64 - BUCKET_BITS)) as usize;
        let (first, end) = (
            self.buckets[bucket] as usize,
            self.buckets[bucket + 1] as usize,
        );
        let i = (first..end).find(|&i| u64_at(self.keys, i) == hash)?;
        let (s, e) = (
            u32_at(self.starts, i) as usize,
            u32_at(self.starts, i + 1) as usize,
        );
        self.values.get(2 * s..2 * e)
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
                let longest = (word.len() - start).min(MAX_ORDER);
                positions += 1;
                for f in found.iter_mut() {
                    *f = [0; MAX_ORDER + 1];
                }
                let mut hash = 0;
                for len in 1..=longest {
                    hash = extend(hash, word[start + len - 1]);
                    let Some(values) = self.lookup(hash) else {
                        // No language has a longer n-gram when it lacks this prefix.
                        break;
                    };
                    for pair in values.chunks_exact(2) {
                        let (lang, q) = (pair[0], pair[1]);
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
                    for &q in &f[1..=longest] {
                        // lingua's backoff: the n-gram, else its longest known prefix.
                        if q != 0 {
                            value = q - 1;
                        }
                        sums[i] += u64::from(value);
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
        assert!(model.keys.len() / 8 > 100_000, "{model:?}");
        // The distiller's hash is this module's: common n-grams are found.
        for ngram in ["de", "het", "een", "the", "und"] {
            assert!(
                model.lookup(ngram.chars().fold(0, extend)).is_some(),
                "{ngram}"
            );
        }
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
            (
                "het kabinet heeft dinsdag besloten de accijns niet te verhogen",
                "nl",
            ),
            (
                "die regering het gesê dat hulle nie die belasting sal verhoog nie",
                "af",
            ),
            ("el gobierno decidió el martes no subir el impuesto", "es"),
            (
                "o governo decidiu na terça-feira não aumentar o imposto",
                "pt",
            ),
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
        assert!(
            model
                .confidences("de kat", &cyrillic, 1.0)
                .iter()
                .all(|g| g.1 == 0.0)
        );
    }
}
