//! Viterbi decoding of a sentence's tags, the one decoder of both models: the fast model's
//! BILOU states with its learned transition weights, and the transformer's IOB2 labels with its
//! tag-bigram prior. What a model contributes is a [`Lattice`]: which tag may follow which, and
//! at what score.

/// The transitions of a tag sequence: which tag may follow which (a score of `-inf` forbids
/// it), and at what score.
pub trait Lattice {
    /// Number of tags.
    fn tags(&self) -> usize;

    /// Score of tag `cur` after `prev` (`None`: at the start of the sentence); `-inf` where
    /// `cur` may not follow `prev`.
    fn transition(&self, prev: Option<usize>, cur: usize) -> f32;

    /// Score of ending the sentence on `last`; `-inf` where a sentence may not end on it.
    fn end(&self, _last: usize) -> f32 {
        0.0
    }
}

/// The best tag sequence of a sentence under `emissions` (`[words × tags]`, row-major: the
/// score of each tag at each word) and the lattice's transitions.
pub fn viterbi(emissions: &[f32], lattice: &impl Lattice) -> Vec<usize> {
    forward_backtrack(emissions, lattice).0
}

/// [`viterbi`], with each word's and tag's max-marginal score: the score of the best sequence
/// through that tag at that word (`[words × tags]`, row-major).
pub fn viterbi_with_marginals(emissions: &[f32], lattice: &impl Lattice) -> (Vec<usize>, Vec<f32>) {
    let t = lattice.tags();
    let (tags, fwd) = forward_backtrack(emissions, lattice);
    let n = tags.len();
    if n == 0 {
        return (tags, Vec::new());
    }
    // Best score of completing the sentence from tag c at word i (without i's emission).
    let mut bwd = vec![0.0f32; n * t];
    for c in 0..t {
        bwd[(n - 1) * t + c] = lattice.end(c);
    }
    for i in (0..n - 1).rev() {
        for c in 0..t {
            let mut best = f32::NEG_INFINITY;
            for next in 0..t {
                let s = lattice.transition(Some(c), next)
                    + emissions[(i + 1) * t + next]
                    + bwd[(i + 1) * t + next];
                best = best.max(s);
            }
            bwd[i * t + c] = best;
        }
    }
    let margins = fwd.iter().zip(&bwd).map(|(f, b)| f + b).collect();
    (tags, margins)
}

/// The forward pass and the best path: the tags, and the forward scores (the best score of a
/// sequence ending in each tag at each word, its emission included).
fn forward_backtrack(emissions: &[f32], lattice: &impl Lattice) -> (Vec<usize>, Vec<f32>) {
    let t = lattice.tags();
    if t == 0 {
        return (Vec::new(), Vec::new());
    }
    let n = emissions.len() / t;
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut fwd = vec![f32::NEG_INFINITY; n * t];
    let mut back = vec![0usize; n * t];
    for c in 0..t {
        fwd[c] = lattice.transition(None, c) + emissions[c];
    }
    for i in 1..n {
        for c in 0..t {
            let (mut best, mut arg) = (f32::NEG_INFINITY, 0);
            for p in 0..t {
                let s = fwd[(i - 1) * t + p] + lattice.transition(Some(p), c);
                if s > best {
                    best = s;
                    arg = p;
                }
            }
            fwd[i * t + c] = best + emissions[i * t + c];
            back[i * t + c] = arg;
        }
    }
    let last = (0..t).map(|c| fwd[(n - 1) * t + c] + lattice.end(c));
    let mut tags = vec![0usize; n];
    tags[n - 1] = last
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, x)| {
            if x > bv { (i, x) } else { (bi, bv) }
        })
        .0;
    for i in (1..n).rev() {
        tags[i - 1] = back[i * t + tags[i]];
    }
    (tags, fwd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tags; tag 2 may only follow tag 1 and may not end a sentence.
    struct Chain;

    impl Lattice for Chain {
        fn tags(&self) -> usize {
            3
        }
        fn transition(&self, prev: Option<usize>, cur: usize) -> f32 {
            match (prev, cur) {
                (Some(1), 2) => 0.5,
                (_, 2) => f32::NEG_INFINITY,
                _ => 0.0,
            }
        }
        fn end(&self, last: usize) -> f32 {
            if last == 2 { f32::NEG_INFINITY } else { 0.0 }
        }
    }

    #[test]
    fn the_best_allowed_path_with_its_marginals() {
        // Word 0 prefers tag 2 (forbidden at the start), word 1 prefers tag 2 (fine after 1),
        // word 2 prefers tag 2 again (may not end there).
        let e = [0.0, 1.0, 5.0, 0.0, 0.0, 2.0, 0.0, 1.0, 3.0];
        let (tags, m) = viterbi_with_marginals(&e, &Chain);
        assert_eq!(tags, [1, 2, 1]);
        assert_eq!(viterbi(&e, &Chain), tags);
        let best = 1.0 + 0.5 + 2.0 + 0.0 + 1.0;
        for (i, &tag) in tags.iter().enumerate() {
            assert_eq!(m[i * 3 + tag], best, "word {i}");
            assert!(m[i * 3..i * 3 + 3].iter().all(|&x| x <= best));
        }
        assert_eq!(m[2], f32::NEG_INFINITY);
        assert!(viterbi(&[], &Chain).is_empty());
    }
}
