"""/docs works offline: Swagger UI's script and styles come from the installed package, not a CDN."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from tests.api.browser import DESKTOP, SHOTS, PageErrors

pytestmark = pytest.mark.browser


def only_loopback(blocked: list[str]):
    """A router that lets loopback requests through and fails every other one, as with no network."""

    def route(r: Route) -> None:
        host = r.request.url.split("/")[2].split(":")[0]
        if host in ("127.0.0.1", "localhost", "[::1]"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("internetdisconnected")

    return route


def test_swagger_ui_renders_with_no_network(browser: Browser, live_server: str):
    blocked: list[str] = []
    errors = PageErrors()
    context = browser.new_context(viewport=DESKTOP)
    context.route("**/*", only_loopback(blocked))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A resource the Content-Security-Policy blocks is reported on the console.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(live_server + "/docs")
        for path in ("/api/ask", "/v1/chat/completions", "/v1/models"):
            expect(page.locator(f".swagger-ui .opblock-summary-path[data-path='{path}']")).to_be_visible(
                timeout=30_000)
        page.screenshot(path=str(SHOTS / "docs-offline.png"))
    finally:
        context.close()
    assert blocked == [], f"the docs asked the network for {blocked}"
    assert errors == []


def test_redoc_is_not_served(live_server: str):
    """ReDoc's bundle loads its logo from a CDN, so it is left out rather than half offline."""
    assert httpx.get(live_server + "/redoc", timeout=30).status_code == 404
