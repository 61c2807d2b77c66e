"""Scoring extracted events against a hand-annotated gold set (``bench/eval_events.py``).

A gold file is JSON Lines, one post a line: ``{"id", "source", "channel", "date", "lang",
"text", "events": [...], "note"}``, each event in the record's shape with ``evidence`` as the
quoted text.  Events of a post are paired greedily, type by type: a predicted event and a
gold one pair when their type and modality are equal and their parties share a state (or
neither names one); the best-overlapping pairs first.  Unpaired predictions are false
positives, unpaired gold events false negatives.  Paired events are then checked for their
mode, parties, countries, place and date.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .extract import extract_events
from .lexicon import PERSON, Lexicon, fold, load

ATTRIBUTES = ("mode", "actors", "countries", "place", "date")


@dataclass
class GoldPost:
    id: str
    text: str
    date: str | None
    events: list[dict[str, Any]]
    lang: str = "en"
    source: str | None = None


def read_gold(paths: Iterable[Path]) -> Iterator[GoldPost]:
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON: {error}") from error
                yield GoldPost(
                    id=item["id"],
                    text=item["text"],
                    date=item.get("date"),
                    events=item.get("events", []),
                    lang=item.get("lang", "en"),
                    source=item.get("source"),
                )


@dataclass
class Score:
    """Counts for one row of the table."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    rows: dict[str, Score] = field(default_factory=dict)
    right: Counter[str] = field(default_factory=Counter)
    pairs: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self, name: str) -> Score:
        return self.rows.setdefault(name, Score())

    def accuracy(self, attribute: str, type_: str = "all") -> float:
        key = f"{type_}:{attribute}"
        return self.right[key] / self.pairs[key] if self.pairs[key] else 0.0


def evaluate(
    gold: Iterable[GoldPost], lexicon: Lexicon | None = None, modality: str | None = None
) -> Report:
    """The extractor against the gold set (``modality``: only events of that modality on
    both sides, e.g. ``factual``: the meetings that took place)."""
    lexicon = lexicon or load()
    report = Report()
    for post in gold:
        report.posts += 1
        predicted = [e.to_dict() for e in extract_events(post.id, post.text, post.date, lexicon)]
        _score_dicts(report, _only(post, modality), _only_events(predicted, modality), lexicon)
    return report


def _only(post: GoldPost, modality: str | None) -> GoldPost:
    if modality is None:
        return post
    events = _only_events(post.events, modality)
    return GoldPost(post.id, post.text, post.date, events, post.lang, post.source)


def _only_events(events: list[dict[str, Any]], modality: str | None) -> list[dict[str, Any]]:
    if modality is None:
        return events
    return [event for event in events if event.get("modality", "factual") == modality]


def agreement(
    gold: Iterable[GoldPost],
    other: Iterable[GoldPost],
    lexicon: Lexicon | None = None,
    modality: str | None = None,
) -> Report:
    """A second annotation scored against the first, post by post, as the extractor is:
    how far two people reading the same guide agree (the ceiling a rule set can reach on
    this gold set).  Only posts both annotated count."""
    lexicon = lexicon or load()
    second = {post.id: post for post in other}
    report = Report()
    for post in gold:
        if post.id in second:
            report.posts += 1
            theirs = _only_events(second[post.id].events, modality)
            _score_dicts(report, _only(post, modality), theirs, lexicon)
    return report


def _score_dicts(
    report: Report, post: GoldPost, got: list[dict[str, Any]], lexicon: Lexicon
) -> None:
    wanted = list(post.events)
    pairs = _pairs(wanted, got)
    paired_gold = {g for g, _ in pairs}
    paired_got = {p for _, p in pairs}
    for index, event in enumerate(wanted):
        if index not in paired_gold:
            _count(report, event, "fn")
            report.misses.append(f"{post.id} FN {_brief(event)}")
    for index, event in enumerate(got):
        if index not in paired_got:
            _count(report, event, "fp")
            report.misses.append(f"{post.id} FP {_brief(event)}")
    for g, p in pairs:
        gold_event, got_event = wanted[g], got[p]
        _count(report, gold_event, "tp")
        same_mode = set(gold_event.get("mode") or []) == set(got_event.get("mode") or [])
        if gold_event["type"] == "CONSULT":
            report.row("CONSULT with mode").__dict__["tp" if same_mode else "fn"] += 1
            if not same_mode:
                report.row("CONSULT with mode").fp += 1
            _count_modes(report, gold_event, got_event)
        for attribute in ATTRIBUTES:
            right = _agrees(attribute, gold_event, got_event, lexicon)
            for type_ in ("all", gold_event["type"]):
                report.pairs[f"{type_}:{attribute}"] += 1
                report.right[f"{type_}:{attribute}"] += right
            if not right and attribute != "mode":
                expected = _attribute(attribute, gold_event, lexicon)
                given = _attribute(attribute, got_event, lexicon)
                report.misses.append(f"{post.id} {attribute}: gold {expected} got {given}")
        if not same_mode and gold_event["type"] == "CONSULT":
            report.misses.append(
                f"{post.id} mode: gold {gold_event.get('mode')} got {got_event.get('mode')}"
            )


def _count(report: Report, event: dict[str, Any], outcome: str) -> None:
    for name in (event["type"], "all types"):
        setattr(report.row(name), outcome, getattr(report.row(name), outcome) + 1)
    if event["type"] == "CONSULT" and outcome != "tp":
        row = report.row("CONSULT with mode")
        setattr(row, outcome, getattr(row, outcome) + 1)
        for mode in event.get("mode") or []:
            row = report.row(f"  mode {mode}")
            setattr(row, outcome, getattr(row, outcome) + 1)


def _count_modes(report: Report, gold: dict[str, Any], got: dict[str, Any]) -> None:
    wanted, found = set(gold.get("mode") or []), set(got.get("mode") or [])
    for mode in wanted | found:
        row = report.row(f"  mode {mode}")
        if mode in wanted and mode in found:
            row.tp += 1
        elif mode in found:
            row.fp += 1
        else:
            row.fn += 1


def _states(event: dict[str, Any]) -> set[str]:
    return {
        party.get("country") or party.get("org") or ""
        for party in (*event.get("actors", []), *event.get("recipients", []))
    } - {""}


def _pairs(wanted: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[tuple[int, int]]:
    candidates = []
    for g, gold in enumerate(wanted):
        for p, found in enumerate(got):
            if gold["type"] != found["type"] or gold.get("modality", "factual") != found.get(
                "modality", "factual"
            ):
                continue
            a, b = _states(gold), _states(found)
            if a and b and not a & b:
                continue
            overlap = len(a & b) / len(a | b) if a | b else 1.0
            candidates.append((overlap, -abs(g - p), g, p))
    candidates.sort(reverse=True)
    used_gold: set[int] = set()
    used_got: set[int] = set()
    pairs = []
    for _, _, g, p in candidates:
        if g in used_gold or p in used_got:
            continue
        used_gold.add(g)
        used_got.add(p)
        pairs.append((g, p))
    return pairs


def canonical_name(name: str | None, lexicon: Lexicon) -> str | None:
    """A person's name as the dictionary spells it (``Sergei Lavrov`` → ``Sergey Lavrov``),
    else folded without diacritics."""
    if not name:
        return None
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    for candidate in (name, plain):
        entries = lexicon._forms.get(fold(candidate), ())
        for entry in entries:
            if entry.kind == PERSON:
                return lexicon.officials[int(entry.key)].name
    return fold(plain)


def _parties(event: dict[str, Any], lexicon: Lexicon) -> set[tuple[str | None, str | None]]:
    return {
        (canonical_name(party.get("name"), lexicon), party.get("country") or party.get("org"))
        for party in (*event.get("actors", []), *event.get("recipients", []))
    }


def _attribute(attribute: str, event: dict[str, Any], lexicon: Lexicon) -> Any:
    if attribute == "mode":
        return sorted(event.get("mode") or [])
    if attribute == "actors":
        return sorted(_parties(event, lexicon), key=str)
    if attribute == "countries":
        return sorted(_states(event))
    if attribute == "place":
        place = event.get("place")
        if not place:
            return None
        return (canonical_place(place.get("name")), place.get("country"))
    return event.get("date")


def canonical_place(name: str | None) -> str | None:
    if not name:
        return None
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return fold(plain).replace("saint ", "st ").replace("st. ", "st ")


def _agrees(attribute: str, gold: dict[str, Any], got: dict[str, Any], lexicon: Lexicon) -> bool:
    return _attribute(attribute, gold, lexicon) == _attribute(attribute, got, lexicon)


def _brief(event: dict[str, Any]) -> str:
    parties = ",".join(
        f"{p.get('name') or ''}/{p.get('country') or p.get('org')}"
        for p in (*event.get("actors", []), *event.get("recipients", []))
    )
    return f"{event['type']} {event.get('modality')} {event.get('mode')} [{parties}]"
