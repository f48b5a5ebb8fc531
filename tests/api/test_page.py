"""The chat page end to end: a real headless Chromium against the real server and the real corpus index.

Nothing here mocks the service. A few tests inject failures at the browser's network layer (an aborted request,
a request held back to observe the loading state, /api/config made unreachable); every answer, citation, error and
article comes from the real API.
Screenshots go to test-output/screenshots/ (answer-desktop.png is a good one for the README).
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.api.browser import DESKTOP, PHONE, PageErrors, ask, open_page, shot, wait_for_answer

ANSWERABLE = "汽车以旧换新补贴最高多少钱？"
COUNTED = "今年民心工程有多少项？"
# An answer that quotes two sentences of one passage (its first citation has two highlights).
MULTI_QUOTE = "今年民心工程有哪四大类？"  # its four items, quoted from one passage
LONG_QUESTION = "请问" + "公积金" * 400  # 1202 characters, over the server's 1000
# Off-topic questions; the first one the real service abstains on is used (checked through the API first).
UNANSWERABLE = ("火星上有多少个足球场？", "企鹅最喜欢吃什么口味的冰淇淋？", "How many moons does Neptune have?")
# Answered, but with a confidence under 0.5 (the first of these the real service answers so is used).
UNCERTAIN = ("以后在家附近看病能有多方便？规划里怎么说？", "天开园现在有多少注册企业、设了多少只基金？",
             "天津哪家医院的儿科看病最好？")
# Found by its title alone: the article 2247553139_1 (寒潮) has an empty body.
TITLE_ONLY = "低温骤降寒潮健康风险预警"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'

# Chromium is required, not optional: `.ci/run` installs it (apt-get install chromium); `make test-fast` skips these.
# The browser, page, phone and page_without_config fixtures are in tests/api/conftest.py.
pytestmark = pytest.mark.browser


# ---------- fixtures ----------


@pytest.fixture(scope="module")
def config(live_server: str) -> dict:
    return httpx.get(live_server + "/api/config", timeout=30).json()


@pytest.fixture(scope="module")
def unanswerable(live_server: str) -> str:
    """An off-topic question the real service abstains on (and still returns passages for)."""
    with httpx.Client(base_url=live_server, timeout=60) as http:
        for q in UNANSWERABLE:
            body = http.post("/api/ask", json={"question": q}).json()
            if body["abstained"] and body["citations"]:
                return q
    pytest.fail(f"the service answered every off-topic question {UNANSWERABLE}; add one it abstains on")


@pytest.fixture(scope="module")
def uncertain(live_server: str) -> str:
    """A question the real service answers with a confidence under 0.5."""
    for q in UNCERTAIN:
        body = api_ask(live_server, q)
        if not body["abstained"] and body["confidence"] < 0.5:
            return q
    pytest.fail(f"the service answered none of {UNCERTAIN} with confidence under 0.5; add one it does")


# ---------- helpers ----------


def no_horizontal_scroll(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def stored_turns(page: Page) -> list:
    return json.loads(page.evaluate("localStorage.getItem('policy-rag.turns.v1') || '[]'"))


def api_ask(live_server: str, question: str) -> dict:
    return httpx.post(live_server + "/api/ask", json={"question": question}, timeout=60).json()


def marked_spans(card) -> list[list]:
    """[start, end] of each <mark> in a card's passage, in code points from the start of the passage text."""
    return card.locator(".passage").evaluate(
        "p => Array.from(p.querySelectorAll('mark')).map(m => {"
        " const r = document.createRange(); r.setStart(p, 0); r.setEndBefore(m);"
        " const s = Array.from(r.toString()).length; return [s, s + Array.from(m.textContent).length]; })")


# ---------- tests ----------


def test_answer_with_clickable_markers_citation_cards_and_the_full_article(page: Page, live_server: str):
    ask(page, COUNTED)
    wait_for_answer(page)
    turn = page.locator(".turn").first
    expect(turn.locator(".q-text")).to_have_text(COUNTED)
    answer = turn.locator(".answer")
    expect(answer).not_to_have_class(re.compile(r"\babstained\b"))
    expect(answer.locator(".answer-text")).to_contain_text("66")
    expect(page.locator("#question")).to_have_value("")  # sent and answered: the box is ready for the next one

    markers = turn.locator(".cite-marker")
    cards = turn.locator(".citation-card")
    assert markers.count() >= 1 and cards.count() >= 1
    # Every marker names a card of its own turn.
    card_ns = set(cards.evaluate_all("cs => cs.map(c => c.dataset.n)"))
    assert set(markers.evaluate_all("ms => ms.map(m => m.dataset.n)")) <= card_ns

    # A card: title, date, account, the passage with the quoted sentence marked, a safe link to the original.
    first = cards.first
    expect(first.locator(".card-title")).not_to_be_empty()
    expect(first.locator("time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(first.locator(".card-account")).not_to_be_empty()
    expect(first.locator(".passage")).not_to_be_empty()
    link = first.locator("a.card-link")
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel").split()
    assert link.get_attribute("href").startswith(("http://", "https://"))
    assert turn.locator(".passage mark").count() >= 1, "the answer's sentence is highlighted in its passage"

    # The page shows what the API returns for the same question: the passages, and the quoted sentences marked.
    api = httpx.post(live_server + "/api/ask", json={"question": COUNTED}, timeout=60).json()
    assert cards.locator(".passage").all_text_contents() == [c["text"] for c in api["citations"]]
    marked = turn.locator(".passage mark").all_text_contents()
    answer_text = answer.locator(".answer-text").text_content()
    assert any(c["highlights"] for c in api["citations"])
    for c in api["citations"]:
        for s, e in c["highlights"]:
            quote = c["text"][s:e]
            assert any(quote in m for m in marked), f"the quoted sentence of [{c['n']}] is marked"
    assert marked and all(m in answer_text for m in marked), "only sentences of the answer are marked"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "answer-desktop.png")

    # A long passage shows a few lines around its quote with a "more" button; a short one shows all of it and
    # has none. The longest passage of this answer (600+ characters) is longer than the clamp.
    lengths = [len(c["text"]) for c in api["citations"]]
    assert max(lengths) > 500
    overflowing = cards.evaluate_all(
        "cs => cs.map(c => { const p = c.querySelector('.passage'); return p.scrollHeight > p.clientHeight + 4; })")
    toggles = [card.locator(".passage-toggle").is_visible() for card in cards.all()]
    assert toggles == overflowing, "a card has a 'more' button exactly when its passage is cut off"
    assert overflowing[lengths.index(max(lengths))], "the longest passage is cut off"
    # "More" shows all of it, without opening the article; "less" cuts it off again.
    toggle = turn.locator(".passage-toggle:visible").first
    passage = page.locator("#" + toggle.get_attribute("aria-controls"))
    expect(toggle).to_have_text("展开段落")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("收起段落")
    expect(passage).not_to_have_class(re.compile(r"\bclamped\b"))
    assert passage.evaluate("p => p.scrollHeight <= p.clientHeight + 1"), "the whole passage is shown"
    expect(page.locator("#article-panel")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(passage).to_have_class(re.compile(r"\bclamped\b"))
    assert passage.evaluate("p => p.scrollHeight > p.clientHeight + 4"), "cut off again"

    # Click the last marker: its card scrolls into view, flashes and takes the focus.
    marker = markers.last
    n = marker.get_attribute("data-n")
    marker.click()
    target = turn.locator(f'.citation-card[data-n="{n}"]')
    expect(target).to_have_class(re.compile(r"\bflash\b"))
    expect(target).to_be_in_viewport()
    expect(target.locator(".card-title")).to_be_focused()

    # Click the card: the article opens in a dialog with the cited span marked and scrolled into view.
    passage = target.locator(".passage").text_content()
    title = target.locator(".card-title").text_content()
    target.locator(".passage").click()
    panel = page.locator("#article-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#article-title")).to_have_text(title)
    cited = panel.locator("#cited-span")
    expect(cited).to_have_text(passage)
    expect(cited).to_be_in_viewport()
    assert page.evaluate("document.activeElement.closest('#article-panel') !== null"), "focus moved into the panel"
    href = panel.locator("#article-link").get_attribute("href")
    assert href.startswith(("http://", "https://"))
    assert "noopener" in panel.locator("#article-link").get_attribute("rel").split()
    shot(page, "article-desktop.png")

    # Escape closes it and gives the focus back to the card.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(target.locator(".card-title")).to_be_focused()

    # The marked span is the article's [start, end), not just a search for the same words.
    cit = api["citations"][int(n) - 1]
    article = httpx.get(f"{live_server}/api/articles/{cit['aid']}", timeout=30).json()
    before = panel.locator(".article-text").evaluate(
        "t => { const r = document.createRange(); r.setStart(t, 0);"
        " r.setEndBefore(document.getElementById('cited-span')); return Array.from(r.toString()).length; }")
    assert before == cit["start"] and article["text"][cit["start"] : cit["end"]] == cit["text"]


def test_loading_state_is_visible_while_the_answer_is_on_its_way(page: Page):
    held: list[Route] = []
    page.route("**/api/ask", lambda route: held.append(route))
    ask(page, ANSWERABLE)
    expect(page.locator(".turn.pending [data-testid=loading]")).to_be_visible()
    expect(page.locator("#send")).to_be_disabled()
    expect(page.locator("#send")).to_have_attribute("aria-busy", "true")
    expect(page.locator(".turn.pending .q-text")).to_have_text(ANSWERABLE)
    shot(page, "loading-desktop.png")
    page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()  # the real request goes on to the real server
    page.unroute("**/api/ask")
    wait_for_answer(page)
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator(".turn .answer .answer-text")).not_to_be_empty()
    expect(page.locator(".turn .citation-card").first).to_be_visible()


def test_abstention_is_said_plainly_and_still_lists_the_closest_passages(page: Page, unanswerable: str,
                                                                         live_server: str):
    api = api_ask(live_server, unanswerable)
    ask(page, unanswerable)
    wait_for_answer(page)
    answer = page.locator(".turn .answer")
    expect(answer).to_have_class(re.compile(r"\babstained\b"))
    # The server's own sentence (in the question's language) is the message, shown once.
    assert api["abstained"] and "现有文章没有回答这个问题" in api["answer"]
    expect(answer.locator(".abstain-title")).to_have_text(api["answer"])
    assert answer.text_content().count("现有文章没有回答这个问题") == 1
    expect(page.locator(".turn .citations-title")).to_contain_text("最接近的段落")
    assert page.locator(".turn .citation-card").count() == len(api["citations"]) >= 1
    assert page.locator(".turn .cite-marker").count() == 0
    # A distinct look: the abstained answer's background differs from an answered one's (white).
    bg = answer.evaluate("a => getComputedStyle(a).backgroundColor")
    assert bg not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    shot(page, "abstained-desktop.png")


def test_an_over_long_question_is_stopped_before_sending_in_the_pages_words(page: Page, config: dict):
    limit = config["max_query_chars"]
    assert len(LONG_QUESTION) > limit
    expect(page.locator(".example").first).to_be_visible()  # /api/config has loaded
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/ask" in r.url else None)
    ask(page, LONG_QUESTION)
    error = page.locator(".error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("问题没有提交成功")
    expect(error).to_contain_text(f"问题共有 {len(LONG_QUESTION)} 个字符，超过了 {limit} 个字符的上限")
    expect(page.locator("#question")).to_have_value(LONG_QUESTION)
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#char-count")).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("#char-count")).to_have_text(f"{len(LONG_QUESTION)} / {limit} 字")
    assert sent == [], "the page knew the limit from /api/config and did not send the question"
    shot(page, "error-422-desktop.png")

    # Shortened, the same box sends and the error goes away.
    ask(page, ANSWERABLE)
    wait_for_answer(page)
    expect(error).to_be_hidden()


def test_a_rejected_question_is_explained_from_the_servers_error_codes_in_both_languages(
        page_without_config: Page, live_server: str):
    page = page_without_config
    # Without /api/config the page knows no limit: the question goes out, and no counter or example chip shows.
    with page.expect_response("**/api/ask") as res:
        ask(page, LONG_QUESTION)
    assert res.value.status == 422
    expect(page.locator("#intro")).to_be_visible()
    expect(page.locator("#examples")).to_be_hidden()
    expect(page.locator(".example")).to_have_count(0)
    body = res.value.json()
    assert body["code"] == "invalid_request"
    assert [(e["code"], e["ctx"]["length"], e["ctx"]["limit"]) for e in body["errors"]] == [
        ("too_long", len(LONG_QUESTION), 1000)]
    error = page.locator(".error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-code", "invalid_request")
    expect(error).to_contain_text("问题没有提交成功，请修改后再试。")
    # The numbers come from the error's ctx: the page itself does not know the limit.
    expect(error).to_contain_text(f"问题共有 {len(LONG_QUESTION)} 个字符，超过了 1000 个字符的上限，请缩短后再提交。")
    expect(error).not_to_contain_text(body["detail"])  # the server's English is not shown for a known code
    expect(page.locator("#char-count")).to_have_text("")
    expect(page.locator("#question")).to_have_value(LONG_QUESTION)
    expect(page.locator(".turn")).to_have_count(0)

    # The same error, said again in English when the language changes.
    page.locator("#lang-toggle").click()
    expect(error).to_contain_text("The question was not sent. Please change it and try again.")
    expect(error).to_contain_text(f"The question is {len(LONG_QUESTION)} characters long; the limit is 1000.")
    expect(error).not_to_contain_text("问题")
    page.locator("#lang-toggle").click()
    expect(error).to_contain_text("超过了 1000 个字符的上限")

    # The page works without its configuration: a shorter question is answered.
    ask(page, ANSWERABLE)
    wait_for_answer(page)
    expect(error).to_be_hidden()
    expect(page.locator(".turn .citation-card").first).to_be_visible()


def test_a_question_of_only_punctuation_is_explained_and_kept_for_editing(page: Page):
    with page.expect_response("**/api/ask") as res:
        ask(page, "？？？")
    assert res.value.status == 422 and [e["code"] for e in res.value.json()["errors"]] == ["no_words"]
    error = page.locator(".error")
    expect(error).to_contain_text("问题里没有文字或数字，无法检索，请用文字提问。")
    expect(page.locator("#question")).to_have_value("？？？")
    expect(page.locator(".turn")).to_have_count(0)


def test_a_network_failure_is_explained_and_the_question_can_be_sent_again(page: Page):
    page.route("**/api/ask", lambda route: route.abort("internetdisconnected"))
    ask(page, COUNTED)
    error = page.locator(".error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("无法连接到服务器")
    expect(page.locator("#question")).to_have_value(COUNTED)
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#send")).to_be_enabled()
    shot(page, "error-network-desktop.png")

    page.unroute("**/api/ask")
    page.locator("#send").click()
    wait_for_answer(page)
    expect(error).to_be_hidden()
    expect(page.locator(".turn .q-text")).to_have_text(COUNTED)


def test_no_index_503_is_explained(browser: Browser, start_server, embedder, small_settings):
    from rag.service import RagService

    settings = small_settings  # an empty RAG_HOME: nothing ingested
    url = start_server(settings, RagService(settings, embedder))
    assert httpx.post(url + "/api/ask", json={"question": COUNTED}, timeout=30).status_code == 503
    errors = PageErrors()
    page = open_page(browser, url + "/", DESKTOP, errors)
    try:
        error = page.locator(".error")
        # /api/stats already says so when the page opens; asking says it again.
        expect(error).to_be_visible()
        page.locator("#error-close").click()
        expect(error).to_be_hidden()
        ask(page, COUNTED)
        expect(error).to_be_visible()
        expect(error).to_have_attribute("data-code", "no_index")
        expect(error).to_contain_text("还没有建立文章索引")
        expect(error).to_contain_text("rag ingest")
        expect(page.locator("#question")).to_have_value(COUNTED)
        shot(page, "error-503-desktop.png")
    finally:
        page.context.close()
    assert not errors


def test_html_in_a_question_is_shown_as_text_and_never_runs(page: Page):
    ask(page, XSS)
    wait_for_answer(page)
    expect(page.locator(".turn .q-text")).to_have_text(XSS)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#conversation img, #conversation script").count() == 0
    # The same after a reload, when the turn is rebuilt from localStorage.
    page.reload()
    expect(page.locator(".turn .q-text")).to_have_text(XSS)
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#conversation img, #conversation script").count() == 0


def test_conversation_survives_a_reload_and_the_clear_button_empties_it(page: Page):
    expect(page.locator("#clear")).to_be_disabled()
    expect(page.locator("#intro")).to_be_visible()
    ask(page, COUNTED)
    wait_for_answer(page)
    ask(page, ANSWERABLE)
    wait_for_answer(page, 2)
    markers_before = page.locator(".cite-marker").count()
    assert [t["question"] for t in stored_turns(page)] == [COUNTED, ANSWERABLE]

    page.reload()
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".turn .q-text")).to_have_text([COUNTED, ANSWERABLE])
    assert page.locator(".cite-marker").count() == markers_before
    expect(page.locator("#intro")).to_be_hidden()
    # Restored markers still work.
    page.locator(".turn").first.locator(".cite-marker").first.click()
    expect(page.locator(".turn").first.locator(".citation-card.flash")).to_have_count(1)

    # Clear, undo, clear again; a reload keeps it empty.
    page.locator("#clear").click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#intro")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("对话已清空")
    page.locator("#undo-clear").click()
    expect(page.locator(".turn")).to_have_count(2)
    page.locator("#clear").click()
    expect(page.locator(".turn")).to_have_count(0)
    assert stored_turns(page) == []
    page.reload()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#clear")).to_be_disabled()


def test_english_toggle_is_remembered(page: Page):
    expect(page.locator("h1")).to_have_text("政务文章问答")
    page.locator("#lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Government articles Q&A")
    expect(page.locator("#send")).to_have_text(re.compile("Ask"))
    page.reload()
    expect(page.locator("h1")).to_have_text("Government articles Q&A")
    ask(page, ANSWERABLE)
    wait_for_answer(page)
    expect(page.locator(".turn .citations-title")).to_contain_text("Sources")
    page.locator("#lang-toggle").click()
    expect(page.locator("h1")).to_have_text("政务文章问答")
    expect(page.locator(".turn .citations-title")).to_contain_text("出处")  # the conversation re-renders too


def test_keyboard_shift_enter_makes_a_new_line_and_everything_is_reachable(page: Page):
    box = page.locator("#question")
    box.click()
    page.keyboard.type("第一行")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("第二行")
    expect(box).to_have_value("第一行\n第二行")
    expect(page.locator(".turn")).to_have_count(0)  # nothing was sent
    # The question box has a label; the send button is a real button reached with Tab.
    assert page.locator("label[for=question]").count() == 1
    page.keyboard.press("Tab")
    expect(page.locator("#send")).to_be_focused()
    assert page.locator("#send").evaluate("b => b.tagName") == "BUTTON"

    box.fill(COUNTED)
    page.locator("#send").press("Enter")
    wait_for_answer(page)
    marker = page.locator(".cite-marker").first
    marker.focus()
    page.keyboard.press("Enter")
    n = marker.get_attribute("data-n")
    expect(page.locator(f'.citation-card[data-n="{n}"] .card-title')).to_be_focused()
    page.keyboard.press("Enter")  # the focused card title opens the article
    expect(page.locator("#article-panel")).to_be_visible()
    expect(page.locator("#cited-span")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#article-panel")).to_be_hidden()
    expect(page.locator(f'.citation-card[data-n="{n}"] .card-title')).to_be_focused()
    # A visible focus outline on the focused button.
    outline = page.locator(f'.citation-card[data-n="{n}"] .card-title').evaluate(
        "b => getComputedStyle(b).outlineStyle")
    assert outline != "none"


def test_filters_are_sent_with_the_question(page: Page, live_server: str):
    accounts = httpx.get(live_server + "/api/stats", timeout=30).json()["accounts"]
    assert accounts
    page.locator("#filters summary").click()
    expect(page.locator("#account option")).to_have_count(len(accounts) + 1)
    page.locator("#date-from").fill("2026-02-01")
    page.locator("#date-to").fill("2026-02-06")
    page.locator("#account").select_option(accounts[0])
    expect(page.locator("#filter-summary")).to_contain_text("3")
    with page.expect_request("**/api/ask") as req:
        ask(page, ANSWERABLE)
    sent = req.value.post_data_json
    assert sent["filters"] == {"date_from": "2026-02-01", "date_to": "2026-02-06", "account": accounts[0]}
    wait_for_answer(page)
    dates = page.locator(".turn .citation-card time").all_text_contents()
    assert dates and all("2026-02-01" <= d <= "2026-02-06" for d in dates)
    expect(page.locator(".turn .q-filters")).to_contain_text("2026-02-01")

    # Dates the wrong way round: the server's 422 is explained in the page's words, from its code and ctx.
    page.locator("#date-from").fill("2026-02-09")
    with page.expect_response("**/api/ask") as res:
        ask(page, COUNTED)
    assert res.value.status == 422
    assert [(e["code"], e["ctx"]) for e in res.value.json()["errors"]] == [
        ("date_order", {"date_from": "2026-02-09", "date_to": "2026-02-06"})]
    error = page.locator(".error")
    expect(error).to_contain_text("问题没有提交成功")
    expect(error).to_contain_text("起始日期（2026-02-09）晚于截止日期（2026-02-06），请调整筛选条件。")
    expect(page.locator("#question")).to_have_value(COUNTED)
    expect(page.locator(".turn")).to_have_count(1)
    page.locator("#lang-toggle").click()
    expect(error).to_contain_text(
        "The start date (2026-02-09) is after the end date (2026-02-06); please adjust the filters.")
    expect(error).not_to_contain_text("起始日期")


def test_example_chips_and_the_counter_limit_come_from_the_server_config(page: Page, config: dict):
    chips = page.locator("#examples .example")
    assert config["examples"]["zh"] and config["examples"]["en"]
    expect(chips).to_have_text(config["examples"]["zh"])
    page.locator("#lang-toggle").click()
    expect(chips).to_have_text(config["examples"]["en"])
    page.locator("#lang-toggle").click()
    expect(chips).to_have_text(config["examples"]["zh"])

    # The counter appears near the server's limit, and names it.
    limit = config["max_query_chars"]
    near = "问" * (limit * 9 // 10)
    page.locator("#question").fill(near)
    expect(page.locator("#char-count")).to_have_text(f"{len(near)} / {limit} 字")
    expect(page.locator("#char-count")).not_to_have_class(re.compile(r"\bover\b"))
    page.locator("#question").fill("")
    expect(page.locator("#char-count")).to_have_text("")

    # A chip asks its question, and nothing else: no top_k or other constant copied from the server.
    first = config["examples"]["zh"][0]
    with page.expect_request("**/api/ask") as req:
        chips.first.click()
    assert req.value.post_data_json == {"question": first, "stream": True}
    wait_for_answer(page)
    expect(page.locator(".turn .q-text")).to_have_text(first)
    expect(page.locator("#intro")).to_be_hidden()


def test_every_quoted_span_is_marked_in_its_card_and_in_the_article(page: Page, live_server: str):
    api = api_ask(live_server, MULTI_QUOTE)
    assert not api["abstained"]
    assert max(len(c["highlights"]) for c in api["citations"]) >= 2, "one passage is quoted twice"
    ask(page, MULTI_QUOTE)
    wait_for_answer(page)

    def check_cards() -> None:
        turn = page.locator(".turn").first
        expect(turn.locator(".citation-card")).to_have_count(len(api["citations"]))
        for c in api["citations"]:
            card = turn.locator(f'.citation-card[data-n="{c["n"]}"]')
            spans = sorted(c["highlights"])
            assert card.locator(".passage").text_content() == c["text"]
            assert marked_spans(card) == spans, f"every span of [{c['n']}] is marked, at its offsets"
            assert card.locator(".passage mark").all_text_contents() == [c["text"][s:e] for s, e in spans]

    check_cards()
    page.reload()  # rebuilt from localStorage: the same marks
    check_cards()

    # In the article, the quoted sentences are marked inside the cited span.
    twice = next(c for c in api["citations"] if len(c["highlights"]) >= 2)
    page.locator(f'.turn .citation-card[data-n="{twice["n"]}"] .card-title').click()
    expect(page.locator("#cited-span")).to_have_text(twice["text"])
    quotes = [twice["text"][s:e] for s, e in sorted(twice["highlights"])]
    assert page.locator("#cited-span .quoted").all_text_contents() == quotes
    page.keyboard.press("Escape")
    expect(page.locator("#article-panel")).to_be_hidden()


def test_a_card_for_an_article_with_no_body_says_so_instead_of_an_empty_passage(page: Page, live_server: str):
    api = api_ask(live_server, TITLE_ONLY)
    empty = [c for c in api["citations"] if not c["text"]]
    assert empty, "the title-only article is cited"
    ask(page, TITLE_ONLY)
    wait_for_answer(page)
    for c in api["citations"]:
        card = page.locator(f'.turn .citation-card[data-n="{c["n"]}"]')
        if c["text"]:
            expect(card.locator(".passage-empty")).to_have_count(0)
        else:
            expect(card.locator(".passage")).to_have_count(0)
            expect(card.locator(".passage-empty")).to_have_text("这篇文章除标题外没有正文，请阅读原文。")


def test_citations_with_distinct_chunk_ids_stay_distinct_in_stored_turns(page: Page, live_server: str):
    ask(page, ANSWERABLE)
    wait_for_answer(page)
    # The ids the API sends for this question (the browser cannot hand back a streamed body): strings of digits.
    ids = [c["chunk_id"] for c in api_ask(live_server, ANSWERABLE)["citations"]]
    assert all(isinstance(i, str) and i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)
    # Ids of chunks of one article differ in their low bits: as JavaScript numbers two of these are equal.
    assert len({float(i) for i in ids}) < len(ids), "the answer cites two ids that a JS number would merge"

    def stored_ids(turn: int) -> list:
        return [c["chunk_id"] for c in stored_turns(page)[turn]["response"]["citations"]]

    def shown_ids(turn: int) -> list:
        return page.locator(".turn").nth(turn).locator(".citation-card").evaluate_all(
            "cs => cs.map(c => c.dataset.chunkId)")

    raw = page.evaluate("localStorage.getItem('policy-rag.turns.v1')")
    assert all(f'"chunk_id":"{i}"' in raw for i in ids), "stored as the same strings the API sent"
    assert stored_ids(0) == ids
    assert shown_ids(0) == [str(i) for i in ids]
    # Read back from storage and saved again with a second turn: still exact.
    page.reload()
    expect(page.locator(".turn")).to_have_count(1)
    assert shown_ids(0) == [str(i) for i in ids]
    ask(page, COUNTED)
    wait_for_answer(page, 2)
    assert stored_ids(0) == ids
    assert len(set(stored_ids(1))) == len(stored_ids(1))


def test_turns_stored_by_the_previous_page_still_show(page: Page, live_server: str):
    """The old page stored one ``highlight`` span (or null) per citation, and chunk ids as JS numbers."""
    api = api_ask(live_server, COUNTED)
    assert any(c["highlights"] for c in api["citations"])
    citations = []
    for c in api["citations"]:
        old = {k: v for k, v in c.items() if k != "highlights"}
        old["chunk_id"] = int(float(c["chunk_id"]))  # what a JavaScript number kept of it
        old["highlight"] = list(c["highlights"][0]) if c["highlights"] else None
        citations.append(old)
    response = {k: v for k, v in api.items() if k != "citations"} | {"citations": citations}
    turn = {"id": "oldturn1", "question": COUNTED, "filters": None, "response": response}
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", ["policy-rag.turns.v1", json.dumps([turn])])
    page.reload()

    expect(page.locator(".turn")).to_have_count(1)
    expect(page.locator(".turn .q-text")).to_have_text(COUNTED)
    expect(page.locator("#intro")).to_be_hidden()
    for c in api["citations"]:
        card = page.locator(f'.turn .citation-card[data-n="{c["n"]}"]')
        expected = [list(c["highlights"][0])] if c["highlights"] else []
        assert marked_spans(card) == expected, f"the old highlight of [{c['n']}] is marked"
    page.locator(".turn .cite-marker").first.click()
    expect(page.locator(".turn .citation-card.flash")).to_have_count(1)

    # The next save writes it in the current shape.
    page.locator("#clear").click()
    page.locator("#undo-clear").click()
    expect(page.locator(".turn")).to_have_count(1)
    saved = stored_turns(page)[0]["response"]["citations"]
    assert all("highlight" not in c for c in saved)
    assert [c["highlights"] for c in saved] == [c["highlights"][:1] for c in api["citations"]]


def test_phone_layout_has_no_horizontal_scroll(phone: Page, unanswerable: str):
    page = phone
    assert no_horizontal_scroll(page) <= PHONE["width"]
    shot(page, "empty-phone.png")
    ask(page, ANSWERABLE)
    wait_for_answer(page)
    ask(page, unanswerable)
    wait_for_answer(page, 2)
    assert no_horizontal_scroll(page) <= PHONE["width"]
    page.locator(".turn").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "answer-phone.png")
    # Every card fits the screen.
    widest = page.locator(".citation-card").evaluate_all(
        "cs => Math.max(...cs.map(c => c.getBoundingClientRect().right))")
    assert widest <= PHONE["width"]

    page.locator(".turn").first.locator(".citation-card").first.locator(".card-title").click()
    panel = page.locator("#article-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#cited-span")).to_be_in_viewport()
    box = panel.bounding_box()
    assert box["width"] <= PHONE["width"]
    assert no_horizontal_scroll(page) <= PHONE["width"]
    shot(page, "article-phone.png")
    page.locator("#article-close").click()
    expect(panel).to_be_hidden()

    page.locator("#question").fill("请问" + "公积金" * 400)
    page.locator("#send").click()
    expect(page.locator(".error")).to_be_visible()
    assert no_horizontal_scroll(page) <= PHONE["width"]
    shot(page, "error-phone.png")


def test_the_page_shows_the_date_read_and_an_english_questions_chinese_terms(page: Page):
    ask(page, "When does the Spring Festival highway toll exemption start?")
    wait_for_answer(page)
    line = page.locator(".turn [data-testid=interpretation]")
    expect(line).to_contain_text("Spring Festival")
    expect(line).to_contain_text("春节")
    ask(page, "天津地铁8号线有什么进展？")
    wait_for_answer(page, turns=2)
    # A Chinese question without a date: nothing to explain.
    expect(page.locator(".turn").nth(1).locator("[data-testid=interpretation]")).to_have_count(0)


def test_a_follow_up_is_read_with_the_question_before_it_and_says_so(page: Page):
    ask(page, "汽车以旧换新补贴多少钱？")
    wait_for_answer(page)
    ask(page, "那手机呢？")
    wait_for_answer(page, turns=2)
    second = page.locator(".turn").nth(1)
    expect(second.locator("[data-testid=answer]")).to_contain_text("500元")
    expect(second.locator("[data-testid=interpretation]")).to_contain_text("接上文：汽车、以旧换新、补贴（多少钱）")
    # The first question stood on its own: nothing to explain.
    expect(page.locator(".turn").first.locator("[data-testid=interpretation]")).to_have_count(0)
    # After clearing, the same words start a new conversation: nothing is carried over.
    page.locator("#clear").click()
    ask(page, "那手机呢？")
    wait_for_answer(page)
    expect(page.locator(".turn [data-testid=interpretation]")).to_have_count(0)


def test_an_answer_shows_its_confidence_and_a_doubtful_one_says_to_check_the_sources(page: Page, uncertain: str):
    ask(page, COUNTED)
    wait_for_answer(page)
    first = page.locator(".turn").first
    expect(first.locator(".answer-meta")).to_contain_text(re.compile(r"把握 \d+%"))
    expect(first.locator("[data-testid=caution]")).to_have_count(0)
    ask(page, uncertain)
    wait_for_answer(page, turns=2)
    caution = page.locator(".turn").nth(1).locator("[data-testid=caution]").first
    expect(caution).to_be_visible()
    expect(caution).to_contain_text("把握不大")
    caution.scroll_into_view_if_needed()
    shot(page, "low-confidence.png")


def test_an_answer_says_which_terms_of_the_question_no_source_mentions(page: Page):
    # The toll exemption is for small passenger cars; no article mentions motorcycles, and the page says so.
    ask(page, "摩托车春节走高速免费吗？")
    wait_for_answer(page)
    note = page.locator(".turn [data-testid=caution]", has_text="没有提到")
    expect(note).to_contain_text("找到的段落没有提到：摩托车")
    ask(page, COUNTED)  # an answer that covers the whole question has no such note
    wait_for_answer(page, turns=2)
    expect(page.locator(".turn").nth(1).locator("[data-testid=caution]")).to_have_count(0)


def test_the_page_has_words_for_every_error_code_the_server_sends_in_both_languages():
    from api.app import STATIC
    from api.errors import CODES

    i18n = STATIC.joinpath("js", "i18n.js").read_text(encoding="utf-8")
    blocks = re.findall(r"\n    errors: \{\n(.*?)\n    \},", i18n, re.S)  # one per language
    assert len(blocks) == 2
    for block in blocks:
        named = set(re.findall(r"^\s+(\w+): \[", block, re.M))
        assert set(CODES) <= named, set(CODES) - named
