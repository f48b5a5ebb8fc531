"""Optional generative answers through an OpenAI-compatible chat-completions endpoint, whole or streamed."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx

from rag.records import CITATION_MARKER, Citation, marker_numbers

# The tail of a streamed piece that may still become a marker once the next piece arrives ("…共66项[", "[1", "[1, ").
_OPEN_MARKER = re.compile(r"\[(?:\d+\s*[,，、]\s*)*\d*$", re.ASCII)
SYSTEM_PROMPT = (
    "You answer questions about Chinese government articles using ONLY the numbered passages given. "
    "Cite every claim with its passage number in square brackets, like [1]. If the passages do not answer "
    "the question, say so. Answer in the language of the question, in at most three sentences."
)


class LLMError(RuntimeError):
    """The endpoint failed, timed out or answered something unusable."""


def fallback_notice(error: LLMError, english: bool) -> str:
    """What an answer says when the language model failed and the extractive answer stands in for it, in the
    question's language (Simplified; the caller writes it in the question's script)."""
    if english:
        return f"The language model could not answer ({error}); this is the extractive answer."
    return f"语言模型未能作答（{error}），以下是从文章中摘录的答案。"


class _MarkerFilter:
    """Drops ``[n]`` markers that name no passage from text that arrives in pieces.

    A piece ending in something that may still become a marker ("[", "[1") is held back until the next piece
    (or the end) shows what it is, so a marker split across two pieces is judged whole.
    """

    def __init__(self, valid: set[int]):
        self.valid = valid
        self.pending = ""

    def _clean(self, text: str) -> str:
        def keep(m: re.Match[str]) -> str:
            named = marker_numbers(m)
            valid = list(dict.fromkeys(n for n in named if n in self.valid))
            if valid == named:
                return m.group(0)
            return f"[{', '.join(map(str, valid))}]" if valid else ""

        return CITATION_MARKER.sub(keep, text)

    def feed(self, piece: str) -> str:
        text = self.pending + piece
        held = _OPEN_MARKER.search(text)
        cut = held.start() if held else len(text)
        self.pending = text[cut:]
        return self._clean(text[:cut])

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self._clean(text)


class LLMClient:
    """A minimal chat-completions client (``POST {base_url}/chat/completions``)."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 20.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def _body(self, question: str, citations: list[Citation], missing: list[str] | None) -> dict[str, Any]:
        passages = "\n\n".join(f"[{c.n}] {c.title} ({c.date})\n{c.text}" for c in citations)
        if missing:  # the reader's finding: told, the model does not invent the missing detail
            passages += "\n\nNote: no passage mentions " + "、".join(missing) + "."
        return {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Passages:\n{passages}\n\nQuestion: {question}"},
            ],
        }

    def answer(self, question: str, citations: list[Citation], *, missing: list[str] | None = None) -> str:
        """The model's answer, with citation markers that do not name a passage removed.

        ``missing`` are the question's terms no passage mentions: the model is told so.
        """
        try:
            r = httpx.post(self.url, json=self._body(question, citations, missing), headers=self.headers,
                           timeout=self.timeout)
            r.raise_for_status()
            text = r.json()["choices"][0]["message"]["content"]
        except httpx.TimeoutException:
            raise LLMError(f"timed out after {self.timeout:g} s") from None
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            raise LLMError(f"{type(e).__name__}: {e}") from None
        if not isinstance(text, str) or not text.strip():
            raise LLMError("empty answer")
        return _MarkerFilter({c.n for c in citations})._clean(text).strip()

    def stream(self, question: str, citations: list[Citation], *, missing: list[str] | None = None
               ) -> Iterator[str]:
        """The model's answer in pieces as the endpoint streams them (``stream: true``, Server-Sent Events).

        Markers that name no passage are removed, as in :meth:`answer`. Raises :class:`LLMError` — possibly
        after some pieces were yielded — when the endpoint fails, sends something unusable, sends nothing, or
        takes longer than the timeout in all.
        """
        body = self._body(question, citations, missing) | {"stream": True}
        markers = _MarkerFilter({c.n for c in citations})
        deadline = time.monotonic() + self.timeout
        said = False
        try:
            with httpx.stream("POST", self.url, json=body, headers=self.headers, timeout=self.timeout) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("total time over the limit")
                    if not line.startswith("data:"):
                        continue  # blank separators, comments (": ping"), event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    piece = _delta(json.loads(data))
                    text = markers.feed(piece) if piece else ""
                    if not said:
                        text = text.lstrip()
                    if text:
                        said = True
                        yield text
        except httpx.TimeoutException:
            raise LLMError(f"timed out after {self.timeout:g} s") from None
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            raise LLMError(f"{type(e).__name__}: {e}") from None
        rest = markers.flush().rstrip() if said else markers.flush().strip()
        if rest:
            said = True
            yield rest
        if not said:
            raise LLMError("empty answer")


def _delta(chunk: dict[str, Any]) -> str:
    """The content of one streamed chunk ("" for role-only, usage-only or finishing chunks)."""
    choices = chunk["choices"]
    if not choices:
        return ""
    content = choices[0].get("delta", {}).get("content")
    if content is not None and not isinstance(content, str):
        raise TypeError(f"delta content is {type(content).__name__}, not a string")
    return content or ""
