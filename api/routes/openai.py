"""OpenAI-compatible chat: ``POST /v1/chat/completions`` (whole or streamed) and ``GET /v1/models``.

Chat clients (Open WebUI, LobeChat, Chatbox, Cherry Studio, the ``openai`` SDK, LangChain) talk to this service
as to a model called ``policy-rag``. The last user message is the question; a follow-up ("那明年呢？") is resolved
against the earlier user messages (``rag.conversation``). The assistant message is the cited answer followed by
its numbered sources (title, date, link); the same citations come as data in the extra field ``citations``, and
the outcome (abstained, confidence, how a follow-up was read, …) in ``rag``. Errors under /v1 are OpenAI's
``{"error": {…}}`` objects.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException  # FastAPI's derives from it; routing raises Starlette's

from api.deps import Service
from api.errors import describe, error_item, index_error_code, openai_type, status_code_name, unparsable
from api.openai_schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    Model,
    ModelList,
    OpenAIErrorBody,
    RagInfo,
    Usage,
)
from api.schemas import event_stream_schema
from rag.index import IndexUnavailableError
from rag.query import traditional, written_in
from rag.records import MAX_HISTORY, Answer, AnswerOutcome, Citation, cited_numbers
from rag.streaming import CitationsEvent, DeltaEvent, DoneEvent, ResetEvent
from rag.tokenize import TextProblem, text_problem

log = logging.getLogger(__name__)
STARTED = int(time.time())


class OpenAIError(Exception):
    """An error to send as ``{"error": {message, type, param, code}}``."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse(status_code=self.status, headers=self.headers,
                            content=OpenAIErrorBody.of(self.message, self.type, self.param, self.code))


class OpenAIRoute(APIRoute):
    """A route whose every failure — validation, HTTP, index, unexpected — is an OpenAI error object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenAIError as e:
                return e.response()
            except RequestValidationError as e:
                # Worded and coded as the JSON API words and codes them (api.errors.error_item).
                items = [error_item(err) for err in e.errors()]
                first = items[0] if items else {}
                said = describe(items[:3], max(0, len(items) - 3))
                if first.get("code") == "invalid_json":  # the whole body: pydantic's loc is a character offset
                    return OpenAIError(400, said, code="invalid_json").response()
                loc = [str(x) for x in first.get("loc", ()) if x != "body"]
                return OpenAIError(400, said, param=".".join(loc) or None, code=first.get("code")).response()
            except HTTPException as e:
                reason = unparsable(e.__cause__) if e.status_code == 400 else None
                if reason is not None:
                    return OpenAIError(400, f"the body is not valid JSON: {reason}", code="invalid_json").response()
                return OpenAIError(e.status_code, str(e.detail), openai_type(e.status_code),
                                   code=status_code_name(e.status_code), headers=e.headers).response()
            except (UnicodeDecodeError, RecursionError) as e:  # a body FastAPI could not even decode
                return OpenAIError(400, f"the body is not valid JSON: {unparsable(e)}", code="invalid_json").response()
            except IndexUnavailableError as e:
                return OpenAIError(503, str(e), "server_error", code=index_error_code(e)).response()
            except Exception:
                log.exception("unexpected error in /v1")
                return OpenAIError(500, "internal error; the server log has the details", "server_error",
                                   code="internal").response()

        return route


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute,
                   responses={400: {"model": OpenAIErrorBody}, 404: {"model": OpenAIErrorBody},
                              503: {"model": OpenAIErrorBody}})


def _model() -> Model:
    return Model(id=MODEL_ID, created=STARTED)


@router.get("/models", response_model=ModelList)
def models() -> ModelList:
    """The one model this service is: ``policy-rag``."""
    return ModelList(data=[_model()])


@router.get("/models/{model}", response_model=Model)
def model(model: str) -> Model:
    """One model by id."""
    _check_model(model)
    return _model()


def _check_model(model: str) -> None:
    if model != MODEL_ID:
        raise OpenAIError(404, f"The model '{model}' does not exist; this server serves '{MODEL_ID}'", param="model",
                          code="model_not_found")


def read_conversation(body: ChatCompletionRequest) -> tuple[str, list[str]]:
    """The question the conversation asks — the last user message with text — and the earlier user messages (at
    most ``MAX_HISTORY``, the latest) that a follow-up is read against.

    Every user message is checked as a question is (a 400 names the first that is not one, by its index), so an
    earlier message can no more be unreadable or over-long than the last; an earlier one with no words at all
    ("👍", "？") is read past, as chat clients keep such turns in the history they send. Messages after the
    question (an assistant's prefix, a tool result) are read past too, as chat clients sometimes send them.
    """
    asked = [(i, text) for i, m in enumerate(body.messages) if m.role == "user" and (text := m.text().strip())]
    if not asked:
        raise OpenAIError(400, "no user message has a question in it", param="messages", code="empty")

    def refuse(at: int, problem: TextProblem) -> OpenAIError:
        return OpenAIError(400, f"messages[{at}]: {problem.message}", param="messages", code=problem.code)

    *before, (at, question) = asked
    earlier: list[str] = []
    for i, text in before:
        if (problem := text_problem(text, "earlier question")) is not None:
            if problem.code == "no_words":
                continue
            raise refuse(i, problem)
        earlier.append(text)
    if (problem := text_problem(question, "question")) is not None:
        raise refuse(at, problem)
    return question, earlier[-MAX_HISTORY:]


def sources_text(answer_text: str, abstained: bool, citations: list[Citation], language: str) -> str:
    """The numbered sources as readable lines: the ones the answer cites, or all of them after an abstention;
    headed in the question's ``language`` (``rag.query.written_in``), as the answer is written."""
    cited = cited_numbers(answer_text)
    shown = [c for c in citations if c.n in cited] or citations
    if not shown:
        return ""
    if language == "en":
        head = "Closest passages:" if abstained else "Sources:"
    else:
        head = "最接近的段落：" if abstained else "来源："
        head = traditional(head) if language == "zh-Hant" else head
    return "\n\n" + head + "\n" + "\n".join(f"- [{c.n}] {c.title} · {c.date} · {c.url}" for c in shown)


def _notice_text(notice: str | None) -> str:
    return f"\n\n({notice})" if notice else ""


def _cautions_text(cautions: list[str]) -> str:
    # A chat client shows only the text: what to know before trusting the answer is said in it, after the answer.
    return "".join(f"\n\n{c}" for c in cautions)


def _info(outcome: AnswerOutcome, took_ms: float) -> RagInfo:
    return RagInfo(**outcome.model_dump(include=set(AnswerOutcome.model_fields)), took_ms=took_ms)


@router.post("/chat/completions", response_model=ChatCompletion,
             responses={200: {"content": {"text/event-stream": {"schema": event_stream_schema()}},
                              "description": "With stream=true: chat.completion.chunk events, then data: [DONE]"}})
def chat_completions(body: ChatCompletionRequest, svc: Service) -> Any:
    """The cited answer to the last user message, as an assistant message (or a stream of chunks)."""
    _check_model(body.model)
    question, history = read_conversation(body)
    language = written_in(question)
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    def tokens(text: str) -> int:
        return svc.embedder.count_tokens(text, as_passage=False)

    def prompt_tokens() -> int:
        return sum(tokens(q) for q in [*history, question])

    if body.stream:
        events = svc.ask_events(question, history=history, top_k=body.top_k, filters=body.filters)
        usage = (tokens, prompt_tokens()) if body.stream_options and body.stream_options.include_usage else None
        chunks = _chunks(events, language, ident=ident, created=created, model=body.model, usage=usage)
        first = next(chunks)  # retrieval has run; failures before this point are ordinary error responses
        return EventSourceResponse(_sse(first, chunks), ping=15)
    t0 = time.perf_counter()
    answer: Answer = svc.ask(question, history=history, top_k=body.top_k, filters=body.filters)
    content = (answer.answer + _notice_text(answer.notice) + _cautions_text(answer.cautions)
               + sources_text(answer.answer, answer.abstained, answer.citations, language))
    took_ms = round((time.perf_counter() - t0) * 1000, 2)
    return ChatCompletion(id=ident, created=created, model=body.model,
                          choices=[Choice(message=AssistantMessage(content=content))],
                          usage=Usage.of(prompt_tokens(), tokens(content)), citations=answer.citations,
                          rag=_info(answer, took_ms))


def _sse(first: ChatCompletionChunk, rest: Iterator[ChatCompletionChunk]) -> Iterator[ServerSentEvent]:
    # Unset fields are left out, as OpenAI's own chunks do ({"delta": {"content": "…"}}).
    for chunk in itertools.chain([first], rest):
        yield ServerSentEvent(data=chunk.model_dump_json(exclude_none=True))
    yield ServerSentEvent(data="[DONE]")


def _chunks(events: Iterator[Any], language: str, *, ident: str, created: int, model: str,
            usage: tuple[Callable[[str], int], int] | None = None) -> Iterator[ChatCompletionChunk]:
    """The answer events as OpenAI chunks: role and citations first, the text, its cautions and the sources, then
    ``stop``; with ``usage`` (a token counter and the prompt's tokens), a last chunk with no choices gives the
    token counts.

    A stream cannot take back what it sent: when the language model fails mid-answer, its notice and the
    extractive answer follow what it had said.
    """
    said: list[str] = []

    def chunk(delta: Delta, **extra: Any) -> ChatCompletionChunk:
        finish = "stop" if extra.pop("finish", False) else None
        said.append(delta.content or "")
        return ChatCompletionChunk(id=ident, created=created, model=model,
                                   choices=[ChunkChoice(delta=delta, finish_reason=finish)], **extra)

    citations: list[Citation] = []
    started = reset = False
    for e in events:
        if isinstance(e, CitationsEvent):
            citations = e.citations
            if not started:
                started = True
                yield chunk(Delta(role="assistant", content=""), citations=citations)
        elif isinstance(e, DeltaEvent):
            yield chunk(Delta(content=e.text))
        elif isinstance(e, ResetEvent):
            reset = True  # the notice is said here, once
            yield chunk(Delta(content=_notice_text(e.notice) + "\n\n"))
        elif isinstance(e, DoneEvent):
            tail = "" if reset else _notice_text(e.notice)
            tail += _cautions_text(e.cautions) + sources_text(e.answer, e.abstained, citations, language)
            if tail:
                yield chunk(Delta(content=tail))
            yield chunk(Delta(), finish=True, citations=citations, rag=_info(e, e.took_ms))
    if usage is not None:
        count, prompt_tokens = usage
        yield ChatCompletionChunk(id=ident, created=created, model=model, choices=[],
                                  usage=Usage.of(prompt_tokens, count("".join(said))))


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                  include_in_schema=False)
def unknown(path: str, request: Request) -> None:
    """Anything else under /v1 (embeddings, completions, …) is not served here."""
    allowed = {"chat/completions": "POST", "models": "GET"}.get(path.strip("/"))
    if allowed:  # a served URL with another method
        raise OpenAIError(405, f"{request.method} /v1/{path} is not allowed; use {allowed}",
                          code="method_not_allowed", headers={"Allow": allowed})
    raise OpenAIError(404, f"Invalid URL ({request.method} /v1/{path}): this server answers "
                           "POST /v1/chat/completions and GET /v1/models", code="unknown_url")
