"""Schemathesis hooks for tests/api/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

The rules of the API that JSON Schema cannot state: ``filters.date_from`` must not be after ``filters.date_to``
(the server answers 422 ``date_order``, as the Filters schema's description says); a query or question, and
each earlier question of ``history``, has a letter or digit (422 ``no_words``, as their descriptions say); and a
chat completion's last message is the user's question, with some (400 ``messages``, as OpenAI answers). Bodies
that break them are left out of what schemathesis considers valid input.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from rag.tokenize import has_words


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    filters = body.get("filters") if isinstance(body, dict) else None
    if isinstance(filters, dict):
        start, end = filters.get("date_from"), filters.get("date_to")
        if isinstance(start, str) and isinstance(end, str) and start > end:
            return False
    for field in ("query", "question"):
        text = body.get(field) if isinstance(body, dict) else None
        if isinstance(text, str) and not has_words(text):
            return False
    history = body.get("history") if isinstance(body, dict) else None
    if isinstance(history, list) and any(isinstance(q, str) and not has_words(q) for q in history):
        return False
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list) and messages:
        last = messages[-1]
        content = last.get("content") if isinstance(last, dict) else None
        text = content if isinstance(content, str) else ""
        if isinstance(content, list):  # content parts: the text ones count
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
        if not isinstance(last, dict) or last.get("role") != "user" or not has_words(text):
            return False
    return True
