"""Embedding speed and parity per precision: query ms, passages/s, cosine to fp32; `python -m embeddings.bench`."""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings.backends import TorchBackend, cpu_flags, cpu_info, int8_times_int8_exact, physical_cores
from embeddings.config import PRECISIONS, EmbeddingSettings
from embeddings.embedder import Embedder
from embeddings.loader import load_embedder
from embeddings.samples import corpus_articles, varied_strings

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

# Batch shapes the sweep tries: (batch_size, batch_tokens); batch_tokens 0 = no token cap.
SWEEP = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (32, 128), (32, 256), (32, 512), (32, 1024)]


def corpus_passages(corpus: Path, n: int, length: int = 300, seed: int = 0) -> list[str]:
    """``n`` windows of ``length`` characters (whitespace collapsed) from the corpus JSON files (synthetic if none)."""
    texts = [" ".join(t.split()) for t in corpus_articles(corpus)]
    texts = [t for t in texts if len(t) >= length] or ["".join(QUERIES) * 4]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(texts)
        i = rng.randrange(len(t) - length + 1)
        out.append(t[i : i + length])
    return out


def time_queries(emb: Embedder, queries: list[str], warmup: int = 5) -> list[float]:
    """Milliseconds to embed each query on its own."""
    for q in queries[:warmup]:
        emb.encode_queries([q])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        emb.encode_queries([q])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure_passages(emb: Embedder, passages: list[str]) -> tuple[float, float]:
    """(passages per second, passages per CPU-second of this process) for one encode_passages call.

    The second figure is what a busy machine distorts least: other processes take wall time from
    us but not (much) CPU time. Times the number of cores it approximates the passages/s of an idle
    machine when the cores work in parallel (as concurrent batches do).
    """
    emb.encode_passages(passages[:4], progress=False)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    emb.encode_passages(passages, progress=False)
    return len(passages) / (time.perf_counter() - t0), len(passages) / (time.process_time() - c0)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two arrays of unit vectors."""
    return np.sum(a * b, axis=1)


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


def machine_summary() -> list[str]:
    """Lines describing the CPU and runtime, so figures from different machines can be told apart."""
    flags = cpu_flags()
    model = cpu_info().get("model name") or platform.processor() or "unknown CPU"
    wanted = ("avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_int8", "amx_bf16")
    isa = " ".join(f"{f}{'+' if f in flags else '-'}" for f in wanted) if flags else "flags unknown"
    if flags and not int8_times_int8_exact():
        isa += " (int8 runs widened to uint8 weights)"
    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = "not installed"
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return [
        f"cpu: {model}; {isa}",
        f"cores: {usable} usable, {physical_cores()} physical; onnxruntime {ort_version}; numpy {np.__version__}",
    ]


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews every figure)."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _rounds(runs: list[tuple[str, Embedder]], repeats: int, measure: Callable[[Embedder], object]) -> dict[str, list]:
    """``measure`` each embedder ``repeats`` times, round-robin, so load changes hit all of them alike."""
    results: dict[str, list] = {label: [] for label, _ in runs}
    for _ in range(repeats):
        for label, emb in runs:
            results[label].append(measure(emb))
    return results


def main(argv: list[str] | None = None) -> None:
    """Print, for every precision: query latency, passages/s and cosine parity to fp32 (optionally torch too)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="model name or folder (default: the configured one)")
    parser.add_argument("--corpus", type=Path, default=Path("data"), help="corpus JSON file or folder (default: data)")
    parser.add_argument("--passages", type=int, default=128, help="number of passages per timing")
    parser.add_argument("--length", type=int, default=300, help="characters per passage (default 300)")
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds per precision (medians are reported)")
    parser.add_argument("--parity", type=int, default=1000, help="strings for the cosine-to-fp32 check (0 = skip)")
    parser.add_argument(
        "--precisions", default=",".join(PRECISIONS), help=f"comma-separated subset of {','.join(PRECISIONS)}"
    )
    parser.add_argument("--sweep", action="store_true", help="also sweep batch shapes for the configured precision")
    parser.add_argument("--torch", action="store_true", help="also measure the sentence-transformers (torch) path")
    args = parser.parse_args(argv)

    config = bench_config(args.model)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    if "fp32" not in precisions and args.parity:
        precisions.insert(0, "fp32")  # the parity reference
    passages = corpus_passages(args.corpus, args.passages, args.length)
    print(*machine_summary(), sep="\n")
    print(f"load average at start: {load_average()}")

    runs: list[tuple[str, Embedder]] = []
    for precision in precisions:
        t0 = time.perf_counter()
        emb = load_embedder(config.model_copy(update={"precision": precision}))
        seconds = time.perf_counter() - t0
        label = precision if emb.precision == precision else f"{precision}->{emb.precision}"
        runs.append((label, emb))
        engine = emb.engine
        source = getattr(engine, "graph", emb.path)
        threads = getattr(engine, "threads", config.threads or "default")
        print(f"[{label}] {emb.name} ({emb.backend}) loaded in {seconds:.1f} s from {source}; threads {threads}")
    first = runs[0][1]
    if args.torch and first.backend != TorchBackend.name:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(first.path, device=config.device, local_files_only=True)
        runs.append(("torch", Embedder(first.name, first.path, TorchBackend(st), first.prompts,
                                      batch_size=config.batch_size)))
    print(
        f"batch size {config.batch_size}, batch tokens {config.batch_tokens or 'unlimited'}; {len(QUERIES)} queries "
        f"and {len(passages)} x {args.length}-character passages per round, {args.repeats} rounds"
    )

    # Warm every session (first runs allocate and prepack), then time round-robin.
    for _, emb in runs:
        emb.encode_queries(QUERIES[:3])
        emb.encode_passages(passages[:8], progress=False)
    query_ms = {
        k: [t for r in v for t in r] for k, v in _rounds(runs, args.repeats, lambda e: time_queries(e, QUERIES)).items()
    }
    measured = _rounds(runs, args.repeats, lambda e: measure_passages(e, passages))
    pps = {k: [wall for wall, _ in v] for k, v in measured.items()}
    per_cpu = {k: [cpu for _, cpu in v] for k, v in measured.items()}

    parity: dict[str, np.ndarray] = {}
    if args.parity:
        strings = varied_strings(args.corpus, args.parity)
        ref = dict(runs)["fp32"].encode_passages(strings, progress=False)
        for label, emb in runs:
            parity[label] = cosines(emb.encode_passages(strings, progress=False), ref)

    print(f"load average at end: {load_average()}")
    print()
    header = (
        f"{'precision':<10} {'query p50 ms':>12} {'p95 ms':>8} {'passages/s':>11} {'(min-max)':>13} "
        f"{'per CPU-s':>10} {'cos mean':>9} {'cos min':>8} {'cos p1':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, _ in runs:
        ms, rates = query_ms[label], pps[label]
        cos = parity.get(label)
        cos_txt = f"{cos.mean():>9.5f} {cos.min():>8.5f} {np.percentile(cos, 1):>8.5f}" if cos is not None else ""
        spread = f"({min(rates):.1f}-{max(rates):.1f})"
        print(
            f"{label:<10} {statistics.median(ms):>12.2f} {np.percentile(ms, 95):>8.2f} "
            f"{statistics.median(rates):>11.1f} {spread:>13} {statistics.median(per_cpu[label]):>10.1f} {cos_txt}"
        )
    print(
        "(medians over the rounds; per CPU-s = passages per CPU-second of this process: on a busy machine, "
        "cores x that approximates an idle machine's passages/s)"
    )
    if parity:
        print(f"(cosine to fp32 over {args.parity} varied strings, embedded as passages)")

    if args.sweep:
        sweep(config, passages, args.repeats, args.length)


def sweep(config: EmbeddingSettings, passages: list[str], repeats: int, length: int = 300) -> None:
    """Passages/s of the configured precision for each batch shape in SWEEP, one batch at a time vs concurrently."""
    from embeddings.backends import OnnxBackend

    emb = load_embedder(config)
    engine = emb.engine
    if not isinstance(engine, OnnxBackend):
        print("(the batch sweep needs the ONNX Runtime backend)")
        return
    print()
    print(f"batch sweep, {emb.precision}, {len(passages)} x {length}-character passages, median of {repeats}:")
    print(
        f"{'batch size':>10} {'batch tokens':>12} {'batches':>8} {'concurrent/s':>13} {'per CPU-s':>10} "
        f"{'one at a time/s':>16} {'per CPU-s':>10}"
    )
    lengths = [n + engine.n_special for n in engine.content_lengths([emb.prompts["passage"] + p for p in passages])]
    for batch_size, batch_tokens in SWEEP:
        engine.batch_tokens = batch_tokens
        emb.batch_size = batch_size
        cells = []
        for concurrent, width in ((True, 13), (False, 16)):
            engine.concurrent = concurrent
            runs = [measure_passages(emb, passages) for _ in range(repeats)]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            cells.append(f"{wall:>{width}.1f} {cpu:>10.1f}")
        n_batches = len(engine.plan_batches(lengths, batch_size))
        print(f"{batch_size:>10} {batch_tokens or '-':>12} {n_batches:>8} {cells[0]} {cells[1]}")
    engine.concurrent = True


if __name__ == "__main__":
    main()
