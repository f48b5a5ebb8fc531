"""Embedding speed: ms per single query (median, p95) and passages/s; run `python -m embeddings.bench`."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from embeddings.backends import TorchBackend
from embeddings.config import EmbeddingSettings
from embeddings.embedder import Embedder
from embeddings.loader import load_embedder

QUERIES = [
    "天津市政府工作报告",
    "京津冀协同发展最新进展",
    "市长出席廉政工作会议讲了什么",
    "2026年春节假期怎么安排",
    "滨海新区招商引资政策",
    "养老保险缴费标准是多少",
    "地铁4号线什么时候开通",
    "天津市生活垃圾分类管理条例",
    "优化营商环境的具体措施有哪些",
    "十五五规划开局之年重点任务",
    "党风廉政建设和反腐败斗争",
    "基层减负赋能",
    "财政资金管理使用要求",
    "群众身边不正之风和腐败问题集中整治",
    "天津港集装箱吞吐量",
    "新能源汽车消费补贴",
    "高校毕业生就业创业扶持政策",
    "医保异地就医直接结算",
    "公积金贷款额度",
    "冬季供暖开始时间",
    "海河沿线文旅项目",
    "天津市科技创新政策",
    "中小企业融资难题",
    "农村人居环境整治",
    "城市更新老旧小区改造",
    "安全生产专项整治三年行动",
    "空气质量PM2.5改善",
    "义务教育阶段学校招生",
    "人才引进落户条件",
    "政务服务一网通办",
    "How do I apply for a business license in Tianjin?",
    "Tianjin port container throughput 2025",
    "Beijing-Tianjin-Hebei coordinated development",
    "anti-corruption work conference",
    "housing provident fund loan limit",
    "GDP growth target",
    "new energy vehicles",
    "天津 AI 产业 发展",
    "5G基站建设数量",
    "2月9日 廉政工作会议",
    "王旭 常务副市长",
    "过紧日子 精打细算",
    "四风 顽疾",
    "政府采购 公共资源交易",
    "国有企业改革深化提升行动",
    "乡村振兴 现代农业",
    "碳达峰碳中和",
    "社区养老服务中心",
    "天津市人民政府办公厅关于印发通知",
    "消费券 发放",
]


def corpus_passages(corpus: Path, n: int, length: int = 300, seed: int = 0) -> list[str]:
    """``n`` windows of ``length`` characters from the corpus JSON files (synthetic if none)."""
    texts: list[str] = []
    files = sorted(corpus.glob("*.json")) if corpus.is_dir() else ([corpus] if corpus.is_file() else [])
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and isinstance(item.get("finalContent"), str):
                texts.append(" ".join(item["finalContent"].split()))
    texts = [t for t in texts if len(t) >= length] or ["".join(QUERIES) * 4]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(texts)
        i = rng.randrange(len(t) - length + 1)
        out.append(t[i : i + length])
    return out


def bench_queries(emb: Embedder, queries: list[str], warmup: int = 5) -> tuple[float, float]:
    """(median ms, p95 ms) to embed one query at a time."""
    for q in queries[:warmup]:
        emb.encode_queries([q])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        emb.encode_queries([q])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95


def bench_passages(emb: Embedder, passages: list[str]) -> float:
    """Passages per second for one encode_passages call over ``passages``."""
    emb.encode_passages(passages[:4], progress=False)  # warm-up
    t0 = time.perf_counter()
    emb.encode_passages(passages, progress=False)
    return len(passages) / (time.perf_counter() - t0)


def bench_config(model: str | None = None) -> EmbeddingSettings:
    """The configured EmbeddingSettings (RAG_EMBEDDING_*), with ``model`` if given and a models folder filled in."""
    config = EmbeddingSettings()
    if model:
        config = config.model_copy(update={"model": model})
    if config.models_dir is None:
        # The application fills models_dir in as RAG_HOME/models (RAG_HOME defaults to .rag in the project
        # folder); this module must not import the application's settings, so it repeats that rule,
        # relative to the working directory `python -m embeddings.bench` runs in.
        home = Path(os.environ.get("RAG_HOME") or ".rag").expanduser()
        config = config.model_copy(update={"models_dir": home / "models"})
    return config


def main(argv: list[str] | None = None) -> None:
    """Print the numbers for the active model (RAG_EMBEDDING_MODEL), optionally via torch too."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="model name or folder (default: the configured one)")
    parser.add_argument("--corpus", type=Path, default=Path("data"), help="corpus JSON file or folder (default: data)")
    parser.add_argument("--passages", type=int, default=64, help="number of 300-character passages")
    parser.add_argument("--torch", action="store_true", help="also measure the sentence-transformers (torch) path")
    args = parser.parse_args(argv)

    config = bench_config(args.model)
    t0 = time.perf_counter()
    emb = load_embedder(config)
    load_s = time.perf_counter() - t0
    passages = corpus_passages(args.corpus, args.passages)
    runs = [(emb.backend, emb)]
    if args.torch and emb.backend != TorchBackend.name:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(emb.path, device=config.device, local_files_only=True)
        runs.append(
            (
                TorchBackend.name,
                Embedder(emb.name, emb.path, TorchBackend(st), emb.prompts, batch_size=emb.batch_size),
            )
        )
    print(f"model: {emb.name}  path: {emb.path}  dim: {emb.dim}  loaded in {load_s:.1f} s")
    print(f"threads: {config.threads or 'default'}  batch size: {config.batch_size}")
    for backend, e in runs:
        med, p95 = bench_queries(e, QUERIES)
        pps = bench_passages(e, passages)
        print(
            f"[{backend}] single query: median {med:.1f} ms, p95 {p95:.1f} ms ({len(QUERIES)} queries); "
            f"passages: {pps:.1f}/s ({len(passages)} x 300 chars)"
        )


if __name__ == "__main__":
    main()
