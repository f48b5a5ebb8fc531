"""OpenAI-compatible shapes for ``/v1``: chat-completion requests, responses, stream chunks, models, errors.

Only what this service uses is typed; the rest of what clients send (temperature, top_p, user, tools, …) is
accepted and ignored. The answer's citations travel as the same ``Citation`` records the rest of the API uses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import MAX_QUERY_CHARS
from rag.records import DEFAULT_TOP_K, MAX_TOP_K, AnswerOutcome, Citation, Filters

MODEL_ID = "policy-rag"


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = Field(default=None, max_length=MAX_QUERY_CHARS)


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text: the string, or its text parts joined."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content or [] if p.type == "text" and p.text)


def _user_text_rules(schema: dict[str, Any]) -> None:
    """Add to the ``messages`` array schema what the server checks of the user's text."""
    schema["contains"] = {"type": "object", "required": ["role", "content"],
                          "properties": {"role": {"const": "user"}, "content": {"type": "string", "pattern": r"\S"}}}
    schema["items"] = {"allOf": [schema["items"], {
        "if": {"properties": {"role": {"const": "user"}}},
        "then": {"properties": {"content": {"anyOf": [{"type": "string", "maxLength": MAX_QUERY_CHARS},
                                                      {"type": "array"}, {"type": "null"}]}}},
    }]}


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``; other options are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(default=False, strict=True,
                                description="End the stream with a chunk that has no choices and the token counts in "
                                            "`usage`")


class Usage(BaseModel):
    """Token counts, by the tokenizer of the embedding model that reads the question (this service runs no
    generative model; with an LLM configured, its own counts are not passed on)."""

    prompt_tokens: int = Field(description="The user messages read: the question and the earlier ones")
    completion_tokens: int = Field(description="The assistant message")
    total_tokens: int

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        return cls(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                   total_tokens=prompt_tokens + completion_tokens)


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``. Unknown parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    # The schema names the one model served; another name is answered 404 model_not_found, as OpenAI does.
    model: str = Field(description=f'"{MODEL_ID}" (see GET /v1/models)', json_schema_extra={"enum": [MODEL_ID]})
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="The last user message with text is the question; earlier user messages resolve follow-ups",
        # At least one user message with some text, and no user text over the limit: what the server checks.
        json_schema_extra=lambda schema: _user_text_rules(schema),
    )
    stream: bool = Field(default=False, strict=True)  # true or false, not 0/1/"yes"
    stream_options: StreamOptions | None = None
    # This service's own parameters (the openai SDK sends them with extra_body={...}).
    top_k: int = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="Passages to cite")
    filters: Filters | None = None


class RagInfo(AnswerOutcome):
    """What the answer decided and how the conversation was read, beside the OpenAI fields: the same names as
    ``POST /api/ask`` uses."""

    took_ms: float


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """A whole answer: the text with its sources as the assistant message, the citations as data."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="The passages the [n] markers refer to (n = position + 1)")
    rag: RagInfo


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One streamed piece; the first carries the citations, the last the final citations and ``rag``."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = None
    rag: RagInfo | None = None
    usage: Usage | None = Field(default=None, description="Only in the last chunk, sent after the one that stops "
                                                          "when stream_options.include_usage is true")


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "policy-rag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error (any client error) or server_error")
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """Every error under /v1, in OpenAI's shape."""

    error: OpenAIErrorDetail

    @classmethod
    def of(cls, message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
        """The JSON body."""
        return cls(error=OpenAIErrorDetail(message=message, type=type_, param=param, code=code)).model_dump()
