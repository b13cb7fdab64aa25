"""Shared fixtures: the pipeline, the CLI binary, sample data with bad lines, Spark."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

import ontleed

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples" / "articles.jsonl"

# Lines that the CLI turns into error records (and two good ones without an id / with a
# number id), mixed in between the sample articles.
BAD_LINES: List[bytes] = [
    b"{not json",
    b"[1, 2]",
    b'{"id": "no-text"}',
    b'{"id": "num", "text": 5}',
    b'{"id": "empty", "text": "   "}',
    b"",
    b"   ",
    b'{"text": "Geen id hier, maar wel Nederlandse tekst over Rotterdam en de haven.", "x": 1}\r',
    b'{"id": "bad-utf8", "text": "\xff\xfe"}',
    b'"just a string"',
    b"null",
    b'{"id": 7, "text": "Koning Willem-Alexander opende in Utrecht een nieuw station."}',
    b'{"id": "null-text", "text": null}',
    b'{"id": {"nested": [1, 2]}, "text": "De Tweede Kamer debatteert over de begroting.", "n": 1.5e3}',
    b'{"id": "headline-only", "title": "Ajax wint van PSV in Eindhoven", "text": ""}',
    b'{"id": "bad-title", "title": 5, "text": "Een tekst over Groningen."}',
]


def sample_lines() -> List[bytes]:
    return [l for l in SAMPLES.read_bytes().split(b"\n") if l.strip()]


def mixed_lines() -> List[bytes]:
    """The sample articles with a bad line after each, and no newline at the end."""
    good = sample_lines()
    out: List[bytes] = []
    for i, line in enumerate(good):
        out.append(line)
        if i < len(BAD_LINES):
            out.append(BAD_LINES[i])
    out.extend(BAD_LINES[len(good):])
    return out


def record_key(record: Dict[str, Any]) -> Any:
    """Matches records across outputs: error records by line, the others by id."""
    if "error" in record and "language" not in record:
        return ("line", record["source"], record["line"])
    return ("id", json.dumps(record["id"], sort_keys=True))


@pytest.fixture(scope="session")
def nlp() -> ontleed.Pipeline:
    return ontleed.Pipeline()


@pytest.fixture(scope="session")
def ontleed_bin() -> str:
    """The `ontleed` CLI: $ONTLEED_BIN, else built with `cargo build --release` (a no-op
    when it is up to date) in the main crate."""
    env = os.environ.get("ONTLEED_BIN")
    if env:
        assert Path(env).is_file(), f"ONTLEED_BIN={env} does not exist"
        return env
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("no ONTLEED_BIN and no cargo to build the CLI with")
    subprocess.run(
        [cargo, "build", "--release", "--quiet", "--bin", "ontleed"], cwd=REPO, check=True
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    path = target / "release" / "ontleed"
    assert path.is_file(), path
    return str(path)


def run_cli(ontleed_bin: str, inputs: List[Path], *flags: str) -> List[Dict[str, Any]]:
    """Runs `ontleed annotate` and returns its records (exit 0, or 1 for bad lines)."""
    proc = subprocess.run(
        [ontleed_bin, "annotate", "--quiet", *flags, *map(str, inputs)],
        capture_output=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return [json.loads(l) for l in proc.stdout.decode().splitlines()]


@pytest.fixture()
def mixed_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed_lines()))
    return path


def _have_spark() -> str:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java for Spark"
    return ""


SPARK_MISSING = _have_spark()


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession shared by the Spark tests."""
    if SPARK_MISSING:
        if os.environ.get("ONTLEED_REQUIRE_SPARK"):
            pytest.fail(f"ONTLEED_REQUIRE_SPARK is set but {SPARK_MISSING}")
        pytest.skip(SPARK_MISSING)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("ontleed-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
