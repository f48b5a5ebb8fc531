"""Two unrelated questions asked in one message: is each answered as it would be alone?

    python -m eval.pairs [--lang zh] [--pairs 30] [--seed 8] [--comma]

People ask two things at once (天津动物园几点开门？地铁8号线有多少座车站？). From the gold set's single questions of
one language, this joins two about different articles, each one the service already handles right when asked
alone: answered with a gold answer, or withheld when the articles do not answer. So it measures the joining only.
For each kind of pair it prints the share handled right:

- answerable + unanswerable, either order: the answer holds the first's gold answer and a caution names the other
  as unanswered (这一问可能没有得到回答);
- two answerable: the answer holds both gold answers;
- two unanswerable: withheld.

With ``--comma`` the two are run together with a comma (天津动物园几点开门，地铁8号线有多少座车站？; in English
"…, and how many…?"), as people also write them.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from typing import Any

from eval.metrics import contains_answer
from eval.run import GoldQuestion, load_gold
from rag.conversation import question_parts
from rag.records import Answer

KINDS = ("answerable+unanswerable", "unanswerable+answerable", "answerable+answerable", "unanswerable+unanswerable")
# The caution naming a part nothing answers, in each language and script (rag.answer.cautions).
UNANSWERED = ("这一问", "这几问", "這一問", "這幾問", "of the question may be left unanswered")


def handled_alone(service: Any, gold: list[GoldQuestion], lang: str) -> tuple[list[GoldQuestion], list[GoldQuestion]]:
    """The single-part questions of ``lang`` the service handles right alone: (answered with a gold answer,
    withheld and unanswerable)."""
    answered, withheld = [], []
    for q in gold:
        if q.lang != lang or len(question_parts(q.question)) > 1:
            continue
        a = service.ask(q.question)
        if q.answerable and not a.abstained and contains_answer(a.answer, q.answers):
            answered.append(q)
        elif not q.answerable and a.abstained:
            withheld.append(q)
    return answered, withheld


def right(kind: str, first: GoldQuestion, second: GoldQuestion, answer: Answer) -> bool:
    """Whether ``answer`` to the pair of ``kind`` handles both questions as each is handled alone."""
    if kind == "unanswerable+unanswerable":
        return answer.abstained
    if answer.abstained:
        return False
    holds = all(contains_answer(answer.answer, q.answers) for q in (first, second) if q.answerable)
    if kind == "answerable+answerable":
        return holds
    unanswered = first if not first.answerable else second
    asked = unanswered.question.rstrip("？?。. ")[:12].lower()  # the caution quotes it (run on, "…, and what…")
    return holds and any(word in c and asked in c.lower() for c in answer.cautions for word in UNANSWERED)


def joined(first: str, second: str, *, english: bool, comma: bool) -> str:
    """One message asking ``first`` and then ``second``: one after the other, or run together with a comma."""
    if not comma:
        return f"{first} {second}" if english else f"{first}{second}"
    head = first.rstrip("？?。. ")
    return f"{head}, and {second[0].lower()}{second[1:]}" if english else f"{head}，{second}"


def score(service: Any, gold: list[GoldQuestion], *, lang: str = "zh", pairs: int = 30, seed: int = 8,
          comma: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """The share of ``pairs`` joined pairs of each kind handled right (see the module's doc)."""
    answered, withheld = handled_alone(service, gold, lang)
    pools = {"answerable": answered, "unanswerable": withheld}
    rng = random.Random(seed)
    out = {}
    for kind in KINDS:
        one, two = (pools[k] for k in kind.split("+"))
        if not one or not two:
            continue
        good = 0
        for _ in range(pairs):
            first = rng.choice(one)
            others = [q for q in two if q is not first and not set(q.aids) & set(first.aids)]
            if not others:
                raise ValueError(f"no {kind.split('+')[1]} {lang} question about another article than {first.id}")
            second = rng.choice(others)
            message = joined(first.question, second.question, english=lang == "en", comma=comma)
            ok = right(kind, first, second, service.ask(message))
            good += ok
            if progress and not ok:
                progress(f"{kind}: {message}")
        out[kind] = good / pairs
    return out


def main(argv: list[str] | None = None) -> None:
    """Join gold questions in pairs, ask them, print the share handled right per kind."""
    from embeddings import load_embedder
    from rag.service import RagService
    from rag.settings import PROJECT_ROOT, get_settings

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=("zh", "en"))
    p.add_argument("--pairs", type=int, default=30, help="pairs of each kind")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--comma", action="store_true", help="run the two together with a comma")
    p.add_argument("--show", action="store_true", help="print each pair handled wrong")
    args = p.parse_args(argv)
    settings = get_settings()
    service = RagService(settings, load_embedder(settings.embedding))
    gold = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")
    figures = score(service, gold, lang=args.lang, pairs=args.pairs, seed=args.seed, comma=args.comma,
                    progress=print if args.show else None)
    for kind, share in figures.items():
        print(f"{kind:28s} {share:.3f}")


if __name__ == "__main__":
    main()
