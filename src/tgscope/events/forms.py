"""Russian word forms for the dictionaries' compile scripts: every case of a name or phrase.

The extractor matches surface forms (an Aho-Corasick automaton over lower-case text), so
a name must be listed in each case it can take: «Лавров», «Лаврова», «Лаврову», «Лавровым»,
«Лаврове».  pymorphy3 inflects words its dictionary knows and guesses the rest from their
endings; words it cannot inflect (``Ван И``, ``Цзиньпин`` as given) stay as they are.  Only
the compile scripts call this: the shipped data files hold the forms, so extraction never
loads pymorphy3.
"""

from __future__ import annotations

from functools import cache

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
_NAME_TAGS = ("Surn", "Name", "Patr")


@cache
def _analyzer():
    import pymorphy3
    import pymorphy3_dicts_ru  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_ru.get_path())


def _best_parse(word: str, *, person: bool, gender: str | None):
    """The analysis to inflect from: a name's (of the given gender) for people, else a
    nominative one, else pymorphy3's first."""
    parses = _analyzer().parse(word)
    if person:
        for parse in parses:
            tags = parse.tag
            named = any(tag in tags for tag in _NAME_TAGS) and "nomn" in tags
            if named and (gender is None or (gender == "f") == ("femn" in tags)):
                return parse
    for parse in parses:
        if "nomn" in parse.tag:
            return parse
    return parses[0] if parses else None


def word_forms(word: str, *, person: bool = False, gender: str | None = None) -> list[str]:
    """``word`` in each case (singular when it is singular), the given form first."""
    forms = [word]
    parse = _best_parse(word, person=person, gender=gender)
    if parse is None or "Fixd" in parse.tag or not word[:1].isalpha():
        return forms
    number = "plur" if "plur" in parse.tag else "sing"
    for case in CASES:
        inflected = parse.inflect({case, number})
        if inflected is None:
            continue
        form = _same_case_as(word, inflected.word)
        if form not in forms:
            forms.append(form)
    return forms


def phrase_forms(phrase: str, *, person: bool = False, gender: str | None = None) -> list[str]:
    """A phrase in each case, every word inflected to the same case («Российская Федерация»
    → «Российской Федерации», …); a word that cannot take a case stays as it is (a genitive
    complement such as «Республики» in «Президент Республики Корея» is better listed as its
    own alias)."""
    words = phrase.split()
    if not words:
        return []
    forms = [phrase]
    for case in CASES:
        inflected_words = [_inflect(word, case, person=person, gender=gender) for word in words]
        form = " ".join(inflected_words)
        if form not in forms:
            forms.append(form)
    return forms


def _inflect(word: str, case: str, *, person: bool, gender: str | None) -> str:
    if "-" in word:  # «Нур-Султан», «Жан-Ив»: inflect the last part only
        head, _, tail = word.rpartition("-")
        return f"{head}-{_inflect(tail, case, person=person, gender=gender)}"
    if person and gender == "f" and word[-1:].lower() not in "аяь":
        return word  # a woman's surname that ends in a consonant is not declined: Бербок
    parse = _best_parse(word, person=person, gender=gender)
    if parse is None or "Fixd" in parse.tag or not word[:1].isalpha():
        return word
    number = "plur" if "plur" in parse.tag else "sing"
    inflected = parse.inflect({case, number})
    return word if inflected is None else _same_case_as(word, inflected.word)


def _same_case_as(model: str, word: str) -> str:
    """``word`` capitalised as ``model`` is (pymorphy3 answers in lower case)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
