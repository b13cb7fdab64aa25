//! Trimming the 250k-piece XLM-R vocabulary to the pieces a task needs.
//!
//! multilingual-e5-small spends 96M of its 118M parameters on the word-embedding table, almost
//! all of it for pieces Dutch news never uses. Fine-tuning only the rows the data uses keeps the
//! optimizer (and the saved model) small. The trimmed tokenizer keeps the pieces the data
//! tokenizes into, the special tokens, the lowest-scored piece (so the unknown-piece penalty is
//! unchanged) and every single-character piece of the Latin, Greek and Cyrillic scripts and
//! of the common punctuation and symbol blocks, so that unseen European text still splits into
//! known pieces rather than `<unk>`. Kept pieces keep their scores and their relative order, so
//! the unigram best path of any text the kept pieces cover is the same as with the full
//! vocabulary; [`Trimmed::old_ids`] maps new ids to old ones.

use std::collections::BTreeSet;

use anyhow::{Result, bail, ensure};
use tokenizers::models::ModelWrapper;
use tokenizers::models::unigram::Unigram;
use tokenizers::{AddedToken, Tokenizer};

/// A trimmed tokenizer and its id map.
#[derive(Debug, Clone)]
pub struct Trimmed {
    /// The tokenizer over the kept pieces.
    pub tokenizer: Tokenizer,
    /// For each new id, the id of the same piece in the full vocabulary (ascending).
    pub old_ids: Vec<u32>,
}

/// Whether a single character belongs to the scripts and symbol blocks always kept.
fn european_char(c: char) -> bool {
    let u = c as u32;
    u < 0x0530 // Latin, IPA, Greek, Cyrillic
        || (0x1E00..0x2000).contains(&u) // Latin Extended Additional, Greek Extended
        || (0x2000..0x2C00).contains(&u) // punctuation, currency, letterlike, arrows, maths…
        || (0xFB00..0xFB07).contains(&u) // Latin ligatures
}

/// The unigram pieces and scores of a tokenizer.
pub fn unigram_pieces(tokenizer: &Tokenizer) -> Result<Vec<(String, f64)>> {
    match tokenizer.get_model() {
        ModelWrapper::Unigram(u) => Ok(u.iter().cloned().collect()),
        _ => bail!("the tokenizer is not a SentencePiece unigram model"),
    }
}

/// Builds the tokenizer over the pieces of `base` whose ids are in `used`, plus the pieces
/// always kept (see the module documentation).
pub fn trim(base: &Tokenizer, used: &BTreeSet<u32>) -> Result<Trimmed> {
    let pieces = unigram_pieces(base)?;
    ensure!(!pieces.is_empty(), "the tokenizer has no pieces");
    let added = base.get_added_tokens_decoder();
    let mut keep: BTreeSet<u32> = used
        .iter()
        .copied()
        .filter(|&id| (id as usize) < pieces.len())
        .collect();
    keep.extend(
        added
            .keys()
            .copied()
            .filter(|&id| (id as usize) < pieces.len()),
    );
    let lowest = pieces
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map_or(0, |(i, _)| i as u32);
    keep.insert(lowest);
    for (id, (piece, _)) in pieces.iter().enumerate() {
        let mut chars = piece.trim_start_matches('▁').chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && european_char(c)
        {
            keep.insert(id as u32);
        }
    }
    let old_ids: Vec<u32> = keep.into_iter().collect();
    let unk = base
        .token_to_id("<unk>")
        .and_then(|old| old_ids.binary_search(&old).ok());
    let vocab: Vec<(String, f64)> = old_ids
        .iter()
        .map(|&id| pieces[id as usize].clone())
        .collect();
    let model = Unigram::from(vocab, unk, false)
        .map_err(|e| anyhow::anyhow!("cannot build the trimmed unigram model: {e}"))?;

    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(base.get_normalizer().cloned())
        .map_err(|e| anyhow::anyhow!("cannot set the normalizer: {e}"))?;
    tokenizer.with_pre_tokenizer(base.get_pre_tokenizer().cloned());
    tokenizer.with_decoder(base.get_decoder().cloned());
    // The post-processor refers to special tokens by id: they must not move.
    for (&old, tok) in &added {
        let new = old_ids.binary_search(&old).ok().map(|i| i as u32);
        if tok.special && new.is_some_and(|n| n != old) && is_template_token(&tok.content) {
            bail!(
                "special token {:?} would move from id {old}: trimming needs the template \
                 tokens to have the lowest ids",
                tok.content
            );
        }
    }
    tokenizer.with_post_processor(base.get_post_processor().cloned());
    let mut specials: Vec<(u32, AddedToken)> = added.into_iter().collect();
    specials.sort_by_key(|(id, _)| *id);
    let (special, plain): (Vec<_>, Vec<_>) = specials.into_iter().partition(|(_, t)| t.special);
    tokenizer
        .add_special_tokens(special.into_iter().map(|(_, t)| t).collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("cannot add the special tokens: {e}"))?;
    tokenizer
        .add_tokens(plain.into_iter().map(|(_, t)| t))
        .map_err(|e| anyhow::anyhow!("cannot add the added tokens: {e}"))?;
    Ok(Trimmed { tokenizer, old_ids })
}

/// The tokens `<s> $A </s>` templates use.
fn is_template_token(content: &str) -> bool {
    matches!(content, "<s>" | "</s>" | "[CLS]" | "[SEP]")
}
