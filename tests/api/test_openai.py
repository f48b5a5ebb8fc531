"""The OpenAI-compatible endpoints, through the official ``openai`` SDK against the real server."""

from __future__ import annotations

import httpx
import openai
import pytest

from rag.records import cited_numbers

QUESTION = "今年民心工程有多少项？"
# Two-turn conversations on the gold set's topics: the follow-up alone does not find the article; resolved
# against the first question it does (checked below through the API, both ways).
FOLLOW_UPS = [
    ("今年民心工程有多少项？", "那明年呢？", "2247552999_1"),
    ("天津地铁8号线有什么进展？", "什么时候通车？", "2247553120_1"),
    ("春节开车走高速免费吗？", "货车呢？", "2247553250_1"),
    ("Is the expressway free during the Spring Festival?", "For how many days?", "2247553250_1"),
    ("What progress has Tianjin Metro Line 8 made?", "When will it open?", "2247553120_1"),
]


@pytest.fixture(scope="module")
def client(live_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=live_server + "/v1", api_key="any key", max_retries=0, timeout=60)


def test_models_lists_policy_rag(client):
    assert [m.id for m in client.models.list()] == ["policy-rag"]
    assert client.models.retrieve("policy-rag").id == "policy-rag"


def test_a_chat_completion_is_the_cited_answer_with_its_sources_as_text_and_data(client, live_server):
    r = client.chat.completions.create(model="policy-rag", messages=[{"role": "user", "content": QUESTION}],
                                       temperature=0.2, top_p=0.9, user="someone", max_tokens=300,
                                       presence_penalty=0, seed=1)  # common parameters: accepted, ignored
    content = r.choices[0].message.content
    assert r.choices[0].message.role == "assistant" and r.choices[0].finish_reason == "stop"
    api = httpx.post(live_server + "/api/ask", json={"question": QUESTION}, timeout=60).json()
    assert content.startswith(api["answer"]) and "66" in content
    # The sources as readable text: numbered, with title, date and link.
    cited = sorted(cited_numbers(api["answer"]))
    assert "\n\n来源：\n" in content
    for n in cited:
        c = api["citations"][n - 1]
        assert f"- [{n}] {c['title']} · {c['date']} · {c['url']}" in content
    # And as data, the same records /api/ask returns.
    extra = r.model_extra
    assert extra["citations"] == api["citations"]
    assert extra["rag"]["abstained"] is False and extra["rag"]["generator"] == "extractive"
    # A single question stands alone: nothing to read it against, as /api/ask says without a history.
    assert extra["rag"]["question"] == QUESTION and extra["rag"]["conversation"] is None


def test_a_streamed_chat_completion_ends_with_done(client, live_server):
    chunks = list(client.chat.completions.create(model="policy-rag", stream=True,
                                                 messages=[{"role": "user", "content": QUESTION}]))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].model_extra["citations"], "the citations come first"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["rag"]["abstained"] is False
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    whole = client.chat.completions.create(model="policy-rag", messages=[{"role": "user", "content": QUESTION}])
    assert text == whole.choices[0].message.content
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]
    # On the wire the stream ends with the OpenAI terminator.
    with httpx.stream("POST", live_server + "/v1/chat/completions", timeout=60, json={
            "model": "policy-rag", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
        data = [line for line in r.iter_lines() if line.startswith("data:")]
    assert data[-1] == "data: [DONE]"


def test_a_chat_client_reads_the_cautions_in_the_text_whole_or_streamed(client):
    # A chat client shows only the text: the term no source mentions is said there, before the sources.
    messages = [{"role": "user", "content": "摩托车春节走高速免费吗？"}]
    whole = client.chat.completions.create(model="policy-rag", messages=messages)
    content = whole.choices[0].message.content
    assert whole.model_extra["rag"]["cautions"], "pick a question whose answer has a caution"
    for caution in whole.model_extra["rag"]["cautions"]:
        assert f"\n\n{caution}" in content and content.index(caution) < content.index("来源：")
    streamed = client.chat.completions.create(model="policy-rag", messages=messages, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == content


def test_a_traditional_question_reads_its_cautions_and_sources_in_traditional_characters(client):
    asked = [{"role": "user", "content": "摩托車春節走高速免費嗎？"}]
    r = client.chat.completions.create(model="policy-rag", messages=asked)
    content = r.choices[0].message.content
    assert "找到的段落沒有提到：摩托車" in content and "\n\n來源：\n" in content and "来源" not in content


def test_usage_counts_the_tokens_read_and_written_whole_or_streamed(client, embedder):
    whole = client.chat.completions.create(model="policy-rag", messages=[{"role": "user", "content": QUESTION}])
    content = whole.choices[0].message.content
    # Counted by the tokenizer of the model that reads the question: the one this service runs.
    assert whole.usage.prompt_tokens == embedder.count_tokens(QUESTION, as_passage=False) > 0
    assert whole.usage.completion_tokens == embedder.count_tokens(content, as_passage=False) > 0
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    # Streamed, as OpenAI does with stream_options.include_usage: one more chunk, with no choices, after the stop.
    chunks = list(client.chat.completions.create(model="policy-rag", stream=True, messages=[
        {"role": "user", "content": QUESTION}], stream_options={"include_usage": True}))
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-1].choices == []
    assert chunks[-1].usage == whole.usage and all(c.usage is None for c in chunks[:-1])
    plain = list(client.chat.completions.create(model="policy-rag", stream=True,
                                                messages=[{"role": "user", "content": QUESTION}]))
    assert all(c.usage is None for c in plain) and plain[-1].choices[0].finish_reason == "stop"
    # The earlier questions a follow-up is read against are read too.
    follow = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": QUESTION}, {"role": "user", "content": "那明年呢？"}])
    then = embedder.count_tokens("那明年呢？", as_passage=False)
    assert follow.usage.prompt_tokens == whole.usage.prompt_tokens + then


def test_english_questions_get_english_source_headings(client):
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": "When will Tianjin Metro Line 8 open?"}])
    assert "\n\nSources:\n- [" in r.choices[0].message.content


def test_an_abstention_lists_the_closest_passages(client):
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": "火星上有多少个足球场？"}])
    if not r.model_extra["rag"]["abstained"]:
        pytest.fail("the service no longer abstains on this off-topic question; choose another")
    assert "最接近的段落：" in r.choices[0].message.content


@pytest.mark.parametrize(("first", "follow_up", "aid"), FOLLOW_UPS)
def test_a_follow_up_finds_the_article_of_the_conversation(client, first, follow_up, aid):
    def top_aid(messages: list[dict]) -> str:
        r = client.chat.completions.create(model="policy-rag", messages=messages)
        return r.model_extra["citations"][0]["aid"]

    assert top_aid([{"role": "user", "content": follow_up}]) != aid, "alone, the follow-up misses the article"
    conversation = [
        {"role": "system", "content": "You are a helpful assistant."},  # clients send one; it is ignored
        {"role": "user", "content": first},
        {"role": "assistant", "content": "（上一轮的回答）"},
        {"role": "user", "content": follow_up},
    ]
    assert top_aid(conversation) == aid


def test_the_readmes_conversation_is_answered_with_the_asked_period(client):
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": "春节开车走高速免费吗？"}, {"role": "assistant", "content": "…"},
        {"role": "user", "content": "什么时间段免费？"}])
    rag = r.model_extra["rag"]
    assert rag["conversation"]["carried"] == ["春节", "开车", "高速"] and not rag["abstained"]
    assert "2月15日00:00至2月23日24:00" in r.choices[0].message.content


def test_a_follow_up_that_swaps_the_thing_asked_about_is_answered_for_it(client):
    # 那手机呢？ asks what the car question asked (多少钱): the phones' cap, not a sentence about cars.
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": "汽车以旧换新补贴多少钱？"}, {"role": "user", "content": "那手机呢？"}])
    assert r.model_extra["rag"]["conversation"]["asking"] == "多少钱" and not r.model_extra["rag"]["abstained"]
    assert "不超过500元" in r.choices[0].message.content


def test_content_given_as_parts_is_read(client):
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]}])
    assert "66" in r.choices[0].message.content


def test_errors_from_the_server_itself_are_openai_error_objects_too(live_server):
    # Raised before any route runs (the body's size, the Host header), or about the body as a whole.
    url = f"{live_server}/v1/chat/completions"
    cases = [(httpx.post(url, content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"}),
              413, "body_too_large"),
             (httpx.get(f"{live_server}/v1/models", headers={"host": "evil.example"}), 400, "host_not_allowed"),
             (httpx.post(url, content=b'{"model": "policy-rag"}', headers={"content-type": "text/plain"}), 400,
              "not_an_object"),
             (httpx.options(url), 405, "method_not_allowed")]
    for r, status, code in cases:
        assert r.status_code == status and set(r.json()) == {"error"}, r.text
        error = r.json()["error"]
        assert error["code"] == code and error["type"] == "invalid_request_error" and error["message"]
    assert "Content-Type: application/json" in cases[2][0].json()["error"]["message"]


def test_a_lone_surrogate_is_refused_as_the_api_refuses_it(live_server):
    # JSON may escape one (\\ud800); no encoder can write it, so it is refused here, not a 500 from deep inside.
    body = b'{"model": "policy-rag", "messages": [{"role": "user", "content": "\\u5730\\ud800"}]}'
    r = httpx.post(f"{live_server}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_unicode"


@pytest.mark.parametrize(("earlier", "code", "says"), [
    ("汽\\ud800", "invalid_unicode", "messages[0]: the earlier question"),  # JSON-escaped: no encoder writes it
    ("问" * 1001, "too_long", "messages[0]: the earlier question is 1001 characters long"),
])
def test_an_earlier_user_message_is_checked_as_the_question_is(live_server, earlier, code, says):
    # Read with the question, it could otherwise be what a follow-up carries, unreadable or endless.
    body = ('{"model": "policy-rag", "messages": [{"role": "user", "content": "' + earlier + '"}, '
            '{"role": "user", "content": "那手机呢？"}]}').encode()
    r = httpx.post(f"{live_server}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["param"] == "messages" and error["message"].startswith(says)


def test_an_earlier_user_message_with_no_words_is_read_past(client):
    # A chat client keeps a "👍" turn in the history it sends; the conversation goes on without it.
    r = client.chat.completions.create(model="policy-rag", messages=[
        {"role": "user", "content": "👍"}, {"role": "user", "content": QUESTION}])
    assert not r.model_extra["rag"]["abstained"] and "66" in r.choices[0].message.content
    assert r.model_extra["rag"]["conversation"] is None  # nothing was read before the question


@pytest.mark.parametrize(("request_kwargs", "status", "param", "code"), [
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}, 404, "model", "model_not_found"),
    ({"model": "policy-rag", "messages": []}, 400, "messages", "too_short"),
    ({"model": "policy-rag", "messages": [{"role": "user", "content": "   "}]}, 400, "messages", "empty"),
    ({"model": "policy-rag", "messages": [{"role": "user", "content": "？？？"}]}, 400, "messages", "no_words"),
    ({"model": "policy-rag", "messages": [{"role": "user", "content": "问" * 1001}]}, 400, "messages", "too_long"),
    ({"model": "policy-rag", "messages": [{"role": "assistant", "content": "hi"}]}, 400, "messages", "empty"),
    ({"model": "policy-rag", "messages": [{"role": "wizard", "content": "hi"}]}, 400, "messages.0.role",
     "not_allowed"),
])
def test_malformed_requests_get_openai_error_objects(client, request_kwargs, status, param, code):
    with pytest.raises(openai.APIStatusError) as e:
        client.chat.completions.create(**request_kwargs)
    assert e.value.status_code == status
    error = e.value.body
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["type"] == "invalid_request_error"  # as OpenAI says it, for a missing model too
    assert error["param"] == param and error["code"] == code


def test_errors_outside_v1_keep_the_apis_own_shape(live_server):
    r = httpx.post(live_server + "/v1/chat/completions", content=b"{not json", timeout=30,
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    assert r.json()["error"]["param"] is None  # the whole body, not a parameter (pydantic's loc says "0")
    r = httpx.get(live_server + "/v1/embeddings", timeout=30)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"
    r = httpx.post(live_server + "/api/ask", json={}, timeout=30)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request" and "error" not in r.json()


def test_filters_and_top_k_go_in_the_extra_body(client):
    r = client.chat.completions.create(model="policy-rag", messages=[{"role": "user", "content": "会议"}],
                                       extra_body={"top_k": 2, "filters": {"date_from": "2026-02-06",
                                                                            "date_to": "2026-02-06"}})
    cits = r.model_extra["citations"]
    assert len(cits) == 2 and {c["date"] for c in cits} == {"2026-02-06"}
