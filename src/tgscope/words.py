"""Words as the search index sees them: Russian by dictionary lemma, the rest by Snowball.

A word the Russian dictionary (pymorphy3's OpenCorpora dictionary) knows becomes its lemma:
``Лаврова``/``Лаврову`` → ``лавров``, ``провёл`` → ``провести``.  Stemming with Snowball joined
different words (``Китай`` and ``кит`` both became ``кит``, the surname ``Лавров`` and the
laurels ``лавры`` both ``лавр``); lemmas keep them apart.  Words the dictionary does not know
(``Цзиньпина``, ``Байдена``, new coinages) and every non-Russian word fall back to Snowball:
English once; Russian twice, because one pass strips one suffix and leaves ``Байденом``
(→ ``байден``) apart from ``Байден`` (→ ``байд``).  Twice was what joined ``Китая`` and ``кит``;
among unknown words (names, mostly) it measured better than once (bench/bench_wordforms.py).

Names: a dictionary analysis tagged as a first name, surname, patronymic or place
(``Name``/``Surn``/``Patr``/``Geox``) gives a token marked with :data:`NAME_MARK`
(``_лавров``, ``_китай``), so a name never meets a common noun of the same spelling
(``Лев`` Толстой and a lion, ``Путина`` and ``путина``, the fishing season).  In text, a
capitalised word is read as the name when it can be one, a lower-case word as the common
word when it can be one.  In a query, a capitalised word asks for the name only; a lower-case
word for both readings, since people type names in lower case: ``лавров`` finds the minister
and the laurels, ``Лавров`` only the minister.

Ambiguous forms (``стали``: "became" or "of steel") take their most likely lemma
(pymorphy3's score): one token per word keeps phrase positions exact, and the word-form test
set (tests/data/ru_wordforms.json, bench/bench_wordforms.py) measured it better than indexing
every lemma, which made ``сталь`` match every "стали" (became).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import tantivy

WORD = re.compile(r"[^\W_]+")  # letters and digits, as tantivy's simple tokenizer splits
NAME_MARK = "_"  # never inside a word (WORD excludes it), so a name token meets only names
MAX_WORD = 40  # longer "words" (base64, glued links) are not indexed
_NAME_TAGS = frozenset({"Name", "Surn", "Patr", "Geox"})
_CYRILLIC = re.compile(r"[а-яё]")
_ANY_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")


def has_cyrillic(text: str) -> bool:
    """Whether ``text`` has a Russian letter: only such words are read by the dictionary,
    and only their tokens hold one."""
    return _ANY_CYRILLIC.search(text) is not None


_RUSSIAN_PASSES = 2
# distinct word forms kept (~400 bytes each, ~26 MB when full): the frequent ones, which
# are most of any text; a rarer one is looked up again (~15 µs, bench/bench_import.py)
_FORMS = 1 << 16
_LEMMAS = 1 << 15


@cache
def _morph():
    """pymorphy3's analyzer, loaded on first use (~60 ms): English-only work never pays for
    it.  Naming the dictionary's folder skips pymorphy3's search of every installed package's
    entry points (~25 ms more).  Only the dictionary is consulted: pymorphy3's guesses for
    unknown words (from suffixes) are not used here and cost ~100 µs a word (11 µs without)."""
    import pymorphy3
    import pymorphy3_dicts_ru  # type: ignore[import-untyped]
    from pymorphy3.units import DictionaryAnalyzer

    path = pymorphy3_dicts_ru.get_path()
    return pymorphy3.MorphAnalyzer(path=path, units=[DictionaryAnalyzer()]), DictionaryAnalyzer


@cache
def _stemmer() -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
    builder = builder.filter(tantivy.Filter.stemmer("english"))
    for _ in range(_RUSSIAN_PASSES):
        builder = builder.filter(tantivy.Filter.stemmer("russian"))
    return builder.build()


@lru_cache(maxsize=_LEMMAS)
def stem(lower: str) -> str:
    """Snowball, English then Russian (each leaves the other alphabet alone)."""
    tokens = _stemmer().analyze(lower)
    return tokens[0] if tokens else lower


@lru_cache(maxsize=_LEMMAS)
def lexemes(lower: str) -> tuple[str | None, str | None]:
    """The dictionary's best name lemma and best common lemma of a lower-case Russian word
    (``None`` for a reading it does not have; both ``None``: not in the dictionary)."""
    morph, dictionary = _morph()
    name = common = None
    for parse in morph.parse(lower):  # most likely first
        stack = parse.methods_stack
        if len(stack) != 1 or not isinstance(stack[0][0], dictionary):
            continue  # a guess from a suffix or prefix, not the dictionary
        lemma = parse.normal_form.replace("ё", "е")
        if _NAME_TAGS & parse.tag.grammemes:
            name = name or NAME_MARK + lemma
        else:
            common = common or lemma
        if name and common:
            break
    return name, common


@lru_cache(maxsize=_FORMS)
def index_token(word: str) -> str:
    """The token a word of a post is indexed as (``word`` as written: case matters)."""
    lower = word.lower()
    if not _CYRILLIC.search(lower):
        return stem(lower)
    name, common = lexemes(lower)
    if word[0].isupper():
        return name or common or stem(lower.replace("ё", "е"))
    return common or name or stem(lower.replace("ё", "е"))


@lru_cache(maxsize=1024)
def query_tokens(word: str) -> tuple[str, ...]:
    """The tokens a query word matches, any of them.

    A capitalised word: its index token (a name when it can be one).  A lower-case word that
    can be a common word: that, and the name readings of the word and of its lemma, so that
    ``китов`` finds a sentence that starts ``Кит …`` (indexed as the name Кит) and ``путин``
    finds the president."""
    token = index_token(word)
    if word[0].isupper() or not _CYRILLIC.search(word):
        return (token,)
    name, common = lexemes(word.lower())
    if common is None:
        return (token,)
    names = {name, lexemes(common)[0]} - {None}
    return (common, *sorted(n for n in names if n))


@lru_cache(maxsize=64)
def spotting(terms: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """How to find, without the dictionary, the words of a text whose token may be one of
    ``terms`` (the query's): every form (lower case, ё written е) of the terms' lemmas, and
    the Russian terms that are no lemma (Snowball stems: such words start with them).  None
    when a term has no Cyrillic: then every word is analysed.  Snippets look for the query's
    words in ten posts, and analysing each of their words would cost ~20 µs a post at best
    (~40 µs a new word)."""
    forms: set[str] = set()
    stems = []
    for term in terms:
        lemma = term.removeprefix(NAME_MARK)
        if not _CYRILLIC.search(lemma):
            return None
        known = _forms(lemma)
        forms |= known
        if not known:
            stems.append(lemma)
    return frozenset(forms), tuple(stems)


@lru_cache(maxsize=1024)
def _forms(lemma: str) -> frozenset[str]:
    """Every form (lower case, ё as е) of the dictionary's words whose lemma is ``lemma``."""
    morph, dictionary = _morph()
    found: set[str] = set()
    for parse in morph.parse(lemma):
        stack = parse.methods_stack
        known = len(stack) == 1 and isinstance(stack[0][0], dictionary)
        if known and parse.normal_form.replace("ё", "е") == lemma:
            found.update(form.word.replace("ё", "е") for form in parse.lexeme)
    return frozenset(found)


def words(text: str) -> list[str]:
    """The words of a text that are indexed, in order: what :data:`WORD` finds, but most
    pieces between spaces are whole words already, and ``str.isalnum`` (the very test
    ``[^\\W_]`` makes) is faster than the regular expression on Cyrillic."""
    found: list[str] = []
    for piece in text.split():
        if piece.isalnum():
            found.append(piece)
        else:
            found += WORD.findall(piece)
    return [word for word in found if len(word) <= MAX_WORD]


def index_text(text: str) -> str:
    """A post's text as the index stores it: its tokens joined by spaces."""
    return " ".join(map(index_token, words(text)))
