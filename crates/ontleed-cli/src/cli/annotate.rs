//! `ontleed annotate`: read articles, annotate them in parallel in bounded chunks, write one
//! record per input line in input order.

use super::{EXIT_BAD_LINES, EXIT_INTERNAL, EXIT_OK, EXIT_STRICT, open_output};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ontleed::batch::{Driver, MAX_THREADS};
use ontleed::io::{FieldNames, Reader, Source};
use ontleed::pipeline::{NerModel, NerPrecision, Pipeline};
use ontleed::topics::Taxonomy;
use std::fs::File;
use std::io::{IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `ontleed annotate`.
#[derive(Debug, clap::Args)]
pub struct AnnotateArgs {
    /// Inputs: JSONL files (.jsonl, .jsonl.gz), '-' for stdin, .txt files or directories of them.
    /// Reads stdin when none are given.
    inputs: Vec<PathBuf>,
    /// Write here instead of stdout: through FILE.part, renamed to FILE when the run is complete
    /// (FILE.resume records the progress for --resume meanwhile).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Continue an interrupted run from where it stopped: same inputs, options and -o FILE. The
    /// output is the same, byte for byte, as that of an uninterrupted run.
    #[arg(long)]
    resume: bool,
    /// JSON field holding the article text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// JSON field holding the article id (when absent, the line number is the id).
    #[arg(long, default_value = "id")]
    id_field: String,
    /// JSON field holding the headline, annotated with the text as one article (used when a
    /// record has it; its entities carry "field": "title" and offsets into the headline).
    #[arg(long, default_value = "title")]
    title_field: String,
    /// NER model: accurate (the default when built with the transformer feature), fast, or the
    /// path of a model file or directory.
    #[arg(long, default_value = NerModel::default_name())]
    ner_model: NerModel,
    /// Arithmetic of a transformer model: int8 (where the CPU has AVX-512 VNNI or AVX2, else f32) or f32.
    #[arg(long, default_value = "int8")]
    ner_precision: NerPrecision,
    /// Runtime of a transformer NER model: candle, or rust-bert (libtorch; needs the rust-bert feature).
    #[arg(long, value_enum, default_value = "candle")]
    ner_backend: super::export::NerBackend,
    /// Topic taxonomy file (TOML) instead of the built-in one.
    #[arg(long)]
    topics: Option<PathBuf>,
    /// Alias table (TOML or CSV; see data/aliases.toml) mapping names to canonical names and ids,
    /// used over the built-in one.
    #[arg(long)]
    aliases: Option<PathBuf>,
    /// Languages whose articles get entities and topics (comma-separated ISO 639-1 codes).
    #[arg(long, value_delimiter = ',', default_value = "nl")]
    languages: Vec<String>,
    /// Worker threads (default: all cores; at most 256).
    #[arg(long, value_parser = parse_threads)]
    threads: Option<usize>,
    /// Stop at the first bad input line (exit status 3) instead of writing an error record.
    #[arg(long)]
    strict: bool,
    /// Articles whose text (with the headline) is longer than this many bytes (UTF-8) become
    /// `too_large` error records.
    #[arg(long, default_value_t = 16 << 20, value_parser = parse_max_bytes)]
    max_bytes: usize,
    /// Articles per parallel chunk (bounds memory together with --max-bytes).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    chunk_size: u64,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Ok(_) | Err(_) => Err(format!(
            "expected a number of worker threads from 1 to {MAX_THREADS} (this machine has {cores} cores; leave --threads out to use them all)"
        )),
    }
}

fn parse_max_bytes(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a number of bytes of at least 1".into()),
    }
}

/// Bytes of article text per chunk, beyond which a chunk is closed early.
const CHUNK_BYTES: usize = 32 << 20;

pub(super) fn run(args: AnnotateArgs) -> Result<i32> {
    if args.resume && args.output.as_ref().is_none_or(|p| p.as_os_str() == "-") {
        bail!("--resume continues a run that wrote to a file: give the same -o FILE as that run");
    }
    let mut builder = Pipeline::builder()
        .ner_model(args.ner_model.clone())
        .ner_precision(args.ner_precision)
        .languages(args.languages.clone());
    if let Some(r) = super::export::recognizer(args.ner_backend, &args.ner_model)? {
        builder = builder.recognizer(r);
    }
    if let Some(path) = &args.topics {
        builder = builder.taxonomy(Taxonomy::from_file(path)?);
    }
    if let Some(path) = &args.aliases {
        builder = builder.aliases(ontleed::entities::Aliases::from_file(path)?);
    }
    let driver = Driver::new(builder.build()?, args.threads)?;
    let sources = Source::expand(&args.inputs)?;
    let fields = FieldNames {
        text: args.text_field.clone(),
        id: args.id_field.clone(),
        title: args.title_field.clone(),
    };
    let source_names: Vec<String> = sources.iter().map(Source::name).collect();
    let mut reader = Reader::new(sources, fields, args.max_bytes);
    let settings = settings(&args);
    let (mut out, mut state) = match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            let (file, state) = if args.resume {
                Partial::resume(path, &settings, &source_names)?
            } else {
                Partial::create(path, settings, source_names)?
            };
            (
                Output::File(std::io::BufWriter::with_capacity(1 << 16, file)),
                Some(state),
            )
        }
        _ => (Output::Stdout(open_output(None)?), None),
    };
    let (mut articles, mut errors, mut tokens) = (0usize, 0usize, 0usize);
    let mut internal = 0usize;
    if let Some(state) = &state {
        reader.skip_to(state.source, state.line);
        (articles, errors, tokens) = (state.articles, state.errors, state.tokens);
    }

    let progress = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} articles, {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Some(bar)
    } else {
        None
    };

    let start = Instant::now();
    let mut stopped: Option<(String, usize, String)> = None;
    loop {
        let chunk = reader.next_chunk(args.chunk_size as usize, CHUNK_BYTES, args.strict)?;
        if chunk.is_end() {
            break;
        }
        if let Some(item) = &chunk.stopped
            && let Err(e) = &item.article
        {
            stopped = Some((
                item.source.to_string(),
                item.line,
                format!("{} ({})", e.message, e.kind),
            ));
        }
        // The chunk's articles are dropped as they are written; a chunk holds its records as
        // lines of JSON.
        let done = driver.annotate_lines(chunk.items, &args.id_field);
        for a in &done {
            out.write_all(&a.json)?;
            tokens += a.tokens;
            if a.is_internal() {
                internal += 1;
            }
            if a.error.is_some() {
                errors += 1;
            } else {
                articles += 1;
            }
        }
        if let (Some(state), Some(last)) = (&mut state, done.last()) {
            // The records are with the system before the state says so: a run killed at any
            // moment resumes from whole lines.
            out.flush()?;
            state.source = last.source_index;
            state.line = last.line;
            (state.articles, state.errors, state.tokens) = (articles, errors, tokens);
            state.save(out.written()?)?;
        }
        if let Some(bar) = &progress {
            bar.set_position((articles + errors) as u64);
            bar.set_message(format!(
                "{errors} errors, {}",
                rate(tokens, start.elapsed().as_secs_f64())
            ));
        }
        if stopped.is_some() {
            break;
        }
    }
    out.flush()?;
    if let Some(state) = &state {
        state.finish()?;
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let secs = start.elapsed().as_secs_f64();
    if !args.quiet {
        eprintln!(
            "ontleed: {articles} articles annotated, {errors} error records, {tokens} tokens in {secs:.2} s ({})",
            rate(tokens, secs)
        );
    }
    if internal > 0 {
        eprintln!(
            "ontleed: annotating {internal} article(s) failed: see their `internal` error records (please report it)"
        );
    }
    if let Some((source, line, message)) = stopped {
        eprintln!("ontleed: --strict: stopped at {source} line {line}: {message}");
        return Ok(EXIT_STRICT);
    }
    Ok(if internal > 0 {
        EXIT_INTERNAL
    } else if errors > 0 {
        EXIT_BAD_LINES
    } else {
        EXIT_OK
    })
}

/// The options that shape the output, as text: `--resume` refuses to continue a run made with
/// other ones.
fn settings(args: &AnnotateArgs) -> String {
    format!(
        "text_field={:?} id_field={:?} title_field={:?} ner_model={:?} ner_precision={:?} ner_backend={:?} topics={:?} aliases={:?} languages={:?} strict={} max_bytes={} version={}",
        args.text_field,
        args.id_field,
        args.title_field,
        args.ner_model,
        args.ner_precision,
        args.ner_backend,
        args.topics,
        args.aliases,
        args.languages,
        args.strict,
        args.max_bytes,
        env!("CARGO_PKG_VERSION"),
    )
}

/// Where records go: stdout, or the `.part` file of `-o FILE`.
enum Output {
    Stdout(Box<dyn Write>),
    File(std::io::BufWriter<File>),
}

impl Output {
    /// Bytes in the output file so far (after a flush).
    fn written(&mut self) -> std::io::Result<u64> {
        match self {
            Output::Stdout(_) => Ok(0),
            Output::File(w) => w.get_mut().stream_position(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(w) => w.flush(),
        }
    }
}

/// A run writing to `-o FILE`: records go to `FILE.part`, which becomes `FILE` (renamed) when
/// the run ends; after every chunk, `FILE.resume` records how far the run got, for `--resume`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Partial {
    #[serde(skip)]
    path: PathBuf,
    /// The options of the run ([`settings`]).
    settings: String,
    /// The input sources, in order.
    inputs: Vec<String>,
    /// The source of the last line written (an index into `inputs`).
    source: usize,
    /// The last line of that source whose record is written (0: none yet).
    line: usize,
    /// Bytes of whole records in the `.part` file.
    bytes: u64,
    articles: usize,
    errors: usize,
    tokens: usize,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

impl Partial {
    fn part(&self) -> PathBuf {
        with_suffix(&self.path, ".part")
    }

    fn state(&self) -> PathBuf {
        with_suffix(&self.path, ".resume")
    }

    /// Starts a new run writing to `path`.
    fn create(path: &Path, settings: String, inputs: Vec<String>) -> Result<(File, Self)> {
        let state = Self {
            path: path.to_path_buf(),
            settings,
            inputs,
            source: 0,
            line: 0,
            bytes: 0,
            articles: 0,
            errors: 0,
            tokens: 0,
        };
        // The output's folder is created when missing (`-o results/annotated.jsonl`).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        let part = state.part();
        let file =
            File::create(&part).with_context(|| format!("cannot create {}", part.display()))?;
        state.save(0)?;
        Ok((file, state))
    }

    /// Continues the interrupted run that wrote to `path`: its `.part` file is cut back to the
    /// last whole record that `.resume` vouches for.
    fn resume(path: &Path, settings: &str, inputs: &[String]) -> Result<(File, Self)> {
        let state_path = with_suffix(path, ".resume");
        let text = match std::fs::read_to_string(&state_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "nothing to resume: {} does not exist (the run finished{}, or it never started)",
                state_path.display(),
                if path.exists() {
                    " and wrote its output"
                } else {
                    ""
                }
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", state_path.display()));
            }
        };
        let mut state: Self = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a resume state", state_path.display()))?;
        state.path = path.to_path_buf();
        if state.inputs != inputs {
            bail!(
                "--resume: the inputs differ from the interrupted run's ({})",
                state.inputs.join(" ")
            );
        }
        if state.settings != settings {
            bail!(
                "--resume: the options differ from the interrupted run's: {}",
                state.settings
            );
        }
        let part = state.part();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&part)
            .with_context(|| format!("cannot open {}", part.display()))?;
        let len = file.metadata()?.len();
        if len < state.bytes {
            bail!(
                "--resume: {} is shorter ({len} bytes) than the state says ({} bytes)",
                part.display(),
                state.bytes
            );
        }
        file.set_len(state.bytes)?;
        file.seek(SeekFrom::End(0))?;
        Ok((file, state))
    }

    /// Writes the state (through a temporary file renamed over the old one).
    fn save(&self, bytes: u64) -> Result<()> {
        let state = self.state();
        let tmp = with_suffix(&self.path, ".resume.tmp");
        let text = serde_json::to_string(&Self {
            bytes,
            ..self.clone()
        })?;
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &state))
            .with_context(|| format!("cannot write {}", state.display()))
    }

    /// The run is complete: `FILE.part` becomes `FILE`, and the state goes.
    fn finish(&self) -> Result<()> {
        let part = self.part();
        std::fs::rename(&part, &self.path).with_context(|| {
            format!(
                "cannot rename {} to {}",
                part.display(),
                self.path.display()
            )
        })?;
        let _ = std::fs::remove_file(self.state());
        Ok(())
    }
}

fn rate(tokens: usize, secs: f64) -> String {
    if secs > 0.0 {
        format!("{:.0} tokens/s", tokens as f64 / secs)
    } else {
        "- tokens/s".into()
    }
}
