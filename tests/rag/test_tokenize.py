"""Lexical tokens: domain terms stay whole, document numbers are one token, stop words go."""

from __future__ import annotations

import pytest

from rag.tokenize import MAX_QUERY_CHARS, SPECIALISED, specificity, text_problem, tokenize


def test_domain_terms_from_the_user_dictionary_are_tokens():
    tokens = tokenize("今年民心工程包含66项，以旧换新补贴来了，公积金贷款额度提高，补贴多久能到账")
    for term in ("民心工程", "以旧换新", "公积金", "公积金贷款", "到账"):
        assert term in tokens


def test_document_numbers_are_kept_whole():
    assert "津政发〔2026〕3号" in tokenize("根据津政发〔2026〕3号文件")


def test_stop_words_and_punctuation_are_dropped_and_english_is_lowercased():
    tokens = tokenize("的 了 。，！ What is the Housing Fund?")
    assert tokens == ["housing", "fund"]


def test_empty_text_has_no_tokens():
    assert tokenize("") == [] and tokenize("   ，。") == []


@pytest.mark.parametrize(("text", "code"), [
    ("  ", "empty"), ("问" * (MAX_QUERY_CHARS + 1), "too_long"), ("地铁\ud800", "invalid_unicode"),
    ("？？？", "no_words"), ("!!!", "no_words"), ("地铁8号线", None), ("Line 8", None), ("８", None),
])
def test_what_cannot_be_searched_for_is_refused_with_a_stable_code(text, code):
    problem = text_problem(text, "question")
    assert (problem.code if problem else None) == code
    if problem:
        assert problem.message.startswith("the question ") and "{" not in problem.message


def test_a_verb_with_its_result_is_as_everyday_as_the_verb():
    """关掉, 办完, 送到 are rarer words than 关, 办, 送, not more specialised: a question says them where an
    article says 暂停 or 办理, and their absence from the articles is no sign the articles lack the asked detail."""
    for compound in ("关掉", "办完", "送到", "卖到", "改成"):
        assert specificity(compound) < SPECIALISED, compound
    assert specificity("罚息") >= SPECIALISED and specificity("容积率") >= SPECIALISED
