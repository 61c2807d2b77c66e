"""Word-form benchmark: recall and precision per query word of tests/data/ru_wordforms.json.

    python bench/bench_wordforms.py

Each analyzer indexes the test set's sentences in a tantivy index and answers each query word;
recall = sentences found that hold a form of the word / all such sentences ('meet'), precision =
those / all sentences found (any sentence found that is not listed under 'meet' is a false hit).
Analyzers, side by side:

- before:    Snowball English + Russian, each twice (tgscope's analyzer until index format 2;
             a copy is kept here, not in the package)
- 1 pass:    the same with one pass of each stemmer
- after:     tgscope.words as shipped: dictionary lemmas, names apart, Snowball for unknown words
- all lemmas: as after, but every common lemma of a word's dictionary analyses is indexed
             (and a query word matches any of its lemmas): how ambiguous forms were decided
- after, 1 pass: as after, with one Russian Snowball pass for unknown words
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tgscope import words

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "ru_wordforms.json"

# doc_tokens(text) -> tokens of the text (several may stand for one word); query(word) -> any of
Analyzer = tuple[Callable[[str], list[str]], Callable[[str], tuple[str, ...]]]


def snowball(passes: int) -> Analyzer:
    """tgscope's analyzer before index format 2 (passes=2), kept here for comparison."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    for _ in range(passes):
        builder = builder.filter(tantivy.Filter.stemmer("english"))
        builder = builder.filter(tantivy.Filter.stemmer("russian"))
    analyzer = builder.build()
    return analyzer.analyze, lambda word: tuple(analyzer.analyze(word))


def lemmas() -> Analyzer:
    return (lambda text: words.index_text(text).split()), words.query_tokens


def every_lemma() -> Analyzer:
    """As shipped, but a word stands for every common lemma the dictionary gives it."""
    morph, dictionary = words._morph()

    def common_lemmas(word: str) -> set[str]:
        return {
            parse.normal_form.replace("ё", "е")
            for parse in morph.parse(word.lower())
            if len(parse.methods_stack) == 1
            and isinstance(parse.methods_stack[0][0], dictionary)
            and not words._NAME_TAGS & parse.tag.grammemes
        }

    def doc_tokens(text: str) -> list[str]:
        tokens = []
        for word in words.words(text):
            token = words.index_token(word)
            tokens.append(token)
            if not token.startswith(words.NAME_MARK):
                tokens += sorted(common_lemmas(word) - {token})
        return tokens

    def query(word: str) -> tuple[str, ...]:
        shipped = words.query_tokens(word)
        if shipped[0].startswith(words.NAME_MARK):
            return shipped
        return tuple(sorted(set(shipped) | common_lemmas(word)))

    return doc_tokens, query


def one_russian_pass(analyzer: Callable[[], Analyzer]) -> Callable[[], Analyzer]:
    def build() -> Analyzer:
        doc_tokens, query = analyzer()

        def switched(function):
            def run(argument):
                passes = words._RUSSIAN_PASSES
                _set_passes(1)
                try:
                    return function(argument)
                finally:
                    _set_passes(passes)

            return run

        return switched(doc_tokens), switched(query)

    return build


def _set_passes(passes: int) -> None:
    words._RUSSIAN_PASSES = passes
    for cached in (words._stemmer, words.stem, words.index_token, words.query_tokens):
        cached.cache_clear()


def evaluate(analyzer: Analyzer, data: dict) -> dict[str, tuple[float, float, int]]:
    """Per query word: recall, precision, and how many 'never' sentences were found."""
    doc_tokens, query_tokens = analyzer
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("n", stored=True)
    builder.add_text_field("tokens", tokenizer_name="whitespace", index_option="position")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    names = list(data["sentences"])
    for number, name in enumerate(names):
        text = " ".join(doc_tokens(data["sentences"][name]))
        writer.add_document(tantivy.Document(n=number, tokens=text))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    scores = {}
    for word in data["words"]:
        terms = [
            (tantivy.Occur.Should, tantivy.Query.term_query(index.schema, "tokens", token))
            for token in query_tokens(word["query"])
        ]
        hits = searcher.search(tantivy.Query.boolean_query(terms), len(names)).hits
        found = {names[searcher.doc(address)["n"][0]] for _, address in hits}
        meet, never = set(word["meet"]), set(word["never"])
        recall = len(found & meet) / len(meet)
        precision = len(found & meet) / len(found) if found else 1.0
        scores[word["query"]] = (recall, precision, len(found & never))
    return scores


ANALYZERS: dict[str, Callable[[], Analyzer]] = {
    "before": lambda: snowball(2),
    "1 pass": lambda: snowball(1),
    "after": lemmas,
    "all lemmas": every_lemma,
    "after, 1 pass": one_russian_pass(lemmas),
}


def main() -> None:
    data = json.loads(DATA.read_text("utf-8"))
    results = {name: evaluate(build(), data) for name, build in ANALYZERS.items()}
    width = max(len(word["query"]) for word in data["words"]) + 2
    cell = 16
    header = f"{'query':<{width}}" + "".join(f"{name:>{cell}}" for name in results)
    print(f"{len(data['sentences'])} sentences, {len(data['words'])} query words")
    print("each cell: recall / precision (! = a 'never' sentence found)")
    print(header)
    print("-" * len(header))
    for word in data["words"]:
        row = f"{word['query']:<{width}}"
        for scores in results.values():
            recall, precision, wrong = scores[word["query"]]
            row += f"{recall:>8.2f} / {precision:.2f}{'!' if wrong else ' '}"
        print(row)
    print("-" * len(header))
    row = f"{'mean':<{width}}"
    for scores in results.values():
        recall = statistics.mean(value[0] for value in scores.values())
        precision = statistics.mean(value[1] for value in scores.values())
        row += f"{recall:>8.2f} / {precision:.2f} "
    print(row)
    row = f"{'words with a false friend':<{width}}"
    for scores in results.values():
        row += f"{sum(1 for value in scores.values() if value[2]):>{cell - 1}} "
    print(row)


if __name__ == "__main__":
    main()
