"""Exceptions raised by :mod:`ontleed`.

Single calls (:meth:`ontleed.Pipeline.annotate`) raise these; batch calls
(:meth:`ontleed.Pipeline.annotate_many`, the Arrow and Spark paths) never raise
for bad input and put an error record (or an ``error`` column) in place instead.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["OntleedError", "InputError", "ModelError"]


class OntleedError(Exception):
    """Base class of every ontleed error."""


class InputError(OntleedError, ValueError):
    """An article the pipeline cannot annotate, as a single call sees it.

    The attributes are those of the CLI's error record
    ``{"line", "source", "id", "error": {"kind", "message"}}``:

    Attributes:
        kind: A stable machine-readable kind: ``invalid_json``, ``not_an_object``,
            ``missing_text``, ``text_not_string``, ``invalid_utf8``, ``empty_text``,
            ``too_large``.
        message: The message for people (also ``str(error)``).
        id: The article's id when it had one, else ``None``.
        line: The item's line number (1 for a single call).
        source: The source name (``"<python>"`` unless given).
        record: The error record the batch calls write in place of the article.
    """

    def __init__(
        self,
        message: str,
        kind: str = "invalid_input",
        id: Any = None,
        line: int = 1,
        source: str = "<python>",
        record: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.id = id
        self.line = line
        self.source = source
        self.record = record if record is not None else {
            "line": line,
            "source": source,
            **({"id": id} if id is not None else {}),
            "error": {"kind": kind, "message": message},
        }

    def __repr__(self) -> str:
        return f"InputError({self.message!r}, kind={self.kind!r}, id={self.id!r})"


class ModelError(OntleedError):
    """The pipeline could not be built: an unknown or unreadable NER model, a bad
    taxonomy or alias file, or bad language codes."""

