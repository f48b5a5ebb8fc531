"""Dependencies the routes declare: the loaded service (the one process-wide object)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rag.service import RagService


def get_service(request: Request) -> RagService:
    """The service the app loaded at start-up."""
    return request.app.state.service


Service = Annotated[RagService, Depends(get_service)]
