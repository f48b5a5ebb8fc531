"""Helpers for the browser tests: opening the page in the real Chromium, asking as a person would, screenshots.

The fixtures that use them (``browser``, ``page``, ``phone``, ``page_without_config``) are in tests/api/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

CHROMIUM = os.environ.get("RAG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
ANSWER_TIMEOUT = 60_000


class PageErrors(list):
    """JavaScript errors raised in the page; each test asserts there were none."""


def open_page(browser: Browser, url: str, viewport: dict, errors: PageErrors,
              unreachable: tuple[str, ...] = ()) -> Page:
    """Open the page; requests matching the ``unreachable`` globs fail as if the network were down."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
    context.set_default_timeout(15_000)
    for pattern in unreachable:
        context.route(pattern, lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Failed requests are logged as console errors on purpose (422, 503, aborted); a blocked script or style is not.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    expect(page.locator("html.js-ready")).to_have_count(1)
    return page


def checked_page(browser: Browser, url: str, viewport: dict, unreachable: tuple[str, ...] = ()) -> Iterator[Page]:
    """The page at ``viewport``; after the test, fails on any JavaScript or CSP error it logged."""
    errors = PageErrors()
    page = open_page(browser, url + "/", viewport, errors, unreachable)
    yield page
    page.context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def ask(page: Page, question: str) -> None:
    """Type the question and press Enter, as a person would."""
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")


def wait_for_answer(page: Page, turns: int = 1) -> None:
    """Wait until ``turns`` answered turns are on the page and nothing is pending."""
    expect(page.locator(".turn:not(.pending)")).to_have_count(turns, timeout=ANSWER_TIMEOUT)
    expect(page.locator(".turn.pending")).to_have_count(0)


def shot(page: Page, name: str, full_page: bool = False) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=full_page)
