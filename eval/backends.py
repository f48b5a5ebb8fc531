"""`rag eval --backend local,milvus`: the gold set on several index backends, side by side.

The same questions, model, retrieval and answer code run over each backend's index of the same corpus; only the
index differs. Hybrid Recall@5, MRR@10 and AnswerHit@3 must agree within TOLERANCE, overall and per language.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from embeddings import Embedder
from eval.run import load_gold, run, shown_path
from rag.settings import Settings

COMPARED = ("recall@5", "mrr@10", "answerhit@3")
TOLERANCE = 0.01


def compare(services: dict[str, Any], gold_path: Path) -> dict[str, Any]:
    """Hybrid retrieval summaries per backend, and the largest difference of each compared figure."""
    gold = load_gold(gold_path)
    summaries = {name: run(svc, gold, ["hybrid"], answers=False)["summary"]["modes"]["hybrid"]
                 for name, svc in services.items()}
    groups = {"all": {n: s["overall"] for n, s in summaries.items()}}
    for lang in sorted(next(iter(summaries.values()))["lang"]):
        groups[f"lang {lang}"] = {n: s["lang"][lang] for n, s in summaries.items()}
    rows = []
    for group, per_backend in groups.items():
        for metric in (*COMPARED, "p50_ms"):
            values = {n: b[metric] for n, b in per_backend.items()}
            spread = max(values.values()) - min(values.values())
            rows.append({"group": group, "metric": metric, "n": next(iter(per_backend.values()))["n"],
                         "values": values, "spread": spread,
                         "ok": metric not in COMPARED or spread <= TOLERANCE + 1e-12})
    return {"backends": list(services), "tolerance": TOLERANCE, "rows": rows}


def markdown(result: dict[str, Any], command: str) -> str:
    """The side-by-side table."""
    names = result["backends"]
    lines = [f"# Index backends on the gold set (hybrid) — {', '.join(names)}", "", f"Command: `{command}`", "",
             f"Recall@5, MRR@10 and AnswerHit@3 must agree within {result['tolerance']}; p50_ms (one search, in "
             "process) is for information.", "",
             "| questions | metric | " + " | ".join(names) + " | difference | |",
             "|---|---|" + "---|" * len(names) + "---|---|"]
    for r in result["rows"]:
        fmt = "{:.1f}" if r["metric"] == "p50_ms" else "{:.3f}"
        verdict = "" if r["metric"] == "p50_ms" else ("ok" if r["ok"] else "**differs**")
        lines.append(f"| {r['group']} (n={r['n']}) | {r['metric']} | "
                     + " | ".join(fmt.format(r["values"][n]) for n in names)
                     + f" | {fmt.format(r['spread'])} | {verdict} |")
    return "\n".join(lines) + "\n"


def main(*, gold: Path, backends: list[str], out_dir: Path, settings: Settings, embedder: Embedder,
         as_json: bool) -> int:
    """Compare ``backends`` (each must hold an index of the corpus); exit code 1 when a figure differs."""
    from rag.service import RagService

    services = {}
    for name in backends:
        svc = RagService(settings.updated(index={"backend": name}), embedder)
        svc.index()  # fail early, naming the backend without an index
        services[name] = svc
    result = compare(services, gold)
    command = f"rag eval --gold {shown_path(gold)} --backend {','.join(backends)}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "backends.md").write_text(markdown(result, command), encoding="utf-8")
    (out_dir / "backends.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(markdown(result, command))
        print(f"written to {out_dir}/backends.md and backends.json")
    return 0 if all(r["ok"] for r in result["rows"]) else 1
