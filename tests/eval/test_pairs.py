"""Two unrelated questions in one message (eval.pairs): the joining is judged as the spec says, and the share
handled right on the bundled gold set does not regress (gate)."""

from __future__ import annotations

import json

import pytest

from eval.pairs import KINDS, joined, right, score
from eval.run import GoldQuestion, load_gold
from rag.records import Answer
from tests.conftest import ROOT

BASELINE = json.loads((ROOT / "eval" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.02  # tests/eval/test_eval.py's: a mean over four kinds of 30 pairs moves 0.008 per pair

STATIONS = GoldQuestion("a", "地铁8号线有多少座车站？", "zh", ("x",), ("共设车站21座",), "fact", "easy")
ZOO = GoldQuestion("u", "天津动物园几点开门？", "zh", ("y",), (), "unanswerable", "easy")


def answer(text: str, *, abstained: bool = False, cautions: tuple[str, ...] = ()) -> Answer:
    return Answer(question="…", answer=text, abstained=abstained, confidence=0.9, cautions=list(cautions),
                  language="zh", citations=[])


def test_an_answered_and_an_unanswered_question_need_the_answer_and_a_caution_naming_the_other():
    quoted = "线路全长约23公里，共设车站21座。[1]"
    assert right("answerable+unanswerable", STATIONS, ZOO,
                 answer(quoted, cautions=("这一问可能没有得到回答：“天津动物园几点开门？”",)))
    assert not right("answerable+unanswerable", STATIONS, ZOO, answer(quoted))  # silent on the zoo
    assert not right("answerable+unanswerable", STATIONS, ZOO,
                     answer(quoted, cautions=("这一问可能没有得到回答：“票价多少钱？”",)))  # names another question
    assert not right("answerable+unanswerable", STATIONS, ZOO, answer("现有文章没有回答这个问题。", abstained=True))
    assert right("unanswerable+unanswerable", ZOO, ZOO, answer("现有文章没有回答这个问题。", abstained=True))


def test_two_questions_are_joined_one_after_the_other_or_run_together_with_a_comma():
    assert joined("天津动物园几点开门？", "地铁8号线有多少座车站？", english=False, comma=False) == (
        "天津动物园几点开门？地铁8号线有多少座车站？")
    assert joined("天津动物园几点开门？", "地铁8号线有多少座车站？", english=False, comma=True) == (
        "天津动物园几点开门，地铁8号线有多少座车站？")
    assert joined("When does it open?", "How much is it?", english=True, comma=True) == (
        "When does it open, and how much is it?")


@pytest.mark.gate
@pytest.mark.parametrize(("lang", "comma"), [("zh", False), ("en", False), ("zh", True), ("en", True)])
def test_pairs_handled_right_do_not_regress(service, lang, comma):
    figures = score(service, load_gold(ROOT / "eval" / "gold.jsonl"), lang=lang, comma=comma)
    assert set(figures) == set(KINDS)
    mean = sum(figures.values()) / len(figures)
    recorded = BASELINE["pairs_comma" if comma else "pairs"][lang]
    assert mean >= recorded - TOLERANCE, f"{lang} pairs handled right fell to {mean:.3f}: {figures}"
