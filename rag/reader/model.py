"""The reader's fitted weights: four small logistic models read from a versioned JSON file.

``candidate`` scores each sentence (does it hold the answer?), ``answerable`` decides whether the passages
answer the question at all, ``confidence`` is the calibrated probability that the answer shown holds a correct
answer, and ``abstention`` the calibrated probability that an abstention is right (the passages do not answer),
from P(answerable). They are fitted by ``python -m eval.train_reader`` (cross-validated, grouped by article);
at run time they are a dot product each, so no learning library is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.reader.features import ABSTENTION_FEATURES, CANDIDATE_FEATURES, QUESTION_FEATURES

MODEL_FILE = "reader_model.json"
MODEL_VERSION = 2


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic regression: p = σ(((x − mean) / scale) · coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Logistic:
        """Read one model written by :meth:`to_dict`."""
        return cls(tuple(d["features"]), np.asarray(d["mean"], dtype=np.float64),
                   np.asarray(d["scale"], dtype=np.float64), np.asarray(d["coef"], dtype=np.float64),
                   float(d["intercept"]))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept}

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of ``x``."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[0] == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class ReaderModel:
    """The reader's four models and its abstention threshold."""

    candidate: Logistic
    answerable: Logistic
    confidence: Logistic
    abstention: Logistic  # one feature, P(answerable): P(the passages do not answer) when abstaining
    abstain_below: float  # abstain when P(answerable) is below this
    meta: dict[str, Any]

    def confidence_in(self, qx: np.ndarray, answerable: float, abstain: bool) -> float:
        """The confidence of what the reader says: that its answer holds a correct one, or, abstaining, that the
        passages do not answer (``answerable`` is P(answerable), from ``qx``, the question's features)."""
        if abstain:
            return float(self.abstention.probability([[answerable]])[0])
        return float(self.confidence.probability(qx)[0])

    @classmethod
    def load(cls, path: Path | None = None) -> ReaderModel:
        """The packaged model (or one at ``path``)."""
        text = path.read_text(encoding="utf-8") if path else _packaged()
        d = json.loads(text)
        if d.get("version") != MODEL_VERSION:
            raise ValueError(f"reader model version {d.get('version')} (this code reads {MODEL_VERSION}); "
                             "refit it with `python -m eval.train_reader`")
        model = cls(Logistic.from_dict(d["candidate"]), Logistic.from_dict(d["answerable"]),
                    Logistic.from_dict(d["confidence"]), Logistic.from_dict(d["abstention"]),
                    float(d["abstain_below"]), d.get("meta", {}))
        # A model fitted on other features would be applied to the wrong columns: say so, not a shape error.
        expected = {"candidate": CANDIDATE_FEATURES, "answerable": QUESTION_FEATURES,
                    "confidence": QUESTION_FEATURES, "abstention": ABSTENTION_FEATURES}
        for name, features in expected.items():
            if getattr(model, name).features != features:
                raise ValueError(f"reader model's {name} features {list(getattr(model, name).features)} are not "
                                 f"this code's {list(features)}; refit it with `python -m eval.train_reader`")
        return model

    def to_json(self) -> str:
        """The file :meth:`load` reads."""
        return json.dumps({"version": MODEL_VERSION, "candidate": self.candidate.to_dict(),
                           "answerable": self.answerable.to_dict(), "confidence": self.confidence.to_dict(),
                           "abstention": self.abstention.to_dict(), "abstain_below": self.abstain_below,
                           "meta": self.meta}, ensure_ascii=False, indent=1)


@lru_cache(maxsize=1)
def _packaged() -> str:
    return resources.files("rag").joinpath("resources", MODEL_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_model() -> ReaderModel:
    """The model shipped in ``rag/resources/reader_model.json`` (loaded once)."""
    return ReaderModel.load()
