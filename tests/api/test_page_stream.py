"""The chat page on the answer stream, and the page fixes of issue 13 — each checked in a real Chromium by DOM
geometry: quotes fully visible in clamped passages, compact bubbles and markers, the reader's place kept across a
language switch and a reload, the filter hint on abstentions, a capped question box, over-long questions refused
in the page's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.browser import DESKTOP, PHONE, PageErrors, ask, checked_page, open_page, shot, wait_for_answer
from tests.api.test_page import ANSWERABLE, COUNTED

pytestmark = pytest.mark.browser

# The holiday-toll answer quotes the end of a passage longer than the clamp: the date range must stay in sight.
HOLIDAY = "春节开车走高速免费吗？什么时间段免费？"
HOLIDAY_QUOTE = "2026年2月15日00:00至2月23日24:00共计9天"


# ---------- the stream ----------


@pytest.fixture()
def slow_llm_page(browser: Browser, start_server, corpus_settings, embedder, llm_stand_in) -> Iterator[Page]:
    """The page on a server whose LLM (the stand-in) streams its answer in pieces 0.6 s apart."""
    from rag.service import RagService

    llm_stand_in.behaviour = "drip"
    settings = corpus_settings.updated(answer={"llm_base_url": llm_stand_in.url, "llm_model": "stand-in",
                                               "llm_timeout": 20})
    url = start_server(settings, RagService(settings, embedder))
    yield from checked_page(browser, url, DESKTOP)


def test_sources_are_shown_before_the_streamed_answer_finishes(slow_llm_page: Page):
    from tests.llm_stand_in import ANSWER

    page = slow_llm_page
    ask(page, COUNTED)
    live = page.locator(".turn.pending")
    # The sources arrive with the first event, while the model is still writing.
    expect(live.locator(".citation-card").first).to_be_visible(timeout=10_000)
    expect(live.locator("[data-testid=streaming]")).to_be_visible()
    cards = live.locator(".citation-card").count()
    assert cards >= 1
    assert live.locator(".answer-text").text_content() != ANSWER.replace("[1]", "1").replace("[2]", "2")
    # The text grows piece by piece, [n] markers turning into buttons as they complete.
    expect(live.locator(".answer-text")).to_contain_text("今年民心工程")
    expect(live.locator(".turn.pending, .answer-text .cite-marker").first).to_be_attached()
    shot(page, "streaming-desktop.png")
    wait_for_answer(page)
    turn = page.locator(".turn").first
    expect(turn.locator(".answer-text")).to_have_text("今年民心工程共66项1，覆盖业教保医等领域2。")
    assert turn.locator(".cite-marker").evaluate_all("ms => ms.map(m => m.dataset.n)") == ["1", "2"]
    expect(turn.locator(".answer-meta")).to_contain_text("语言模型")
    assert turn.locator(".citation-card").count() == cards
    expect(turn.locator("[data-testid=streaming]")).to_have_count(0)


def test_a_model_failing_mid_answer_is_replaced_by_the_extractive_answer(browser: Browser, start_server,
                                                                           llm_settings, embedder, llm_stand_in,
                                                                           live_server: str):
    from rag.service import RagService

    llm_stand_in.behaviour = "break"
    url = start_server(llm_settings, RagService(llm_settings, embedder))
    errors = PageErrors()
    page = open_page(browser, url + "/", DESKTOP, errors)
    try:
        ask(page, COUNTED)
        wait_for_answer(page)
        extractive = httpx.post(live_server + "/api/ask", json={"question": COUNTED}, timeout=60).json()["answer"]
        text = page.locator(".turn .answer-text").text_content()
        assert re.sub(r"\[(\d+)\]", r"\1", extractive) == text  # the model's half answer is gone
        expect(page.locator(".turn .notice")).to_contain_text("摘录")  # the question's language
        assert page.locator(".turn .passage mark").count() >= 1, "the extractive quote is marked again"
    finally:
        page.context.close()
    assert not errors


# ---------- page fixes ----------


def quote_geometry(page: Page) -> list[dict]:
    """For every passage with a quote: its box, its one-line fades, and the boxes of the quote's lines."""
    return page.locator(".turn .passage:has(mark)").evaluate_all("""ps => ps.map(p => {
        const b = p.getBoundingClientRect();
        const line = parseFloat(getComputedStyle(p).lineHeight);
        const fadeTop = p.classList.contains('overflows') && p.classList.contains('scrolled') ? line : 0;
        const fadeBottom = p.classList.contains('overflows') && !p.classList.contains('at-end') ? line : 0;
        return {top: b.top + fadeTop, bottom: b.bottom - fadeBottom, clamped: p.classList.contains('overflows'),
                text: Array.from(p.querySelectorAll('mark')).map(m => m.textContent).join(''),
                lines: Array.from(p.querySelectorAll('mark')).flatMap(m =>
                    Array.from(m.getClientRects()).map(r => [r.top, r.bottom]))};
    })""")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_highlighted_quote_is_fully_visible_in_a_clamped_passage(request, viewport):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone")
    ask(page, HOLIDAY)
    wait_for_answer(page)
    page.locator(".turn .passage mark").first.scroll_into_view_if_needed()
    passages = quote_geometry(page)
    holiday = [p for p in passages if HOLIDAY_QUOTE in p["text"]]
    assert holiday and holiday[0]["clamped"], "the holiday passage is longer than the clamp (the case to fix)"
    for p in passages:
        for top, bottom in p["lines"]:
            # Every line of the quote lies inside the passage's box and outside its faded first and last lines.
            assert p["top"] - 0.5 <= top and bottom <= p["bottom"] + 0.5, (viewport, p)
    shot(page, f"quote-visible-{viewport}.png")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_long_question_bubble_and_the_markers_stay_small(request, viewport):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone")
    long_question = (ANSWERABLE * 70)[:800]
    ask(page, long_question)
    wait_for_answer(page)
    bubble = page.locator(".turn .question-bubble")
    height = bubble.bounding_box()["height"]
    size = DESKTOP if viewport == "desktop" else PHONE
    assert height <= 150 and height <= 0.25 * size["height"], f"an 800-character question is {height}px tall"
    toggle = bubble.locator(".q-toggle")
    expect(toggle).to_be_visible()
    toggle.click()
    assert bubble.bounding_box()["height"] > height, "the toggle shows the whole question"
    expect(bubble.locator(".q-text")).to_have_text(long_question)
    toggle.click()

    ask(page, COUNTED)
    wait_for_answer(page, 2)
    marker = page.locator(".turn").nth(1).locator(".cite-marker").first
    box = marker.bounding_box()
    line = page.locator(".turn").nth(1).locator(".answer-text").evaluate(
        "t => parseFloat(getComputedStyle(t).fontSize)")
    assert box["height"] <= 0.9 * line and box["width"] <= 1.2 * line, (box, line)
    # A short question gets no toggle.
    expect(page.locator(".turn").nth(1).locator(".q-toggle")).to_be_hidden()


def anchor_top(page: Page, selector: str) -> float:
    return page.locator(selector).evaluate("n => n.getBoundingClientRect().top")


def test_the_reading_place_is_kept_across_a_language_switch_and_a_reload(page: Page):
    ask(page, COUNTED)
    wait_for_answer(page)
    ask(page, ANSWERABLE)
    wait_for_answer(page, 2)
    page.wait_for_timeout(1000)  # the smooth scroll to the new answer is over
    # Read the first turn's third source card, about 200 px below the top of the window.
    target = ".turn >> nth=0 >> .citation-card >> nth=2"
    page.evaluate("y => window.scrollTo({top: y, behavior: 'instant'})", page.locator(target).evaluate(
        "n => n.getBoundingClientRect().top + window.scrollY - 200"))
    page.wait_for_timeout(200)
    before = anchor_top(page, target)
    assert 100 < before < 300 and page.evaluate("window.scrollY") > 300

    # Clicked where it is: Playwright's click() would first scroll the page to the header, and what is tested
    # is that the switch itself (which re-renders every turn) does not move the reader.
    page.locator("#lang-toggle").dispatch_event("click")
    expect(page.locator(".turn").first.locator(".citations-title")).to_contain_text("Sources")
    assert abs(anchor_top(page, target) - before) <= 2, "the language switch kept the place"

    page.reload()
    expect(page.locator(".turn")).to_have_count(2)
    page.wait_for_timeout(200)
    assert abs(anchor_top(page, target) - before) <= 2, "the reload came back to the same place"


def test_an_abstention_under_a_date_filter_says_the_filter_may_have_excluded_the_answer(page: Page):
    page.locator("#filters summary").click()
    page.locator("#date-from").fill("2026-02-09")
    page.locator("#date-to").fill("2026-02-10")
    ask(page, COUNTED)  # answered on 2026-02-01, outside the filter
    wait_for_answer(page)
    answer = page.locator(".turn .answer")
    expect(answer).to_have_class(re.compile(r"\babstained\b"))
    expect(answer.locator("[data-testid=filter-hint]")).to_contain_text("筛选")
    page.locator("#lang-toggle").click()
    expect(answer.locator("[data-testid=filter-hint]")).to_contain_text("filters")
    page.locator("#lang-toggle").click()

    # Without filters, an abstention says nothing about them.
    page.locator("#reset-filters").click()
    ask(page, "火星上有多少个足球场？")
    wait_for_answer(page, 2)
    second = page.locator(".turn").nth(1).locator(".answer")
    expect(second).to_have_class(re.compile(r"\babstained\b"))  # nothing about Mars: an abstention, unfiltered
    expect(second.locator("[data-testid=filter-hint]")).to_have_count(0)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_question_box_stops_growing_and_a_1282_character_question_is_refused_in_the_pages_words(
        request, viewport):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone")
    size = DESKTOP if viewport == "desktop" else PHONE
    expect(page.locator(".example").first).to_be_visible()  # /api/config has loaded
    question = ("请问" + "公积金贷款的最高额度是多少" * 200)[:1282]
    page.locator("#question").fill(question)
    box = page.locator("#question").bounding_box()["height"]
    dock = page.locator(".composer-dock").bounding_box()["height"]
    assert box <= 0.3 * size["height"] and box <= 222, f"the question box is {box}px tall"
    assert dock <= 0.45 * size["height"], f"the composer takes {dock}px of {size['height']}"
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/ask" in r.url else None)
    page.locator("#question").press("Enter")
    error = page.locator(".error")
    expect(error).to_contain_text("问题共有 1282 个字符，超过了 1000 个字符的上限")
    assert not re.search(r"[A-Za-z]{3,}", error.text_content()), "no English server text in the Chinese page"
    assert sent == []


def test_a_1282_character_question_sent_without_the_config_is_explained_in_the_pages_words(
        page_without_config: Page):
    page = page_without_config
    question = ("请问" + "公积金贷款的最高额度是多少" * 200)[:1282]
    with page.expect_response("**/api/ask") as res:
        ask(page, question)
    assert res.value.status == 422
    error = page.locator(".error")
    expect(error).to_contain_text("问题共有 1282 个字符，超过了 1000 个字符的上限")
    assert not re.search(r"[A-Za-z]{3,}", error.text_content())
