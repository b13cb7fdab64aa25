"""Type stubs of ``ontleed._native``, the Rust engine of the ontleed package.

Use :class:`ontleed.Pipeline`; this module is its implementation.
"""

from typing import Any, Dict, List, Optional, Tuple

VERSION: str
ARROW_SCHEMA_VERSION: str

class ArrowBatch:
    """A record batch on its way to Python, handed over once through the Arrow PyCapsule
    interface (``pyarrow.record_batch(obj)``)."""

    def __arrow_c_array__(self, requested_schema: Optional[object] = None) -> Tuple[object, object]: ...

class Pipeline:
    """The Rust pipeline. Arguments as for :class:`ontleed.Pipeline`."""

    def __init__(
        self,
        ner_model: str = "accurate",
        topics: Optional[str] = None,
        aliases: Optional[str] = None,
        languages: Optional[List[str]] = None,
        threads: Optional[int] = None,
        text_field: str = "text",
        id_field: str = "id",
        max_bytes: int = ...,
        title_field: str = "title",
        ner_precision: str = "int8",
    ) -> None: ...
    @property
    def threads(self) -> int: ...
    def provenance(self) -> Dict[str, Any]: ...
    def annotate(self, item: Any, line: int = 1, source: str = "<python>") -> Dict[str, Any]: ...
    def annotate_many(
        self, items: List[Any], first_line: int = 1, source: str = "<python>"
    ) -> List[Dict[str, Any]]: ...
    def annotate_arrow(
        self,
        batch: Any,
        text_column: str = "text",
        id_column: Optional[str] = None,
        first_line: int = 1,
        title_column: Optional[str] = None,
    ) -> ArrowBatch: ...
    def annotate_lines(self, batch: Any, output: str = "jsonl") -> ArrowBatch: ...
