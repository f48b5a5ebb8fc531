"""`rag eval --sweep`: the tables the defaults were chosen from.

1. Chunk size × overlap: each configuration is ingested into a temporary RAG_HOME (the real index is not
   touched) and scored on hybrid Recall@5 / AnswerHit@3 / MRR@10.
2. Fusion weights (dense, lexical) on the configured index.
3. The lexical weight factor for English questions (their BM25 terms are translations).
4. Passages per article on a result page, scored on the early questions and, separately, on the blind ones
   (ids n…, written later by someone who had not seen the service), so a choice made on one half is checked on
   the other.
5. The abstention threshold on the reader's P(answerable), out of fold (eval.train_reader): for each
   candidate, the share of unanswerable questions abstained on and of answerable ones wrongly abstained on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from eval.run import GoldQuestion, evaluate_retrieval, summarize
from rag.settings import Settings

CHUNKINGS = [(200, 0), (200, 40), (300, 0), (300, 60), (400, 80), (500, 100)]
CROSS_LINGUAL = [0.0, 0.3, 0.5, 1.0, 1.5, 2.0]
PASSAGES_PER_ARTICLE = [1, 2, 3, 4, 5, 6]
WEIGHTS = [(1.0, 1.0), (1.0, 0.5), (1.0, 0.7), (0.7, 1.0), (0.5, 1.0), (1.0, 0.0), (0.0, 1.0)]
THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 17)]


def _scores(service: Any, gold: list[GoldQuestion],
            measures: tuple[str, ...] = ("recall@5", "answerhit@3", "mrr@10")) -> dict[str, float]:
    rows = evaluate_retrieval(service, gold, "hybrid")
    o = summarize(gold, {"hybrid": rows}, None)["modes"]["hybrid"]["overall"]
    return {k: o[k] for k in measures}


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def sweep(settings: Settings, embedder: Any, gold: list[GoldQuestion], out_dir: Path) -> str:
    """Run the sweeps, print the tables and write ``sweep.md``; returns the Markdown."""
    from eval.train_reader import MAX_FALSE_ABSTAIN, THRESHOLD_REPEATS, collect, fit
    from rag.ingest import ingest
    from rag.service import RagService

    lines = ["# Sweep", "", "## Chunk size × overlap (hybrid)", "",
             _line(["size", "overlap", "chunks", "recall@5", "answerhit@3", "mrr@10"]), "|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for size, overlap in CHUNKINGS:
        with tempfile.TemporaryDirectory() as tmp:
            s = settings.updated(index={"home": Path(tmp)}, chunking={"size": size, "overlap": overlap})
            report = ingest([settings.corpus], s, embedder, progress=False)
            sc = _scores(RagService(s, embedder), gold)
        row = _line([str(size), str(overlap), str(report.chunks_total)] + [f"{sc[k]:.3f}" for k in sc])
        lines.append(row)
        print(row, flush=True)

    lines += ["", "## Fusion weights (dense, lexical)", "",
              _line(["dense", "lexical", "recall@5", "answerhit@3", "mrr@10"]), "|---|---|---|---|---|"]
    print("\n".join(lines[-4:]), flush=True)
    for wd, wl in WEIGHTS:
        s = settings.updated(retrieval={"dense_weight": wd, "lexical_weight": wl})
        sc = _scores(RagService(s, embedder), gold)
        row = _line([f"{wd:g}", f"{wl:g}"] + [f"{sc[k]:.3f}" for k in sc])
        lines.append(row)
        print(row, flush=True)

    lines += ["", "## Lexical weight factor for English questions (hybrid)", "",
              _line(["factor", "recall@5", "answerhit@3", "mrr@10", "en recall@5", "en mrr@10"]),
              "|---|---|---|---|---|---|"]
    print("\n".join(lines[-4:]), flush=True)
    english = [q for q in gold if q.lang == "en"]
    for f in CROSS_LINGUAL:
        s = settings.updated(retrieval={"cross_lingual_lexical_factor": f})
        sc, en = _scores(RagService(s, embedder), gold), _scores(RagService(s, embedder), english)
        row = _line([f"{f:g}"] + [f"{sc[k]:.3f}" for k in sc] + [f"{en['recall@5']:.3f}", f"{en['mrr@10']:.3f}"])
        lines.append(row)
        print(row, flush=True)

    lines += ["", "## Passages per article (hybrid; early questions | blind questions)", "",
              _line(["passages", "recall@5", "answerhit@3", "answerhit@5", "recall@5", "answerhit@3",
                     "answerhit@5"]), "|---|---|---|---|---|---|---|"]
    print("\n".join(lines[-4:]), flush=True)
    blind = [q for q in gold if q.id.startswith("n")]
    early = [q for q in gold if not q.id.startswith("n")]
    for cap in PASSAGES_PER_ARTICLE:
        service = RagService(settings.updated(retrieval={"max_chunks_per_article": cap}), embedder)
        cells = [f"{v:.3f}" for part in (early, blind)
                 for v in _scores(service, part, ("recall@5", "answerhit@3", "answerhit@5")).values()]
        row = _line([str(cap), *cells])
        lines.append(row)
        print(row, flush=True)

    samples = collect(RagService(settings, embedder), [q for q in gold if not q.id.endswith("-hant")])
    model, (p_answerable, answerable) = fit(samples)
    lines += ["", f"## Abstention threshold on P(answerable), out of fold (pooled over {THRESHOLD_REPEATS} ways of "
              "folding)", "",
              _line(["threshold", "abstains on unanswerable", "false abstentions"]), "|---|---|---|"]
    for t in THRESHOLDS:
        ab, fa = np.mean(p_answerable[~answerable] < t), np.mean(p_answerable[answerable] < t)
        lines.append(_line([f"{t:.2f}", f"{ab:.3f}", f"{fa:.3f}"]))
    lines += ["", f"Fitted threshold: {model.abstain_below:.3f} (the highest with at most "
              f"{MAX_FALSE_ABSTAIN:.0%} false abstentions; `python -m eval.train_reader` writes it)."]
    print("\n".join(lines[-(len(THRESHOLDS) + 7):]), flush=True)
    md = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sweep.md").write_text(md, encoding="utf-8")
    return md
