"""Settings: one object grouped per layer; a copy with changes is validated as the environment's values are."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from rag.settings import Settings


def test_an_updated_copy_changes_only_what_it_names_and_keeps_the_rest():
    base = Settings()
    copy = base.updated(chunking={"size": 200}, http={"api_token": SecretStr("t" * 20)})
    assert copy.chunking.size == 200 and copy.chunking.overlap == base.chunking.overlap
    assert copy.http.api_token is not None and copy.http.api_token.get_secret_value() == "t" * 20
    assert copy.index == base.index and base.chunking.size != 200  # the original is untouched


@pytest.mark.parametrize("groups", [
    {"chunking": {"size": 100, "overlap": 100}},  # the overlap must stay below the size
    {"http": {"rate_limit": "lots"}},
    {"http": {"max_concurrent_requests": 0}},
])
def test_an_updated_copy_is_validated_as_the_environment_is(groups):
    with pytest.raises(ValidationError):
        Settings().updated(**groups)


def test_an_updated_copy_does_not_read_the_environment_again(monkeypatch):
    base = Settings()
    monkeypatch.setenv("RAG_CHUNK_SIZE", str(base.chunking.size + 7))
    assert base.updated(http={}).chunking.size == base.chunking.size
