"""`rag eval`: score every retrieval mode and the answers against the gold set; write reports.

Questions go through ``RagService.search`` / ``RagService.ask``, the code path of the HTTP API.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings import Embedder
from eval.metrics import (
    answer_hit_at_k,
    contains_answer,
    first_hit_rank,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from rag.settings import Settings

SEARCH_K = 10  # retrieval depth for the article metrics (@1/5/10) and AnswerHit@1/3/5
ASK_K = 5  # citations returned by /api/ask (its default)
RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answerhit@1", "answerhit@3",
                     "answerhit@5")
BREAKDOWNS = ("type", "lang", "difficulty")


@dataclass(frozen=True)
class GoldQuestion:
    """One line of eval/gold.jsonl."""

    id: str
    question: str
    lang: str
    aids: tuple[str, ...]
    answers: tuple[str, ...]
    type: str
    difficulty: str

    @property
    def answerable(self) -> bool:
        """False for the questions the corpus cannot answer."""
        return self.type != "unanswerable"


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read the gold set."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(GoldQuestion(d["id"], d["question"], d["lang"], tuple(d["aids"]), tuple(d["answers"]),
                                    d["type"], d["difficulty"]))
    return out


def evaluate_retrieval(service: Any, gold: list[GoldQuestion], mode: str) -> list[dict[str, Any]]:
    """Per-question retrieval results for one mode."""
    rows = []
    for q in gold:
        t0 = time.perf_counter()
        hits = service.search(q.question, top_k=SEARCH_K, mode=mode).hits
        ms = (time.perf_counter() - t0) * 1000
        aids = [h.aid for h in hits]
        row: dict[str, Any] = {"id": q.id, "mode": mode, "ms": ms,
                               "retrieved": [{"aid": h.aid, "start": h.start, "end": h.end, "score": h.score}
                                             for h in hits]}
        if q.answerable:
            gold_aids = set(q.aids)
            passages = [h.text for h in hits]
            row |= {
                "recall@1": recall_at_k(aids, gold_aids, 1),
                "recall@5": recall_at_k(aids, gold_aids, 5),
                "recall@10": recall_at_k(aids, gold_aids, 10),
                "mrr@10": mrr_at_k(aids, gold_aids, 10),
                "ndcg@10": ndcg_at_k(aids, gold_aids, 10),
                "answerhit@1": answer_hit_at_k(passages, q.answers, 1),
                "answerhit@3": answer_hit_at_k(passages, q.answers, 3),
                "answerhit@5": answer_hit_at_k(passages, q.answers, 5),
                "first_gold_rank": first_hit_rank(aids, gold_aids),
            }
        rows.append(row)
    return rows


def evaluate_answers(service: Any, gold: list[GoldQuestion]) -> list[dict[str, Any]]:
    """Per-question /api/ask results: does the answer (plus its first three citations) hold a gold answer?"""
    rows = []
    for q in gold:
        t0 = time.perf_counter()
        a = service.ask(q.question, top_k=ASK_K)
        ms = (time.perf_counter() - t0) * 1000
        shown = a.answer + "\n" + "\n".join(c.text for c in a.citations[:3])
        rows.append({
            "id": q.id, "ms": ms, "answer": a.answer, "abstained": a.abstained, "confidence": a.confidence,
            "correct": (not a.abstained and contains_answer(shown, q.answers)) if q.answerable else None,
            "correct_text": (not a.abstained and contains_answer(a.answer, q.answers)) if q.answerable else None,
        })
    return rows


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def summarize(gold: list[GoldQuestion], retrieval: dict[str, list[dict[str, Any]]],
              answers: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Aggregate per-question rows: overall and by type, language and difficulty."""
    by_id = {q.id: q for q in gold}

    def retrieval_block(rows: list[dict[str, Any]]) -> dict[str, float]:
        scored = [r for r in rows if by_id[r["id"]].answerable]
        block = {m: _mean(r[m] for r in scored) for m in RETRIEVAL_METRICS}
        block["n"] = len(scored)
        block["p50_ms"] = percentile([r["ms"] for r in rows], 50)
        block["p95_ms"] = percentile([r["ms"] for r in rows], 95)
        return block

    def answer_block(rows: list[dict[str, Any]]) -> dict[str, float]:
        ans = [r for r in rows if by_id[r["id"]].answerable]
        unans = [r for r in rows if not by_id[r["id"]].answerable]
        return {
            "answer_accuracy": _mean(float(r["correct"]) for r in ans),
            "answer_text_accuracy": _mean(float(r["correct_text"]) for r in ans),
            "abstain_unanswerable": _mean(float(r["abstained"]) for r in unans),
            "false_abstain": _mean(float(r["abstained"]) for r in ans),
            "n": len(rows),
            "p50_ms": percentile([r["ms"] for r in rows], 50),
            "p95_ms": percentile([r["ms"] for r in rows], 95),
        }

    out: dict[str, Any] = {"questions": len(gold), "modes": {}}
    for mode, rows in retrieval.items():
        entry = {"overall": retrieval_block(rows)}
        for dim in BREAKDOWNS:
            groups: dict[str, list] = defaultdict(list)
            for r in rows:
                groups[getattr(by_id[r["id"]], dim)].append(r)
            entry[dim] = {k: retrieval_block(v) for k, v in sorted(groups.items())}
        out["modes"][mode] = entry
    if answers is not None:
        entry = {"overall": answer_block(answers)}
        for dim in BREAKDOWNS:
            groups = defaultdict(list)
            for r in answers:
                groups[getattr(by_id[r["id"]], dim)].append(r)
            entry[dim] = {k: answer_block(v) for k, v in sorted(groups.items())}
        out["answers"] = entry
    return out


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"  # NaN → dash


def markdown(summary: dict[str, Any], command: str) -> str:
    """The report: a side-by-side table of modes, answers, and the breakdowns."""
    modes = list(summary["modes"])
    lines = [f"# Evaluation — {summary['questions']} gold questions", "", f"Command: `{command}`", "",
             "## Retrieval (answerable questions)", "",
             "| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for m in (*RETRIEVAL_METRICS, "p50_ms", "p95_ms"):
        lines.append(f"| {m} | " + " | ".join(_fmt(summary["modes"][x]["overall"][m]) for x in modes) + " |")
    if "answers" in summary:
        a = summary["answers"]["overall"]
        lines += ["", "## Answers (`/api/ask`, hybrid)", "",
                  "| answer + first 3 citations hold a gold answer | answer text alone | abstains on unanswerable "
                  "| false abstentions | p50 ms | p95 ms |",
                  "|---|---|---|---|---|---|",
                  f"| {_fmt(a['answer_accuracy'])} | {_fmt(a['answer_text_accuracy'])} "
                  f"| {_fmt(a['abstain_unanswerable'])} | {_fmt(a['false_abstain'])} "
                  f"| {a['p50_ms']:.1f} | {a['p95_ms']:.1f} |"]
    for dim in BREAKDOWNS:
        lines += ["", f"## By {dim}", "", "| " + dim + " | mode | n | recall@5 | mrr@10 | answerhit@3 |",
                  "|---|---|---|---|---|---|"]
        for mode in modes:
            for key, b in summary["modes"][mode][dim].items():
                if not b["n"]:  # e.g. unanswerable questions have no retrieval metrics
                    continue
                lines.append(f"| {key} | {mode} | {b['n']} | {_fmt(b['recall@5'])} | {_fmt(b['mrr@10'])} "
                             f"| {_fmt(b['answerhit@3'])} |")
        if "answers" in summary:
            lines += ["", f"| {dim} | answers correct | abstain (unanswerable) | false abstain |", "|---|---|---|---|"]
            for key, b in summary["answers"][dim].items():
                lines.append(f"| {key} | {_fmt(b['answer_accuracy'])} | {_fmt(b['abstain_unanswerable'])} "
                             f"| {_fmt(b['false_abstain'])} |")
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, Any], path: Path) -> None:
    """A grouped bar chart comparing the modes on the main metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answerhit@1", "answerhit@3"]
    modes = list(summary["modes"])
    fig, ax = plt.subplots(figsize=(9, 4), dpi=120)
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        vals = [summary["modes"][mode]["overall"][m] for m in metrics]
        bars = ax.bar([x + i * width for x in range(len(metrics))], vals, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(metrics))], metrics)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"Retrieval on {summary['questions']} gold questions")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(service: Any, gold: list[GoldQuestion], modes: list[str], *, answers: bool = True) -> dict[str, Any]:
    """Evaluate ``modes`` and (optionally) the answers; returns the summary plus the per-question rows."""
    retrieval = {mode: evaluate_retrieval(service, gold, mode) for mode in modes}
    answer_rows = evaluate_answers(service, gold) if answers else None
    return {"summary": summarize(gold, retrieval, answer_rows), "retrieval": retrieval, "answers": answer_rows}


def main(*, gold: Path, modes: list[str], out_dir: Path, sweep: bool, settings: Settings, embedder: Embedder,
         as_json: bool) -> int:
    """The `rag eval` command; returns the exit code. Raises IndexUnavailableError without a usable index."""
    from rag.service import RagService

    questions = load_gold(gold)
    if sweep:
        from eval.sweep import sweep as run_sweep

        run_sweep(settings, embedder, questions, out_dir)
        return 0
    service = RagService(settings, embedder)
    service.index()
    result = run(service, questions, modes)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = f"rag eval --gold {gold} --modes {','.join(modes)} --out {out_dir}"
    (out_dir / "report.md").write_text(markdown(result["summary"], command), encoding="utf-8")
    chart(result["summary"], out_dir / "modes.png")
    (out_dir / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        print(json.dumps(result["summary"], ensure_ascii=False, indent=2))
    else:
        print(markdown(result["summary"], command))
        print(f"reports written to {out_dir}/ (report.md, modes.png, results.json)")
    return 0
