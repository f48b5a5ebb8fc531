"""Articles: the normalised text that citation spans index into."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.deps import Service
from api.schemas import ArticleResponse, ErrorBody

router = APIRouter(prefix="/api/articles", tags=["articles"])


@router.get("/{aid}", response_model=ArticleResponse, responses={404: {"model": ErrorBody}})
def article(aid: str, svc: Service) -> ArticleResponse:
    """The normalised article; ``text[start:end]`` of a citation is its passage."""
    found = svc.article(aid)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no article with aid {aid!r}")
    return ArticleResponse(**dict(found))
