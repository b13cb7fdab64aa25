"""Annotate articles with Spark.

Command line::

    python -m ontleed.spark --input PATH --output PATH \\
        [--input-format jsonl|parquet] [--output-format parquet|jsonl] \\
        [--text-field text] [--id-field id] [--title-field title] \\
        [--ner-model accurate] [--topics FILE] \\
        [--aliases FILE] [--languages nl] [--max-bytes N] [--master local[2]] [--overwrite]

It reads any path Spark reads (local files, ``hdfs://``, ``s3a://``…, globs,
directories, ``.gz``), annotates with ``mapInArrow``, and writes Parquet or JSONL.
Each Python worker loads the models once (a module-level cache) and keeps them for
all its tasks and batches.

The job never fails on input:

* JSONL is read as text, line by line, and every line is parsed inside the job, so a
  line that is not JSON, not an object, has no text, or is too long becomes an error
  record ``{"line", "source", "id", "error": {"kind", "message"}}``, exactly as
  ``ontleed annotate`` writes it; blank lines are skipped, as the CLI skips them. Line
  numbers are per file (a first, cheap pass counts the lines of each file split), so
  with ``--output-format jsonl`` the records equal the CLI's, record for record
  (the output's order across part files is not the input's: match records by
  ``source``/``line`` or ``id``). ``source`` is the path as given when ``--input`` names
  one file, else the file's path (``file:`` URIs as local paths).
* Parquet rows with a null or too long text, or an empty text and no headline, get an
  ``error`` column (Parquet output) or an error record (JSONL output); the other rows are
  annotated.

The headline (``--title-field``, default ``title``: a JSONL field or a Parquet column) is
annotated with the text as one article, as ``ontleed annotate`` does.

Parquet output keeps typed columns: for Parquet input, ``id`` (the id column, else the
row number in its file) then the input columns; for JSONL input ``source``, ``line``,
``id`` (as text), ``text`` and ``fields`` (the other input fields, as a JSON object);
then the annotation columns of :func:`ontleed.annotation_schema`. JSONL output is the
CLI's records, one per line.

Threads: each task's pipeline uses ``ONTLEED_THREADS`` threads when that is set in the
executor's environment, else ``spark.task.cpus`` (default 1), so that the Rust thread
pools of the concurrent tasks of an executor add up to its cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urlparse

__all__ = ["main", "annotate_dataframe", "read_input", "build_parser", "tune"]

# Pipelines of this Python worker, by options: built once, reused by every task and batch.
_PIPELINES: Dict[Tuple[Any, ...], Any] = {}

_LINE_COLUMNS = ("value", "file_path", "line_key")


def _log(message: str) -> None:
    print(f"ontleed.spark: {message}", file=sys.stderr, flush=True)


def _options_key(options: Dict[str, Any]) -> Tuple[Any, ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))


def _worker_threads() -> int:
    env = os.environ.get("ONTLEED_THREADS", "").strip()
    if env:
        return int(env)
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None:
            return max(1, int(ctx.cpus()))
    except Exception:  # noqa: BLE001 - outside a task: one thread
        pass
    return 1


def _pipeline(options: Dict[str, Any]) -> Any:
    """The pipeline for ``options`` in this process, built on first use."""
    key = _options_key(options)
    nlp = _PIPELINES.get(key)
    if nlp is None:
        from ontleed import Pipeline

        opts = dict(options)
        if opts.get("threads") is None:
            opts["threads"] = _worker_threads()
        nlp = Pipeline(**opts)
        _PIPELINES[key] = nlp
    return nlp


def _local_path(uri: str) -> str:
    """``file:///a/b%20c`` → ``/a/b c``; other URIs unchanged."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    return uri


def _source_namer(given: Sequence[str]) -> Callable[[str], str]:
    """Names sources as the CLI would: an input file named on the command line keeps the
    name it was given; other files get their (local) path."""
    names = {}
    for g in given:
        if "://" not in g and os.path.isfile(g):
            names[os.path.abspath(g)] = g
    cache: Dict[str, str] = {}

    def name(uri: str) -> str:
        n = cache.get(uri)
        if n is None:
            local = _local_path(uri)
            n = names.get(local, local)
            cache[uri] = n
        return n

    return name


def _lines_udf(
    options: Dict[str, Any],
    offsets: Dict[Tuple[str, int], int],
    given: Sequence[str],
    output: str,
) -> Callable[[Iterable[Any]], Iterator[Any]]:
    """The mapInArrow function for lines: numbers them per file, annotates them."""

    def run(batches: Iterable[Any]) -> Iterator[Any]:
        import pyarrow as pa

        nlp = _pipeline(options)
        name = _source_namer(given)
        counters: Dict[Tuple[str, int], int] = {}
        for batch in batches:
            paths = batch.column("file_path").to_pylist()
            keys = batch.column("line_key").to_pylist()
            lines: List[int] = []
            if offsets is None:  # line_key is the line number itself
                lines = [int(k) for k in keys]
            else:
                for path, start in zip(paths, keys):
                    k = (path, start)
                    c = counters.get(k, 0) + 1
                    counters[k] = c
                    lines.append(offsets.get(k, 0) + c)
            b = pa.record_batch(
                {
                    "value": batch.column("value"),
                    "source": pa.array([name(p) for p in paths], pa.string()),
                    "line": pa.array(lines, pa.int64()),
                }
            )
            yield nlp.annotate_lines_arrow(b, output)

    return run


def _arrow_udf(
    options: Dict[str, Any],
    text_column: str,
    id_column: str,
    drop: Sequence[str],
    schema_ddl: Any,
) -> Callable[[Iterable[Any]], Iterator[Any]]:
    """The mapInArrow function for typed (Parquet) input and output."""

    def run(batches: Iterable[Any]) -> Iterator[Any]:
        from pyspark.sql.pandas.types import to_arrow_schema

        nlp = _pipeline(options)
        target = to_arrow_schema(schema_ddl)
        for batch in batches:
            out = nlp.annotate_arrow(batch, text_column, id_column)
            if drop:
                out = out.drop_columns([d for d in drop if d in out.schema.names])
            if out.schema.remove_metadata() != target:
                out = out.cast(target)
            yield out

    return run


def read_input(spark: Any, paths: Sequence[str], input_format: str) -> Any:
    """Reads the input: JSONL as lines of raw bytes, Parquet as it is."""
    if input_format == "jsonl":
        return spark.read.option("lineSep", "\n").text(list(paths))
    if input_format == "parquet":
        return spark.read.parquet(*paths)
    raise ValueError(f"--input-format {input_format!r}: use jsonl or parquet")


def annotate_dataframe(
    spark: Any,
    paths: Sequence[str],
    *,
    input_format: str = "jsonl",
    output_format: str = "parquet",
    options: Optional[Dict[str, Any]] = None,
) -> Any:
    """Builds the annotated DataFrame for ``paths`` (nothing runs until it is written,
    except the line count of JSONL input).

    Args:
        spark: The SparkSession.
        paths: Input paths (files, directories, globs, any scheme Spark reads).
        input_format: ``jsonl`` or ``parquet``.
        output_format: ``jsonl`` (one string column ``value``: the CLI's records) or
            ``parquet`` (typed columns).
        options: :class:`ontleed.Pipeline` options (``ner_model``, ``topics``,
            ``aliases``, ``languages``, ``text_field``, ``id_field``, ``title_field``,
            ``max_bytes``, ``threads``).
    """
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    from ontleed import Pipeline

    options = dict(options or {})
    # Built here too: bad options fail now, on the driver, and it gives the schemas.
    probe = Pipeline(**{**options, "threads": 1})
    text_field = options.get("text_field", "text")
    id_field = options.get("id_field", "id")
    df = read_input(spark, paths, input_format)
    lines_schema = pa.schema(
        [("value", pa.binary()), ("source", pa.string()), ("line", pa.int64())]
    )

    def lines_output_schema() -> Any:
        if output_format == "jsonl":
            return "value string"
        empty = pa.RecordBatch.from_pylist([], schema=lines_schema)
        return from_arrow_schema(probe.annotate_lines_arrow(empty, "arrow").schema)

    if input_format == "jsonl":
        lines = df.select(
            F.col("value").cast("binary").alias("value"),
            F.col("_metadata.file_path").alias("file_path"),
            F.col("_metadata.file_block_start").alias("line_key"),
        )
        # Lines before each split of each file: the splits' line counts, added up.
        t = time.monotonic()
        counts = lines.groupBy("file_path", "line_key").count().collect()
        offsets: Dict[Tuple[str, int], int] = {}
        by_file: Dict[str, List[Tuple[int, int]]] = {}
        for row in counts:
            by_file.setdefault(row["file_path"], []).append((row["line_key"], row["count"]))
        for path, splits in by_file.items():
            before = 0
            for start, n in sorted(splits):
                offsets[(path, start)] = before
                before += n
        _log(
            f"counted the lines of {len(by_file)} file(s) in {len(counts)} split(s) "
            f"in {time.monotonic() - t:.2f} s"
        )
        return lines.mapInArrow(
            _lines_udf(options, offsets, list(paths), "jsonl" if output_format == "jsonl" else "arrow"),
            lines_output_schema(),
        )

    # Parquet input.
    if text_field not in df.columns:
        raise ValueError(
            f"the input has no column {text_field!r} (choose another with --text-field); "
            f"its columns are {df.columns}"
        )
    row_number = (F.col("_metadata.row_index") + F.lit(1)).cast("long")
    if output_format == "jsonl":
        value = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        lines = df.select(
            value.cast("binary").alias("value"),
            F.col("_metadata.file_path").alias("file_path"),
            row_number.alias("line_key"),
        )
        return lines.mapInArrow(
            _lines_udf(options, None, list(paths), "jsonl"),  # type: ignore[arg-type]
            lines_output_schema(),
        )
    line_column = "__ontleed_line"
    if id_field in df.columns:
        typed, id_column, drop = df, id_field, []
    else:
        typed = df.withColumn(line_column, row_number)
        id_column, drop = line_column, [line_column]
    in_schema = to_arrow_schema(typed.schema)
    out_schema = probe.arrow_schema(in_schema, text_field, id_column)
    out_schema = pa.schema([f for f in out_schema if f.name not in drop])
    spark_schema = from_arrow_schema(out_schema)
    return typed.mapInArrow(
        _arrow_udf(options, text_field, id_column, drop, spark_schema), spark_schema
    )


def tune(spark: Any) -> Dict[str, str]:
    """Sets the job's defaults for what the user left unset (``--conf``, spark-submit):

    * ``spark.sql.files.minPartitionNum`` = 4 x the default parallelism and
      ``spark.sql.files.openCostInBytes`` = 1 MiB: input splits come in several even sizes per
      core, so that the CPU-bound annotation keeps every core busy to the end (Spark's own
      defaults can cut a file 61/39 between two cores).
    * ``spark.sql.execution.arrow.maxRecordsPerBatch`` = 1024: bounded memory per Python
      worker, and reading, annotating and writing overlap.

    Returns what it set.
    """
    parallelism = max(1, int(spark.sparkContext.defaultParallelism))
    wanted = {
        "spark.sql.files.minPartitionNum": str(4 * parallelism),
        "spark.sql.files.openCostInBytes": str(1 << 20),
        "spark.sql.execution.arrow.maxRecordsPerBatch": "1024",
    }
    user = spark.sparkContext.getConf()
    done = {}
    for key, value in wanted.items():
        if not user.contains(key):
            spark.conf.set(key, value)
            done[key] = value
    return done


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m ontleed.spark``."""
    p = argparse.ArgumentParser(
        prog="python -m ontleed.spark",
        description="Annotate articles (language, entities, topics, categories) with Spark.",
    )
    p.add_argument("--input", required=True, action="append", metavar="PATH",
                   help="input path (file, directory, glob, any scheme Spark reads); repeatable")
    p.add_argument("--output", required=True, metavar="PATH", help="output directory")
    p.add_argument("--input-format", choices=["jsonl", "parquet"],
                   help="default: parquet for .parquet paths, else jsonl")
    p.add_argument("--output-format", choices=["parquet", "jsonl"], default="parquet")
    p.add_argument("--text-field", default="text", help="field with the article text")
    p.add_argument("--id-field", default="id", help="field with the article id")
    p.add_argument("--title-field", default="title",
                   help="field with the headline, annotated with the text")
    p.add_argument("--ner-model", default="accurate", help="accurate (default), fast, or a model path")
    p.add_argument("--topics", help="topic taxonomy (TOML), readable on every executor")
    p.add_argument("--aliases",
                   help="entity alias table (TOML or CSV), readable on every executor")
    p.add_argument("--languages", default="nl",
                   help="comma-separated languages that get entities and topics")
    p.add_argument("--max-bytes", type=int, default=16 << 20,
                   help="longer articles become too_large errors")
    p.add_argument("--threads", type=int,
                   help="Rust threads per task (default: ONTLEED_THREADS, else spark.task.cpus)")
    p.add_argument("--batch-size", type=int,
                   help="rows per Arrow batch (spark.sql.execution.arrow.maxRecordsPerBatch)")
    p.add_argument("--master", help="Spark master when not run by spark-submit (default local[*])")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting (when not run by spark-submit); repeatable")
    p.add_argument("--overwrite", action="store_true", help="replace the output directory")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the job; returns the exit status (0, or 2 for bad options)."""
    args = build_parser().parse_args(argv)
    input_format = args.input_format or (
        "parquet" if all(p.rstrip("/").endswith(".parquet") for p in args.input) else "jsonl"
    )
    options: Dict[str, Any] = dict(
        ner_model=args.ner_model,
        topics=args.topics,
        aliases=args.aliases,
        languages=args.languages,
        text_field=args.text_field,
        id_field=args.id_field,
        title_field=args.title_field,
        max_bytes=args.max_bytes,
    )
    if args.threads is not None:
        options["threads"] = args.threads

    t0 = time.monotonic()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("ontleed").config(
        "spark.ui.showConsoleProgress", "false"
    )
    if args.master:
        builder = builder.master(args.master)
    if "PYSPARK_GATEWAY_PORT" not in os.environ and (args.master or "local").startswith("local"):
        # Not under spark-submit, local master: the workers run this interpreter (the one
        # with ontleed installed), not whatever `python3` is on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for kv in args.conf:
        key, sep, value = kv.partition("=")
        if not sep:
            _log(f"error: --conf {kv!r}: expected KEY=VALUE")
            return 2
        builder = builder.config(key.strip(), value)
    if args.batch_size:
        builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", args.batch_size)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    tune(spark)
    _log(f"Spark {spark.version} ({spark.sparkContext.master}) up in {time.monotonic() - t0:.2f} s")
    try:
        t1 = time.monotonic()
        try:
            df = annotate_dataframe(
                spark, args.input, input_format=input_format,
                output_format=args.output_format, options=options,
            )
        except (ValueError, TypeError) as e:  # bad options, a headline column not of text
            _log(f"error: {e}")
            return 2
        except Exception as e:  # ontleed.ModelError and friends
            from ontleed import OntleedError

            if isinstance(e, OntleedError):
                _log(f"error: {e}")
                return 2
            raise
        writer = df.write.mode("overwrite" if args.overwrite else "errorifexists")
        if args.output_format == "jsonl":
            writer.text(args.output)
        else:
            writer.parquet(args.output)
        t2 = time.monotonic()
        _log(
            f"annotated {', '.join(args.input)} into {args.output} ({args.output_format}) "
            f"in {t2 - t1:.2f} s; {t2 - t0:.2f} s in all"
        )
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
