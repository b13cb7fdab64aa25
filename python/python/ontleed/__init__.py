"""ontleed: a batch NLP pipeline for Dutch news, from Python.

For every article (its headline and text) it detects the language, finds the named
entities, tags topics and names its main news categories, and gives the same record as the
``ontleed annotate`` command line program::

    import ontleed

    nlp = ontleed.Pipeline()                      # embedded models, nothing downloaded
    record = nlp.annotate({"id": "a1", "text": "Mark Rutte bezocht ASML in Veldhoven."})
    records = nlp.annotate_many(articles)         # parallel, GIL released, in order
    table = nlp.annotate_arrow(pyarrow_batch)     # typed Arrow columns

Spark: ``python -m ontleed.spark --input PATH --output PATH`` (see :mod:`ontleed.spark`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# candle (the transformer NER) runs large element-wise ops on its own spinning thread pool
# unless told otherwise; with 1 they run on the calling thread and matmuls use the Rust
# thread pool, as in the command line program (which sets the same default).
os.environ.setdefault("CANDLE_NUM_THREADS", "1")

from . import _native  # noqa: E402
from ._errors import InputError, ModelError, OntleedError
from ._pipeline import Item, Pipeline

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = [
    "Pipeline",
    "Item",
    "OntleedError",
    "InputError",
    "ModelError",
    "ARROW_SCHEMA_VERSION",
    "ANNOTATION_COLUMNS",
    "annotation_schema",
    "__version__",
]

#: Version of the Python package (and of the bindings crate).
__version__: str = _native.VERSION

#: Names of the Arrow annotation columns, in order.
ANNOTATION_COLUMNS = (
    "language",
    "entities",
    "entity_summary",
    "topics",
    "categories",
    "paragraphs",
    "skipped",
    "error",
    "ontleed",
)

#: Version of the layout of the Arrow annotation columns (also in each Arrow schema's
#: metadata, key ``ontleed.arrow_schema_version``).
ARROW_SCHEMA_VERSION: str = _native.ARROW_SCHEMA_VERSION


def annotation_schema() -> "pyarrow.Schema":
    """The Arrow schema of the annotation columns alone (``language``, ``entities``,
    ``entity_summary``, ``topics``, ``categories``, ``paragraphs``, ``skipped``, ``error``,
    ``ontleed``), as :meth:`Pipeline.annotate_arrow` appends them."""
    import pyarrow as pa

    schema = _schema_pipeline().arrow_schema(pa.schema([("text", pa.string())]))
    names = list(ANNOTATION_COLUMNS)
    return pa.schema([schema.field(n) for n in names], metadata=schema.metadata)


_SCHEMA_PIPELINE = None


def _schema_pipeline() -> Pipeline:
    global _SCHEMA_PIPELINE
    if _SCHEMA_PIPELINE is None:
        _SCHEMA_PIPELINE = Pipeline(threads=1)
    return _SCHEMA_PIPELINE
