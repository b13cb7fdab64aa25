//! Entity-level scoring with the conlleval rules: an entity counts as found only when its span
//! and type are both exactly right.

use super::tags::{Label, Tag, spans};
use std::collections::HashSet;
use std::fmt::Write;

/// Counts for one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Entities in the gold data.
    pub gold: usize,
    /// Entities predicted.
    pub predicted: usize,
    /// Predicted entities that match a gold entity exactly.
    pub correct: usize,
}

impl Counts {
    /// Precision in percent.
    pub fn precision(&self) -> f64 {
        pct(self.correct, self.predicted)
    }
    /// Recall in percent.
    pub fn recall(&self) -> f64 {
        pct(self.correct, self.gold)
    }
    /// F1 in percent.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Accumulates entity counts over sentences.
#[derive(Debug, Clone, Default)]
pub struct Scorer {
    per_label: [Counts; 4],
    tokens: usize,
    tokens_correct: usize,
}

impl Scorer {
    /// Adds one sentence's gold and predicted tags.
    pub fn add(&mut self, gold: &[Tag], predicted: &[Tag]) {
        assert_eq!(
            gold.len(),
            predicted.len(),
            "gold and predicted lengths differ"
        );
        self.tokens += gold.len();
        self.tokens_correct += gold.iter().zip(predicted).filter(|(g, p)| g == p).count();
        let g: HashSet<_> = spans(gold).into_iter().collect();
        let p: HashSet<_> = spans(predicted).into_iter().collect();
        for s in &g {
            self.per_label[s.label as usize].gold += 1;
        }
        for s in &p {
            self.per_label[s.label as usize].predicted += 1;
            if g.contains(s) {
                self.per_label[s.label as usize].correct += 1;
            }
        }
    }

    /// Tags labelled documents with a model and adds every sentence.
    pub fn add_documents(
        &mut self,
        model: &dyn super::Recognizer,
        docs: &[super::conll::Doc],
    ) -> Result<(), super::RecognizerError> {
        for doc in docs {
            let tagged = model.tag_document(&super::conll::words(doc))?;
            for (s, tags) in doc.iter().zip(tagged) {
                let pred: Vec<Tag> = tags.iter().map(|t| t.tag).collect();
                self.add(&s.tags, &pred);
            }
        }
        Ok(())
    }

    /// Counts for one label.
    pub fn label(&self, label: Label) -> Counts {
        self.per_label[label as usize]
    }

    /// Counts over all labels.
    pub fn overall(&self) -> Counts {
        self.per_label
            .iter()
            .fold(Counts::default(), |a, c| Counts {
                gold: a.gold + c.gold,
                predicted: a.predicted + c.predicted,
                correct: a.correct + c.correct,
            })
    }

    /// Token accuracy in percent.
    pub fn accuracy(&self) -> f64 {
        pct(self.tokens_correct, self.tokens)
    }

    /// A conlleval-style report.
    pub fn report(&self) -> String {
        let o = self.overall();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "processed {} tokens with {} phrases; found: {} phrases; correct: {}.",
            self.tokens, o.gold, o.predicted, o.correct
        );
        let _ = writeln!(
            s,
            "accuracy: {:6.2}%; precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}",
            self.accuracy(),
            o.precision(),
            o.recall(),
            o.f1()
        );
        for l in Label::ALL {
            let c = self.label(l);
            let _ = writeln!(
                s,
                "{:>17}: precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}  {}",
                l.as_str(),
                c.precision(),
                c.recall(),
                c.f1(),
                c.predicted
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<Tag> {
        s.split_whitespace().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn exact_span_and_type() {
        let mut sc = Scorer::default();
        sc.add(
            &tags("B-PER I-PER O B-ORG O B-LOC"),
            &tags("B-PER I-PER O B-LOC O B-LOC"),
        );
        sc.add(&tags("B-MISC I-MISC"), &tags("B-MISC O"));
        let o = sc.overall();
        assert_eq!((o.gold, o.predicted, o.correct), (4, 4, 2));
        assert_eq!(sc.label(Label::Per).f1(), 100.0);
        assert_eq!(sc.label(Label::Org).recall(), 0.0);
        assert!((o.f1() - 50.0).abs() < 1e-9);
    }
}
