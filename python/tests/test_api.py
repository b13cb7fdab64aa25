"""The Python API: records, errors, batches, options."""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path

import pytest

import ontleed
from conftest import REPO, SAMPLES

DUTCH = "Mark Rutte sprak in Den Haag met de topman van ASML over de export van chips naar China."


def test_str_gives_the_record_of_a_text_line(nlp: ontleed.Pipeline) -> None:
    rec = nlp.annotate(DUTCH)
    assert list(rec)[:2] == ["id", "text"]
    assert rec["id"] == 1 and rec["text"] == DUTCH
    assert rec["language"]["code"] == "nl"
    labels = {(e["text"], e["label"]) for e in rec["entities"]}
    assert ("Mark Rutte", "PER") in labels
    assert rec["ontleed"] == nlp.provenance
    assert list(rec)[-1] == "ontleed"


def test_dict_keeps_its_fields_in_order(nlp: ontleed.Pipeline) -> None:
    rec = nlp.annotate({"title": "T", "text": DUTCH, "id": "a1", "extra": [1, {"b": None}]})
    assert list(rec)[:4] == ["id", "title", "text", "extra"]
    assert rec["id"] == "a1" and rec["extra"] == [1, {"b": None}]


def test_bytes_is_a_jsonl_line(nlp: ontleed.Pipeline) -> None:
    line = json.dumps({"id": 3, "text": DUTCH}).encode()
    assert nlp.annotate(line) == nlp.annotate({"id": 3, "text": DUTCH})


@pytest.mark.parametrize(
    "item, kind",
    [
        ({"id": "x"}, "missing_text"),
        ({"id": "x", "text": 5}, "text_not_string"),
        ({"id": "x", "text": None}, "text_not_string"),
        ({"id": "x", "text": "  \n"}, "empty_text"),
        ({"id": "x", "title": " ", "text": ""}, "empty_text"),
        ({"id": "x", "title": 5, "text": "Amsterdam."}, "title_not_string"),
        ({"id": "x", "title": ["kop"], "text": "Amsterdam."}, "title_not_string"),
        ("   ", "empty_text"),
        (b"{oops", "invalid_json"),
        (b"[1]", "not_an_object"),
        (b'{"text": "\xff"}', "invalid_utf8"),
        (42, "not_an_object"),
        ({"text": "a", "when": object()}, "invalid_json"),
        ({"text": "a", "nan": float("nan")}, "invalid_json"),
        ({1: "a"}, "invalid_json"),
    ],
)
def test_bad_input_raises_input_error(nlp: ontleed.Pipeline, item, kind) -> None:
    with pytest.raises(ontleed.InputError) as info:
        nlp.annotate(item)
    e = info.value
    assert e.kind == kind
    assert isinstance(e, ontleed.OntleedError) and isinstance(e, ValueError)
    assert str(e) == e.message
    assert e.record["error"] == {"kind": kind, "message": e.message}
    assert e.record["line"] == 1 and e.record["source"] == "<python>"
    if isinstance(item, dict) and "id" in item:
        assert e.id == "x" and e.record["id"] == "x"


def test_too_large(nlp: ontleed.Pipeline) -> None:
    small = ontleed.Pipeline(max_bytes=100)
    with pytest.raises(ontleed.InputError) as info:
        small.annotate("woord " * 50)
    assert info.value.kind == "too_large"


def test_annotate_many_keeps_order_and_errors_in_place(nlp: ontleed.Pipeline) -> None:
    items = [DUTCH, {"id": "b"}, b"{bad", {"id": "d", "text": "Amsterdam is de hoofdstad."}, 7]
    recs = nlp.annotate_many(items, batch_size=2, source="test")
    assert len(recs) == 5
    assert recs[0]["id"] == 1 and recs[0]["text"] == DUTCH
    assert recs[1] == {
        "line": 2,
        "source": "test",
        "id": "b",
        "error": {"kind": "missing_text", "message": recs[1]["error"]["message"]},
    }
    assert recs[2]["error"]["kind"] == "invalid_json" and recs[2]["line"] == 3
    assert "id" not in recs[2]
    assert recs[3]["id"] == "d" and "language" in recs[3]
    assert recs[4]["error"]["kind"] == "not_an_object" and recs[4]["line"] == 5


def test_annotate_many_equals_one_by_one(nlp: ontleed.Pipeline) -> None:
    articles = [json.loads(l) for l in SAMPLES.read_text().splitlines() if l.strip()]
    batch = nlp.annotate_many(articles, batch_size=5)
    assert batch == [nlp.annotate(a) for a in articles]


def test_iter_annotate_streams(nlp: ontleed.Pipeline) -> None:
    def gen():
        for i in range(7):
            yield f"Artikel {i} over Utrecht en Rotterdam."

    it = nlp.iter_annotate(gen(), batch_size=3)
    first = next(it)
    assert first["id"] == 1
    rest = list(it)
    assert [r["id"] for r in rest] == list(range(2, 8))
    with pytest.raises(ValueError):
        nlp.annotate_many([DUTCH], batch_size=0)


def test_empty_input(nlp: ontleed.Pipeline) -> None:
    assert nlp.annotate_many([]) == []


def test_threads_and_concurrent_callers() -> None:
    one = ontleed.Pipeline(threads=1)
    assert one.threads == 1
    results = {}

    def work(i: int) -> None:
        results[i] = one.annotate_many([DUTCH] * 5)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results.values())


def test_threads_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("ONTLEED_THREADS", "1")
    assert ontleed.Pipeline().threads == 1
    monkeypatch.setenv("ONTLEED_THREADS", "lots")
    with pytest.raises(ValueError):
        ontleed.Pipeline()


def test_precision_and_thread_limits() -> None:
    f32 = ontleed.Pipeline(ner_precision="f32", threads=1)
    int8 = ontleed.Pipeline(ner_precision="int8", threads=1)
    spans = lambda rec: [(e["text"], e["label"]) for e in rec["entities"]]  # noqa: E731
    assert ("Mark Rutte", "PER") in spans(f32.annotate(DUTCH))
    assert spans(f32.annotate(DUTCH)) == spans(int8.annotate(DUTCH))
    assert f32.config["ner_precision"] == "f32"
    with pytest.raises(ValueError, match="ner_precision"):
        ontleed.Pipeline(ner_precision="f16")
    with pytest.raises(ValueError, match="256"):
        ontleed.Pipeline(threads=257)


def test_options_errors() -> None:
    with pytest.raises(ontleed.ModelError, match="no NER model"):
        ontleed.Pipeline(ner_model="/nonexistent/model.bin")
    try:  # the accurate model loads, or says why not (not part of every build)
        ontleed.Pipeline(ner_model="accurate")
    except ontleed.ModelError as e:
        assert "accurate" in str(e) or "transformer" in str(e)
    with pytest.raises(ontleed.ModelError, match="language code"):
        ontleed.Pipeline(languages=["Dutch"])
    with pytest.raises(ontleed.ModelError):
        ontleed.Pipeline(topics="/nonexistent/topics.toml")
    with pytest.raises(ontleed.ModelError, match="alias"):
        ontleed.Pipeline(aliases="/nonexistent/aliases.toml")


def test_languages_and_fields() -> None:
    en = "The Dutch chip maker ASML said on Wednesday that exports to China would fall sharply."
    only_nl = ontleed.Pipeline()
    rec = only_nl.annotate(en)
    assert rec["language"]["code"] == "en" and rec["skipped"]["reason"] == "language"
    assert rec["entities"] is None and rec["topics"] is None
    both = ontleed.Pipeline(languages="nl,en")
    assert "skipped" not in both.annotate(en)
    custom = ontleed.Pipeline(text_field="body", id_field="key")
    rec = custom.annotate({"key": "k1", "body": DUTCH})
    assert rec["id"] == "k1" and "language" in rec
    assert custom.annotate(DUTCH)["body"] == DUTCH


def test_categories(nlp: ontleed.Pipeline) -> None:
    rec = nlp.annotate(
        {"id": "s", "text": "Ajax heeft zondag in de Johan Cruijff ArenA met 3-1 van PSV gewonnen. "
         "De Amsterdamse club gaat daarmee aan kop in de Eredivisie."}
    )
    assert [list(c) for c in rec["categories"]][0] == ["id", "iptc", "label", "score"]
    assert rec["categories"][0]["id"] == "sport" and rec["categories"][0]["label"] == "Sport"
    assert 1 <= len(rec["categories"]) <= 3
    scores = [c["score"] for c in rec["categories"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(t.get("category") for t in rec["topics"])
    assert list(rec).index("categories") == list(rec).index("topics") + 1
    assert nlp.provenance["categories"] and rec["ontleed"]["categories"]
    en = nlp.annotate("The Dutch chip maker ASML said on Wednesday that exports to China would fall.")
    assert en["skipped"]["reason"] == "language" and en["categories"] is None


def test_title_field(nlp: ontleed.Pipeline) -> None:
    title = "Mark Rutte bezoekt ASML in Veldhoven"
    text = "De premier sprak er met de topman over de export van chips naar China."
    rec = nlp.annotate({"id": "t", "title": title, "text": text})
    assert rec["title"] == title and rec["text"] == text  # the fields pass through
    in_title = [e for e in rec["entities"] if e.get("field") == "title"]
    assert {e["text"] for e in in_title} >= {"Mark Rutte", "Veldhoven"}
    for e in rec["entities"]:
        assert e.get("field") in (None, "title")
        where = title if e.get("field") == "title" else text
        assert where[e["start"]:e["end"]] == e["text"]
    assert [p.get("field") for p in rec["paragraphs"]] == ["title", None]
    # A headline and an empty text: annotated, not empty_text.
    only = nlp.annotate({"id": "k", "title": title, "text": ""})
    assert "error" not in only and only["entities"]
    assert all(e["field"] == "title" for e in only["entities"])
    # A null headline is none; another field name with title_field.
    assert "field" not in json.dumps(nlp.annotate({"title": None, "text": text})["entities"])
    kop = ontleed.Pipeline(title_field="kop", threads=1)
    assert kop.config["title_field"] == "kop"
    moved = kop.annotate({"id": "t", "kop": title, "text": text})
    assert moved["entities"] == rec["entities"] and moved["categories"] == rec["categories"]
    assert kop.annotate({"id": "t", "title": 5, "text": text})["title"] == 5
    copy = pickle.loads(pickle.dumps(kop))
    assert copy.annotate({"id": "t", "kop": title, "text": text}) == moved


def test_taxonomy_file() -> None:
    nlp = ontleed.Pipeline(topics=REPO / "data" / "topics.toml")
    assert nlp.provenance["topics"]


def test_pickle_rebuilds(nlp: ontleed.Pipeline) -> None:
    copy = pickle.loads(pickle.dumps(ontleed.Pipeline(threads=1, languages=["nl", "en"])))
    assert copy.threads == 1 and copy.config["languages"] == ["nl", "en"]
    assert copy.annotate(DUTCH) == nlp.annotate(DUTCH)


def test_typing_files_ship() -> None:
    pkg = Path(ontleed.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_native.pyi").is_file()
    assert ontleed.__version__ and ontleed.ARROW_SCHEMA_VERSION == "2"
    assert ontleed.Pipeline.__doc__ and ontleed.Pipeline.annotate_many.__doc__


ALIASES = """
[[entity]]
id = "Q57792"
name = "Mark Rutte"
label = "PER"
aliases = ["Rutte"]
"""


def test_aliases(tmp_path: Path) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text(ALIASES)
    nlp = ontleed.Pipeline(aliases=path)
    rec = nlp.annotate(DUTCH + " Rutte zei dat niet.")
    rutte = [e for e in rec["entities"] if e["label"] == "PER"]
    assert rutte and all(e.get("id") == "Q57792" for e in rutte)
    assert all(e.get("canonical") == "Mark Rutte" for e in rutte)
