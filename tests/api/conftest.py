"""Browser fixtures shared by the page, stream and docs tests: one Chromium per module, pages per test.

Module scope, not session: Playwright's sync API keeps an event loop running while its browser is open, and the
MCP tests run the SDK's async client with ``anyio.run`` in the same thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, checked_page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. Required, not optional: `.ci/run` installs it; `make test-fast` skips these."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from checked_page(browser, live_server, DESKTOP)


@pytest.fixture()
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from checked_page(browser, live_server, PHONE)


@pytest.fixture()
def page_without_config(browser: Browser, live_server: str) -> Iterator[Page]:
    """The page when GET /api/config fails: it knows no limit and no examples, and must work all the same."""
    yield from checked_page(browser, live_server, DESKTOP, unreachable=("**/api/config",))
