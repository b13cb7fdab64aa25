//! Non-local features for the second pass: what the first pass said about the same word form
//! elsewhere in the document ("Pang" after "Vincent Pang", "AMP" tagged ORG in another sentence).

use super::features::{Fnv, bucket};
use crate::ner::tags::{Tag, spans};
use std::collections::HashMap;

/// What the first pass said about one word form, summed over the document.
#[derive(Default, Clone, Copy)]
struct FormStats {
    /// Occurrences inside an entity, per label.
    inside: [u32; 4],
    /// Occurrences outside any entity.
    outside: u32,
    /// Occurrences as the last token of a multi-token entity, per label.
    last_of_multi: [u32; 4],
    /// Occurrences as the first token of a multi-token entity, per label.
    first_of_multi: [u32; 4],
}

/// One token's own contribution to its form's statistics.
fn contribution(tags: &[Tag], i: usize, multi: &[(bool, bool)]) -> FormStats {
    let mut s = FormStats::default();
    match tags[i].label() {
        Some(l) => {
            s.inside[l as usize] = 1;
            if multi[i].0 {
                s.first_of_multi[l as usize] = 1;
            }
            if multi[i].1 {
                s.last_of_multi[l as usize] = 1;
            }
        }
        None => s.outside = 1,
    }
    s
}

/// Per token: (first token of a multi-token entity, last token of one).
fn multi_positions(tags: &[Tag]) -> Vec<(bool, bool)> {
    let mut out = vec![(false, false); tags.len()];
    for s in spans(tags) {
        if s.end - s.start > 1 {
            out[s.start].0 = true;
            out[s.end - 1].1 = true;
        }
    }
    out
}

/// History features of every token of a document, given the first pass's tags.
pub fn features(words: &[Vec<&str>], tags: &[Vec<Tag>]) -> Vec<Vec<Vec<u64>>> {
    let multi: Vec<Vec<(bool, bool)>> = tags.iter().map(|t| multi_positions(t)).collect();
    let mut stats: HashMap<&str, FormStats> = HashMap::new();
    for (s, ws) in words.iter().enumerate() {
        for (i, w) in ws.iter().enumerate() {
            let c = contribution(&tags[s], i, &multi[s]);
            let e = stats.entry(w).or_default();
            for l in 0..4 {
                e.inside[l] = e.inside[l].saturating_add(c.inside[l]);
                e.last_of_multi[l] = e.last_of_multi[l].saturating_add(c.last_of_multi[l]);
                e.first_of_multi[l] = e.first_of_multi[l].saturating_add(c.first_of_multi[l]);
            }
            e.outside = e.outside.saturating_add(c.outside);
        }
    }
    words
        .iter()
        .enumerate()
        .map(|(s, ws)| {
            ws.iter()
                .enumerate()
                .map(|(i, w)| {
                    let all = stats.get(w).copied().unwrap_or_default();
                    let own = contribution(&tags[s], i, &multi[s]);
                    let mut f = Vec::new();
                    let mut best: Option<(u32, usize)> = None;
                    for l in 0..4 {
                        let inside = all.inside[l].saturating_sub(own.inside[l]);
                        if inside > 0 {
                            f.push(Fnv::new(40).byte(l as u8).byte(bucket(inside)).finish());
                            if best.is_none_or(|b| inside > b.0) {
                                best = Some((inside, l));
                            }
                        }
                        if all.last_of_multi[l] > own.last_of_multi[l] {
                            f.push(Fnv::new(41).byte(l as u8).finish());
                        }
                        if all.first_of_multi[l] > own.first_of_multi[l] {
                            f.push(Fnv::new(42).byte(l as u8).finish());
                        }
                    }
                    let outside = all.outside.saturating_sub(own.outside);
                    if outside > 0 {
                        f.push(Fnv::new(43).byte(bucket(outside)).finish());
                    }
                    if let Some((_, l)) = best {
                        f.push(
                            Fnv::new(44)
                                .byte(l as u8)
                                .byte((outside > 0) as u8)
                                .finish(),
                        );
                    }
                    f
                })
                .collect()
        })
        .collect()
}

/// Every hash [`features`] can produce, so that training can give each a weight row up front.
pub fn all_hashes() -> Vec<u64> {
    let mut out = Vec::new();
    for l in 0..4u8 {
        for b in 1..4u8 {
            out.push(Fnv::new(40).byte(l).byte(b).finish());
        }
        out.push(Fnv::new(41).byte(l).finish());
        out.push(Fnv::new(42).byte(l).finish());
        for o in 0..2u8 {
            out.push(Fnv::new(44).byte(l).byte(o).finish());
        }
    }
    for b in 1..4u8 {
        out.push(Fnv::new(43).byte(b).finish());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::Label;

    #[test]
    fn surname_sees_full_name_elsewhere() {
        let words = vec![vec!["Vincent", "Pang", "zegt"], vec!["Pang", "lacht"]];
        let tags = vec![
            vec![Tag::B(Label::Per), Tag::I(Label::Per), Tag::O],
            vec![Tag::O, Tag::O],
        ];
        let f = features(&words, &tags);
        // "Pang" in sentence 2 learns that it ends a multi-token PER elsewhere.
        assert!(f[1][0].contains(&Fnv::new(41).byte(Label::Per as u8).finish()));
        // ...and the first "Pang" does not count itself.
        assert!(!f[0][1].contains(&Fnv::new(41).byte(Label::Per as u8).finish()));
        let all = all_hashes();
        assert!(f.iter().flatten().flatten().all(|h| all.contains(h)));
    }
}
