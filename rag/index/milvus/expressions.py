"""Milvus boolean expressions: which row versions a reader sees, and the API's filters, as literal expressions.

milvus-lite 2.5 has no expression templates (``filter_params``), so values are written into the expression as
JSON string literals, which Milvus's expression grammar reads with the same escapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rag.records import Filters

# ``ver_to`` of a row no commit has replaced or deleted yet.
LIVE = 2**62


def literal(value: str) -> str:
    """``value`` as a quoted Milvus string literal (quotes and backslashes escaped)."""
    return json.dumps(value, ensure_ascii=False)


def one_of(field: str, values: Iterable[str | int]) -> str:
    """``field in [...]`` for strings or integers."""
    items = ", ".join(literal(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field} in [{items}]"


def visible_at(version: int) -> str:
    """Rows published at ``version``: written by it or before, and not replaced or deleted by then."""
    return f"(ver_from <= {int(version)} and ver_to > {int(version)})"


def filtered(filters: Filters | None) -> str | None:
    """The filters as an expression over the chunk fields (dates inclusive); None when nothing is filtered.

    Callers check ``filters.aids == ()`` (nothing can match) before searching.
    """
    if filters is None or filters.is_empty():
        return None
    parts = []
    if filters.date_from:
        parts.append(f"date >= {literal(filters.date_from.isoformat())}")
    if filters.date_to:
        parts.append(f"date <= {literal(filters.date_to.isoformat())}")
    if filters.account:
        parts.append(f"account == {literal(filters.account)}")
    if filters.aids is not None:
        parts.append(one_of("aid", filters.aids))
    return " and ".join(parts)


def both(*expressions: str | None) -> str:
    """The conjunction of the given expressions (None ones skipped)."""
    return " and ".join(f"({e})" for e in expressions if e)
