//! Labelled articles (JSON Lines: `title`, `text`, gold `categories`) and the scores of
//! predicted against gold categories: what `eval-topics` and the trainer in `ontleed-train`
//! share.

use super::categories::Category;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::Path;

/// One labelled article of a training file (JSON Lines).
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledArticle {
    /// Headline, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// Body text (may be empty for a headline alone).
    #[serde(default)]
    pub text: String,
    /// Gold categories (ids of [`Category::ALL`]), best first.
    pub categories: Vec<String>,
}

/// Reads a labelled JSONL file; every line must have known category ids.
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledArticle>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read labelled file {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let a: LabelledArticle = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a labelled article", path.display(), n + 1))?;
        for c in &a.categories {
            if Category::index(c).is_none() {
                bail!("{}:{}: unknown category {c:?}", path.display(), n + 1);
            }
        }
        out.push(a);
    }
    Ok(out)
}

/// Micro precision, recall and F1 (in percent) of predicted against gold masks.
pub fn micro(pairs: &[(u16, u16)]) -> (f64, f64, f64) {
    let (mut tp, mut fp, mut fnn) = (0u32, 0u32, 0u32);
    for &(pred, gold) in pairs {
        tp += (pred & gold).count_ones();
        fp += (pred & !gold).count_ones();
        fnn += (!pred & gold).count_ones();
    }
    prf(tp, fp, fnn)
}

/// Precision, recall, F1 in percent from counts.
pub fn prf(tp: u32, fp: u32, fnn: u32) -> (f64, f64, f64) {
    let p = if tp + fp == 0 {
        0.0
    } else {
        f64::from(tp) / f64::from(tp + fp)
    };
    let r = if tp + fnn == 0 {
        0.0
    } else {
        f64::from(tp) / f64::from(tp + fnn)
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (100.0 * p, 100.0 * r, 100.0 * f)
}
