//! Command-line interface: parses arguments into validated options, then runs one mode.
//!
//! Exit statuses (all modes): 0 success; 1 `annotate` or `report` finished, but some input
//! lines were bad (`annotate`: they became error records, a damaged file included; `report`:
//! lines that are not JSON objects, too long, or a file that breaks off); 2 fatal error (bad
//! arguments, a missing input, model or taxonomy problem, write error, closed standard output);
//! 3 `annotate --strict` stopped at a bad input line; 4 `annotate` finished, but annotating some
//! articles failed (`internal` error records).

mod annotate;
mod conll;
mod export;
#[cfg(feature = "train")]
mod quantize;
mod report;
mod resolve;
mod topics;
#[cfg(feature = "train")]
mod train;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit status: everything went well.
pub const EXIT_OK: i32 = 0;
/// Exit status: the run finished, but some input lines were bad (`annotate`: they became error
/// records; `report`: they were counted and skipped).
pub const EXIT_BAD_LINES: i32 = 1;
/// Exit status: a fatal error stopped the run.
pub const EXIT_ERROR: i32 = 2;
/// Exit status: `--strict` stopped the run at a bad input line.
pub const EXIT_STRICT: i32 = 3;
/// Exit status: the run finished, but annotating some articles failed (a model's runtime, or a
/// bug): they became `internal` error records.
pub const EXIT_INTERNAL: i32 = 4;

/// Top-level arguments.
#[derive(Debug, Parser)]
#[command(
    name = "ontleed",
    version,
    about = "Dutch news NLP: language, named entities and topics, as annotated JSONL",
    after_help = "Exit status: 0 ok; 1 some input lines were bad (annotate: they became error records; report: they were skipped); 2 fatal error; 3 annotate --strict stopped at a bad line; 4 annotate: annotating some articles failed (internal error records)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Annotate articles (JSONL, .jsonl.gz, '-' for stdin, .txt files or directories) into JSONL.
    Annotate(annotate::AnnotateArgs),
    /// Train a NER model from CoNLL-style files.
    #[cfg(feature = "train")]
    Train(train::TrainArgs),
    /// Score a NER model on a labelled CoNLL file (conlleval rules).
    Eval(conll::EvalArgs),
    /// Aggregate annotated JSONL into an entity table (CSV, JSON) and an HTML report.
    Report(report::ReportArgs),
    /// Write annotated JSONL back with a corpus-level `entity` key per mention (entities resolved across the corpus).
    Resolve(resolve::ResolveArgs),
    /// Tag pre-tokenized CoNLL input (token in the first column) and write `TOKEN TAG` lines.
    Tag(conll::TagArgs),
    /// Train the news-category model from labelled JSONL (title, text, categories).
    #[cfg(feature = "train")]
    TrainTopics(train::TrainTopicsArgs),
    /// Score categories per category (precision, recall, F1) on labelled JSONL files.
    EvalTopics(topics::EvalTopicsArgs),
    /// Export the accurate (transformer) model for rust-bert (needs the rust-bert feature).
    ///
    /// Needs a build with the `rust-bert` cargo feature (libtorch; see the README's "rust-bert
    /// backend"): `cargo build --release -p ontleed-cli --features rust-bert`. Other builds stop with
    /// an error.
    Export(export::ExportArgs),
    /// Store a transformer NER model's large matrices quantized (model.gguf, Q8_0 by default).
    #[cfg(feature = "train")]
    Quantize(quantize::QuantizeArgs),
    /// Average the weights of transformer NER models fine-tuned from the same base (a model soup).
    #[cfg(feature = "train")]
    Average(quantize::AverageArgs),
    /// Fit a transformer NER model's tag-bigram prior for decoding (done by `train` at its end).
    #[cfg(feature = "train")]
    FitTransitions(train::FitTransitionsArgs),
    /// The training commands of a build without the `train` feature: a clear error.
    #[cfg(not(feature = "train"))]
    #[command(external_subcommand)]
    NotBuilt(Vec<String>),
}

/// The commands that need the `train` cargo feature.
#[cfg(not(feature = "train"))]
const TRAINING_COMMANDS: [&str; 5] = [
    "train",
    "train-topics",
    "fit-transitions",
    "quantize",
    "average",
];

/// The error of a command this build does not have.
#[cfg(not(feature = "train"))]
fn not_built(args: &[String]) -> anyhow::Result<i32> {
    let name = args.first().map(String::as_str).unwrap_or_default();
    if TRAINING_COMMANDS.contains(&name) {
        anyhow::bail!(
            "`ontleed {name}` is in builds with the `train` feature: cargo install --path crates/ontleed-cli --features train (or cargo run --release --features train -- {name} ...)"
        );
    }
    anyhow::bail!("unknown command {name:?}; see `ontleed --help`")
}

/// Runs the command line; returns the process exit status.
pub fn main() -> i32 {
    // candle runs large element-wise ops on its own pool of CANDLE_NUM_THREADS − 1 threads that
    // spin between ops and serialise concurrent callers. With 1 they run on the calling thread,
    // and matmuls still use the rayon pool: on a shared 2-core machine training updates were
    // 2.6× faster (0.75 vs 1.95 s) and `annotate` with a transformer 1.7× faster.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: this runs first in `main`, before the process has started any other thread,
        // so nothing can read the environment concurrently.
        unsafe { std::env::set_var("CANDLE_NUM_THREADS", "1") };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Annotate(a) => annotate::run(a),
        #[cfg(feature = "train")]
        Command::Train(a) => train::train(a),
        Command::Eval(a) => conll::eval(a),
        Command::Tag(a) => conll::tag(a),
        Command::Report(a) => report::report(a),
        Command::Resolve(a) => resolve::resolve(a),
        Command::Export(a) => export::export(a),
        #[cfg(feature = "train")]
        Command::TrainTopics(a) => train::train_topics(a),
        Command::EvalTopics(a) => topics::eval_topics(a),
        #[cfg(feature = "train")]
        Command::Quantize(a) => quantize::quantize(a),
        #[cfg(feature = "train")]
        Command::Average(a) => quantize::average(a),
        #[cfg(feature = "train")]
        Command::FitTransitions(a) => train::fit_transitions(a),
        #[cfg(not(feature = "train"))]
        Command::NotBuilt(args) => not_built(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => EXIT_OK,
        Err(e) => {
            eprintln!("ontleed: error: {e:#}");
            EXIT_ERROR
        }
    }
}

/// A closed output pipe (`ontleed annotate … | head`) ends the run quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Opens the output: a file, or stdout when `None` or `-`.
fn open_output(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn std::io::Write>> {
    use anyhow::Context;
    let Some(p) = path.filter(|p| p.as_os_str() != "-") else {
        if stdout_was_closed() {
            anyhow::bail!(
                "standard output is closed, so nothing could be written (give -o FILE, or redirect it)"
            );
        }
        return Ok(Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        )));
    };
    // The output's folder is created when missing (`-o results/annotated.jsonl`).
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
    Ok(Box::new(std::io::BufWriter::with_capacity(1 << 16, file)))
}

/// Whether the process started with its standard output closed (`ontleed annotate >&-`). The
/// Rust runtime then opens `/dev/null` read-write in its place, where writes vanish without an
/// error; a shell's `> /dev/null` opens it write-only, so the two are told apart.
fn stdout_was_closed() -> bool {
    #[cfg(target_os = "linux")]
    {
        let dev_null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|p| p == *"/dev/null");
        dev_null
            && std::fs::read_to_string("/proc/self/fdinfo/1").is_ok_and(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("flags:"))
                    .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                    .is_some_and(|flags| flags & 0o3 == 0o2)
            })
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}
