"""Schemathesis hooks for tests/api/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

The one rule of the API that JSON Schema cannot state: ``filters.date_from`` must not be after
``filters.date_to`` (the server answers 422 ``date_order``, as the Filters schema's description says). Bodies that
break it are left out of what schemathesis considers valid input.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    filters = body.get("filters") if isinstance(body, dict) else None
    if isinstance(filters, dict):
        start, end = filters.get("date_from"), filters.get("date_to")
        if isinstance(start, str) and isinstance(end, str) and start > end:
            return False
    return True
