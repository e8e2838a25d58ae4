"""Question in, typed answer out: retrieve, pick sentences, verify, cite — or abstain.

No LLM is involved: every word shown as a quote is a verified span of a statement.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from rag.catalog import Catalog, Snapshot, describe
from rag.conversation import Resolution, resolve
from rag.embeddings import Embedder
from rag.errors import InvalidQuestionError
from rag.models import (
    Answer,
    AnswerEvent,
    Citation,
    CitationEvent,
    DoneEvent,
    Filters,
    RetrievalEvent,
    Statement,
    StatementRef,
    TextEvent,
)
from rag.quotes import Query, QuoteSpan, ScoredSentence, score_sentences, select_quotes, verify
from rag.render import abstain_text, answer_text
from rag.sentences import content_terms
from rag.settings import Settings
from rag.store import ChromaStore, StoredPassage

if TYPE_CHECKING:  # langchain is imported only when an LLM is configured
    from rag.llm import LLMAnswerer

logger = logging.getLogger(__name__)
T = TypeVar("T")

_COMPARE = re.compile(
    r"\b(differ\w*|difference\w*|compar\w*|contrast\w*|versus|vs\.?|disagree\w*|"
    r"each statement|both statements|the two statements)\b",
    re.IGNORECASE,
)
_COMPARE_LEAD = re.compile(
    r"^\s*(?:how|in what ways?|where|what)\s+(?:do|does|did)\s+(?:the\s+)?(?:two\s+|both\s+)?"
    r"(?:statements?|parties|organi[sz]ations)\s+(?:differ|compare|contrast|disagree|agree|say)"
    r"\w*\s*(?:on|about|over|regarding|in|with respect to|when it comes to)?\s*"
    r"|^\s*compare\s+(?:what\s+)?(?:the\s+)?(?:two\s+)?(?:statements?|parties)?\s*(?:say)?\s*"
    r"(?:on|about|regarding)?\s*",
    re.IGNORECASE,
)
# Control characters, invisible format characters (zero-width, bidi overrides that can
# make a question display as something else), and lone surrogates (undecodable bytes from
# argv/stdin/JSON), which no tokenizer accepts.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
CONTEXT_WEIGHT = 0.35
UNKNOWN_ENTITY_PENALTY = 0.6
COMPARE_MAX_STATEMENTS = 12
PASSAGE_CACHE_SIZE = 4096
EXACT_SEARCH_MAX = 1000  # passages; above, Chroma's filtered index search
COMPARE_PER_STATEMENT = 2
TEXT_CACHE_SIZE = 512  # statements' clean texts kept in memory


def clean_question(question: str, max_chars: int) -> str:
    """Normalised question text, or a clear error for an unusable one."""
    if not isinstance(question, str):
        raise InvalidQuestionError("The question must be text")
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"The question is too long ({len(question):,} characters; the limit is {max_chars:,})",
            hint="ask something shorter",
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", question))
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestionError("The question is empty", hint="type a question in words")
    return text


@dataclass
class _Plan:
    question: str
    filters: Filters
    scope: list[Statement]
    resolution: Resolution
    compare_topic: str | None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # text -> vector


class Answerer:
    """Answers questions from the statements in a store.

    >>> answerer = Answerer(settings, store, embedder, catalog)
    >>> answer = answerer.answer("What is the Quds Force?")
    >>> answer.citations[0].quote
    "He became the leader of the reactionary Revolutionary Guards' international Quds Force."
    """

    def __init__(
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: Embedder,
        catalog: Catalog,
        llm: LLMAnswerer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        self.llm = llm
        self._texts: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._terms: OrderedDict[tuple[str, str], set[str]] = OrderedDict()
        self._stored: OrderedDict[str, StoredPassage] = OrderedDict()
        self._vector_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._stored_fingerprint = ""
        self._cache_lock = threading.Lock()  # the UI answers several questions at once

    # -- public ------------------------------------------------------------------

    def answer(
        self,
        question: str,
        filters: Filters | None = None,
        history: Sequence[Answer] = (),
        compare: bool | None = None,
        k: int | None = None,
        use_llm: bool = False,
    ) -> Answer:
        """The complete answer (see ``stream`` for the same as events)."""
        for event in self.stream(question, filters, history, compare, k, use_llm):
            if isinstance(event, DoneEvent):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover

    def stream(
        self,
        question: str,
        filters: Filters | None = None,
        history: Sequence[Answer] = (),
        compare: bool | None = None,
        k: int | None = None,
        use_llm: bool = False,
    ) -> Iterator[AnswerEvent]:
        """Typed events: retrieval done, each citation, the text, then the answer.

        ``use_llm`` (with an LLM configured): the chat model writes the text from the
        same passages; its quotes are checked, and the extractive answer is the fallback.
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        plan = self._plan(question, filters or Filters(), history, compare)
        snap = self.catalog.snapshot()
        texts: dict[str, str] = {}  # clean texts of the statements read, filled on demand
        if plan.compare_topic is not None:
            spans, passages, not_addressed, scored = self._compare(plan, snap, k, timings, texts)
        else:
            spans, passages, scored = self._single(plan, snap, k, timings, texts)
            not_addressed = []
        yield RetrievalEvent(
            passages=len(passages),
            statement_ids=sorted({p.passage.statement_id for p in passages.values()}),
        )
        citations = self._citations(spans, plan.scope, texts)
        abstained = not citations
        nearest: list[Citation] = []
        if abstained:
            nearest = self._nearest(scored, passages, plan.scope, texts)
            text = abstain_text(describe(plan.filters) or None)
        else:
            text = answer_text(citations, plan.compare_topic, not_addressed)
        timings["total"] = (time.perf_counter() - started) * 1000
        resolved = plan.resolution.retrieval_text
        answer = Answer(
            question=plan.question,
            abstained=abstained,
            answer=text,
            citations=citations,
            nearest=nearest,
            compare=plan.compare_topic is not None,
            not_addressed=not_addressed,
            resolved_question=resolved if resolved != plan.question else None,
            filters=plan.filters,
            timings_ms={key: round(v, 2) for key, v in timings.items()},
        )
        if use_llm and self.llm is not None:
            order = dict.fromkeys(s.passage_id for s in scored)  # most relevant first
            given = [passages[pid].passage for pid in order if pid in passages]
            by_id = {s.statement_id: s for s in plan.scope}
            statements = {
                sid: by_id[sid].model_copy(update={"text": texts[sid]})
                for sid in {p.statement_id for p in given}
                if sid in by_id and sid in texts
            }
            yield from self.llm.stream(plan.question, answer, given, statements)
            return
        for citation in citations:
            yield CitationEvent(citation=citation)
        for line in text.splitlines(keepends=True):
            yield TextEvent(text=line)
        yield DoneEvent(answer=answer)

    def search(
        self, question: str, k: int = 4, filters: Filters | None = None
    ) -> list[tuple[StoredPassage, float]]:
        """Hybrid passage search alone (used by the LangChain retriever)."""
        text = clean_question(question, self.settings.max_question_chars)
        scope = self.catalog.scope(filters or Filters())
        snap = self.catalog.snapshot()
        ids = self._restrict(scope, snap)
        vector = self.embedder.embed_query(text)
        fused = self._fuse(text, vector, snap, ids, k)
        stored = self._passages(snap, [pid for pid, _ in fused])
        return [(stored[pid], prior) for pid, prior in fused if pid in stored]

    # -- planning ----------------------------------------------------------------

    def _plan(
        self, question: str, filters: Filters, history: Sequence[Answer], compare: bool | None
    ) -> _Plan:
        text = clean_question(question, self.settings.max_question_chars)
        scope = self.catalog.scope(filters)
        resolution = resolve(text, history, scope)
        if resolution.scope is not None:
            narrowed = [s for s in scope if s.statement_id in resolution.scope]
            scope = narrowed or scope
        topic = None
        if compare or (compare is None and _COMPARE.search(text)):
            topic = _COMPARE_LEAD.sub("", resolution.retrieval_text).strip(" ?.!") or text
        return _Plan(text, filters, scope, resolution, topic)

    def _restrict(self, scope: Sequence[Statement], snap: Snapshot) -> list[str] | None:
        """Statement ids to filter by, or None when the scope is everything."""
        if len(scope) == len(snap.statements):
            return None
        return [s.statement_id for s in scope]

    def _queries(self, plan: _Plan, snap: Snapshot, text: str) -> list[tuple[Query, float]]:
        ignore = plan.resolution.ignore_terms
        vector = self._embed(plan, text)
        queries = [(Query.make(text, vector, snap.keywords, ignore), 1.0)]
        context = plan.resolution.context_text
        if context and context != text:
            cvec = self._embed(plan, context)
            queries = [
                (queries[0][0], 1.0 - CONTEXT_WEIGHT),
                (Query.make(context, cvec, snap.keywords, ignore), CONTEXT_WEIGHT),
            ]
        return queries

    def _embed(self, plan: _Plan, text: str) -> np.ndarray:
        """The vector of ``text``, computed once per answer (a comparison scores the
        same topic against each statement in turn)."""
        if text not in plan.vectors:
            plan.vectors[text] = self.embedder.embed_query(text)
        return plan.vectors[text]

    # -- retrieval ---------------------------------------------------------------

    def _passages(self, snap: Snapshot, ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Passages by id with their sentence vectors (saves a Chroma read per retrieval)."""
        return self._remembered(self._stored, snap, ids, self.store.passages)

    def _dense(
        self, vector: np.ndarray, n: int, ids: list[str] | None, snap: Snapshot
    ) -> list[tuple[str, float]]:
        """Chroma's index over everything; within a few statements, an exact search among
        their passages (known from the keyword index) instead of a ``where`` filter."""
        if ids is not None:
            among = snap.keywords.passages_of(ids)
            if 0 < len(among) <= EXACT_SEARCH_MAX:
                vectors = self._vectors(snap, among)
                found = [pid for pid in among if pid in vectors]
                if not found:
                    return []
                matrix = np.stack([vectors[pid] for pid in found])
                sims = matrix @ np.asarray(vector, dtype=np.float32)
                top = np.argsort(-sims, kind="stable")[:n]
                return [(found[i], float(sims[i])) for i in top]
        return self.store.query(vector, n, ids)

    def _vectors(self, snap: Snapshot, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored passage vectors by id (a comparison searches each compared statement's
        passages in turn)."""
        return self._remembered(self._vector_cache, snap, ids, self.store.passage_vectors)

    def _remembered(
        self,
        cache: OrderedDict[str, T],
        snap: Snapshot,
        ids: Sequence[str],
        fetch: Callable[[list[str]], dict[str, T]],
    ) -> dict[str, T]:
        """``ids`` from ``cache``, the missing ones fetched in one read and remembered
        while the store's fingerprint is unchanged (at most PASSAGE_CACHE_SIZE)."""
        with self._cache_lock:
            self._check_cache(snap)
            found = {pid: item for pid in ids if (item := cache.get(pid)) is not None}
        missing = [pid for pid in ids if pid not in found]
        if missing:
            fetched = fetch(missing)
            found.update(fetched)
            with self._cache_lock:
                cache.update(fetched)
                while len(cache) > PASSAGE_CACHE_SIZE:
                    cache.popitem(last=False)
        return found

    def _check_cache(self, snap: Snapshot) -> None:
        """Forget remembered passages when the store changed (call with the lock held)."""
        if self._stored_fingerprint != snap.fingerprint:
            self._stored.clear()
            self._vector_cache.clear()
            self._stored_fingerprint = snap.fingerprint

    def _fuse(
        self,
        text: str,
        vector: np.ndarray,
        snap: Snapshot,
        ids: list[str] | None,
        k: int,
        ignore: frozenset[str] = frozenset(),
    ) -> list[tuple[str, float]]:
        """Reciprocal-rank fusion of dense and keyword results: ``(passage_id, prior 0..1)``."""
        n = max(self.settings.candidates, k)
        dense = self._dense(vector, n, ids, snap)
        keyword = snap.keywords.search(text, n, ids, ignore)
        fused: dict[str, float] = {}
        for ranking in (dense, keyword):
            for rank, (pid, _) in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
        top = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        if not top:
            return []
        best = top[0][1]
        return [(pid, score / best) for pid, score in top]

    def _score(
        self,
        plan: _Plan,
        snap: Snapshot,
        ids: list[str] | None,
        k: int,
        texts: dict[str, str],
        timings: dict[str, float],
        text: str,
    ) -> tuple[list[ScoredSentence], dict[str, StoredPassage]]:
        t0 = time.perf_counter()
        queries = self._queries(plan, snap, text)
        t1 = time.perf_counter()
        fused = self._fuse(text, queries[0][0].vector, snap, ids, k, plan.resolution.ignore_terms)
        stored = self._passages(snap, [pid for pid, _ in fused])
        self._load_texts(texts, {p.passage.statement_id for p in stored.values()}, snap)
        t2 = time.perf_counter()
        candidates = [(stored[pid], prior) for pid, prior in fused if pid in stored]
        totals: dict[tuple[str, int], ScoredSentence] = {}
        weights: dict[tuple[str, int], float] = {}
        evidence: dict[tuple[str, int], float] = {}
        for query, weight in queries:
            for s in score_sentences(query, candidates, texts, plan.resolution.boosts):
                key = (s.passage_id, s.index)
                weights[key] = weights.get(key, 0.0) + weight * s.score
                evidence[key] = evidence.get(key, 0.0) + weight * s.evidence
                totals.setdefault(key, s)
        unknown = self._unknown_entities(text, snap, plan.scope, texts)
        penalty = UNKNOWN_ENTITY_PENALTY if unknown else 1.0
        scored = [
            ScoredSentence(
                **{**vars(s), "score": weights[key] * penalty, "evidence": evidence[key] * penalty}
            )
            for key, s in totals.items()
        ]
        scored.sort(key=lambda s: -s.score)
        timings["embed"] = timings.get("embed", 0) + (t1 - t0) * 1000
        timings["retrieve"] = timings.get("retrieve", 0) + (t2 - t1) * 1000
        timings["score"] = timings.get("score", 0) + (time.perf_counter() - t2) * 1000
        return scored, stored

    def _single(
        self,
        plan: _Plan,
        snap: Snapshot,
        k: int | None,
        timings: dict[str, float],
        texts: dict[str, str],
    ) -> tuple[list[QuoteSpan], dict[str, StoredPassage], list[ScoredSentence]]:
        ids = self._restrict(plan.scope, snap)
        scored, stored = self._score(
            plan,
            snap,
            ids,
            k or self.settings.passages_k,
            texts,
            timings,
            plan.resolution.retrieval_text,
        )
        spans = select_quotes(
            scored,
            stored,
            self.settings.max_quotes,
            self.settings.min_score,
            self.settings.relative_cutoff,
        )
        return spans, stored, scored

    def _compare(
        self,
        plan: _Plan,
        snap: Snapshot,
        k: int | None,
        timings: dict[str, float],
        texts: dict[str, str],
    ) -> tuple[list[QuoteSpan], dict[str, StoredPassage], list[StatementRef], list[ScoredSentence]]:
        assert plan.compare_topic is not None
        spans: list[QuoteSpan] = []
        stored_all: dict[str, StoredPassage] = {}
        scored_all: list[ScoredSentence] = []
        not_addressed: list[StatementRef] = []
        per = max(2, (k or self.settings.passages_k) // 2)
        for statement in self._compared(plan, snap):
            scored, stored = self._score(
                plan, snap, [statement.statement_id], per, texts, timings, plan.compare_topic
            )
            stored_all.update(stored)
            scored_all.extend(scored)
            picked = select_quotes(
                scored,
                stored,
                COMPARE_PER_STATEMENT,
                self.settings.min_score,
                self.settings.relative_cutoff,
            )
            if picked:
                spans.extend(picked)
            else:
                not_addressed.append(
                    StatementRef(
                        statement_id=statement.statement_id,
                        label=statement.label,
                        title=statement.title,
                    )
                )
        scored_all.sort(key=lambda s: -s.score)
        return spans, stored_all, not_addressed, scored_all

    def _compared(self, plan: _Plan, snap: Snapshot) -> list[Statement]:
        """The statements a comparison covers: all in scope, or when there are many, the
        ones whose passages rank best for the topic."""
        if len(plan.scope) <= COMPARE_MAX_STATEMENTS:
            return list(plan.scope)
        assert plan.compare_topic is not None
        vector = self._embed(plan, plan.compare_topic)
        ids = self._restrict(plan.scope, snap)
        fused = self._fuse(plan.compare_topic, vector, snap, ids, self.settings.candidates * 2)
        by_passage = self._passages(snap, [pid for pid, _ in fused])
        order = dict.fromkeys(
            by_passage[pid].passage.statement_id for pid, _ in fused if pid in by_passage
        )
        by_id = {s.statement_id: s for s in plan.scope}
        return [by_id[sid] for sid in order if sid in by_id][:COMPARE_MAX_STATEMENTS]

    def _unknown_entities(
        self, question: str, snap: Snapshot, scope: Sequence[Statement], texts: dict[str, str]
    ) -> list[str]:
        """Capitalised names in the question that no statement in scope mentions."""
        words = re.findall(r"[A-Za-z0-9][\w'’-]*", question)[1:]
        words = [re.sub(r"['’]s$", "", w) for w in words]
        names = [
            w
            for w in words
            if (w[0].isupper() or w.isdigit())
            and len(w) > 1
            and not (w.isupper() or w[:-1].isupper())  # SWP, GIs: initials, checked elsewhere
            and content_terms(w)  # not a stopword ("Party")
        ]
        if not names:
            return []
        if len(scope) == len(snap.statements) or len(scope) > 50:
            return [w for w in names if all(not snap.known_term(t) for t in content_terms(w))]
        self._load_texts(texts, [s.statement_id for s in scope], snap)
        vocabulary: set[str] = set()
        for statement in scope:
            vocabulary |= self._statement_terms(statement, texts.get(statement.statement_id, ""))
        return [w for w in names if all(t not in vocabulary for t in content_terms(w))]

    def _statement_terms(self, statement: Statement, text: str) -> set[str]:
        key = (statement.statement_id, statement.content_hash)
        with self._cache_lock:
            terms = self._terms.get(key)
        if terms is None:
            meta = " ".join(
                filter(None, (statement.organization, statement.author, statement.title))
            )
            terms = set(content_terms(f"{text} {meta}"))
            with self._cache_lock:
                self._terms[key] = terms
                while len(self._terms) > 512:
                    self._terms.popitem(last=False)
        return terms

    # -- citations ---------------------------------------------------------------

    def _load_texts(self, texts: dict[str, str], ids: Iterable[str], snap: Snapshot) -> None:
        """Put the clean texts of ``ids`` into ``texts``: from the cache, or one batch read."""
        missing = []
        with self._cache_lock:  # the UI answers several questions at once
            for sid in ids:
                statement = snap.statements.get(sid)
                if sid in texts or statement is None:
                    continue
                key = (sid, statement.content_hash)
                if key in self._texts:
                    self._texts.move_to_end(key)
                    texts[sid] = self._texts[key]
                else:
                    missing.append(sid)
        fetched = self.store.statement_texts(missing)
        with self._cache_lock:
            for sid, text in fetched.items():
                statement = snap.statements[sid]
                self._texts[(sid, statement.content_hash)] = texts[sid] = text
            while len(self._texts) > TEXT_CACHE_SIZE:
                self._texts.popitem(last=False)

    def _citations(
        self, spans: Sequence[QuoteSpan], scope: Sequence[Statement], texts: dict[str, str]
    ) -> list[Citation]:
        """Verified citations numbered in answer order: grouped by statement, best first."""
        by_id = {s.statement_id: s for s in scope}
        order: list[str] = []
        for span in spans:
            if span.statement_id not in order:
                order.append(span.statement_id)
        citations: list[Citation] = []
        for sid in order:
            for span in (s for s in spans if s.statement_id == sid):
                citation = self._citation(len(citations) + 1, span, by_id[sid], texts.get(sid))
                if citation is not None:
                    citations.append(citation)
        return citations

    def _citation(
        self, n: int, span: QuoteSpan, statement: Statement, text: str | None
    ) -> Citation | None:
        if text is None:
            return None
        quote = span.quote
        if not verify(text, span.start, span.end, quote):
            return None
        return Citation.of(
            n, statement, span.paragraph, span.start, span.end, quote, round(span.score, 4)
        )

    def _nearest(
        self,
        scored: Sequence[ScoredSentence],
        passages: dict[str, StoredPassage],
        scope: Sequence[Statement],
        texts: dict[str, str],
    ) -> list[Citation]:
        """The two closest sentences, offered as 'nearest passages', never as an answer."""
        by_id = {s.statement_id: s for s in scope}
        result: list[Citation] = []
        for s in scored[:2]:
            p = passages[s.passage_id].passage
            quote = p.text[s.start - p.start : s.end - p.start]
            span = QuoteSpan(s.statement_id, s.paragraph, s.start, s.end, s.score, quote)
            citation = self._citation(
                len(result) + 1, span, by_id[s.statement_id], texts.get(s.statement_id)
            )
            if citation is not None:
                result.append(citation)
        return result
