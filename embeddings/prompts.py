"""Which prompts (query/passage prefixes) an embedding model expects, by model family."""

from __future__ import annotations

import re

_BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
_BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "
_E5_INSTRUCT_QUERY = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "

# (pattern on the lower-cased model name, prompts). First match wins; the patterns are
# matched against the last path component too, so local copies keep their family.
_FAMILY_PROMPTS: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(r"(^|[/_-])e5([-_].*)?instruct"), {"query": _E5_INSTRUCT_QUERY, "passage": ""}),
    (re.compile(r"(^|[/_-])e5([-_]|$)"), {"query": "query: ", "passage": "passage: "}),
    (re.compile(r"(^|[/_-])bge-(.*-)?zh([-_.]|$)"), {"query": _BGE_ZH_QUERY, "passage": ""}),
    (re.compile(r"(^|[/_-])bge-(.*-)?en([-_.]|$)"), {"query": _BGE_EN_QUERY, "passage": ""}),
]


def family_prompts(name: str) -> dict[str, str] | None:
    """Prompts a known model family expects (e5, bge-*-zh, bge-*-en), or None if unknown."""
    lowered = name.lower().rstrip("/")
    candidates = {lowered, lowered.rsplit("/", 1)[-1]}
    for pattern, prompts in _FAMILY_PROMPTS:
        if any(pattern.search(c) for c in candidates):
            return dict(prompts)
    return None


def resolve_prompts(name: str, configured: dict[str, str] | None) -> dict[str, str]:
    """The {"query", "passage"} prompts for model ``name``.

    A known family's prompts win over the model's own ``configured`` ones; otherwise the
    configured ones are used, "document" standing in for a missing "passage", and a missing
    prompt is "".
    """
    known = family_prompts(name)
    if known is not None:
        return known
    configured = configured or {}
    return {
        "query": configured.get("query") or "",
        "passage": configured.get("passage") or configured.get("document") or "",
    }
