"""Answers: extractive with valid [n] markers, abstention, and the optional LLM with its fallback."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.answer import compose, score_sentences
from rag.records import Citation
from rag.sentences import split_sentences
from rag.service import RagService


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_sentences_split_on_chinese_and_english_ends():
    text = "第一句。第二句！“引号里。”Then English. 最后"
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == ["第一句。", "第二句！", "“引号里。”", "Then English.", "最后"]


class Idf:
    """Term statistics from a small table, so sentence selection is tested without a model or an index."""

    def __init__(self, table: dict[str, float]):
        self.table = table

    def idf(self, tokens):
        return [self.table.get(t, 0.0) for t in tokens]

    def documents(self) -> int:
        return 100


def cite(n: int, text: str) -> Citation:
    return Citation(n=n, chunk_id=n, aid=f"a{n}", title="t", url="u", date="2026-02-01", account="acc", text=text,
                    start=0, end=len(text), score=1.0)


def test_the_sentence_with_the_rare_question_terms_is_quoted_first():
    citations = [cite(1, "会议强调要做好工作。今年民心工程共包含66项具体工作。"), cite(2, "民心工程深受欢迎。")]
    stats = Idf({"民心": 2.0, "工程": 1.0, "多少": 0.5, "66": 3.0, "项": 0.2})
    chosen = compose(score_sentences(stats, "今年民心工程有多少项？", citations))
    assert chosen[0].text == "今年民心工程共包含66项具体工作。" and chosen[0].n == 1


def test_a_further_sentence_must_add_question_terms():
    citations = [cite(1, "公积金贷款额度提高。公积金贷款额度提高了。租房提取公积金更方便。")]
    stats = Idf({"公积金": 1.0, "贷款": 1.0, "额度": 1.0, "租房": 2.0, "提取": 2.0})
    chosen = compose(score_sentences(stats, "公积金贷款额度和租房提取", citations))
    assert [s.text for s in chosen] == ["公积金贷款额度提高。", "租房提取公积金更方便。"]


def test_an_answer_quotes_the_passages_with_valid_citation_markers(service):
    a = service.ask("今年天津民心工程一共有多少项？")
    assert not a.abstained
    assert "66" in a.answer
    ns = markers(a.answer)
    assert ns and set(ns) <= {c.n for c in a.citations}
    # Every quoted sentence is marked in its citation, and every marked span is quoted.
    quoted = [c.text[s:e] for c in a.citations for s, e in c.highlights]
    assert quoted and all(q in a.answer for q in quoted)
    assert {c.n for c in a.citations if c.highlights} == set(ns)


def test_abstains_when_the_corpus_does_not_answer_and_still_lists_passages(service):
    a = service.ask("火星上有多少个足球场？")
    assert a.abstained and "没有回答" in a.answer
    assert a.citations  # the closest passages are still shown



def test_an_abstention_answers_in_the_language_of_the_question(service):
    from rag.answer import answer

    question = "How many football pitches are there on Mars?"
    found = service.search(question)
    config = service.settings.answer.model_copy(update={"abstain_threshold": 1.0})
    a = answer(service.index(), question, found.hits, dense_margin=found.dense_margin, config=config)
    assert a.abstained and "do not answer" in a.answer and len(a.citations) == 5


class StandInLLM(BaseHTTPRequestHandler):
    """A local stand-in for an OpenAI-compatible endpoint (no LLM can run here)."""

    behaviour = "ok"
    last_request: dict | None = None

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandInLLM.last_request = body
        if StandInLLM.behaviour == "slow":
            time.sleep(2)
        if StandInLLM.behaviour == "error":
            self.send_response(500)
            self.end_headers()
            return
        content = "今年民心工程共66项[1]，覆盖业教保医等领域[2][9]。"
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def llm_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture()
def llm_service(corpus_settings, embedder, llm_url):
    s = corpus_settings.updated(answer={"llm_base_url": llm_url, "llm_model": "stand-in", "llm_timeout": 1.0})
    return RagService(s, embedder)


def test_llm_answer_keeps_valid_markers_and_drops_invented_ones(llm_service):
    StandInLLM.behaviour = "ok"
    a = llm_service.ask("今年民心工程有多少项？")
    assert a.generator == "llm" and not a.abstained
    assert markers(a.answer) == [1, 2]  # [9] names no passage
    sent = StandInLLM.last_request
    assert sent["model"] == "stand-in" and "[1]" in sent["messages"][1]["content"]


@pytest.mark.parametrize("behaviour", ["error", "slow"])
def test_llm_failure_falls_back_to_the_extractive_answer_and_says_so(llm_service, behaviour):
    StandInLLM.behaviour = behaviour
    a = llm_service.ask("今年民心工程有多少项？")
    assert a.generator == "extractive" and a.notice and "extractive" in a.notice
    assert "66" in a.answer
