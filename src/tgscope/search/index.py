"""The tantivy index beside the SQLite file (``<archive>.index/``).

Why tantivy and not SQLite FTS5: measured on 1M posts, FTS5's bm25 top-10 for a
term in 50k-300k posts takes ~1.8 s at p95, tantivy ~6.5 ms (bench/bench_search.py
repeats the comparison).  The SQLite file stays the archive of record; the index
is derived from it and ``tgscope reindex`` rebuilds it.

Consistency: every write to the archive carries a sequence number; the index records
the last one it holds in ``state.json``, and catches up from the store when behind
(after a crash between the SQLite commit and the index commit, say).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import tantivy

from ..dates import day_bounds, to_epoch
from ..errors import QueryError, StoreError
from ..store import IndexDoc, PostFilter, Store, fold_hashtag
from ..words import index_text
from .query import Clause, Hit, Hits, ParsedQuery, parse_query

INDEX_FORMAT = (
    3  # 3: media, forwarded, channel facets; 2: lemmas in "words" (1: double Snowball in "text")
)
TOKENIZER = "tgscope_words"
_STATE = "state.json"
_WRITER_HEAP = 96 * 1024 * 1024  # bounded memory (imports stay under 300 MB); more barely helps


def words_analyzer() -> tantivy.TextAnalyzer:
    """The ``words`` field holds tokens made in Python (:func:`tgscope.words.index_text`)."""
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field("words", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("channel", stored=False, fast=True, tokenizer_name="raw")  # facets
    builder.add_text_field("hashtag", stored=False, tokenizer_name="raw")
    builder.add_text_field("media", stored=False, tokenizer_name="raw")  # types, and "any"
    builder.add_integer_field("forwarded", stored=False, indexed=True)  # 1: forwarded
    builder.add_integer_field("date", stored=False, indexed=True, fast=True)
    return builder.build()


def make_document(doc: IndexDoc) -> tantivy.Document:
    fields: dict = {
        "pk": doc.pk,
        "words": index_text(doc.text),
        "hashtag": list(map(fold_hashtag, doc.hashtags)),
        "media": [*doc.media, "any"] if doc.media else [],
        "forwarded": int(doc.forwarded),
    }
    if doc.channel:
        fields["channel"] = doc.channel
    if doc.date:
        fields["date"] = to_epoch(doc.date)
    return tantivy.Document(**fields)


class IndexBusy(StoreError):
    """Another process is writing to the search index."""


class SearchIndex:
    """The tantivy index in ``<archive>.index/``."""

    def __init__(self, path: str | Path):
        """Open the index folder (a symbolic link to a folder is followed), creating it when
        missing; an index of an older layout, or a damaged one, is emptied to be rebuilt."""
        self.path = Path(path)
        self._writer: tantivy.IndexWriter | None = None
        self._read_only = False
        _check_place(self.path)
        state = self._read_state()
        if state.get("format") != INDEX_FORMAT and self.path.exists():
            _empty_index_folder(self.path)  # an older layout: rebuilt from the archive on catch-up
            state = {}
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.index = _open_tantivy(self.path)
        except ValueError:  # damaged: the archive has everything to rebuild it
            _empty_index_folder(self.path)
            try:
                self.index = _open_tantivy(self.path)
            except ValueError as error:
                raise StoreError(f"{self.path}: cannot open the search index: {error}") from error
            state = {}
        except OSError as error:
            raise StoreError(f"{self.path}: cannot open the search index: {error}") from error
        self.schema = self.index.schema
        self.seq = int(state.get("seq", 0))
        self.archive_id: str | None = state.get("archive")
        if not state:
            self._claim_state()

    @classmethod
    def read_only(cls, path: str | Path) -> SearchIndex:
        """The index as it is, for searching only: nothing is created, emptied or written
        (the web app's).  Raises :class:`StoreError` when there is no index of this version
        (``tgscope reindex`` builds one)."""
        self = cls.__new__(cls)
        self.path, self._writer, self._read_only = Path(path), None, True
        state = self._read_state()
        if state.get("format") != INDEX_FORMAT:
            raise StoreError(
                f"{self.path}: no search index of this tgscope version here"
                " (tgscope reindex builds it)"
            )
        try:
            self.index = _open_tantivy(self.path)
        except (OSError, ValueError) as error:
            raise StoreError(f"{self.path}: cannot open the search index: {error}") from error
        self.schema = self.index.schema
        self.seq = int(state.get("seq", 0))
        self.archive_id = state.get("archive")
        return self

    def refresh(self) -> None:
        """A read-only index: see at once what a writer has committed since it was opened
        (tantivy's own reload polls, about every half second)."""
        written = self.written_up_to()
        if written != self.seq:
            self.index.reload()
            self.seq = written

    def written_up_to(self) -> int:
        """The archive's last write the index holds (read again: another process indexes)."""
        return int(self._read_state().get("seq", 0))

    def _claim_state(self) -> None:
        """Say at once, before the first commit, that a new or emptied index is of today's
        format: another process opening it while it is being built must not take it for an
        older layout and empty it under the builder.  Never overwrites a state another process
        wrote meanwhile (a hard link fails where the file exists)."""
        temporary = self.path / f"{_STATE}.{os.getpid()}.tmp"
        try:
            temporary.write_text(json.dumps({"format": INDEX_FORMAT, "seq": 0, "archive": None}))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, self.path / _STATE)
        except OSError as error:
            raise StoreError(f"{self.path}: cannot write the index state: {error}") from error
        finally:
            temporary.unlink(missing_ok=True)

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
        for doc in store.iter_index_docs(self.seq, last):  # up to the horizon, exactly
            batch.append(doc)
            if len(batch) == 1000:
                self.stage(batch)
                count, batch = count + len(batch), []
        self.stage(batch)
        self.commit(last)
        return count + len(batch)

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._read_only:
            raise StoreError(f"{self.path}: the search index was opened for reading only")
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=_WRITER_HEAP, num_threads=0)
            except ValueError as error:
                raise IndexBusy(
                    f"{self.path}: another tgscope process (an import or a sync) is writing to"
                    " the search index; try again when it has finished"
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

    def parse(self, query: str, filters: PostFilter) -> tuple[tantivy.Query, frozenset[str]]:
        """The user's query (words, "phrases", OR, -word) combined with the filters, and the
        tokens its words match (to highlight)."""
        musts, terms = [], frozenset[str]()
        if query.strip():
            parsed = parse_query(query)
            musts.append(tantivy_query(self.schema, parsed))
            terms = parsed.terms
        if filters.channel:
            musts.append(tantivy.Query.term_query(self.schema, "channel", filters.channel))
        if filters.hashtag:
            musts.append(tantivy.Query.term_query(self.schema, "hashtag", filters.hashtag))
        if filters.since or filters.until:
            musts.append(self._date_range(filters))
        if filters.media:
            musts.append(self._media(filters.media))
        if filters.forwarded is not None:
            musts.append(tantivy.Query.term_query(self.schema, "forwarded", int(filters.forwarded)))
        if not musts:
            return tantivy.Query.all_query(), terms
        if len(musts) == 1:
            return musts[0], terms
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts]), terms

    def _media(self, media: str) -> tantivy.Query:
        if media != "none":
            return tantivy.Query.term_query(self.schema, "media", media)
        anything = tantivy.Query.term_query(self.schema, "media", "any")
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, anything)]
        )

    def _date_range(self, filters: PostFilter) -> tantivy.Query:
        """The same bounds as the store's (:func:`tgscope.dates.day_bounds`): whole seconds,
        ``[low, high)``, so a post at the very second ``until`` names is in."""
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
        self,
        query: str,
        filters: PostFilter,
        *,
        limit: int = 10,
        order: str = "relevance",
        offset: int = 0,
    ) -> Hits:
        """Top ``limit`` posts by relevance, or by date (``newest`` / ``oldest``), from the
        ``offset``-th on."""
        parsed, terms = self.parse(query, filters)
        searcher = self.index.searcher()
        if order == "relevance":
            result = searcher.search(parsed, limit, offset=offset)
        elif order in ("newest", "oldest"):
            direction = tantivy.Order.Desc if order == "newest" else tantivy.Order.Asc
            result = searcher.search(
                parsed, limit, order_by_field="date", order=direction, offset=offset
            )
        else:
            raise QueryError(f"unknown order {order!r} (relevance, newest or oldest)")
        hits = [
            Hit(searcher.doc(address)["pk"][0], key if order == "relevance" else None)
            for key, address in result.hits
        ]
        return Hits(_count(result), hits, terms)

    def channel_counts(self, query: str, filters: PostFilter, *, size: int = 50) -> dict[str, int]:
        """How many posts matching ``query`` and the filters each channel has (the ``size``
        channels with most), from the index alone."""
        parsed, _ = self.parse(query, filters)
        found = self.index.searcher().aggregate(
            parsed, {"channels": {"terms": {"field": "channel", "size": size}}}
        )
        return {b["key"]: b["doc_count"] for b in found["channels"]["buckets"]}

    def matching_pks(self, query: str, filters: PostFilter) -> set[int]:
        """Every post matching ``query`` and the filters (for exports), not just the top."""
        parsed, _ = self.parse(query, filters)
        searcher = self.index.searcher()
        total = _count(searcher.search(parsed, 1))
        if total == 0:
            return set()
        result = searcher.search(parsed, total)
        return {searcher.doc(address)["pk"][0] for _, address in result.hits}


def _count(result: tantivy.SearchResult) -> int:
    """How many documents matched (tantivy's type stubs do not declare ``count``)."""
    return result.count or 0  # type: ignore[attr-defined]


# -- the query language as tantivy queries --------------------------------------------------


def clause_query(schema: tantivy.Schema, clause: Clause) -> tantivy.Query:
    """A word (any of its alternatives) or a phrase, as a tantivy query."""
    if len(clause.words) == 1:
        return _any_term(schema, clause.words[0])
    if all(len(choices) == 1 for choices in clause.words):
        return tantivy.Query.phrase_query(schema, "words", [c[0] for c in clause.words])
    # tokens hold letters, digits and "_" only: nothing to escape in the pattern
    patterns: list[str | tuple[int, str]] = ["|".join(c) for c in clause.words]
    return tantivy.Query.regex_phrase_query(schema, "words", patterns)


def tantivy_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query:
    """The whole query: every group must match (an excluded lone clause must not)."""
    parts = []
    for group in parsed.groups:
        if len(group) == 1 and group[0].excluded:
            parts.append((tantivy.Occur.MustNot, clause_query(schema, group[0])))
        else:
            parts.append((tantivy.Occur.Must, _any_clause(schema, group)))
    if len(parts) == 1 and parts[0][0] == tantivy.Occur.Must:
        return parts[0][1]
    return tantivy.Query.boolean_query(parts)


def _any_term(schema: tantivy.Schema, tokens: tuple[str, ...]) -> tantivy.Query:
    if len(tokens) == 1:
        return tantivy.Query.term_query(schema, "words", tokens[0])
    terms = [tantivy.Query.term_query(schema, "words", token) for token in tokens]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, term) for term in terms])


def _any_clause(schema: tantivy.Schema, group: tuple[Clause, ...]) -> tantivy.Query:
    """Any of the clauses; an excluded one matches the posts without it (``a OR -b``)."""
    queries = []
    for clause in group:
        query = clause_query(schema, clause)
        if clause.excluded:
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, query)]
            )
        queries.append(query)
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _open_tantivy(path: Path) -> tantivy.Index:
    """The index at ``path`` (bench/bench_import.py swaps this module's ``build_schema``,
    ``words_analyzer`` and ``make_document`` for the layout before format 2)."""
    try:
        index = tantivy.Index(build_schema(), path=str(path))
    except OSError as error:
        raise StoreError(f"{path}: cannot open the search index: {error}") from error
    index.register_tokenizer(TOKENIZER, words_analyzer())
    return index


def _check_place(path: Path) -> None:
    """The index's place is a folder, a link to one, or free (then the folder is made)."""
    if path.is_symlink() and not path.exists():
        raise StoreError(f"{path}: symbolic link to nothing; tgscope keeps the search index there")
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path}: is a file; tgscope keeps the search index there")


def _empty_index_folder(path: Path) -> None:
    """Delete what is inside a search index folder (never the folder, which may be a link's
    target); refuse unless it is provably one of ours."""
    try:
        if not _is_index_folder(path):
            raise StoreError(f"{path}: folder is not a tgscope search index; move it away")
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    except OSError as error:
        raise StoreError(f"{path}: cannot clear the search index: {error}") from error


def _is_index_folder(path: Path) -> bool:
    """Empty, or holding what tgscope and tantivy write: never delete a user's folder."""
    names = {child.name for child in path.iterdir()}
    return not names or _STATE in names or "meta.json" in names
