//! Building encoder inputs from a document's word pieces: one sequence per sentence with
//! FLERT-style document context, or overlapping windows for sentences longer than the model's
//! input.
//!
//! A sentence that fits becomes `<s> [left context] sentence [right context] </s>`, where the
//! context is the pieces of up to N neighbouring sentences of the same document on each side
//! (the nearest pieces first), filling the room left under `max_len` about equally on both
//! sides (Schweter & Akbik 2020, "FLERT"). Context pieces are attended to but never labelled.
//!
//! A sentence that does not fit is cut into windows of whole words, each at most `max_len`
//! pieces with `<s>` and `</s>`, consecutive windows overlapping by about half a window. Every
//! word is labelled by exactly one window: the one where it lies furthest from a cut edge.

use std::ops::Range;

/// The pieces of each word of one sentence (each word has at least one piece).
pub type WordPieces = Vec<Vec<u32>>;

/// How sequences are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Id of `<s>`.
    pub bos: u32,
    /// Id of `</s>`.
    pub eos: u32,
    /// Longest sequence, `<s>` and `</s>` included (at least 3).
    pub max_len: usize,
    /// Neighbouring sentences used as context on each side.
    pub context_sentences: usize,
}

impl Layout {
    /// Room for pieces between `<s>` and `</s>`.
    fn budget(&self) -> usize {
        self.max_len.saturating_sub(2).max(1)
    }
}

/// One encoder input, built around a sentence or a window of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index of the sentence in the document.
    pub sentence: usize,
    /// Token ids, `<s>` … `</s>`.
    pub ids: Vec<u32>,
    /// The words this segment labels: `(word index in the sentence, position in `ids` of the
    /// word's first piece)`.
    pub targets: Vec<(usize, usize)>,
}

/// The segments of a whole document, in sentence order. Every word of every sentence is the
/// target of exactly one segment; empty sentences have none. Words with more pieces than fit
/// in one sequence are cut to their first pieces.
pub fn segments(doc: &[WordPieces], layout: &Layout) -> Vec<Segment> {
    let budget = layout.budget();
    // Words cut to what fits in one sequence.
    let cut = |w: &Vec<u32>| -> usize { w.len().min(budget) };
    let mut out = Vec::new();
    for (s, words) in doc.iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        let total: usize = words.iter().map(cut).sum();
        if total <= budget {
            out.push(with_context(doc, s, total, layout));
        } else {
            let lens: Vec<usize> = words.iter().map(cut).collect();
            let windows = windows(&lens, budget);
            let owner = owners(&windows, words.len());
            for (k, w) in windows.iter().enumerate() {
                let mut ids = Vec::with_capacity(budget + 2);
                ids.push(layout.bos);
                let mut targets = Vec::new();
                for i in w.clone() {
                    if owner[i] == k {
                        targets.push((i, ids.len()));
                    }
                    ids.extend_from_slice(&words[i][..lens[i]]);
                }
                ids.push(layout.eos);
                if !targets.is_empty() {
                    out.push(Segment {
                        sentence: s,
                        ids,
                        targets,
                    });
                }
            }
        }
    }
    out
}

/// Sentence `s` (whose pieces number `total`, within budget) with context around it.
fn with_context(doc: &[WordPieces], s: usize, total: usize, layout: &Layout) -> Segment {
    let budget = layout.budget();
    fn cut(w: &[u32], budget: usize) -> &[u32] {
        &w[..w.len().min(budget)]
    }
    let n = layout.context_sentences;
    let spare = budget - total;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    if n > 0 && spare > 0 {
        left = doc[s.saturating_sub(n)..s]
            .iter()
            .flatten()
            .flat_map(|w| cut(w, budget))
            .copied()
            .collect();
        right = doc[(s + 1).min(doc.len())..(s + 1 + n).min(doc.len())]
            .iter()
            .flatten()
            .flat_map(|w| cut(w, budget))
            .copied()
            .collect();
    }
    let r = right.len().min(spare - left.len().min(spare / 2));
    let l = left.len().min(spare - r);
    let mut ids = Vec::with_capacity(total + l + r + 2);
    ids.push(layout.bos);
    ids.extend_from_slice(&left[left.len() - l..]);
    let mut targets = Vec::with_capacity(doc[s].len());
    for (i, w) in doc[s].iter().enumerate() {
        targets.push((i, ids.len()));
        ids.extend_from_slice(cut(w, budget));
    }
    ids.extend_from_slice(&right[..r]);
    ids.push(layout.eos);
    Segment {
        sentence: s,
        ids,
        targets,
    }
}

/// Word ranges of overlapping windows of at most `budget` pieces over words of `lens` pieces
/// (each at most `budget`), consecutive windows sharing about `budget / 2` pieces.
fn windows(lens: &[usize], budget: usize) -> Vec<Range<usize>> {
    let n = lens.len();
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = start;
        let mut used = 0;
        while end < n && used + lens[end] <= budget {
            used += lens[end];
            end += 1;
        }
        end = end.max(start + 1);
        out.push(start..end);
        if end >= n {
            break;
        }
        // The next window starts at the first word whose suffix up to `end` fits in half.
        let mut next = end;
        let mut tail = 0;
        while next > start + 1 && tail + lens[next - 1] <= budget / 2 {
            tail += lens[next - 1];
            next -= 1;
        }
        start = next;
    }
    out
}

/// For each word, the window that labels it: the one where it is furthest from an edge that
/// cuts the sentence (the sentence's own start and end are not cuts).
fn owners(windows: &[Range<usize>], n: usize) -> Vec<usize> {
    let mut best: Vec<(usize, usize)> = vec![(0, 0); n];
    for (k, w) in windows.iter().enumerate() {
        for i in w.clone() {
            let left = if w.start == 0 {
                usize::MAX
            } else {
                i - w.start
            };
            let right = if w.end == n {
                usize::MAX
            } else {
                w.end - 1 - i
            };
            let margin = left.min(right).saturating_add(1);
            if margin > best[i].1 {
                best[i] = (k, margin);
            }
        }
    }
    best.into_iter().map(|(k, _)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(max_len: usize, context: usize) -> Layout {
        Layout {
            bos: 0,
            eos: 2,
            max_len,
            context_sentences: context,
        }
    }

    /// A sentence of `n` words; word i of sentence s has `1 + (i % k)` pieces numbered from
    /// `base`.
    fn sentence(base: u32, n: usize, k: usize) -> WordPieces {
        (0..n)
            .map(|i| (0..1 + i % k).map(|j| base + (i * 10 + j) as u32).collect())
            .collect()
    }

    fn check_cover(doc: &[WordPieces], segs: &[Segment], max_len: usize) {
        for s in segs {
            assert!(s.ids.len() <= max_len, "{} > {max_len}", s.ids.len());
            assert_eq!(s.ids[0], 0);
            assert_eq!(*s.ids.last().unwrap(), 2);
            for &(w, p) in &s.targets {
                assert_eq!(s.ids[p], doc[s.sentence][w][0]);
            }
        }
        for (si, sent) in doc.iter().enumerate() {
            let mut seen: Vec<usize> = segs
                .iter()
                .filter(|s| s.sentence == si)
                .flat_map(|s| s.targets.iter().map(|t| t.0))
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..sent.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn short_sentences_without_context() {
        let doc = vec![sentence(1000, 3, 2), vec![], sentence(2000, 2, 1)];
        let segs = segments(&doc, &layout(16, 0));
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].ids, [0, 1000, 1010, 1011, 1020, 2]);
        assert_eq!(segs[0].targets, [(0, 1), (1, 2), (2, 4)]);
        assert_eq!(segs[1].sentence, 2);
        check_cover(&doc, &segs, 16);
    }

    #[test]
    fn context_fills_both_sides() {
        let doc = vec![
            sentence(1000, 4, 1),
            sentence(2000, 2, 1),
            sentence(3000, 4, 1),
        ];
        // Budget 8: the middle sentence has 2 pieces, 6 spare: 3 left, 3 right.
        let segs = segments(&doc, &layout(10, 1));
        let mid = &segs[1];
        assert_eq!(
            mid.ids,
            [0, 1010, 1020, 1030, 2000, 2010, 3000, 3010, 3020, 2]
        );
        assert_eq!(mid.targets, [(0, 4), (1, 5)]);
        // The first sentence has no left context: all the room goes right.
        assert_eq!(segs[0].ids, [0, 1000, 1010, 1020, 1030, 2000, 2010, 2]);
        check_cover(&doc, &segs, 10);
        // Context never crosses the document: a one-sentence document has none.
        let one = segments(&doc[..1], &layout(10, 3));
        assert_eq!(one[0].ids.len(), 6);
    }

    #[test]
    fn long_sentences_become_overlapping_windows() {
        for (n, max_len, k) in [(600, 64, 3), (50, 10, 4), (7, 3, 2), (300, 256, 1)] {
            let doc = vec![sentence(100, n, k), sentence(90_000, 3, 1)];
            let segs = segments(&doc, &layout(max_len, 2));
            check_cover(&doc, &segs, max_len);
        }
        let doc = vec![sentence(100, 600, 3)];
        let segs = segments(&doc, &layout(64, 0));
        assert!(segs.len() > 20);
    }

    #[test]
    fn oversized_words_are_cut() {
        let doc = vec![vec![(0..50).collect::<Vec<u32>>(), vec![7], vec![8, 9]]];
        let segs = segments(&doc, &layout(8, 0));
        check_cover(&doc, &segs, 8);
    }
}
