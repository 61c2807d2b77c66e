"""Full-text search: a tantivy index beside the SQLite file.

Why tantivy and not SQLite FTS5: measured on 1M posts, FTS5's bm25 top-10 for a
term in 50k-300k posts takes ~1.8 s at p95, tantivy ~6.5 ms (bench/bench_search.py
repeats the comparison).  The SQLite file stays the archive of record; the index
is derived from it and ``tgscope reindex`` rebuilds it.

Word forms: text and queries pass through Snowball's English and Russian stemmers,
each applied twice.  One pass of the Russian stemmer strips a single suffix, so the
nominative ``Лавров`` (→ ``лавр``) and ``Лаврова`` (→ ``лавров``) would not meet;
a second pass brings both to ``лавр`` (and ``Китай``/``Китая``/``Китаем`` to ``кит``).
Each stemmer leaves the other language's alphabet alone.

Consistency: every write to the archive carries a sequence number; the index records
the last one it holds in ``state.json``, and catches up from the store when behind
(after a crash between the SQLite commit and the index commit, say).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy

from .dates import day_bounds, to_epoch
from .errors import QueryError, StoreError
from .store import IndexDoc, PostFilter, Store, fold_hashtag

INDEX_FORMAT = 1
TOKENIZER = "tgscope_en_ru"
_STATE = "state.json"
_WRITER_HEAP = 96 * 1024 * 1024  # bounded memory (imports stay under 300 MB); more barely helps
_SNIPPET_CHARS = 160


def text_analyzer() -> tantivy.TextAnalyzer:
    """Tokens as the index and queries see them: words, lower case, stemmed (en, ru) twice."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    for _ in range(2):
        builder = builder.filter(tantivy.Filter.stemmer("english"))
        builder = builder.filter(tantivy.Filter.stemmer("russian"))
    return builder.build()


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field("text", stored=True, tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("channel", stored=False, tokenizer_name="raw")
    builder.add_text_field("hashtag", stored=False, tokenizer_name="raw")
    builder.add_integer_field("date", stored=False, indexed=True, fast=True)
    return builder.build()


def make_document(doc: IndexDoc) -> tantivy.Document:
    fields: dict = {
        "pk": doc.pk,
        "text": doc.text,
        "hashtag": list(map(fold_hashtag, doc.hashtags)),
    }
    if doc.channel:
        fields["channel"] = doc.channel
    if doc.date:
        fields["date"] = to_epoch(doc.date)
    return tantivy.Document(**fields)


class IndexBusy(StoreError):
    """Another process is writing to the search index."""


@dataclass(frozen=True, slots=True)
class Hit:
    pk: int
    score: float | None
    snippet: str  # HTML: matched words in <b>…</b>, the rest escaped


@dataclass(frozen=True, slots=True)
class Hits:
    total: int
    hits: list[Hit]


class SearchIndex:
    """The tantivy index in ``<archive>.index/``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._writer: tantivy.IndexWriter | None = None
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path}: is a file; tgscope keeps the search index there")
        state = self._read_state()
        if state.get("format") != INDEX_FORMAT and self.path.exists():
            if not _is_index_folder(self.path):
                raise StoreError(f"{self.path}: folder is not a tgscope search index; move it away")
            shutil.rmtree(self.path)  # an older layout: rebuilt from the archive on catch-up
            state = {}
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(build_schema(), path=str(self.path))
        except (OSError, ValueError):  # damaged: the archive has everything to rebuild it
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
            self.index = tantivy.Index(build_schema(), path=str(self.path))
            state = {}
        self.index.register_tokenizer(TOKENIZER, text_analyzer())
        self.schema = self.index.schema
        self.seq = int(state.get("seq", 0))
        self.archive_id: str | None = state.get("archive")

    # -- writing --------------------------------------------------------------------------

    def stage(self, docs: Iterable[IndexDoc]) -> None:
        """Add (or replace) documents; they become visible at :meth:`commit`."""
        writer = self._open_writer()
        try:
            for doc in docs:
                if not doc.new:
                    writer.delete_documents_by_term("pk", doc.pk)
                if not doc.gone:
                    writer.add_document(make_document(doc))
        except (OSError, ValueError) as error:  # tantivy's errors: a full disk, say
            raise StoreError(f"{self.path}: cannot write the search index: {error}") from error

    def commit(self, seq: int) -> None:
        """Make staged documents visible and record that the index holds writes up to ``seq``."""
        writer = self._open_writer()
        try:
            writer.commit()
            writer.wait_merging_threads()
        except (OSError, ValueError) as error:
            raise StoreError(f"{self.path}: cannot write the search index: {error}") from error
        self._writer = None
        self.seq = seq
        self._write_state()
        self.index.reload()

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None

    def catch_up(self, store: Store, *, rebuild: bool = False) -> int:
        """Index whatever the store wrote since this index's last commit; return how many.

        The index is rebuilt from scratch when asked, when it belongs to another archive (the
        database file was replaced) or when it claims writes the archive does not have.
        """
        last, archive_id = store.last_seq(), store.archive_id()
        if not rebuild and self.seq == last and self.archive_id == archive_id:
            return 0  # the usual case, checked before any file is read
        state = self._read_state()  # another process may have indexed meanwhile
        if state.get("archive") == self.archive_id and int(state.get("seq", 0)) > self.seq:
            self.seq = int(state["seq"])
            self.index.reload()
        if rebuild or self.archive_id != archive_id or self.seq > last:
            self._open_writer().delete_all_documents()
            self.seq, self.archive_id = 0, archive_id
        elif self.seq >= last:
            return 0
        count = 0
        batch: list[IndexDoc] = []
        for doc in store.iter_index_docs(self.seq):
            batch.append(doc)
            if len(batch) == 1000:
                self.stage(batch)
                count, batch = count + len(batch), []
        self.stage(batch)
        self.commit(last)
        return count + len(batch)

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=_WRITER_HEAP, num_threads=0)
            except ValueError as error:
                raise IndexBusy(
                    f"{self.path}: another tgscope process is writing to the search index ({error})"
                ) from error
        return self._writer

    def _read_state(self) -> dict:
        try:
            return json.loads((self.path / _STATE).read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self) -> None:
        temporary = self.path / (_STATE + ".tmp")
        state = {"format": INDEX_FORMAT, "seq": self.seq, "archive": self.archive_id}
        try:
            temporary.write_text(json.dumps(state))
            os.replace(temporary, self.path / _STATE)
        except OSError as error:
            raise StoreError(f"{self.path}: cannot write the index state: {error}") from error

    # -- searching ------------------------------------------------------------------------

    def parse(self, query: str, filters: PostFilter) -> tantivy.Query:
        """The user's query (words, "phrases", AND/OR/-) combined with the filters."""
        musts = []
        if query.strip():
            engine_query = to_engine_query(query)
            if engine_query:
                try:
                    parsed = self.index.parse_query(
                        engine_query, ["text"], conjunction_by_default=True
                    )
                except ValueError as error:  # pragma: no cover - to_engine_query quotes all
                    raise QueryError(f"cannot parse query {query!r}: {error}") from error
                musts.append(parsed)
        if filters.channel:
            musts.append(tantivy.Query.term_query(self.schema, "channel", filters.channel))
        if filters.hashtag:
            musts.append(tantivy.Query.term_query(self.schema, "hashtag", filters.hashtag))
        if filters.since or filters.until:
            musts.append(self._date_range(filters))
        if not musts:
            return tantivy.Query.all_query()
        if len(musts) == 1:
            return musts[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts])

    def _date_range(self, filters: PostFilter) -> tantivy.Query:
        low, high = day_bounds(filters.since, filters.until)
        return tantivy.Query.range_query(
            self.schema,
            "date",
            tantivy.FieldType.Integer,
            to_epoch(low) if low else None,
            to_epoch(high) if high else None,
            include_upper=high is None,
        )

    def search(
        self, query: str, filters: PostFilter, *, limit: int = 10, order: str = "relevance"
    ) -> Hits:
        """Top ``limit`` posts by relevance, or by date (``newest`` / ``oldest``)."""
        parsed = self.parse(query, filters)
        searcher = self.index.searcher()
        if order == "relevance":
            result = searcher.search(parsed, limit)
        elif order in ("newest", "oldest"):
            direction = tantivy.Order.Desc if order == "newest" else tantivy.Order.Asc
            result = searcher.search(parsed, limit, order_by_field="date", order=direction)
        else:
            raise QueryError(f"unknown order {order!r} (relevance, newest or oldest)")
        snippets = tantivy.SnippetGenerator.create(searcher, parsed, self.schema, "text")
        snippets.set_max_num_chars(_SNIPPET_CHARS)
        hits = []
        for key, address in result.hits:
            document = searcher.doc(address)
            score = key if order == "relevance" else None
            snippet = snippets.snippet_from_doc(document).to_html()
            if not snippet:
                snippet = _escape(document["text"][0][:_SNIPPET_CHARS]) if document["text"] else ""
            hits.append(Hit(document["pk"][0], score, snippet))
        return Hits(result.count or 0, hits)

    def matching_pks(self, query: str, filters: PostFilter) -> set[int]:
        """Every post matching ``query`` and the filters (for exports), not just the top."""
        parsed = self.parse(query, filters)
        searcher = self.index.searcher()
        total = searcher.search(parsed, 1).count or 0
        if total == 0:
            return set()
        result = searcher.search(parsed, total)
        return {searcher.doc(address)["pk"][0] for _, address in result.hits}


_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_OPERATORS = {"OR", "AND"}


def to_engine_query(query: str) -> str:
    """The user's query in tantivy's syntax, with every word and phrase quoted.

    Users write words (all must match), ``"a phrase"``, ``OR`` and ``-excluded``; anything
    else is text, so ``Lavrov's``, ``G20:`` or ``12:00`` search for what they say instead of
    being read as syntax.  Raises :class:`QueryError` for a query that only excludes.
    """
    parts: list[str] = []
    for match in _QUERY_PART.finditer(query):
        minus, phrase, word = match.groups()
        if word in _OPERATORS:
            parts.append(word)
            continue
        if word is not None:
            minus, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
        if any(character.isalnum() for character in phrase):
            words = phrase.replace("\\", " ").replace('"', " ")
            parts.append(f'{minus}"{words}"')
    parts = _drop_stray_operators(parts)
    if parts and all(part.startswith("-") or part in _OPERATORS for part in parts):
        raise QueryError(f"query {query!r} only excludes: add a word to search for")
    return " ".join(parts)


def _drop_stray_operators(parts: list[str]) -> list[str]:
    kept: list[str] = []
    for part in parts:
        if part in _OPERATORS and (not kept or kept[-1] in _OPERATORS):
            continue
        kept.append(part)
    while kept and kept[-1] in _OPERATORS:
        kept.pop()
    return kept


def _is_index_folder(path: Path) -> bool:
    """Empty, or holding what tgscope and tantivy write: never delete a user's folder."""
    names = {child.name for child in path.iterdir()}
    return not names or _STATE in names or "meta.json" in names


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
