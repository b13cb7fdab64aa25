//! A SentencePiece model file (`ModelProto`, protobuf) for a trimmed vocabulary, written by
//! hand (a few dozen lines do not justify a protobuf dependency).
//!
//! rust-bert's XLM-RoBERTa tokenizer (`rust_tokenizers::XLMRobertaTokenizer`) reads the pieces
//! and scores of such a file and numbers them the fairseq way: `<s>` 0, `<pad>` 1, `</s>` 2,
//! `<unk>` 3, then the file's pieces from its fourth on (file index + 1), then `<mask>`. Our
//! `tokenizer.json` numbers its pieces in the same order (`<s> <pad> </s> <unk>` first, `<mask>`
//! last when present), so the file is `<unk> <s> </s>` followed by `tokenizer.json`'s pieces
//! from id 4 on, `<mask>` left out; every piece then keeps its id.
//!
//! The file also carries a trainer spec (unigram, the special ids) and the normalizer spec
//! (`nmt_nfkc` with the tokenizer's precompiled charsmap), so that the real SentencePiece
//! library reads it as the same model; rust_tokenizers ignores both (it normalizes with NFKC).

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// Kind of a piece (SentencePiece's `ModelProto.SentencePiece.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceType {
    /// An ordinary piece.
    Normal = 1,
    /// The unknown piece.
    Unknown = 2,
    /// A control symbol (`<s>`, `</s>`).
    Control = 3,
}

/// A SentencePiece model derived from a `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct SpmModel {
    /// The serialized `ModelProto`.
    pub bytes: Vec<u8>,
    /// Ids (in the model's numbering) rust_tokenizers will give: the number of rows the
    /// embedding matrix needs (`<mask>` included).
    pub vocab_size: usize,
    /// Id of `<mask>` in rust_tokenizers' numbering.
    pub mask_id: usize,
}

/// The ids rust_tokenizers' XLM-R vocabulary gives the specials.
pub const XLMR_SPECIALS: [(&str, u32); 4] = [("<s>", 0), ("<pad>", 1), ("</s>", 2), ("<unk>", 3)];

/// Builds the SentencePiece model of a `tokenizer.json` (a `Unigram` model whose first four
/// pieces are `<s> <pad> </s> <unk>`).
pub fn from_tokenizer_json(json: &Value) -> Result<SpmModel> {
    let model = &json["model"];
    ensure!(
        model["type"] == "Unigram",
        "tokenizer.json holds a {} model, not a Unigram (SentencePiece) one",
        model["type"]
    );
    let vocab = model["vocab"]
        .as_array()
        .context("tokenizer.json has no model.vocab")?;
    let mut pieces: Vec<(String, f32)> = Vec::with_capacity(vocab.len());
    for (i, entry) in vocab.iter().enumerate() {
        let piece = entry[0]
            .as_str()
            .with_context(|| format!("tokenizer.json: vocabulary entry {i} has no piece"))?;
        let score = entry[1]
            .as_f64()
            .with_context(|| format!("tokenizer.json: vocabulary entry {i} has no score"))?;
        pieces.push((piece.to_string(), score as f32));
    }
    for (name, id) in XLMR_SPECIALS {
        if pieces.get(id as usize).map(|p| p.0.as_str()) != Some(name) {
            bail!(
                "tokenizer.json must number {name} {id} (XLM-R's order <s> <pad> </s> <unk>) for rust-bert"
            );
        }
    }
    let n = pieces.len();
    let has_mask = pieces.last().is_some_and(|p| p.0 == "<mask>");
    if let Some(i) = pieces.iter().position(|p| p.0 == "<mask>")
        && i != n - 1
    {
        bail!("tokenizer.json has <mask> at id {i}; rust-bert needs it last");
    }
    let body = if has_mask {
        &pieces[4..n - 1]
    } else {
        &pieces[4..]
    };
    let mut proto = Vec::new();
    let specials = [
        ("<unk>", PieceType::Unknown),
        ("<s>", PieceType::Control),
        ("</s>", PieceType::Control),
    ];
    for (p, t) in specials {
        message(&mut proto, 1, &piece(p, 0.0, t));
    }
    for (p, s) in body {
        message(&mut proto, 1, &piece(p, *s, PieceType::Normal));
    }
    let mut trainer = Vec::new();
    varint_field(&mut trainer, 3, 1); // model_type: UNIGRAM
    varint_field(&mut trainer, 4, (body.len() + 3) as u64); // vocab_size
    varint_field(&mut trainer, 40, 0); // unk_id
    varint_field(&mut trainer, 41, 1); // bos_id
    varint_field(&mut trainer, 42, 2); // eos_id
    varint_field(&mut trainer, 43, -1i64 as u64); // pad_id: none (fairseq adds <pad>)
    message(&mut proto, 2, &trainer);
    let mut normalizer = Vec::new();
    bytes_field(&mut normalizer, 1, b"nmt_nfkc");
    if let Some(map) = precompiled_charsmap(json)? {
        bytes_field(&mut normalizer, 2, &map);
    }
    varint_field(&mut normalizer, 3, 1); // add_dummy_prefix
    varint_field(&mut normalizer, 4, 1); // remove_extra_whitespaces
    varint_field(&mut normalizer, 5, 1); // escape_whitespaces
    message(&mut proto, 3, &normalizer);
    // rust_tokenizers: 4 specials, then the body, then <mask>.
    let mask_id = 4 + body.len();
    Ok(SpmModel {
        bytes: proto,
        vocab_size: mask_id + 1,
        mask_id,
    })
}

/// The precompiled charsmap of the tokenizer's `Precompiled` normalizer, if it has one.
fn precompiled_charsmap(json: &Value) -> Result<Option<Vec<u8>>> {
    fn find(v: &Value) -> Option<&str> {
        if v["type"] == "Precompiled" {
            return v["precompiled_charsmap"].as_str();
        }
        v["normalizers"].as_array()?.iter().find_map(find)
    }
    match find(&json["normalizer"]) {
        None => Ok(None),
        Some(b64) => Ok(Some(
            base64_decode(b64).context("tokenizer.json: the precompiled charsmap is not base64")?,
        )),
    }
}

fn piece(text: &str, score: f32, kind: PieceType) -> Vec<u8> {
    let mut m = Vec::with_capacity(text.len() + 10);
    bytes_field(&mut m, 1, text.as_bytes());
    key(&mut m, 2, 5);
    m.extend_from_slice(&score.to_le_bytes());
    varint_field(&mut m, 3, kind as u64);
    m
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, 0);
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn message(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    bytes_field(out, field, body);
}

/// Standard base64 (with or without padding).
fn base64_decode(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\n' | b'\r' => continue,
            _ => bail!("invalid base64 character {:?}", c as char),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("").unwrap(), b"");
    }

    #[test]
    fn varints_are_little_endian_base_128() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, [0xAC, 0x02]);
        let mut v = Vec::new();
        varint(&mut v, -1i64 as u64);
        assert_eq!(v.len(), 10);
    }

    #[test]
    fn specials_come_first_and_mask_is_left_out() {
        let json: Value = serde_json::json!({"model": {"type": "Unigram", "unk_id": 3, "vocab": [
            ["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0],
            ["▁de", -1.5], ["n", -2.0], ["<mask>", 0.0]]}});
        let m = from_tokenizer_json(&json).unwrap();
        assert_eq!(m.mask_id, 6);
        assert_eq!(m.vocab_size, 7);
        // First piece message: field 1, LEN; inside, the string "<unk>" and type UNKNOWN.
        assert_eq!(m.bytes[0], 0x0A);
        assert_eq!(&m.bytes[2..4], &[0x0A, 5]);
        assert_eq!(&m.bytes[4..9], b"<unk>");
        assert!(m.bytes.windows("▁de".len()).any(|w| w == "▁de".as_bytes()));
        assert!(!m.bytes.windows(6).any(|w| w == b"<mask>"));
        let bad = serde_json::json!({"model": {"type": "Unigram", "vocab": [["<unk>", 0.0]]}});
        assert!(from_tokenizer_json(&bad).is_err());
    }
}
