"""The :class:`Pipeline`: ontleed's annotation pipeline, from Python."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

from . import _native
if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = ["Pipeline", "Item"]

#: What the annotate methods take: article text (``str``), a JSON object
#: (``dict``, read like a JSONL line), or a raw JSONL line (``bytes``).
Item = Union[str, bytes, bytearray, Mapping[str, Any]]

_PathLike = Union[str, "os.PathLike[str]"]


class Pipeline:
    """ontleed's pipeline: language → named entities → topics and news categories, one
    record per article.

    Build it once (loading the models takes a moment) and reuse it; it is safe to
    share between threads, and its calls release the GIL while they work.

    Args:
        ner_model: ``"accurate"`` (the embedded default: a fine-tuned transformer),
            ``"fast"`` (the embedded averaged perceptron, ~50x faster), or the path of a
            model file, of a directory holding ``model.bin``, or of a transformer model
            directory.
        topics: Path of a topic taxonomy (TOML) to use instead of the built-in one.
        aliases: Path of an entity alias table (TOML or CSV, as ``--aliases``; see
            ``data/aliases.toml``) giving canonical names and ids, over the built-in one.
        languages: Language codes whose articles get entities and topics (a list, or a
            comma-separated string); default ``["nl"]``. Other articles get a ``skipped``
            block, as in the CLI.
        threads: Worker threads for :meth:`annotate_many` and :meth:`annotate_arrow`
            (1 to 256); default: the ``ONTLEED_THREADS`` environment variable, else all
            cores.
        text_field: The field (or Arrow column) holding the article text (``--text-field``).
        id_field: The field holding the article id (``--id-field``); without it the
            line number is the id.
        max_bytes: Articles (text and headline) longer than this become ``too_large``
            errors (``--max-bytes``).
        title_field: The field (or Arrow column) holding the headline (``--title-field``).
            A record's headline is annotated with its text as one article: entities and
            paragraphs in it carry ``"field": "title"`` (their offsets are then into the
            headline), and a record with a headline and an empty text is annotated. A
            missing or ``null`` headline is none; any other non-string is a
            ``title_not_string`` error.
        ner_precision: Arithmetic of a transformer model (``--ner-precision``): ``"int8"``
            (the default; int8 kernels where the CPU has AVX-512 VNNI or AVX2, else f32) or
            ``"f32"``.

    Raises:
        ontleed.ModelError: the model, taxonomy or alias table cannot be loaded, or a
            language code is not one.

    Example:
        >>> import ontleed
        >>> nlp = ontleed.Pipeline()
        >>> rec = nlp.annotate("Mark Rutte sprak in Den Haag met ASML.")
        >>> rec["language"]["code"]
        'nl'
        >>> [e["label"] for e in rec["entities"]]  # doctest: +SKIP
        ['PER', 'LOC', 'ORG']
    """

    def __init__(
        self,
        ner_model: _PathLike = "accurate",
        topics: Optional[_PathLike] = None,
        aliases: Optional[_PathLike] = None,
        languages: Optional[Union[str, Sequence[str]]] = None,
        *,
        threads: Optional[int] = None,
        text_field: str = "text",
        id_field: str = "id",
        max_bytes: int = 16 << 20,
        title_field: str = "title",
        ner_precision: str = "int8",
    ) -> None:
        if isinstance(languages, str):
            languages = [c.strip() for c in languages.split(",") if c.strip()]
        elif languages is not None:
            languages = list(languages)
        if threads is not None and not 0 <= threads <= 256:
            raise ValueError("threads must be from 0 (all cores) to 256")
        if ner_precision not in ("int8", "f32"):
            raise ValueError(f"ner_precision must be 'int8' or 'f32', not {ner_precision!r}")
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self._config: Dict[str, Any] = dict(
            ner_model=os.fspath(ner_model),
            topics=None if topics is None else os.fspath(topics),
            aliases=None if aliases is None else os.fspath(aliases),
            languages=languages,
            threads=threads,
            text_field=text_field,
            id_field=id_field,
            max_bytes=max_bytes,
            title_field=title_field,
            ner_precision=ner_precision,
        )
        self._native = _native.Pipeline(**self._config)

    # -- information ------------------------------------------------------------------

    @property
    def threads(self) -> int:
        """Number of worker threads of the batch calls."""
        return self._native.threads

    @property
    def provenance(self) -> Dict[str, Any]:
        """The ``ontleed`` block of each record: program version, NER model, taxonomy,
        category model."""
        return self._native.provenance()

    @property
    def config(self) -> Dict[str, Any]:
        """The options this pipeline was built with."""
        return dict(self._config)

    def __repr__(self) -> str:
        p = self.provenance
        return (
            f"ontleed.Pipeline(ner_model={p.get('ner_model')!r}, topics={p.get('topics')!r}, "
            f"threads={self.threads})"
        )

    def __reduce__(self) -> Any:
        # Pickles as its options; the models load again where it is unpickled.
        config = dict(self._config)
        return (_rebuild, (config,))

    # -- one article ------------------------------------------------------------------

    def annotate(self, item: Item) -> Dict[str, Any]:
        """Annotates one article and returns its record, exactly as ``ontleed annotate``
        writes it (as a ``dict``).

        Args:
            item: The article: a ``dict`` is read like a JSONL object (its ``text`` field,
                its ``title`` field as the headline, its ``id`` field or else id 1, the
                other fields copied); a ``str`` is the
                text of an article and gives the record the CLI writes for the line
                ``{"text": item}`` as line 1 (so ``id`` is 1 and ``text`` is in the record);
                ``bytes`` is one raw JSONL line.

        Returns:
            The record: ``id``, the input fields, ``language``, ``entities``,
            ``entity_summary``, ``topics``, ``categories`` (the 1-3 main news categories,
            best first; ``None`` when topics were not run), ``paragraphs``, ``skipped``
            (when entities and topics were not run), ``ontleed``.

        Raises:
            ontleed.InputError: the item cannot be annotated (``.kind`` says why:
                ``missing_text``, ``empty_text``, ``title_not_string``, ``invalid_json``…).
            ontleed.OntleedError: an internal error (a bug; please report it).
        """
        return self._native.annotate(item)

    # -- many articles ----------------------------------------------------------------

    def annotate_many(
        self,
        items: Iterable[Item],
        batch_size: int = 512,
        *,
        source: str = "<python>",
    ) -> List[Dict[str, Any]]:
        """Annotates many articles in parallel and returns their records in order.

        Items are taken ``batch_size`` at a time; each batch is annotated on the Rust
        thread pool with the GIL released. Bad items never raise: their place holds the
        CLI's error record ``{"line", "source", "id", "error": {"kind", "message"}}``.
        Item *n* (from 1) is line *n*: its id when it has none, its ``line`` in an error
        record.

        Args:
            items: ``str``, ``dict`` or ``bytes`` items, as for :meth:`annotate`; ``bytes``
                items are JSONL lines, so a file's lines give the CLI's records for it.
            batch_size: Items per parallel batch (memory is bounded by one batch).
            source: The ``source`` of error records.

        Returns:
            One record per item, in input order.
        """
        return list(self.iter_annotate(items, batch_size, source=source))

    def iter_annotate(
        self,
        items: Iterable[Item],
        batch_size: int = 512,
        *,
        source: str = "<python>",
    ) -> Iterator[Dict[str, Any]]:
        """Like :meth:`annotate_many`, but yields records as batches finish, so that an
        unbounded iterable (a file, a queue) streams in bounded memory (two batches).

        One batch is annotated ahead on a helper thread while the caller consumes the
        records of the one before, so that the caller's own work (writing records, reading
        the next items) overlaps with the annotation instead of leaving the thread pool idle.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        it = iter(items)
        native = self._native
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ontleed") as ahead:
            pending: Optional[Future] = None
            line = 1
            while True:
                batch = list(islice(it, batch_size))
                submitted = ahead.submit(native.annotate_many, batch, line, source) if batch else None
                line += len(batch)
                if pending is not None:
                    yield from pending.result()
                pending = submitted
                if pending is None:
                    return

    # -- Arrow ------------------------------------------------------------------------

    def annotate_arrow(
        self,
        batch: "Union[pyarrow.RecordBatch, pyarrow.Table]",
        text_column: Optional[str] = None,
        id_column: Optional[str] = None,
        title_column: Optional[str] = None,
    ) -> "Union[pyarrow.RecordBatch, pyarrow.Table]":
        """Annotates the text column of a ``pyarrow.RecordBatch`` (or ``Table``) into typed
        Arrow columns, through the Arrow C data interface (no JSON on the way).

        The result has one row per input row, in order: an ``id`` column first (the id
        column, else 1-based row numbers), then the input columns (less one named ``id``
        and any named like an annotation column), then the annotation columns
        ``language``, ``entities``, ``entity_summary``, ``topics``, ``categories``,
        ``paragraphs``, ``skipped``, ``error``, ``ontleed`` (see
        :func:`ontleed.annotation_schema`). A row that cannot be annotated (null or too long
        text, an empty text without a headline) has a null ``language`` and an ``error``
        struct ``{kind, message}``; the call does not raise for it. The headline column is
        annotated with the text, as the CLI annotates the title field: entities and
        paragraphs in it have ``field`` ``"title"`` (``None`` for the text).

        Args:
            batch: A ``pyarrow.RecordBatch``, a ``pyarrow.Table``, or any object with
                ``__arrow_c_array__`` that is a record batch.
            text_column: The column with the text (utf8, large_utf8, utf8_view or
                binary); default: the pipeline's ``text_field``.
            id_column: The column with the ids; default: ``id`` when there is one.
            title_column: The column with the headline (text or binary; null or blank:
                none); default: the pipeline's ``title_field`` when the batch has that
                column.

        Returns:
            A ``pyarrow.RecordBatch`` (a ``pyarrow.Table`` for a table); its schema
            metadata holds ``ontleed.arrow_schema_version`` and the provenance.

        Raises:
            KeyError: the text or id column, or a ``title_column`` named, does not exist.
            TypeError: the text or headline column does not hold text.
        """
        import pyarrow as pa

        text_column = text_column or self._config["text_field"]
        if title_column is None and self._config["title_field"] in _column_names(batch):
            title_column = self._config["title_field"]
        if isinstance(batch, pa.Table):
            out = []
            line = 1
            for b in batch.to_batches():
                out.append(self._annotate_batch(b, text_column, id_column, line, title_column))
                line += b.num_rows
            if not out:
                empty = pa.RecordBatch.from_pylist([], schema=batch.schema)
                return pa.Table.from_batches(
                    [],
                    schema=self._annotate_batch(
                        empty, text_column, id_column, 1, title_column
                    ).schema,
                )
            return pa.Table.from_batches(out)
        return self._annotate_batch(batch, text_column, id_column, 1, title_column)

    def _annotate_batch(
        self,
        batch: Any,
        text_column: str,
        id_column: Optional[str],
        first_line: int,
        title_column: Optional[str],
    ) -> "pyarrow.RecordBatch":
        import pyarrow as pa

        return pa.record_batch(
            self._native.annotate_arrow(batch, text_column, id_column, first_line, title_column)
        )

    def arrow_schema(
        self,
        input_schema: "pyarrow.Schema",
        text_column: Optional[str] = None,
        id_column: Optional[str] = None,
        title_column: Optional[str] = None,
    ) -> "pyarrow.Schema":
        """The schema :meth:`annotate_arrow` gives for input of ``input_schema``."""
        import pyarrow as pa

        empty = pa.RecordBatch.from_pylist([], schema=input_schema)
        return self.annotate_arrow(empty, text_column, id_column, title_column).schema

    def annotate_lines_arrow(self, batch: Any, output: str = "jsonl") -> "pyarrow.RecordBatch":
        """Annotates JSONL lines held in Arrow: the engine of :mod:`ontleed.spark`.

        Args:
            batch: A record batch with ``value`` (the line, utf8 or binary), ``source``
                (utf8) and ``line`` (int64) columns.
            output: ``"jsonl"``: one utf8 column ``value``, the CLI's record for each
                line; ``"arrow"``: ``source``, ``line``, ``id`` (as text), ``text``,
                ``fields`` (the other input fields, a JSON object) and the annotation
                columns. Blank lines give no row, as the CLI skips them.
        """
        import pyarrow as pa

        return pa.record_batch(self._native.annotate_lines(batch, output))


def _column_names(batch: Any) -> List[str]:
    """The column names of a pyarrow batch or table, or of another Arrow record batch."""
    schema = getattr(batch, "schema", None)
    names = getattr(schema, "names", None)
    return list(names) if names is not None else []


def _rebuild(config: Dict[str, Any]) -> Pipeline:
    return Pipeline(**config)
