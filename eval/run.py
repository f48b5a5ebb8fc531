"""`rag eval`: score every retrieval mode and the answers against the gold set; write reports.

Questions go through ``RagService.search`` / ``RagService.ask``, the code path of the HTTP API. Every Chinese
question is also asked in Traditional characters (a generated view, OpenCC ``s2twp``), reported as the
language ``zh-Hant``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from embeddings import Embedder
from eval.metrics import (
    answer_hit_at_k,
    calibration_bins,
    contains_answer,
    expected_calibration_error,
    first_hit_rank,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from rag.conversation import question_parts
from rag.settings import Settings

SEARCH_K = 10  # retrieval depth for the article metrics (@1/5/10) and AnswerHit@1/3/5
ASK_K = 5  # citations returned by /api/ask (its default)
SHOWN_CITATIONS = 3  # "answer + first three citations": what a reader sees without scrolling
RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answerhit@1", "answerhit@3",
                     "answerhit@5")
BREAKDOWNS = ("lang", "type", "difficulty", "tag")
CALIBRATION_BINS = 10


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
    tags: tuple[str, ...] = ()

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
                                    d["type"], d["difficulty"], tuple(d.get("tags", ()))))
    return out


def traditional_view(gold: list[GoldQuestion]) -> list[GoldQuestion]:
    """Every Chinese question in Traditional characters (Taiwan phrasing), with the same answers."""
    import opencc

    convert = opencc.OpenCC("s2twp").convert
    return [replace(q, id=f"{q.id}-hant", question=convert(q.question), lang="zh-Hant")
            for q in gold if q.lang == "zh"]


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
    """Per-question /api/ask results: does the answer (alone, and with its first citations) hold a gold answer?"""
    rows = []
    for q in gold:
        t0 = time.perf_counter()
        a = service.ask(q.question, top_k=ASK_K)
        ms = (time.perf_counter() - t0) * 1000
        shown = a.answer + "\n" + "\n".join(c.text for c in a.citations[:SHOWN_CITATIONS])
        rows.append({
            "id": q.id, "ms": ms, "answer": a.answer, "abstained": a.abstained, "confidence": a.confidence,
            "missing": list(getattr(a, "missing", []) or []),
            "correct": (not a.abstained and contains_answer(shown, q.answers)) if q.answerable else None,
            # Whether the answer text holds a gold answer, abstained or not: what `confidence` predicts.
            "text_holds_answer": q.answerable and contains_answer(a.answer, q.answers),
            "correct_text": (not a.abstained and contains_answer(a.answer, q.answers)) if q.answerable else None,
            # A question that asks several things (…多少？…几年？): does the answer hold every gold string?
            "holds_every_part": (not a.abstained and all(x in a.answer for x in q.answers))
            if q.answerable and len(question_parts(q.question)) > 1 else None,
        })
    return rows


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def _groups(gold: list[GoldQuestion], rows: list[dict[str, Any]], dim: str) -> dict[str, list[dict[str, Any]]]:
    by_id = {q.id: q for q in gold}
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        q = by_id[r["id"]]
        for key in (q.tags if dim == "tag" else (getattr(q, dim),)):
            groups[key].append(r)
    return dict(sorted(groups.items()))


def summarize(gold: list[GoldQuestion], retrieval: dict[str, list[dict[str, Any]]],
              answers: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Aggregate per-question rows: overall and by language, type, difficulty and tag."""
    by_id = {q.id: q for q in gold}

    def retrieval_block(rows: list[dict[str, Any]]) -> dict[str, float]:
        scored = [r for r in rows if by_id[r["id"]].answerable]
        block = {m: _mean(r[m] for r in scored) for m in RETRIEVAL_METRICS}
        block["n"] = len(scored)
        block["p50_ms"] = percentile([r["ms"] for r in rows], 50)
        block["p95_ms"] = percentile([r["ms"] for r in rows], 95)
        return block

    def answer_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
        ans = [r for r in rows if by_id[r["id"]].answerable]
        unans = [r for r in rows if not by_id[r["id"]].answerable]
        given = [r for r in rows if not r["abstained"]]
        withheld = [r for r in rows if r["abstained"]]
        return {
            "answer_accuracy": _mean(float(r["correct"]) for r in ans),
            "answer_text_accuracy": _mean(float(r["correct_text"]) for r in ans),
            "abstain_unanswerable": _mean(float(r["abstained"]) for r in unans),
            "false_abstain": _mean(float(r["abstained"]) for r in ans),
            "multi_part_complete": _mean(float(r["holds_every_part"]) for r in ans
                                         if r["holds_every_part"] is not None),
            # Calibration of `confidence` over the answers given: among answers with confidence ≈ p, about p
            # should hold a gold answer.
            "ece": expected_calibration_error([r["confidence"] for r in given],
                                              [r["text_holds_answer"] for r in given], CALIBRATION_BINS),
            # And over the abstentions: among those with confidence ≈ p, about p should be unanswerable.
            "ece_abstained": expected_calibration_error([r["confidence"] for r in withheld],
                                                        [not by_id[r["id"]].answerable for r in withheld],
                                                        CALIBRATION_BINS),
            "n": len(rows),
            "answered": len(given),
            "p50_ms": percentile([r["ms"] for r in rows], 50),
            "p95_ms": percentile([r["ms"] for r in rows], 95),
        }

    def blocks(rows: list[dict[str, Any]], block: Callable[[list[dict[str, Any]]], dict[str, Any]]
               ) -> dict[str, Any]:
        entry = {"overall": block(rows)}
        for dim in BREAKDOWNS:
            entry[dim] = {k: block(v) for k, v in _groups(gold, rows, dim).items()}
        return entry

    out: dict[str, Any] = {"questions": len(gold), "modes": {m: blocks(r, retrieval_block)
                                                              for m, r in retrieval.items()}}
    if answers is not None:
        out["answers"] = blocks(answers, answer_block)
        given = [r for r in answers if not r["abstained"]]
        out["reliability"] = calibration_bins([r["confidence"] for r in given],
                                              [r["text_holds_answer"] for r in given], CALIBRATION_BINS)
    return out


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"  # NaN → dash


def markdown(summary: dict[str, Any], command: str) -> str:
    """The report: a side-by-side table of modes, answers, and the breakdowns."""
    modes = list(summary["modes"])
    lines = [f"# Evaluation — {summary['questions']} gold questions (with the generated Traditional view)", "",
             f"Command: `{command}`", "",
             "## Retrieval (answerable questions)", "",
             "| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for m in (*RETRIEVAL_METRICS, "p50_ms", "p95_ms"):
        lines.append(f"| {m} | " + " | ".join(_fmt(summary["modes"][x]["overall"][m]) for x in modes) + " |")
    if "answers" in summary:
        a = summary["answers"]["overall"]
        lines += ["", "## Answers (`/api/ask`, hybrid)", "",
                  "| answer alone holds a gold answer | answer + first 3 citations | abstains on unanswerable "
                  "| false abstentions | ECE of confidence (answers) | ECE of confidence (abstentions) "
                  "| questions of several parts: answer holds every gold string | p50 ms | p95 ms |",
                  "|---|---|---|---|---|---|---|---|---|",
                  f"| {_fmt(a['answer_text_accuracy'])} | {_fmt(a['answer_accuracy'])} "
                  f"| {_fmt(a['abstain_unanswerable'])} | {_fmt(a['false_abstain'])} | {_fmt(a['ece'])} "
                  f"| {_fmt(a['ece_abstained'])} | {_fmt(a['multi_part_complete'])} | {a['p50_ms']:.1f} "
                  f"| {a['p95_ms']:.1f} |"]
    for dim in BREAKDOWNS:
        lines += ["", f"## By {dim}", "", "| " + dim + " | mode | n | recall@1 | recall@5 | mrr@10 | answerhit@3 |",
                  "|---|---|---|---|---|---|---|"]
        for mode in modes:
            for key, b in summary["modes"][mode][dim].items():
                if not b["n"]:  # e.g. unanswerable questions have no retrieval metrics
                    continue
                lines.append(f"| {key} | {mode} | {b['n']} | {_fmt(b['recall@1'])} | {_fmt(b['recall@5'])} "
                             f"| {_fmt(b['mrr@10'])} | {_fmt(b['answerhit@3'])} |")
        if "answers" in summary:
            lines += ["", f"| {dim} | n | answer alone | answer + 3 citations | abstain (unanswerable) "
                          "| false abstain |", "|---|---|---|---|---|---|"]
            for key, b in summary["answers"][dim].items():
                lines.append(f"| {key} | {b['n']} | {_fmt(b['answer_text_accuracy'])} | {_fmt(b['answer_accuracy'])} "
                             f"| {_fmt(b['abstain_unanswerable'])} | {_fmt(b['false_abstain'])} |")
    if "reliability" in summary:
        lines += ["", "## Reliability of `confidence` (answers given)", "",
                  "| confidence | n | mean confidence | share holding a gold answer |", "|---|---|---|---|"]
        for b in summary["reliability"]:
            if b["n"]:
                lines.append(f"| {b['lo']:.1f}–{b['hi']:.1f} | {b['n']} | {b['confidence']:.3f} "
                             f"| {b['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def _pyplot():  # noqa: ANN202 - matplotlib is imported only when a chart is drawn
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart(summary: dict[str, Any], path: Path) -> None:
    """A grouped bar chart comparing the modes on the main metrics."""
    plt = _pyplot()
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


def reliability_chart(summary: dict[str, Any], path: Path) -> None:
    """The reliability diagram of ``confidence``: bars of observed accuracy per confidence bin, the diagonal."""
    plt = _pyplot()
    bins = [b for b in summary["reliability"] if b["n"]]
    a = summary["answers"]["overall"]
    fig, ax = plt.subplots(figsize=(5, 5), dpi=120)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.bar([(b["lo"] + b["hi"]) / 2 for b in bins], [b["accuracy"] for b in bins], width=0.09, alpha=0.7,
           label="answers holding a gold answer")
    for b in bins:
        ax.annotate(str(b["n"]), ((b["lo"] + b["hi"]) / 2, b["accuracy"]), ha="center", va="bottom", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence")
    ax.set_ylabel("share of answers holding a gold answer")
    ax.set_title(f"Reliability of confidence (ECE {a['ece']:.3f}, {a['answered']} answers)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def shown_path(path: Path) -> str:
    """``path`` as a report names it: relative to the working directory when inside it (eval/gold.jsonl), so a
    committed report names no machine's folders."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
    questions += traditional_view(questions)
    if sweep:
        from eval.sweep import sweep as run_sweep

        run_sweep(settings, embedder, questions, out_dir)
        return 0
    service = RagService(settings, embedder)
    service.index()
    result = run(service, questions, modes)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = f"rag eval --gold {shown_path(gold)} --modes {','.join(modes)} --out {shown_path(out_dir)}"
    (out_dir / "report.md").write_text(markdown(result["summary"], command), encoding="utf-8")
    chart(result["summary"], out_dir / "modes.png")
    reliability_chart(result["summary"], out_dir / "reliability.png")
    (out_dir / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        print(json.dumps(result["summary"], ensure_ascii=False, indent=2))
    else:
        print(markdown(result["summary"], command))
        print(f"reports written to {out_dir}/ (report.md, modes.png, reliability.png, results.json)")
    return 0
