//! Name lists (first names, surnames, places, organisations…) matched as phrases over lower-cased
//! tokens. Stored inside the model file as phrase hashes, so a model is self-contained.

use super::features::phrase_hash;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::Path;

/// Longest phrase, in tokens, that is looked up.
const MAX_PHRASE: usize = 5;
/// At most this many lists (their ids are bits of a `u16`).
const MAX_LISTS: usize = 16;

/// A set of named phrase lists.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    /// List names, e.g. `per_first`.
    pub names: Vec<String>,
    /// Phrase hash → bit set of the lists that contain it.
    pub entries: HashMap<u64, u16>,
}

impl Gazetteer {
    /// Loads every `*.txt` file of a directory as one list (one phrase a line, `#` comments).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read gazetteer directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        if files.len() > MAX_LISTS {
            bail!(
                "at most {MAX_LISTS} gazetteer lists are supported, {} found",
                files.len()
            );
        }
        let mut g = Gazetteer::default();
        for (id, path) in files.iter().enumerate() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            g.names.push(name);
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let words: Vec<String> = crate::text::tokenize(line)
                    .iter()
                    .map(|t| line[t.bytes()].to_lowercase())
                    .collect();
                if words.is_empty() || words.len() > MAX_PHRASE {
                    continue;
                }
                *g.entries.entry(phrase_hash(&words)).or_default() |= 1 << id;
            }
        }
        Ok(g)
    }

    /// For each token, the gazetteer codes that cover it: `list << 2 | position`, position 0 for
    /// a one-token phrase, 1 for the first, 2 for a middle, 3 for the last token of a longer one.
    pub fn matches(&self, lower: &[String]) -> Vec<Vec<u8>> {
        let mut out = vec![Vec::new(); lower.len()];
        if self.entries.is_empty() {
            return out;
        }
        for start in 0..lower.len() {
            for len in 1..=MAX_PHRASE.min(lower.len() - start) {
                let Some(&bits) = self.entries.get(&phrase_hash(&lower[start..start + len])) else {
                    continue;
                };
                for list in 0..MAX_LISTS as u8 {
                    if bits & (1 << list) == 0 {
                        continue;
                    }
                    for (k, codes) in out[start..start + len].iter_mut().enumerate() {
                        let pos = match (len, k) {
                            (1, _) => 0,
                            (_, 0) => 1,
                            (l, k) if k + 1 == l => 3,
                            _ => 2,
                        };
                        let code = list << 2 | pos;
                        if !codes.contains(&code) {
                            codes.push(code);
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_multiword_phrases() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("loc.txt"), "Den Haag\nAmsterdam\n").unwrap();
        std::fs::write(dir.path().join("per_first.txt"), "Jan\n").unwrap();
        let g = Gazetteer::from_dir(dir.path()).unwrap();
        let words: Vec<String> = ["jan", "woont", "in", "den", "haag"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = g.matches(&words);
        assert_eq!(m[0], vec![1 << 2]);
        assert!(m[1].is_empty());
        assert_eq!(m[3], vec![1]);
        assert_eq!(m[4], vec![3]);
    }
}
