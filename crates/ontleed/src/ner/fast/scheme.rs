//! The fast model's internal tag scheme, BILOU: each entity token is Begin, Inside, Last or Unit
//! (a one-token entity). It separates the ends of names from their middles, which a linear model
//! learns better than IOB2; output is converted back to IOB2.

use crate::ner::{Label, Tag};

/// Number of BILOU tags: O plus B, I, L, U for each of the four labels.
pub const COUNT: usize = 17;

/// Position of a token in its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Begin = 0,
    Inside = 1,
    Last = 2,
    Unit = 3,
}

fn index(label: Label, part: Part) -> usize {
    1 + 4 * label as usize + part as usize
}

fn split(i: usize) -> Option<(Label, Part)> {
    if i == 0 || i >= COUNT {
        return None;
    }
    let part = match (i - 1) % 4 {
        0 => Part::Begin,
        1 => Part::Inside,
        2 => Part::Last,
        _ => Part::Unit,
    };
    Some((Label::ALL[(i - 1) / 4], part))
}

/// BILOU indexes of an IOB2 sentence.
pub fn encode(tags: &[Tag]) -> Vec<usize> {
    let spans = crate::ner::tags::spans(tags);
    let mut out = vec![0; tags.len()];
    for s in spans {
        if s.end - s.start == 1 {
            out[s.start] = index(s.label, Part::Unit);
        } else {
            out[s.start] = index(s.label, Part::Begin);
            for o in &mut out[s.start + 1..s.end - 1] {
                *o = index(s.label, Part::Inside);
            }
            out[s.end - 1] = index(s.label, Part::Last);
        }
    }
    out
}

/// The IOB2 tag of a BILOU index.
pub fn to_tag(i: usize) -> Tag {
    match split(i) {
        None => Tag::O,
        Some((l, Part::Begin | Part::Unit)) => Tag::B(l),
        Some((l, Part::Inside | Part::Last)) => Tag::I(l),
    }
}

/// IOB2 tags of a BILOU sequence.
pub fn decode(tags: &[usize]) -> Vec<Tag> {
    tags.iter().map(|&t| to_tag(t)).collect()
}

/// Whether tag `cur` may follow `prev` (`None`: sentence start).
pub fn allowed(prev: Option<usize>, cur: usize) -> bool {
    let open = prev
        .and_then(split)
        .filter(|(_, p)| matches!(p, Part::Begin | Part::Inside));
    match (open, split(cur)) {
        // Inside an entity: only I or L of the same label.
        (Some((l, _)), Some((m, Part::Inside | Part::Last))) => l == m,
        (Some(_), _) => false,
        // Outside: O, B or U.
        (None, None) => true,
        (None, Some((_, p))) => matches!(p, Part::Begin | Part::Unit),
    }
}

/// Whether a sentence may end on tag `t` (not inside an open entity).
pub fn may_end(t: usize) -> bool {
    !matches!(split(t), Some((_, Part::Begin | Part::Inside)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<Tag> {
        s.split_whitespace().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn round_trip_and_constraints() {
        let t = tags("B-PER I-PER I-PER O B-ORG B-LOC I-LOC O B-MISC");
        let b = encode(&t);
        assert_eq!(decode(&b), t);
        assert_eq!(b[0], index(Label::Per, Part::Begin));
        assert_eq!(b[2], index(Label::Per, Part::Last));
        assert_eq!(b[4], index(Label::Org, Part::Unit));
        for w in b.windows(2) {
            assert!(allowed(Some(w[0]), w[1]));
        }
        assert!(allowed(None, b[0]) && may_end(b[b.len() - 1]));
        assert!(!allowed(None, index(Label::Per, Part::Inside)));
        assert!(!allowed(Some(index(Label::Per, Part::Begin)), 0));
        assert!(!allowed(
            Some(index(Label::Per, Part::Begin)),
            index(Label::Org, Part::Last)
        ));
        assert!(!may_end(index(Label::Loc, Part::Begin)));
    }
}
