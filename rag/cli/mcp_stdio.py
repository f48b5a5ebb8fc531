"""``rag mcp``: the service as MCP tools over stdio, for agents that start their tools as subprocesses."""

from __future__ import annotations

from rag.cli.common import ModelOpt, app, load_service


@app.command("mcp")
def mcp(model: ModelOpt = None) -> None:
    """Serve the MCP tools search_articles, ask and get_article over stdio (stdout carries only the protocol)."""
    from api.mcp_tools import build_mcp

    svc = load_service(model)  # errors go to stderr with exit code 3, before the protocol starts
    svc.warm()  # so that the first tool call is fast
    build_mcp(lambda: svc).run("stdio")
