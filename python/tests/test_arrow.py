"""The Arrow path: schema, values, errors, and agreement with the JSON records."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

pa = pytest.importorskip("pyarrow")

import ontleed  # noqa: E402
from conftest import SAMPLES  # noqa: E402

ANNOTATION = [
    "language", "entities", "entity_summary", "topics", "categories", "paragraphs", "skipped",
    "error", "ontleed",
]


def samples():
    return [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]


def like_record(row: Any, record: Any) -> Any:
    """An Arrow value as the JSON record writes it: struct fields the record leaves out
    (false `boilerplate` and `compound`, null `language`, `canonical`, `id`) removed, and fields the
    schema does not have (yet) ignored, so that the two compare."""
    if isinstance(row, dict) and isinstance(record, dict):
        out = {}
        for k, v in row.items():
            if k in record:
                out[k] = like_record(v, record[k])
            elif not (v is None or (k in ("boilerplate", "compound") and v is False)):
                out[k] = v  # a value the record lacks: shows up as a difference
        return out
    if isinstance(row, list) and isinstance(record, list) and len(row) == len(record):
        return [like_record(a, b) for a, b in zip(row, record)]
    return row


def project(record: Any, row: Any) -> Any:
    """The record restricted to the keys the Arrow schema has."""
    if isinstance(row, dict) and isinstance(record, dict):
        return {k: project(v, row[k]) for k, v in record.items() if k in row}
    if isinstance(row, list) and isinstance(record, list) and len(row) == len(record):
        return [project(a, b) for a, b in zip(record, row)]
    return record


def test_schema() -> None:
    schema = ontleed.annotation_schema()
    assert schema.names == ANNOTATION
    assert schema.metadata[b"ontleed.arrow_schema_version"] == b"2"
    assert schema.metadata[b"ontleed.categories"]
    s = pa.string()
    assert schema.field("language").type == pa.struct(
        [("code", s), ("name", s), ("confidence", pa.float64()), ("reliable", pa.bool_())]
    )
    entity = pa.struct(
        [
            ("text", s),
            ("label", s),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("score", pa.float64()),
            ("canonical", s),
            ("id", s),
            ("boilerplate", pa.bool_()),
            ("field", s),
            ("compound", pa.bool_()),
        ]
    )
    assert schema.field("entities").type == pa.list_(entity)
    summary = pa.struct(
        [
            ("canonical", s),
            ("label", s),
            ("mentions", pa.int64()),
            ("first_offset", pa.int64()),
            ("id", s),
        ]
    )
    assert schema.field("entity_summary").type == pa.list_(summary)
    topic = pa.struct(
        [
            ("id", s),
            ("label", s),
            ("score", pa.float64()),
            ("evidence", pa.list_(s)),
            ("category", s),
        ]
    )
    assert schema.field("topics").type == pa.list_(topic)
    category = pa.struct([("id", s), ("iptc", s), ("label", s), ("score", pa.float64())])
    assert schema.field("categories").type == pa.list_(category)
    paragraph = pa.struct(
        [("start", pa.int64()), ("end", pa.int64()), ("kind", s), ("language", s), ("field", s)]
    )
    assert schema.field("paragraphs").type == pa.list_(paragraph)
    assert schema.field("skipped").type == pa.struct([("reason", s), ("message", s)])
    assert schema.field("error").type == pa.struct([("kind", s), ("message", s)])
    assert schema.field("ontleed").type == pa.struct(
        [("version", s), ("ner_model", s), ("topics", s), ("categories", s)]
    )


def test_values_equal_json_records(nlp: ontleed.Pipeline) -> None:
    rows = samples()
    batch = pa.RecordBatch.from_pylist(rows)
    out = nlp.annotate_arrow(batch)
    assert isinstance(out, pa.RecordBatch) and out.num_rows == len(rows)
    assert out.schema.names == ["id", "title", "date", "source", "text", *ANNOTATION]
    assert out.schema.metadata[b"ontleed.ner_model"] == b"accurate"
    records = nlp.annotate_many(rows)
    # The samples have headlines: the records and the rows have entities in them.
    assert any(e.get("field") == "title" for r in records for e in r["entities"] or [])
    assert any(t.get("category") for r in records for t in r["topics"] or [])
    for row, record in zip(out.to_pylist(), records):
        assert row["id"] == record["id"]
        assert row["error"] is None
        assert row["ontleed"] == record["ontleed"]
        for key in ANNOTATION:
            if key == "error":
                continue
            if key not in record:  # skipped, entity_summary: null when the record has none
                assert row[key] is None, key
                continue
            assert like_record(row[key], record[key]) == project(record[key], row[key]), key


def test_bad_rows_get_an_error_and_the_rest_survive(nlp: ontleed.Pipeline) -> None:
    small = ontleed.Pipeline(max_bytes=400)
    texts = ["Mark Rutte bezocht Veldhoven.", None, "", "  ", "lang " * 100, "Ajax won van PSV."]
    out = small.annotate_arrow(pa.record_batch({"text": texts})).to_pylist()
    kinds = [r["error"]["kind"] if r["error"] else None for r in out]
    assert kinds == [None, "missing_text", "empty_text", "empty_text", "too_large", None]
    assert [r["id"] for r in out] == [1, 2, 3, 4, 5, 6]
    for r in out:
        if r["error"]:
            assert r["language"] is None and r["entities"] is None and r["ontleed"] is None
        else:
            assert r["language"]["code"] == "nl" and r["ontleed"] is not None


def test_skipped_language(nlp: ontleed.Pipeline) -> None:
    text = "The Dutch chip maker ASML said on Wednesday that exports to China would fall."
    [row] = nlp.annotate_arrow(pa.record_batch({"text": [text]})).to_pylist()
    assert row["skipped"]["reason"] == "language"
    assert row["entities"] is None and row["topics"] is None and row["paragraphs"]
    assert row["categories"] is None


def test_title_column(nlp: ontleed.Pipeline) -> None:
    titles = ["Ajax wint van PSV in Eindhoven", None, "Ajax wint", "  ", None, "Kop"]
    texts = [
        "De club uit Amsterdam was sterker.",
        "Mark Rutte bezocht Veldhoven.",
        "",
        "",
        "",
        None,
    ]
    batch = pa.record_batch({"title": titles, "text": texts})
    out = nlp.annotate_arrow(batch).to_pylist()
    kinds = [r["error"]["kind"] if r["error"] else None for r in out]
    # A headline with an empty text is an article; a blank or null one is no headline.
    assert kinds == [None, None, None, "empty_text", "empty_text", "missing_text"]
    first = out[0]
    assert first["title"] == titles[0]  # the input column passes through
    in_title = [e for e in first["entities"] if e["field"] == "title"]
    assert {e["text"] for e in in_title} >= {"Ajax", "PSV"}
    for e in first["entities"]:
        where = titles[0] if e["field"] == "title" else texts[0]
        assert where[e["start"]:e["end"]] == e["text"]
    assert [p["field"] for p in first["paragraphs"]] == ["title", None]
    assert [c["id"] for c in first["categories"]] == ["sport"]
    assert first["categories"][0]["iptc"] == "medtop:15000000"
    assert all(e["field"] is None for e in out[1]["entities"])
    assert [p["field"] for p in out[2]["paragraphs"]] == ["title"]
    # The rows equal the records of the same objects.
    records = nlp.annotate_many(
        [{"title": t, "text": x} for t, x in zip(titles[:3], texts[:3])]
    )
    for row, record in zip(out, records):
        for key in ("entities", "topics", "categories", "paragraphs"):
            assert like_record(row[key], record[key]) == project(record[key], row[key]), key
    # Another column, or none: without the headline, the first row has no title entities.
    renamed = pa.record_batch({"kop": titles[:2], "text": texts[:2]})
    same = nlp.annotate_arrow(renamed, title_column="kop").to_pylist()
    assert same[0]["entities"] == first["entities"]
    plain = nlp.annotate_arrow(renamed).to_pylist()
    assert all(e["field"] is None for e in plain[0]["entities"])
    kop = ontleed.Pipeline(title_field="kop", threads=1)
    assert kop.annotate_arrow(renamed).to_pylist()[0]["entities"] == first["entities"]
    with pytest.raises(KeyError):
        nlp.annotate_arrow(renamed, title_column="nope")
    with pytest.raises(TypeError):
        nlp.annotate_arrow(pa.record_batch({"title": [1], "text": ["Amsterdam."]}))
    small = ontleed.Pipeline(max_bytes=40, threads=1)
    [big] = small.annotate_arrow(
        pa.record_batch({"title": [titles[0]], "text": [texts[0]]})
    ).to_pylist()
    assert big["error"]["kind"] == "too_large"  # text and headline together


@pytest.mark.parametrize(
    "typ", [pa.string(), pa.large_string(), pa.string_view(), pa.binary(), pa.large_binary()]
)
def test_text_column_types(nlp: ontleed.Pipeline, typ) -> None:
    text = "Koning Willem-Alexander opende in Utrecht een station."
    arr = pa.array([text.encode() if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) else text], typ)
    [row] = nlp.annotate_arrow(pa.record_batch({"body": arr}), text_column="body").to_pylist()
    assert row["error"] is None and row["entities"]


def test_invalid_utf8_in_binary(nlp: ontleed.Pipeline) -> None:
    [row] = nlp.annotate_arrow(pa.record_batch({"text": pa.array([b"\xff\xfe"], pa.binary())})).to_pylist()
    assert row["error"]["kind"] == "invalid_utf8"


def test_id_columns(nlp: ontleed.Pipeline) -> None:
    batch = pa.record_batch(
        {"key": ["a", "b"], "text": ["Amsterdam.", "Rotterdam."], "language": ["x", "y"]}
    )
    out = nlp.annotate_arrow(batch, id_column="key")
    assert out.column("id").to_pylist() == ["a", "b"]
    # The input `key` stays; an input column named like an annotation column is replaced.
    assert out.schema.names == ["id", "key", "text", *ANNOTATION]
    with pytest.raises(KeyError):
        nlp.annotate_arrow(batch, id_column="nope")
    with pytest.raises(KeyError):
        nlp.annotate_arrow(batch, text_column="nope")
    with pytest.raises(TypeError):
        nlp.annotate_arrow(pa.record_batch({"text": [1, 2]}))
    with pytest.raises(TypeError):
        nlp.annotate_arrow([1, 2, 3])


def test_table_input_numbers_rows_across_batches(nlp: ontleed.Pipeline) -> None:
    rows = [{"text": f"Artikel {i} over Den Haag."} for i in range(5)]
    table = pa.Table.from_pylist(rows).combine_chunks()
    table = pa.Table.from_batches(table.to_batches(max_chunksize=2))
    out = nlp.annotate_arrow(table)
    assert isinstance(out, pa.Table)
    assert out.column("id").to_pylist() == [1, 2, 3, 4, 5]
    empty = nlp.annotate_arrow(pa.Table.from_pylist([], schema=pa.schema([("text", pa.string())])))
    assert empty.num_rows == 0 and empty.schema.names[-1] == "ontleed"


def test_arrow_schema_of_input(nlp: ontleed.Pipeline) -> None:
    schema = nlp.arrow_schema(pa.schema([("id", pa.int32()), ("text", pa.string())]))
    assert schema.names == ["id", "text", *ANNOTATION]
    assert schema.field("id").type == pa.int32()


def test_lines_arrow_output(nlp: ontleed.Pipeline) -> None:
    lines = [b'{"id": "a", "text": "Amsterdam is mooi.", "title": "T"}', b"", b"{bad", b'{"text": "Utrecht."}']
    batch = pa.record_batch(
        {
            "value": pa.array(lines, pa.binary()),
            "source": pa.array(["f"] * 4),
            "line": pa.array([1, 2, 3, 4], pa.int64()),
        }
    )
    out = nlp.annotate_lines_arrow(batch, "arrow").to_pylist()
    assert [r["line"] for r in out] == [1, 3, 4]  # the blank line gives no row
    assert out[0]["id"] == "a" and json.loads(out[0]["fields"]) == {"title": "T"}
    assert [p["field"] for p in out[0]["paragraphs"]] == ["title", None]  # the headline "T"
    assert out[1]["error"]["kind"] == "invalid_json" and out[1]["text"] is None
    assert out[2]["id"] == "4"
    js = nlp.annotate_lines_arrow(batch, "jsonl").column("value").to_pylist()
    assert json.loads(js[1]) == {
        "line": 3,
        "source": "f",
        "error": {"kind": "invalid_json", "message": json.loads(js[1])["error"]["message"]},
    }
    with pytest.raises(ValueError):
        nlp.annotate_lines_arrow(batch, "csv")
