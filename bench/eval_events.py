"""Precision, recall and F1 of the event extractor on the hand-annotated gold set.

    python bench/eval_events.py                      # tests/data/events_gold/*.jsonl
    python bench/eval_events.py --misses             # and every miss, to read
    python bench/eval_events.py tests/data/events_gold/ru.jsonl

Pairing and scoring: :mod:`tgscope.events.evaluate`.  Targets (issue 11): F1 ≥ 0.90 for
CONSULT with the right mode; ≥ 0.85 accuracy of actors with countries, place and date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tgscope.events.evaluate import ATTRIBUTES, Report, agreement, evaluate, read_gold
from tgscope.events.lexicon import load, load_folder

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "events_gold"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="gold files (default: all)")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument("--data", type=Path, help="a folder of compiled dictionaries")
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="also: the second, blind annotation of a sample (gold/second/) scored against the"
        " first, beside the extractor on the same posts",
    )
    parser.add_argument(
        "--modality",
        choices=("factual", "future", "negated", "reported"),
        help="only events of this modality, in the gold set and found (factual: what happened)",
    )
    args = parser.parse_args(argv)
    files = args.files or sorted(GOLD.glob("*.jsonl"))
    lexicon = load_folder(args.data) if args.data else load()
    gold = list(read_gold(files))
    report = evaluate(gold, lexicon, args.modality)
    events = sum(len(post.events) for post in gold)
    print(f"{report.posts} posts, {events} gold events ({', '.join(f.name for f in files)})\n")
    _print(report, args.misses)
    if args.agreement:
        second = list(read_gold(sorted((GOLD / "second").glob("*.jsonl"))))
        ids = {post.id for post in second}
        sample = [post for post in gold if post.id in ids]
        print(f"\n== a second annotator, blind, on {len(sample)} of these posts (gold/second/)")
        _print(agreement(sample, second, lexicon, args.modality), False)
        print(f"\n== the extractor on the same {len(sample)} posts")
        _print(evaluate(sample, lexicon, args.modality), False)
    return 0


def _print(report: Report, misses: bool) -> None:
    print(f"{'type / mode':<22} {'gold':>5} {'found':>6} {'P':>6} {'R':>6} {'F1':>6}")
    order = sorted(report.rows, key=_row_order)
    for name in order:
        score = report.rows[name]
        print(
            f"{name:<22} {score.tp + score.fn:>5} {score.tp + score.fp:>6}"
            f" {score.precision:>6.3f} {score.recall:>6.3f} {score.f1:>6.3f}"
        )
    print(f"\n{'accuracy of paired events':<26} " + " ".join(f"{a:>9}" for a in ATTRIBUTES))
    types = ["all", *sorted({key.split(":")[0] for key in report.pairs} - {"all"})]
    for type_ in types:
        pairs = report.pairs[f"{type_}:actors"]
        cells = " ".join(f"{report.accuracy(a, type_):>9.3f}" for a in ATTRIBUTES)
        print(f"{type_ + f' ({pairs} pairs)':<26} {cells}")
    if misses:
        print()
        print("\n".join(report.misses))


def _row_order(name: str) -> tuple[int, str]:
    if name == "all types":
        return (0, name)
    if name.startswith("CONSULT"):
        return (1, name)
    if name.startswith("  mode"):
        return (2, name)
    return (3, name)


if __name__ == "__main__":
    sys.exit(main())
