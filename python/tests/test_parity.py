"""Parity with the CLI: the Python API gives `ontleed annotate`'s records."""

from __future__ import annotations

import json
from pathlib import Path

import ontleed
from conftest import SAMPLES, mixed_lines, run_cli


def test_lines_equal_cli(nlp: ontleed.Pipeline, ontleed_bin: str, mixed_jsonl: Path) -> None:
    cli = run_cli(ontleed_bin, [mixed_jsonl])
    # The CLI skips blank lines but counts them; annotate_many takes every item.
    lines = mixed_jsonl.read_bytes().split(b"\n")
    numbered = [(i + 1, l) for i, l in enumerate(lines) if l.strip()]
    ours = []
    for n, line in numbered:
        [rec] = nlp.annotate_many([line], source=str(mixed_jsonl))
        if rec.get("line") == 1:
            rec["line"] = n
        if rec.get("id") == 1 and "language" in rec:
            rec["id"] = n
        ours.append(rec)
    assert len(ours) == len(cli)
    for a, b in zip(ours, cli):
        assert a == b
        assert list(a) == list(b)


def test_batch_of_lines_equals_cli(nlp, ontleed_bin, tmp_path: Path) -> None:
    # Without blank lines, item n is line n: records equal, key order included.
    lines = [l for l in mixed_lines() if l.strip()]
    path = tmp_path / "noblank.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    cli = run_cli(ontleed_bin, [path])
    ours = nlp.annotate_many(lines, batch_size=4, source=str(path))
    assert [json.dumps(r) for r in ours] == [json.dumps(r) for r in cli]


def test_dicts_equal_cli(nlp, ontleed_bin) -> None:
    cli = run_cli(ontleed_bin, [SAMPLES])
    dicts = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    assert nlp.annotate_many(dicts) == cli
    assert [list(r) for r in nlp.annotate_many(dicts)] == [list(r) for r in cli]


def test_text_equals_cli_on_text_object(nlp, ontleed_bin, tmp_path: Path) -> None:
    texts = [json.loads(l)["text"] for l in SAMPLES.read_text().splitlines() if l.strip()]
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    assert nlp.annotate_many(texts) == run_cli(ontleed_bin, [path])
    assert nlp.annotate(texts[0]) == run_cli(ontleed_bin, [path])[0]


def test_options_equal_cli_flags(ontleed_bin, tmp_path: Path) -> None:
    rows = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    moved = [{"key": r["id"], "body": r["text"], "title": r["title"]} for r in rows]
    path = tmp_path / "moved.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in moved))
    cli = run_cli(
        ontleed_bin, [path], "--text-field", "body", "--id-field", "key", "--languages", "nl,en"
    )
    nlp = ontleed.Pipeline(text_field="body", id_field="key", languages=["nl", "en"])
    assert nlp.annotate_many(moved) == cli


def test_title_field_equals_cli_flag(ontleed_bin, tmp_path: Path) -> None:
    rows = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    moved = [{"id": r["id"], "kop": r["title"], "text": r["text"], "title": 1} for r in rows]
    moved.append({"id": "kop-alleen", "kop": "Kabinet valt over stikstof", "text": "  "})
    moved.append({"id": "kop-fout", "kop": {"a": 1}, "text": "Tekst."})
    path = tmp_path / "kop.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in moved))
    cli = run_cli(ontleed_bin, [path], "--title-field", "kop")
    assert any(e.get("field") == "title" for r in cli[:-1] for e in r["entities"] or [])
    assert cli[-2]["id"] == "kop-alleen" and cli[-2]["entities"] is not None
    assert cli[-1]["error"]["kind"] == "title_not_string"
    nlp = ontleed.Pipeline(title_field="kop")
    assert nlp.annotate_many(moved, source=str(path)) == cli


def test_aliases_equal_cli_flag(ontleed_bin, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("id,name,label,alias\nQ57792,Mark Rutte,PER,Rutte\nQ1,Huawei,ORG,\n")
    cli = run_cli(ontleed_bin, [SAMPLES], "--aliases", str(aliases))
    nlp = ontleed.Pipeline(aliases=aliases)
    dicts = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    assert nlp.annotate_many(dicts) == cli
