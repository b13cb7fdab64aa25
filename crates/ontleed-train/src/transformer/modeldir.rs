//! Operations that write transformer model directories: the tag-bigram prior into a config
//! (`ontleed fit-transitions`), a quantized copy (`ontleed quantize`), the average of several
//! fine-tunes (`ontleed average`). The library only reads model directories
//! (`ontleed::ner::transformer::files`); everything that writes them is here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{Device, Tensor};
use ontleed::ner::transformer::files::{
    CONFIG_FILE, LABELS_FILE, ModelFiles, QUANT_WEIGHTS_FILE, TOKENIZER_FILE, WEIGHTS_FILE,
};
use ontleed::ner::transformer::model::quantize_matrices;
use ontleed::ner::transformer::ner::Transitions;

/// Writes `transitions` into the `ontleed` section of `dir/config.json` (replacing any there).
pub fn write_transitions(dir: &Path, transitions: &Transitions) -> Result<()> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a model config", path.display()))?;
    let Some(section) = config
        .get_mut("ontleed")
        .and_then(serde_json::Value::as_object_mut)
    else {
        bail!("{} has no \"ontleed\" section", path.display());
    };
    let mut value = serde_json::to_value(transitions)?;
    // The weight is an f32: written in its shortest decimal form (0.8, not 0.800000011920929),
    // which reads back as the same f32.
    if let Some(w) = value.get_mut("weight")
        && let Some(n) = transitions
            .weight
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    {
        *w = serde_json::Value::Number(n);
    }
    section.insert("transitions".into(), value);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&config)? + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// What [`quantize_dir`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeReport {
    /// Tensors stored quantized.
    pub quantized: usize,
    /// Tensors stored in f32.
    pub kept: usize,
    /// Size of the written `model.gguf` in bytes.
    pub bytes: u64,
}

/// Writes a copy of the model directory `from` into `to` with its weights in `model.gguf`: the
/// large matrices in `dtype` (Q8_0, Q4_0, …), every other tensor in f32.
pub fn quantize_dir(from: &Path, to: &Path, dtype: GgmlDType) -> Result<QuantizeReport> {
    ensure!(
        from != to,
        "the output directory must differ from the input"
    );
    let files = ModelFiles::read(from)?;
    let tensors = files.load_f32(&Device::Cpu)?;
    let quant = quantize_matrices(&tensors, dtype)?;
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let mut stored: Vec<(String, Arc<QTensor>)> = Vec::with_capacity(names.len());
    for name in names {
        let q = match quant.get(name) {
            Some(q) => Arc::clone(q),
            None => Arc::new(QTensor::quantize(&tensors[name], GgmlDType::F32)?),
        };
        stored.push((name.clone(), q));
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for f in [CONFIG_FILE, TOKENIZER_FILE, LABELS_FILE] {
        std::fs::copy(from.join(f), to.join(f))
            .with_context(|| format!("cannot copy {} into {}", f, to.display()))?;
    }
    // The checksums of the copied config are those of the old weights.
    strip_checksums(&to.join(CONFIG_FILE))?;
    // A stale f32 file next to the new one would be ignored (gguf is read first), but it
    // would double the directory's size.
    let stale = to.join(WEIGHTS_FILE);
    if stale.exists() {
        std::fs::remove_file(&stale)?;
    }
    let path = to.join(QUANT_WEIGHTS_FILE);
    let tmp = to.join(format!("{QUANT_WEIGHTS_FILE}.tmp"));
    {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?,
        );
        let refs: Vec<(&str, &QTensor)> = stored.iter().map(|(n, q)| (n.as_str(), &**q)).collect();
        let meta = gguf_file::Value::String("ontleed token classifier".into());
        gguf_file::write(&mut f, &[("general.name", &meta)], &refs)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        use std::io::Write;
        f.flush()?;
    }
    std::fs::rename(&tmp, &path)?;
    let quantized = stored
        .iter()
        .filter(|(_, q)| q.dtype() == dtype && dtype != GgmlDType::F32)
        .count();
    Ok(QuantizeReport {
        quantized,
        kept: stored.len() - quantized,
        bytes: std::fs::metadata(&path)?.len(),
    })
}

/// What [`average_dirs`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AverageReport {
    /// Models averaged.
    pub models: usize,
    /// Tensors in each.
    pub tensors: usize,
}

/// Writes into `to` the uniform average of the weights of the model directories `from` (a
/// "model soup" of fine-tunes of the same base): `model.safetensors` in f32, and the first
/// model's config, tokenizer and labels. Every model must have the same tokenizer, labels,
/// config (tag-bigram prior aside) and tensor shapes. The average gets no tag-bigram prior:
/// the priors were fitted to the models' own outputs (`ontleed fit-transitions` fits one).
pub fn average_dirs(from: &[&Path], to: &Path) -> Result<AverageReport> {
    ensure!(from.len() >= 2, "averaging needs at least two models");
    ensure!(
        from.iter().all(|&f| f != to),
        "the output directory must differ from the inputs"
    );
    let config_without_prior = |files: &ModelFiles| -> Result<serde_json::Value> {
        let origin = files.name_of(CONFIG_FILE);
        let mut config: serde_json::Value = serde_json::from_str(&files.config)
            .with_context(|| format!("{origin} is not a model config"))?;
        if let Some(s) = config
            .get_mut("ontleed")
            .and_then(serde_json::Value::as_object_mut)
        {
            s.remove("transitions");
            s.remove("sha256");
        }
        Ok(config)
    };
    let first = ModelFiles::read(from[0])?;
    let config = config_without_prior(&first)?;
    let mut sum = first.load_f32(&Device::Cpu)?;
    for &dir in &from[1..] {
        let files = ModelFiles::read(dir)?;
        ensure!(
            files.tokenizer == first.tokenizer && files.labels()? == first.labels()?,
            "{} and {} differ in tokenizer or labels",
            files.origin,
            first.origin
        );
        ensure!(
            config_without_prior(&files)? == config,
            "{} and {} differ in config.json",
            files.origin,
            first.origin
        );
        let tensors = files.load_f32(&Device::Cpu)?;
        ensure!(
            tensors.len() == sum.len(),
            "{} has {} tensors, {} has {}",
            files.origin,
            tensors.len(),
            first.origin,
            sum.len()
        );
        for (name, acc) in sum.iter_mut() {
            let t = tensors
                .get(name)
                .with_context(|| format!("{} has no tensor {name}", files.origin))?;
            ensure!(
                t.dims() == acc.dims(),
                "tensor {name}: {:?} in {}, {:?} in {}",
                t.dims(),
                files.origin,
                acc.dims(),
                first.origin
            );
            *acc = (&*acc + t)?;
        }
    }
    let n = from.len() as f64;
    let mean = sum
        .into_iter()
        .map(|(k, t)| Ok((k, (t / n)?)))
        .collect::<Result<HashMap<String, Tensor>>>()?;
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    std::fs::write(
        to.join(CONFIG_FILE),
        serde_json::to_string_pretty(&config)? + "\n",
    )
    .with_context(|| format!("cannot write {}", to.join(CONFIG_FILE).display()))?;
    std::fs::write(to.join(TOKENIZER_FILE), &first.tokenizer)?;
    std::fs::write(to.join(LABELS_FILE), first.labels.as_bytes())?;
    // A gguf file left in `to` would be read instead of the new weights.
    let stale = to.join(QUANT_WEIGHTS_FILE);
    if stale.exists() {
        std::fs::remove_file(&stale)?;
    }
    let path = to.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&mean, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(AverageReport {
        models: from.len(),
        tensors: mean.len(),
    })
}

/// Removes the file checksums (`ontleed.sha256`) from a copied `config.json`, whose files are
/// about to change.
fn strip_checksums(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a model config", path.display()))?;
    let removed = config
        .get_mut("ontleed")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|s| s.remove("sha256"));
    if removed.is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&config)? + "\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_weight_is_written_in_its_shortest_form() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(CONFIG_FILE), r#"{"ontleed": {}}"#).expect("config");
        let t = Transitions {
            weight: 0.8,
            log_probs: vec![vec![0.0]],
        };
        write_transitions(dir.path(), &t).expect("writes");
        let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).expect("reads");
        assert!(
            text.contains("\"weight\": 0.8\n") || text.contains("\"weight\": 0.8,"),
            "{text}"
        );
        let back =
            ontleed::ner::transformer::ner::read_transitions(&dir.path().join(CONFIG_FILE), 1)
                .expect("reads back");
        assert_eq!(back.map(|t| t.weight), Some(0.8f32));
    }
}
