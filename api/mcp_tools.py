"""The service as Model Context Protocol tools — ``search_articles``, ``ask``, ``get_article`` — for agents.

Built with the official ``mcp`` SDK (``MCPServer``). The same server runs over stdio (``rag mcp``) and over
streamable HTTP at ``/mcp`` of the running API (``api.app``). Results are the records the HTTP API returns —
passages and citations with title, date, url, the passage ``text`` and its span ``start``/``end`` in the
article — as structured content and as JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from api.errors import describe, error_item
from api.schemas import MAX_QUERY_CHARS
from rag import __version__
from rag.records import DEFAULT_TOP_K, MAX_HISTORY, MAX_TOP_K, Answer, Article, Filters, SearchResults
from rag.service import RagService
from rag.tokenize import text_problem

INSTRUCTIONS = (
    "Cited answers from Chinese government articles (WeChat posts of 天津政务网). Use `ask` for a short answer "
    "whose [n] markers refer to its citations, `search_articles` for ranked passages, and `get_article` for the "
    "full text a passage's start/end offsets point into. Questions may be Chinese or English. Quote the "
    "citations' title, date and url when you use them."
)

Text = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description="How many passages")]
Date = Annotated[str | None, Field(description="Inclusive, YYYY-MM-DD")]
Account = Annotated[str | None, Field(description="Only articles of this official account, e.g. 天津政务网")]
History = Annotated[list[Text] | None, Field(
    max_length=MAX_HISTORY, description="The conversation's earlier questions, oldest first: a follow-up "
                                        "(那手机呢？, what about phones?) is read against them")]


def _problems(e: ValidationError) -> str:
    """Each problem as the HTTP API says it ("top_k: must be at least 1")."""
    return describe([error_item(x) for x in e.errors(include_url=False)])


def _filters(date_from: str | None, date_to: str | None, account: str | None) -> Filters | None:
    try:
        filters = Filters(date_from=date_from, date_to=date_to, account=account)
    except ValidationError as e:
        raise ToolError(_problems(e)) from None
    return None if filters.is_empty() else filters


class _Server(MCPServer):
    """The SDK's server, saying what is wrong with a tool's arguments as the HTTP API does: the SDK passes on
    pydantic's own text, with a class name and links."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        # An argument the tool does not take is refused, as the HTTP API refuses an unknown field: ignored, a
        # misspelt filter (date_form) would silently widen the search.
        schema = self._tool_input_schema(name) or {}
        unknown = sorted(set(arguments or {}) - set(schema.get("properties", {}))) if schema else []
        if unknown:
            raise ToolError(f"invalid arguments to {name}: " +
                            "; ".join(f"{u}: unknown argument; remove it" for u in unknown))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if isinstance(e.__cause__, ValidationError):
                raise ToolError(f"invalid arguments to {name}: {_problems(e.__cause__)}") from None
            raise


def _text(value: str, what: str, where: str = "") -> str:
    """``value`` stripped; a clear tool error when it cannot be searched for (``rag.tokenize.text_problem``),
    saying ``where`` it is (history.1) when that is not plain."""
    if (problem := text_problem(value, what)) is not None:
        raise ToolError(f"{where}: {problem.message}" if where else problem.message)
    return value.strip()


def build_mcp(service: Callable[[], RagService]) -> MCPServer:
    """The MCP server; ``service`` returns the loaded service when a tool is called."""
    server = _Server("policy-rag", title="Policy articles Q&A", instructions=INSTRUCTIONS, version=__version__,
                       log_level="WARNING")

    @server.tool(title="Search articles")
    def search_articles(query: Text, top_k: TopK = DEFAULT_TOP_K, date_from: Date = None, date_to: Date = None,
                        account: Account = None) -> SearchResults:
        """Ranked passages of the articles for a query (hybrid retrieval: meaning and words)."""
        found = service().search(_text(query, "query"), top_k=top_k, filters=_filters(date_from, date_to, account))
        return found.results()

    @server.tool(title="Ask")
    def ask(question: Text, history: History = None, top_k: TopK = DEFAULT_TOP_K, date_from: Date = None,
            date_to: Date = None, account: Account = None) -> Answer:
        """A short answer with [n] markers and its citations, or an abstention (abstained: true) that still
        lists the closest passages. citations[n-1] is the passage [n] refers to; its highlights are the spans
        of its text that the answer quotes; cautions say what to know before trusting an answer (a low
        confidence, terms the passages found do not mention). With history, conversation says how a follow-up
        was read."""
        earlier = [_text(h, "earlier question", f"history.{i}") for i, h in enumerate(history or ())]
        return service().ask(_text(question, "question"), history=earlier, top_k=top_k,
                             filters=_filters(date_from, date_to, account))

    @server.tool(title="Get article")
    def get_article(aid: Annotated[str, Field(min_length=1, max_length=200, description="The article id")]
                    ) -> Article:
        """The full normalised article: a passage's start/end index into its text."""
        found = service().article(aid)
        if found is None:
            raise ToolError(f"no article with aid {aid!r}")
        return found

    return server
