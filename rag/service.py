"""The loaded service: the embedding model and the published index, loaded once per process.

The only process-wide state. It notices when an ingest or delete published a new index version and reloads,
so a running server never returns an article deleted after it started. Each request leases the index it
uses; a replaced version is closed as soon as its last request returns, so old files are not held open.
Every lease first checks that the published index is whole (cheap unless a file changed), so damage found
while serving is reported on the very next request.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from embeddings import Embedder
from rag.answer import compose
from rag.conversation import content_words, is_time, points_back, question_parts, resolve
from rag.index import BuildSpec, Index, IndexUnavailableError, NoIndexError, backend_for
from rag.index.base import bm25_idf
from rag.llm import LLMClient
from rag.query import Query, QueryStats, analyze, counted, is_english, simplified
from rag.reader import Evidence, PartReading, Reading, collect, default_model, read, read_apart, read_parts
from rag.reader.features import TermWeights
from rag.records import DEFAULT_TOP_K, Answer, Article, Filters, Mode, ResolvedQuestion
from rag.retrieval import Retrieved, retrieve
from rag.settings import Settings
from rag.streaming import AnswerEvent, answer_events
from rag.tokenize import SPECIALISED, fingerprint
from rag.translate import ModelRelatedness, headwords

# Telling the separate questions of one message apart (RagService._questions_in): a later part that names at least
# this many things may be another question (the parts of one name one or two each: 一年吞吐量多少？,
# 和哪家企业合作的？); a word in at least this share of the passages (天津) does not tie two questions together; a
# passage is about a question when it names at least this share of what the question names (idf-weighted; half
# tied 民心工程 to 地铁8号线, which its list names in passing), counting the words no passage uses only when they
# are specialised (rag.tokenize.SPECIALISED: 低保, not 大概).
OTHER_THINGS = 3
COMMON_SHARE = 0.2
ABOUT_BOTH = 0.75


@dataclass
class _Topic:
    """What one question of a message names (RagService._questions_in)."""

    weights: TermWeights
    # The terms that say what it is about, times aside: those some passage uses, and the specialised ones none
    # does (天津提高后的低保标准…: a passage naming 提高 and 标准 is not about 低保, which no article names).
    used: list[int]
    distinctive: set[str]  # the terms that tie two questions together when both name them


class IndexStats(BaseModel):
    """What the published index holds and how it was built, and the active model (no filesystem paths)."""

    manifest: dict[str, Any] = Field(description="How the index was built")
    counts: dict[str, int]
    accounts: list[str]
    backend: str
    index: dict[str, str] = Field(description="Which backend serves, and from where (e.g. the Milvus URI)")
    model: dict[str, Any] = Field(description="The active embedding model")


@dataclass
class _Loaded:
    """One loaded index version and the requests using it."""

    version: str
    index: Index
    stats: QueryStats  # what question analysis needs of this version
    users: int = 0
    retired: bool = False


class RagService:
    """Search and answer over the published index."""

    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self.backend = backend_for(settings.index)
        self.spec = BuildSpec(embedding_model=embedder.name, embedding_precision=embedder.precision, dim=embedder.dim,
                              tokenizer=fingerprint())
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self.relatedness = ModelRelatedness(embedder)  # English words' senses, by the same multilingual model
        answer = settings.answer
        self.llm = (
            LLMClient(answer.llm_base_url, answer.llm_model, api_key=answer.llm_api_key, timeout=answer.llm_timeout)
            if answer.llm_base_url and answer.llm_model
            else None
        )

    def _acquire(self) -> _Loaded:
        config = self.settings.index
        version = self.backend.version(config)
        if version is None:
            raise NoIndexError(self.backend.location(config))
        self.backend.check(config)
        with self._lock:
            current = self._loaded
            if current is None or current.version != version:
                index = self.backend.open(config, self.spec)
                fresh = _Loaded(version, index, QueryStats(index.document_frequency, index.vocabulary()))
                if current is not None:
                    current.retired = True
                    if current.users == 0:
                        current.index.close()
                self._loaded = current = fresh
            current.users += 1
            return current

    def _release(self, loaded: _Loaded) -> None:
        with self._lock:
            loaded.users -= 1
            done = loaded.retired and loaded.users == 0
        if done:
            loaded.index.close()

    @contextmanager
    def _lease(self) -> Iterator[_Loaded]:
        loaded = self._acquire()
        try:
            yield loaded
        finally:
            self._release(loaded)

    @contextmanager
    def using(self) -> Iterator[Index]:
        """The published index, leased for the duration of one request (reloaded when a new version was
        published; NoIndexError, IncompatibleIndexError or DamagedIndexError when it cannot be used)."""
        with self._lease() as loaded:
            yield loaded.index

    def _analyzed(self, question: str, loaded: _Loaded, today: dt.date | None = None) -> Query:
        if today is None:
            latest = loaded.index.manifest.latest_date
            today = dt.date.fromisoformat(latest) if latest else dt.date.today()
        return analyze(question, loaded.stats, today, self.relatedness)

    def analyze(self, question: str, *, today: dt.date | None = None) -> Query:
        """The question analysed against the index; relative dates count from its newest article."""
        with self._lease() as loaded:
            return self._analyzed(question, loaded, today)

    def index(self) -> Index:
        """The published index, for one-off use (the CLI, tests): requests lease it with :meth:`using`."""
        with self.using() as index:
            return index

    def has_index(self) -> bool:
        """True when an index has been published (it may still be incompatible or damaged)."""
        return self.backend.version(self.settings.index) is not None

    def problem(self) -> IndexUnavailableError | None:
        """Why the index cannot answer requests right now (no index, incompatible, damaged), or None."""
        try:
            with self.using():
                return None
        except IndexUnavailableError as e:
            return e

    def warm(self) -> None:
        """Load now what the first request would otherwise wait for: the index, the ONNX session and jieba (one
        search), the reader's model, and, in the background, CC-CEDICT (English questions and words no dictionary
        knows). Raises IndexUnavailableError when the index cannot be used, and ValueError when the reader's model
        was fitted on other features than the code computes."""
        threading.Thread(target=headwords, name="cc-cedict", daemon=True).start()
        default_model()
        self.search("天津", top_k=1)

    def search(self, query: str, *, top_k: int = DEFAULT_TOP_K, mode: Mode = "hybrid",
               filters: Filters | None = None) -> Retrieved:
        """Ranked passages for ``query``."""
        with self._lease() as loaded:
            return retrieve(loaded.index, self.embedder, self._analyzed(query, loaded), self.settings.retrieval,
                            top_k=top_k, mode=mode, filters=filters)

    def ask(self, question: str, *, history: Sequence[str] = (), top_k: int = DEFAULT_TOP_K,
            filters: Filters | None = None, mode: Mode = "hybrid") -> Answer:
        """A short cited answer (or an abstention that says what is missing) for ``question``; ``history`` holds
        the conversation's earlier questions, oldest first, that a follow-up (那手机呢？) is read against."""
        return self._read(question, history, top_k=top_k, filters=filters, mode=mode, llm=self.llm)[1]

    def ask_events(self, question: str, *, history: Sequence[str] = (), top_k: int = DEFAULT_TOP_K,
                   filters: Filters | None = None, mode: Mode = "hybrid") -> Iterator[AnswerEvent]:
        """The answer to ``question`` as events (``rag.streaming``): citations first, then text, then the outcome.

        Retrieval and reading happen in this call, before any event exists, so an unusable index raises here
        and a server can still answer with an ordinary error instead of a broken stream.
        """
        started = time.perf_counter()
        query, extractive = self._read(question, history, top_k=top_k, filters=filters, mode=mode, llm=None)
        return answer_events(extractive, query, self.llm, started=started)

    def _read(self, question: str, history: Sequence[str], *, top_k: int, filters: Filters | None, mode: Mode,
              llm: LLMClient | None) -> tuple[Query, Answer]:
        """The analysed question and its answer (saying how a follow-up was read, when there is a history)."""
        if isinstance(history, str):  # a str is a Sequence[str] too: one "question" per character
            raise TypeError("history is a list of earlier questions, not one string")
        conversation: ResolvedQuestion | None = resolve([*history, question]) if history else None
        if conversation is not None:
            question = conversation.question
        with self._lease() as loaded:
            analysed: dict[str, Query] = {}  # a text is analysed once however many steps read it

            def analysis(text: str) -> Query:
                if text not in analysed:
                    analysed[text] = self._analyzed(text, loaded)
                return analysed[text]

            evidence = self._evidence(question, loaded, top_k=top_k, filters=filters, mode=mode,
                                      query=analysis(question))
            # A follow-up is read as one question: what it carried over is no part of its own.
            parts = conversation is None or conversation.question == conversation.asked
            questions = self._questions_in(evidence, loaded, analysis) if parts else [question]
            if len(questions) == 1:
                reading = self._reading(evidence, loaded, analysis, parts=parts)
                hits = evidence.hits
            else:
                # Each is searched for and read as if asked alone; the answer joins theirs.
                each = []
                for text in questions:
                    own = self._evidence(text, loaded, top_k=top_k, filters=filters, mode=mode, query=analysis(text))
                    each.append(PartReading(text, own, self._reading(own, loaded, analysis, parts=True)))
                hits, reading = read_apart(each, top_k)
            answer = compose(evidence.query, hits, reading, llm=llm,
                             filtered=filters is not None and not filters.is_empty())
            return evidence.query, answer.model_copy(update={"conversation": conversation})

    def _questions_in(self, evidence: Evidence, loaded: _Loaded, analysis: Callable[[str], Query]) -> list[str]:
        """The separate questions of the message of ``evidence``, each with the parts that lean on it (most
        messages ask one question).

        Read with the earlier parts' words, 地铁8号线有多少座车站？ after 天津动物园几点开门？ would be a question about
        the zoo. A later part is a question of its own when it names several things (``OTHER_THINGS``, times aside:
        a part that leans on an earlier one names one or two, 一年吞吐量多少？), none that an earlier question names
        but words most passages use (天津), points back at nothing (``rag.conversation.points_back``: its, 这款), and
        no passage found for the whole message is about both it and an earlier question: naming most of what each
        is about, by idf weight (``_Topic.used``).
        """
        message = evidence.query.text
        parts = [p.asked for p in question_parts(message)]
        if len(parts) < 2:
            return [message]
        space = " " if is_english(message) else ""
        texts = [f"{h.title}\n{h.text}" for h in evidence.hits]
        documents = max(loaded.index.documents(), 1)
        common = bm25_idf(round(COMMON_SHARE * documents), documents)  # the weight of a word in that share

        def topic(text: str) -> _Topic:
            query = analysis(text)
            frequency = loaded.index.document_frequency(list(query.focus))
            weights = TermWeights.of(query, frequency, documents)
            return _Topic(weights, [i for i, (t, df) in enumerate(zip(weights.terms, frequency, strict=True))
                                   if (df or weights.specific[i] >= SPECIALISED) and not is_time(t)],
                         {t for t, w in zip(weights.terms, weights.weights, strict=True)
                          if w >= common and not is_time(t)})

        def together(a: _Topic, b: _Topic) -> bool:
            if any(x in y or y in x for x in a.distinctive for y in b.distinctive):
                return True
            return bool(a.used and b.used) and any(a.weights.share(a.used, t) >= ABOUT_BOTH
                                                   and b.weights.share(b.used, t) >= ABOUT_BOTH for t in texts)

        def things(part: str, own: _Topic) -> int:
            # English as written: translation merges words (Metro Line 8 → 地铁, 8号线) or drops them.
            words = content_words(part) if space else own.weights.terms
            simple = simplified(part)  # the terms are Simplified (兩家 is 两家)
            return sum(not is_time(w) and not counted(w, simple) for w in words)

        groups = [[parts[0]]]
        topics: list[_Topic | None] = [None]  # each group's, worked out only when a later part may stand alone
        for part in parts[1:]:
            own = topic(part)
            if things(part, own) >= OTHER_THINGS and not points_back(part):
                known = [t or topic(space.join(g)) for t, g in zip(topics, groups, strict=True)]
                topics = list(known)
                if not any(together(own, t) for t in known):
                    groups.append([part])
                    topics.append(own)
                    continue
            groups[-1].append(part)
            topics[-1] = None  # the group has grown: what it names is worked out again when asked
        return [space.join(g) for g in groups]

    def _reading(self, evidence: Evidence, loaded: _Loaded, analysis: Callable[[str], Query], *,
                 parts: bool) -> Reading:
        """The reader's decision on ``evidence``; with ``parts``, a question that asks several things is also read
        part by part on the sentences found for the whole (``rag.reader.read_parts``)."""
        threshold = self.settings.answer.abstain_threshold
        whole = read(evidence, abstain_below=threshold)
        if not parts:
            return whole
        asked = question_parts(evidence.query.text, details=lambda part: analysis(part).key)
        if len(asked) < 2:
            return whole
        readings = []
        for part in asked:
            query = analysis(part.question)
            # Each part is embedded alone, as a question is: int8 activations are quantised per batch.
            qvec = self.embedder.encode_queries([query.search_text])[0]
            own = collect(query, evidence.hits, qvec, evidence.dense_margin, loaded.index, evidence.candidates)
            readings.append(PartReading(part.asked, own, read(own, abstain_below=threshold)))
        return read_parts(evidence, whole, readings)

    def evidence(self, question: str, *, top_k: int = DEFAULT_TOP_K, filters: Filters | None = None,
                 mode: Mode = "hybrid") -> Evidence:
        """What the reader measures for ``question``: the passages, their candidate sentences and features."""
        with self._lease() as loaded:
            return self._evidence(question, loaded, top_k=top_k, filters=filters, mode=mode)

    def _evidence(self, question: str, loaded: _Loaded, *, top_k: int, filters: Filters | None, mode: Mode,
                  query: Query | None = None) -> Evidence:
        """What the reader measures for ``question`` (its analysis, ``query``, when already made)."""
        found = retrieve(loaded.index, self.embedder, query or self._analyzed(question, loaded),
                         self.settings.retrieval, top_k=top_k, mode=mode, filters=filters)
        return collect(found.query, found.hits, found.query_vector, found.dense_margin, loaded.index)

    def article(self, aid: str) -> Article | None:
        """One normalised article."""
        with self.using() as index:
            return index.articles([aid]).get(aid)

    def stats(self) -> IndexStats:
        """The manifest, live counts, accounts, the backend and the active model (no filesystem paths)."""
        with self.using() as index:
            return IndexStats(
                manifest=index.manifest.model_dump(exclude={"files"}),
                counts=index.counts(),
                accounts=index.accounts(),
                backend=self.backend.name,
                index=self.backend.describe(self.settings.index),
                model={k: v for k, v in self.embedder.info().items() if k != "path"},
            )
