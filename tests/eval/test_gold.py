"""Validate the hand-written gold evaluation set ``eval/gold.jsonl`` against the corpus.

Answers are checked against the article text exactly as the index stores it (``rag.corpus``), since the
evaluation looks for them in retrieved passages.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from rag.corpus import load_articles
from tests.conftest import CORPUS, ROOT

GOLD = ROOT / "eval" / "gold.jsonl"

REQUIRED_KEYS = {"id", "question", "lang", "aids", "answers", "type", "difficulty"}
LANGS = {"zh", "en"}
TYPES = {"fact", "policy", "multi", "summary", "unanswerable"}
DIFFICULTIES = {"easy", "hard"}
TAGS = {"date"}  # questions that name a date or a period

def _load_gold() -> list[dict]:
    rows = []
    for lineno, line in enumerate(GOLD.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:  # pragma: no cover - reported as a failure below
            pytest.fail(f"eval/gold.jsonl line {lineno} is not valid JSON: {e}")
    return rows


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return _load_gold()


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    return {a.aid: a.text for a in load_articles([CORPUS]).articles}


def test_every_line_is_a_json_object():
    for lineno, line in enumerate(GOLD.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"blank line {lineno} in eval/gold.jsonl"
        assert isinstance(json.loads(line), dict), f"line {lineno} is not a JSON object"


def test_required_keys_and_allowed_values(gold):
    for r in gold:
        rid = r.get("id")
        assert set(r) >= REQUIRED_KEYS, f"{rid}: missing keys {REQUIRED_KEYS - set(r)}"
        assert isinstance(rid, str) and rid, f"bad id {rid!r}"
        assert isinstance(r["question"], str) and r["question"].strip(), f"{rid}: empty question"
        assert r["lang"] in LANGS, f"{rid}: lang {r['lang']!r}"
        assert r["type"] in TYPES, f"{rid}: type {r['type']!r}"
        assert r["difficulty"] in DIFFICULTIES, f"{rid}: difficulty {r['difficulty']!r}"
        assert isinstance(r["aids"], list) and all(isinstance(a, str) for a in r["aids"]), f"{rid}: aids"
        assert isinstance(r["answers"], list) and all(isinstance(a, str) and a for a in r["answers"]), f"{rid}: answers"
        assert len(r["answers"]) <= 3, f"{rid}: more than 3 answer strings"
        assert len(set(r["aids"])) == len(r["aids"]), f"{rid}: duplicate aids"
        assert set(r.get("tags", [])) <= TAGS, f"{rid}: tags {r.get('tags')}"


def test_ids_unique(gold):
    dupes = [i for i, n in Counter(r["id"] for r in gold).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_questions_unique(gold):
    dupes = [q for q, n in Counter(r["question"].strip() for r in gold).items() if n > 1]
    assert not dupes, f"duplicate questions: {dupes}"


def test_lang_matches_question_script(gold):
    han = re.compile(r"[\u4e00-\u9fff]")
    for r in gold:
        has_han = bool(han.search(r["question"]))
        assert has_han == (r["lang"] == "zh"), f"{r['id']}: lang {r['lang']} vs question {r['question']!r}"


def test_every_aid_exists(gold, corpus):
    for r in gold:
        missing = [a for a in r["aids"] if a not in corpus]
        assert not missing, f"{r['id']}: unknown aids {missing}"


def test_every_answer_occurs_in_a_gold_article(gold, corpus):
    failures = []
    for r in gold:
        for ans in r["answers"]:
            if not any(ans in corpus[a] for a in r["aids"] if a in corpus):
                failures.append(f"{r['id']}: {ans!r}")
    assert not failures, "answers not found verbatim in their gold articles:\n" + "\n".join(failures)


def test_unanswerable_iff_empty(gold):
    for r in gold:
        if r["type"] == "unanswerable":
            assert r["aids"] == [] and r["answers"] == [], f"{r['id']}: unanswerable must have no aids/answers"
        else:
            assert r["aids"] and r["answers"], f"{r['id']}: answerable question needs aids and answers"


def test_unanswerable_questions_are_asked_in_open_form_too(gold):
    # Were every unanswerable question to ask for a typed detail (多少, 什么时候, who), a reader fitted on them would
    # learn that a question asked in open form (介绍一下, 有什么, tell me about) is answered, whatever its passages.
    from rag.query import answer_type, is_english

    open_form = [r for r in gold if r["type"] == "unanswerable"
                 and answer_type(r["question"], is_english(r["question"])) == "other"]
    assert len(open_form) >= 25, len(open_form)


def test_multi_spans_two_articles(gold, corpus):
    for r in gold:
        if r["type"] != "multi":
            continue
        assert len(r["aids"]) >= 2, f"{r['id']}: multi needs >= 2 aids"
        covered = {a for a in r["aids"] for ans in r["answers"] if ans in corpus.get(a, "")}
        assert len(covered) >= 2, f"{r['id']}: multi answers come from only {sorted(covered)}"


def test_counts(gold):
    # What the evaluation leans on: near misses for abstention and calibration, English, and dates.
    assert len(gold) >= 263, f"only {len(gold)} questions"
    types = Counter(r["type"] for r in gold)
    langs = Counter(r["lang"] for r in gold)
    assert types["unanswerable"] >= 64, types
    assert langs["en"] >= 82, langs
    assert sum("date" in r.get("tags", []) for r in gold) >= 15
    assert types["multi"] >= 1 and types["summary"] >= 1 and types["policy"] >= 1, types
