"""Optional generative answers through an OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import re

import httpx

from rag.records import Citation

_MARKER = re.compile(r"\[(\d+)\]")
SYSTEM_PROMPT = (
    "You answer questions about Chinese government articles using ONLY the numbered passages given. "
    "Cite every claim with its passage number in square brackets, like [1]. If the passages do not answer "
    "the question, say so. Answer in the language of the question, in at most three sentences."
)


class LLMError(RuntimeError):
    """The endpoint failed, timed out or answered something unusable."""


class LLMClient:
    """A minimal chat-completions client (``POST {base_url}/chat/completions``)."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 20.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def answer(self, question: str, citations: list[Citation], *, missing: list[str] | None = None) -> str:
        """The model's answer, with citation markers that do not name a passage removed.

        ``missing`` are the question's terms no passage mentions (the reader's finding): the model is told, so
        it does not invent the missing detail.
        """
        passages = "\n\n".join(f"[{c.n}] {c.title} ({c.date})\n{c.text}" for c in citations)
        if missing:
            passages += "\n\nNote: no passage mentions " + "、".join(missing) + "."
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Passages:\n{passages}\n\nQuestion: {question}"},
            ],
        }
        try:
            r = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
            r.raise_for_status()
            text = r.json()["choices"][0]["message"]["content"]
        except httpx.TimeoutException:
            raise LLMError(f"timed out after {self.timeout:g} s") from None
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            raise LLMError(f"{type(e).__name__}: {e}") from None
        if not isinstance(text, str) or not text.strip():
            raise LLMError("empty answer")
        valid = {c.n for c in citations}
        return _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text).strip()
