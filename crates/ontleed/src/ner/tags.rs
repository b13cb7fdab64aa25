//! Entity labels, IOB2 tags, and the conversion between tag sequences and entity spans.

use std::fmt;
use std::str::FromStr;

/// The four CoNLL entity types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// Persons.
    Per,
    /// Organisations.
    Org,
    /// Locations.
    Loc,
    /// Other names (events, nationalities, products, titles…).
    Misc,
}

impl Label {
    /// All labels, in a fixed order.
    pub const ALL: [Label; 4] = [Label::Per, Label::Org, Label::Loc, Label::Misc];

    /// The label as written in data files and output: `PER`, `ORG`, `LOC`, `MISC`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Per => "PER",
            Label::Org => "ORG",
            Label::Loc => "LOC",
            Label::Misc => "MISC",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "PER" => Ok(Label::Per),
            "ORG" => Ok(Label::Org),
            "LOC" => Ok(Label::Loc),
            "MISC" => Ok(Label::Misc),
            other => Err(format!(
                "unknown entity label {other:?} (expected PER, ORG, LOC or MISC)"
            )),
        }
    }
}

/// An IOB2 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Outside any entity.
    O,
    /// First token of an entity.
    B(Label),
    /// A following token of an entity.
    I(Label),
}

impl Tag {
    /// Number of distinct tags (O plus B and I for each label).
    pub const COUNT: usize = 9;

    /// Dense index in `0..Tag::COUNT`.
    pub fn index(self) -> usize {
        match self {
            Tag::O => 0,
            Tag::B(l) => 1 + 2 * l as usize,
            Tag::I(l) => 2 + 2 * l as usize,
        }
    }

    /// Inverse of [`Tag::index`].
    pub fn from_index(i: usize) -> Tag {
        match i {
            0 => Tag::O,
            i if i % 2 == 1 => Tag::B(Label::ALL[(i - 1) / 2]),
            i => Tag::I(Label::ALL[(i - 2) / 2]),
        }
    }

    /// The entity label, if any.
    pub fn label(self) -> Option<Label> {
        match self {
            Tag::O => None,
            Tag::B(l) | Tag::I(l) => Some(l),
        }
    }

    /// Whether `self` may follow `prev` in a valid IOB2 sequence.
    pub fn may_follow(self, prev: Tag) -> bool {
        match self {
            Tag::I(l) => prev.label() == Some(l),
            _ => true,
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::O => f.write_str("O"),
            Tag::B(l) => write!(f, "B-{l}"),
            Tag::I(l) => write!(f, "I-{l}"),
        }
    }
}

impl FromStr for Tag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "O" {
            return Ok(Tag::O);
        }
        match s.split_once('-') {
            Some(("B", l)) => Ok(Tag::B(l.parse()?)),
            Some(("I", l)) => Ok(Tag::I(l.parse()?)),
            _ => Err(format!("invalid tag {s:?} (expected O, B-X or I-X)")),
        }
    }
}

/// Rewrites a tag sequence read from IOB1 or IOB2 into IOB2: an `I-X` that does not continue an
/// entity of type X becomes `B-X`.
pub fn to_iob2(tags: &mut [Tag]) {
    repair_iob2(tags, |t| t);
}

/// [`to_iob2`] over items that carry a tag (`tag` gives each item's): the one place that
/// repairs IOB2, as [`Tag::may_follow`] is the one place that says what is valid.
pub fn repair_iob2<T>(items: &mut [T], tag: impl Fn(&mut T) -> &mut Tag) {
    let mut prev = Tag::O;
    for item in items {
        let t = tag(item);
        if let Tag::I(l) = *t
            && !t.may_follow(prev)
        {
            *t = Tag::B(l);
        }
        prev = *t;
    }
}

/// An entity as a range of token indexes, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenSpan {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Entity type.
    pub label: Label,
}

/// Reads entity spans from a tag sequence with the conlleval rules: an entity starts at `B-X`, or
/// at an `I-X` that does not continue an entity of type X, and ends where its type stops.
pub fn spans(tags: &[Tag]) -> Vec<TokenSpan> {
    let mut out = Vec::new();
    let mut current: Option<TokenSpan> = None;
    for (i, &t) in tags.iter().enumerate() {
        let continues = matches!((t, current), (Tag::I(l), Some(c)) if c.label == l);
        if continues {
            if let Some(c) = current.as_mut() {
                c.end = i + 1;
            }
            continue;
        }
        if let Some(c) = current.take() {
            out.push(c);
        }
        if let Some(label) = t.label() {
            current = Some(TokenSpan {
                start: i,
                end: i + 1,
                label,
            });
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<Tag> {
        s.split_whitespace().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn index_round_trip() {
        for i in 0..Tag::COUNT {
            assert_eq!(Tag::from_index(i).index(), i);
        }
    }

    #[test]
    fn spans_follow_conlleval() {
        let s = spans(&tags("B-PER I-PER O I-ORG I-ORG B-ORG I-LOC O"));
        assert_eq!(
            s,
            [
                TokenSpan {
                    start: 0,
                    end: 2,
                    label: Label::Per
                },
                TokenSpan {
                    start: 3,
                    end: 5,
                    label: Label::Org
                },
                TokenSpan {
                    start: 5,
                    end: 6,
                    label: Label::Org
                },
                TokenSpan {
                    start: 6,
                    end: 7,
                    label: Label::Loc
                },
            ]
        );
    }

    #[test]
    fn iob1_to_iob2() {
        let mut t = tags("I-PER I-PER I-ORG B-ORG O I-LOC");
        to_iob2(&mut t);
        assert_eq!(t, tags("B-PER I-PER B-ORG B-ORG O B-LOC"));
    }
}
