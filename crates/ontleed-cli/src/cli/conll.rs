//! `ontleed eval` and `ontleed tag`: the NER model's CoNLL-side commands (training is in
//! [`super::train`]).

use super::{EXIT_OK, open_output};
use anyhow::{Context, Result, bail};
use ontleed::ner::conll::{self, Line};
use ontleed::ner::eval::Scorer;
use ontleed::pipeline::{NerModel, NerPrecision, load_recognizer_with};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Arguments of `ontleed eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// NER model: accurate (the default when built with the transformer feature), fast, or a
    /// model path.
    #[arg(long, default_value = NerModel::default_name())]
    ner_model: NerModel,
    /// Arithmetic of a transformer model: int8 (where the CPU has AVX-512 VNNI or AVX2, else f32) or f32.
    #[arg(long, default_value = "int8")]
    ner_precision: NerPrecision,
    /// Labelled CoNLL file(s).
    #[arg(required = true)]
    gold: Vec<PathBuf>,
}

pub(super) fn eval(a: EvalArgs) -> Result<i32> {
    let model = load_recognizer_with(&a.ner_model, a.ner_precision)?;
    let mut scorer = Scorer::default();
    for path in &a.gold {
        scorer.add_documents(&*model, &conll::read_file(path)?)?;
    }
    print!("{}", scorer.report());
    Ok(EXIT_OK)
}

/// Output formats of `ontleed tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum TagFormat {
    /// `TOKEN TAG` lines in IOB2, blank lines kept, `-DOCSTART-` lines echoed.
    Conll,
}

/// Arguments of `ontleed tag`.
#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "conll")]
    format: TagFormat,
    /// NER model: accurate (the default when built with the transformer feature), fast, or a
    /// model path.
    #[arg(long, default_value = NerModel::default_name())]
    ner_model: NerModel,
    /// Arithmetic of a transformer model: int8 (where the CPU has AVX-512 VNNI or AVX2, else f32) or f32.
    #[arg(long, default_value = "int8")]
    ner_precision: NerPrecision,
    /// Pre-tokenized input (token in the first column, other columns ignored); '-' for stdin.
    input: PathBuf,
    /// Write here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn tag(a: TagArgs) -> Result<i32> {
    let TagFormat::Conll = a.format;
    let model = load_recognizer_with(&a.ner_model, a.ner_precision)?;
    let reader: Box<dyn BufRead> = if a.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&a.input)
                .with_context(|| format!("cannot open {}", a.input.display()))?,
        ))
    };
    let mut out = open_output(a.output.as_ref())?;
    // Lines of the current document; tagged and written when the next document starts.
    let mut doc: Vec<String> = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("line {}", n + 1))?;
        if matches!(conll::classify(&line), Line::DocStart) {
            write_tagged(&*model, &doc, &mut out)?;
            doc.clear();
        }
        doc.push(line);
    }
    write_tagged(&*model, &doc, &mut out)?;
    out.flush()?;
    Ok(EXIT_OK)
}

/// Tags one document's lines and writes them: token lines become `TOKEN TAG`, others are echoed.
fn write_tagged(
    model: &dyn ontleed::ner::Recognizer,
    lines: &[String],
    out: &mut dyn Write,
) -> Result<()> {
    let mut sentences: Vec<Vec<&str>> = vec![Vec::new()];
    for line in lines {
        match conll::classify(line) {
            Line::Token { word, .. } => sentences.last_mut().map_or((), |s| s.push(word)),
            _ => {
                if sentences.last().is_some_and(|s| !s.is_empty()) {
                    sentences.push(Vec::new());
                }
            }
        }
    }
    let tags = model.tag_document(&sentences)?;
    let mut it = tags.iter().flatten();
    for line in lines {
        match conll::classify(line) {
            Line::Token { word, .. } => {
                let Some(t) = it.next() else {
                    bail!("internal error: fewer tags than tokens");
                };
                writeln!(out, "{word} {}", t.tag)?;
            }
            _ => writeln!(out, "{}", line.trim_end())?,
        }
    }
    Ok(())
}
