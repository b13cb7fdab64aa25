//! Building encoder inputs from a document's word pieces: one sequence per sentence with
//! FLERT-style document context, consecutive sentences packed into one sequence, or
//! overlapping windows for sentences longer than the model's input.
//!
//! A sentence that fits becomes `<s> [left context] sentence [right context] </s>`, where the
//! context is the pieces of up to N neighbouring sentences of the same document on each side
//! (the nearest pieces first), filling the room left under `max_len` about equally on both
//! sides (Schweter & Akbik 2020, "FLERT"). Context pieces are attended to but never labelled.
//!
//! Packed (`pack_sentences`): consecutive sentences of a document share one sequence
//! `<s> s1 s2 … </s>` as long as they fit, and all their words are labelled. Each word then sees
//! its neighbouring sentences as context at no extra cost per word (a FLERT-style context costs
//! the context pieces again for every sentence); sentences at a sequence's edge see context on
//! one side only. Packing replaces `context_sentences`.
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
    /// Consecutive sentences share a sequence (and `context_sentences` is not used).
    pub pack_sentences: bool,
}

impl Layout {
    /// Room for pieces between `<s>` and `</s>`.
    fn budget(&self) -> usize {
        self.max_len.saturating_sub(2).max(1)
    }
}

/// One encoder input, built around a sentence, a window of one, or packed sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Token ids, `<s>` … `</s>`.
    pub ids: Vec<u32>,
    /// The words this segment labels, in order.
    pub targets: Vec<Target>,
}

/// A word labelled by a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Index of the sentence in the document.
    pub sentence: usize,
    /// Index of the word in its sentence.
    pub word: usize,
    /// Position in the segment's `ids` of the word's first piece.
    pub pos: usize,
}

/// The segments of a whole document, in sentence order. Every word of every sentence is the
/// target of exactly one segment; empty sentences have none. Words with more pieces than fit
/// in one sequence are cut to their first pieces.
///
/// A sentence is a [`WordPieces`] or any list of piece slices (the tagger passes slices into a
/// table of each distinct word's pieces, which takes less memory than a vector per word).
pub fn segments<W: AsRef<[u32]>>(doc: &[Vec<W>], layout: &Layout) -> Vec<Segment> {
    let budget = layout.budget();
    // Words cut to what fits in one sequence.
    let cut = |w: &W| -> usize { w.as_ref().len().min(budget) };
    let mut out = Vec::new();
    // Packing: the sequence being filled.
    let mut open: Option<Segment> = None;
    for (s, words) in doc.iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        let total: usize = words.iter().map(cut).sum();
        if total <= budget && layout.pack_sentences {
            if open
                .as_ref()
                .is_some_and(|o| o.ids.len() - 1 + total > budget)
            {
                out.extend(open.take().map(|o| close(o, layout)));
            }
            let seg = open.get_or_insert_with(|| Segment {
                ids: vec![layout.bos],
                targets: Vec::new(),
            });
            for (i, w) in words.iter().enumerate() {
                seg.targets.push(Target {
                    sentence: s,
                    word: i,
                    pos: seg.ids.len(),
                });
                seg.ids.extend_from_slice(&w.as_ref()[..cut(w)]);
            }
        } else if total <= budget {
            out.push(with_context(doc, s, total, layout));
        } else {
            out.extend(open.take().map(|o| close(o, layout)));
            let lens: Vec<usize> = words.iter().map(cut).collect();
            let windows = windows(&lens, budget);
            let owner = owners(&windows, words.len());
            for (k, w) in windows.iter().enumerate() {
                let mut ids = Vec::with_capacity(budget + 2);
                ids.push(layout.bos);
                let mut targets = Vec::new();
                for i in w.clone() {
                    if owner[i] == k {
                        targets.push(Target {
                            sentence: s,
                            word: i,
                            pos: ids.len(),
                        });
                    }
                    ids.extend_from_slice(&words[i].as_ref()[..lens[i]]);
                }
                ids.push(layout.eos);
                if !targets.is_empty() {
                    targets.shrink_to_fit();
                    out.push(Segment { ids, targets });
                }
            }
        }
    }
    out.extend(open.take().map(|o| close(o, layout)));
    out
}

/// A packed segment with its `</s>`, without spare capacity (a document's segments are all
/// kept until it is tagged).
fn close(mut seg: Segment, layout: &Layout) -> Segment {
    seg.ids.push(layout.eos);
    seg.ids.shrink_to_fit();
    seg.targets.shrink_to_fit();
    seg
}

/// Sentence `s` (whose pieces number `total`, within budget) with context around it.
fn with_context<W: AsRef<[u32]>>(
    doc: &[Vec<W>],
    s: usize,
    total: usize,
    layout: &Layout,
) -> Segment {
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
            .flat_map(|w| cut(w.as_ref(), budget))
            .copied()
            .collect();
        right = doc[(s + 1).min(doc.len())..(s + 1 + n).min(doc.len())]
            .iter()
            .flatten()
            .flat_map(|w| cut(w.as_ref(), budget))
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
        targets.push(Target {
            sentence: s,
            word: i,
            pos: ids.len(),
        });
        ids.extend_from_slice(cut(w.as_ref(), budget));
    }
    ids.extend_from_slice(&right[..r]);
    ids.push(layout.eos);
    Segment { ids, targets }
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
            pack_sentences: false,
        }
    }

    fn packed(max_len: usize) -> Layout {
        Layout {
            pack_sentences: true,
            ..layout(max_len, 0)
        }
    }

    /// `(word, pos)` of each target.
    fn words(seg: &Segment) -> Vec<(usize, usize)> {
        seg.targets.iter().map(|t| (t.word, t.pos)).collect()
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
            for t in &s.targets {
                assert_eq!(s.ids[t.pos], doc[t.sentence][t.word][0]);
            }
        }
        for (si, sent) in doc.iter().enumerate() {
            let mut seen: Vec<usize> = segs
                .iter()
                .flat_map(|s| s.targets.iter())
                .filter(|t| t.sentence == si)
                .map(|t| t.word)
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
        assert_eq!(words(&segs[0]), [(0, 1), (1, 2), (2, 4)]);
        assert_eq!(segs[1].targets[0].sentence, 2);
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
        assert_eq!(words(mid), [(0, 4), (1, 5)]);
        // The first sentence has no left context: all the room goes right.
        assert_eq!(segs[0].ids, [0, 1000, 1010, 1020, 1030, 2000, 2010, 2]);
        check_cover(&doc, &segs, 10);
        // Context never crosses the document: a one-sentence document has none.
        let one = segments(&doc[..1], &layout(10, 3));
        assert_eq!(one[0].ids.len(), 6);
    }

    #[test]
    fn packing_fills_sequences_with_whole_sentences() {
        let doc = vec![
            sentence(1000, 3, 1),
            sentence(2000, 2, 1),
            vec![],
            sentence(3000, 4, 1),
            sentence(4000, 1, 1),
        ];
        // Budget 8: sentences 0 and 1 (5 pieces), then 3 and 4 (5 pieces).
        let segs = segments(&doc, &packed(10));
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].ids, [0, 1000, 1010, 1020, 2000, 2010, 2]);
        assert_eq!(
            segs[0]
                .targets
                .iter()
                .map(|t| (t.sentence, t.word, t.pos))
                .collect::<Vec<_>>(),
            [(0, 0, 1), (0, 1, 2), (0, 2, 3), (1, 0, 4), (1, 1, 5)]
        );
        assert_eq!(segs[1].ids, [0, 3000, 3010, 3020, 3030, 4000, 2]);
        check_cover(&doc, &segs, 10);
        // A sentence too long for one sequence closes the open one and gets its windows.
        let doc = vec![
            sentence(1000, 2, 1),
            sentence(2000, 30, 2),
            sentence(3000, 2, 1),
        ];
        let segs = segments(&doc, &packed(10));
        assert_eq!(segs[0].ids, [0, 1000, 1010, 2]);
        assert_eq!(segs.last().unwrap().ids, [0, 3000, 3010, 2]);
        check_cover(&doc, &segs, 10);
    }

    #[test]
    fn long_sentences_become_overlapping_windows() {
        for (n, max_len, k) in [(600, 64, 3), (50, 10, 4), (7, 3, 2), (300, 256, 1)] {
            let doc = vec![sentence(100, n, k), sentence(90_000, 3, 1)];
            let segs = segments(&doc, &layout(max_len, 2));
            check_cover(&doc, &segs, max_len);
            let segs = segments(&doc, &packed(max_len));
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
