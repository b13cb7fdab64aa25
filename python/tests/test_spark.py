"""The Spark job on local[2]: records equal the CLI's, bad rows never stop the job."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import SAMPLES, SPARK_MISSING, mixed_lines, record_key, run_cli

pytestmark = pytest.mark.spark

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def read_jsonl_dir(path: Path) -> List[Dict[str, Any]]:
    return [
        json.loads(line)
        for f in sorted(glob.glob(str(path / "part-*")))
        for line in Path(f).read_text().splitlines()
    ]


def by_key(records: List[Dict[str, Any]]) -> Dict[Any, Dict[str, Any]]:
    out = {record_key(r): r for r in records}
    assert len(out) == len(records), "record keys are not unique"
    return out


def assert_same_records(ours: List[Dict[str, Any]], cli: List[Dict[str, Any]]) -> None:
    """The same records (as JSON, so key order counts too), in any order."""
    assert len(ours) == len(cli)
    keys = {record_key(r) for r in cli}
    if len(keys) == len(cli):  # readable differences where records have unique keys
        a, b = by_key(ours), by_key(cli)
        assert a.keys() == b.keys()
        for k in b:
            assert a[k] == b[k], k
    assert sorted(json.dumps(r) for r in ours) == sorted(json.dumps(r) for r in cli)


def test_job_jsonl_output_equals_cli(ontleed_bin: str, mixed_jsonl: Path, tmp_path: Path) -> None:
    """`python -m ontleed.spark` on the samples plus bad lines, the file cut into many
    splits (so that line numbers cross splits and both cores work)."""
    if SPARK_MISSING:
        if os.environ.get("ONTLEED_REQUIRE_SPARK"):
            pytest.fail(SPARK_MISSING)
        pytest.skip(SPARK_MISSING)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable, "-m", "ontleed.spark",
            "--input", str(mixed_jsonl), "--output", str(out),
            "--output-format", "jsonl", "--master", "local[2]",
            "--conf", "spark.sql.files.maxPartitionBytes=4096",
            "--conf", "spark.sql.files.openCostInBytes=0",
            "--conf", "spark.ui.enabled=false",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "split(s)" in proc.stderr
    splits = int(proc.stderr.split(" split(s)")[0].rsplit(" ", 1)[1])
    assert splits > 3, proc.stderr
    ours = read_jsonl_dir(out)
    cli = run_cli(ontleed_bin, [mixed_jsonl])
    assert_same_records(ours, cli)
    good = [r for r in ours if "language" in r]
    assert len(good) == len([l for l in SAMPLES.read_text().splitlines() if l.strip()]) + 4


def test_job_rejects_bad_options(tmp_path: Path, mixed_jsonl: Path) -> None:
    if SPARK_MISSING:
        pytest.skip(SPARK_MISSING)
    proc = subprocess.run(
        [sys.executable, "-m", "ontleed.spark", "--input", str(mixed_jsonl),
         "--output", str(tmp_path / "o"), "--ner-model", "/nonexistent", "--master", "local[1]",
         "--conf", "spark.ui.enabled=false"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 2 and "no NER model" in proc.stderr


def test_directory_of_files_numbers_lines_per_file(spark, ontleed_bin: str, tmp_path: Path) -> None:
    from ontleed.spark import annotate_dataframe

    data = tmp_path / "in"
    data.mkdir()
    lines = mixed_lines()
    (data / "a.jsonl").write_bytes(b"\n".join(lines[:9]) + b"\n")
    (data / "b b.jsonl").write_bytes(b"\n".join(lines[9:]) + b"\n")
    df = annotate_dataframe(spark, [str(data)], input_format="jsonl", output_format="jsonl")
    df.write.text(str(tmp_path / "out"))
    ours = read_jsonl_dir(tmp_path / "out")
    cli = run_cli(ontleed_bin, [data / "a.jsonl", data / "b b.jsonl"])
    assert_same_records(ours, cli)


def test_jsonl_to_parquet_has_typed_columns_and_errors(spark, mixed_jsonl: Path, tmp_path: Path) -> None:
    from ontleed.spark import annotate_dataframe

    df = annotate_dataframe(spark, [str(mixed_jsonl)], input_format="jsonl", output_format="parquet")
    df.write.parquet(str(tmp_path / "out"))
    table = pq.read_table(str(tmp_path / "out"))
    assert table.schema.names[:5] == ["source", "line", "id", "text", "fields"]
    assert table.schema.names[5:] == [
        "language", "entities", "entity_summary", "topics", "categories", "paragraphs",
        "skipped", "error", "ontleed",
    ]
    rows = sorted(table.to_pylist(), key=lambda r: r["line"])
    nonblank = [l for l in mixed_lines() if l.strip()]
    assert len(rows) == len(nonblank)
    errors = [r for r in rows if r["error"]]
    good = [r for r in rows if not r["error"]]
    assert all(r["language"] is None for r in errors)
    assert all(r["language"] and r["paragraphs"] for r in good)
    assert {r["error"]["kind"] for r in errors} == {
        "invalid_json", "not_an_object", "missing_text", "text_not_string", "empty_text",
        "invalid_utf8", "title_not_string",
    }
    headline = next(r for r in good if r["id"] == "headline-only")
    assert headline["text"] == "" and headline["categories"][0]["id"] == "sport"
    assert all(e["field"] == "title" for e in headline["entities"])
    huawei = next(r for r in good if r["id"] == "nl-huawei-5g-sancties")
    assert json.loads(huawei["fields"])["title"].startswith("Huawei")
    assert any(e["label"] == "ORG" for e in huawei["entities"])
    assert huawei["categories"][0]["id"] == "technology"
    assert huawei["ontleed"]["categories"]
    assert {t["id"] for t in huawei["topics"]} >= {"5g", "sanctions"}


def _parquet_input(tmp_path: Path) -> Path:
    rows = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    rows += [
        {"id": "null-text", "title": "x", "date": None, "source": "s", "text": None},
        {"id": "empty", "title": "x", "date": None, "source": "s", "text": "  "},
        {"id": "empty-no-title", "title": None, "date": None, "source": "s", "text": "  "},
    ]
    path = tmp_path / "articles.parquet"
    pq.write_table(pa.Table.from_pylist(rows), str(path))
    return path


def test_parquet_to_jsonl_equals_cli(spark, ontleed_bin: str, tmp_path: Path) -> None:
    from ontleed.spark import annotate_dataframe

    path = _parquet_input(tmp_path)
    df = annotate_dataframe(spark, [str(path)], input_format="parquet", output_format="jsonl")
    df.write.text(str(tmp_path / "out"))
    ours = read_jsonl_dir(tmp_path / "out")
    # The CLI on the same rows as JSONL (null fields left out, as Spark's to_json does).
    rows = pq.read_table(str(path)).to_pylist()
    jsonl = tmp_path / "articles.parquet.jsonl"
    jsonl.write_text(
        "".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows)
    )
    cli = run_cli(ontleed_bin, [jsonl])
    for r in cli:
        if r.get("source") == str(jsonl):
            r["source"] = str(path)
    assert_same_records(ours, cli)


def test_parquet_to_parquet_passes_columns_through(spark, tmp_path: Path) -> None:
    from ontleed.spark import annotate_dataframe

    path = _parquet_input(tmp_path)
    df = annotate_dataframe(spark, [str(path)], input_format="parquet", output_format="parquet")
    df.write.parquet(str(tmp_path / "out"))
    table = pq.read_table(str(tmp_path / "out"))
    assert table.schema.names == [
        "id", "title", "date", "source", "text",
        "language", "entities", "entity_summary", "topics", "categories", "paragraphs",
        "skipped", "error", "ontleed",
    ]
    rows = {r["id"]: r for r in table.to_pylist()}
    assert len(rows) == 15
    assert rows["null-text"]["error"]["kind"] == "missing_text"
    # The headline is annotated with the text: a headline and a blank text are an article.
    assert rows["empty"]["error"] is None and rows["empty"]["paragraphs"][0]["field"] == "title"
    assert rows["empty-no-title"]["error"]["kind"] == "empty_text"
    assert rows["nl-voetbal-ajax-psv"]["categories"][0]["id"] == "sport"
    assert any(e["field"] == "title" for e in rows["nl-huawei-5g-sancties"]["entities"])
    assert rows["nl-voetbal-ajax-psv"]["topics"][0]["id"] == "sport"
    assert rows["en-asml-export"]["skipped"]["reason"] == "language"
    # Without an id column the id is the row number in the file, as the CLI's line number.
    no_id = tmp_path / "noid.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "Utrecht."}, {"text": "Zwolle."}]), str(no_id))
    df = annotate_dataframe(spark, [str(no_id)], input_format="parquet", output_format="parquet")
    assert sorted(r["id"] for r in df.collect()) == [1, 2]
    assert "__ontleed_line" not in df.columns
