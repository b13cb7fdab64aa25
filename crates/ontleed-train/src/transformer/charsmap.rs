//! Builds a SentencePiece `precompiled_charsmap` (the binary the `tokenizers` crate's
//! `Precompiled` normalizer reads) from a per-code-point normalisation map.
//!
//! The format is `u32 trie_bytes`, then a darts-clone double array of `u32` units, then the
//! replacement strings, each ending in `\0`. A key is the UTF-8 encoding of one code point; its
//! value is the byte offset of its replacement. The double array uses darts-clone's unit
//! encoding: bits 0–7 label, bit 8 "has leaf", bit 9 offset-extension flag, bits 10–31 offset;
//! leaf units hold the value with bit 31 set. Children of a node at `p` whose unit holds offset
//! `o` sit at `p ^ o ^ label`, its leaf at `p ^ o`.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Result, ensure};

#[derive(Default)]
struct Node {
    children: BTreeMap<u8, usize>,
    value: Option<u32>,
}

/// Encodes `map` (code point → replacement, possibly empty) as a precompiled charsmap.
pub fn build(map: &[(char, String)]) -> Result<Vec<u8>> {
    // Replacement strings, deduplicated.
    let mut normalized = Vec::new();
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let mut nodes = vec![Node::default()];
    for (key, out) in map {
        let value = match seen.get(out.as_str()) {
            Some(&v) => v,
            None => {
                let v = u32::try_from(normalized.len())?;
                ensure!(v < 1 << 31, "normalisation strings too long for a charsmap");
                normalized.extend_from_slice(out.as_bytes());
                normalized.push(0);
                seen.insert(out, v);
                v
            }
        };
        let mut buf = [0u8; 4];
        let mut n = 0;
        for &b in key.encode_utf8(&mut buf).as_bytes() {
            n = match nodes[n].children.get(&b) {
                Some(&c) => c,
                None => {
                    nodes.push(Node::default());
                    let c = nodes.len() - 1;
                    nodes[n].children.insert(b, c);
                    c
                }
            };
        }
        ensure!(
            nodes[n].value.is_none(),
            "normalisation key {key:?} appears twice"
        );
        nodes[n].value = Some(value);
    }

    // Place nodes breadth-first; each gets a distinct base such that its children (and its
    // leaf, at label 0) land on free units.
    let mut units: Vec<u32> = vec![0; 256];
    let mut used: Vec<bool> = vec![false; 256];
    let mut used_bases: HashSet<usize> = HashSet::new();
    used[0] = true; // the root
    let mut queue = std::collections::VecDeque::from([(0usize, 0usize, 0u8)]); // node, pos, label
    while let Some((n, pos, label)) = queue.pop_front() {
        let node = &nodes[n];
        let mut labels: Vec<usize> = node.children.keys().map(|&b| b as usize).collect();
        if node.value.is_some() {
            labels.insert(0, 0);
        }
        let mut unit = label as u32;
        if !labels.is_empty() {
            let base = find_base(&labels, &used, &used_bases);
            let need = (base | 0xff) + 1;
            if need > units.len() {
                units.resize(need, 0);
                used.resize(need, false);
            }
            used_bases.insert(base);
            for &l in &labels {
                used[base ^ l] = true;
            }
            let offset = pos ^ base;
            ensure!(offset < 1 << 21, "charsmap too large for darts offsets");
            unit |= (offset as u32) << 10;
            if let Some(v) = node.value {
                unit |= 1 << 8;
                units[base] = v | 1 << 31;
            }
            for (&b, &c) in &node.children {
                queue.push_back((c, base ^ b as usize, b));
            }
        }
        units[pos] = unit;
    }

    let mut out = Vec::with_capacity(4 + units.len() * 4 + normalized.len());
    out.extend_from_slice(&u32::try_from(units.len() * 4)?.to_le_bytes());
    for u in &units {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out.extend_from_slice(&normalized);
    Ok(out)
}

/// The lowest base, unused by any other node, whose slots `base ^ l` are all free.
fn find_base(labels: &[usize], used: &[bool], used_bases: &HashSet<usize>) -> usize {
    let free = |i: usize| i >= used.len() || !used[i];
    let mut base = 1;
    loop {
        if !used_bases.contains(&base) && labels.iter().all(|&l| free(base ^ l)) {
            return base;
        }
        base += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenizers::normalizers::Precompiled;

    #[test]
    fn round_trips_through_tokenizers_precompiled() {
        let map = vec![
            ('\t', " ".to_string()),
            ('\u{1}', String::new()),
            ('\u{a0}', " ".to_string()),
            ('…', "...".to_string()),
            ('Ａ', "A".to_string()),
            ('ﬁ', "fi".to_string()),
            ('\u{1d400}', "A".to_string()),
        ];
        let bytes = build(&map).unwrap();
        let pc = Precompiled::from(&bytes).unwrap();
        for (k, v) in &map {
            assert_eq!(pc.transform(&k.to_string()), Some(v.as_str()), "{k:?}");
        }
        for k in ["a", "é", "\u{301}", "\u{1d401}", "Ｂ", "~"] {
            assert_eq!(pc.transform(k), None, "{k:?}");
        }
    }
}
