"""Diplomatic events: extraction speed on one core, the incremental refresh of a million-post
archive, and no crash on any post of the samples, the corpus and a million generated posts.

    .venv/bin/python bench/bench_events.py [--posts 100000] [--archive 1000000] [--new 1000]
        [--crash-posts 1000000] [--only throughput,refresh,crash] [--rebuild]

Each part runs in its own process (its peak RSS is its own) and prints a table:

* ``throughput``: ``--posts`` generated posts of a foreign ministry's channels in English
  and Russian (``gen_diplomatic.py``: talks, calls, videoconferences, visits, sidelines,
  congratulations, protests, and about half posts with no event; real officials of
  ``officials.tsv`` in office on the post's day), generated first, then
  ``extract_events`` on each, the process pinned to one CPU (``os.sched_setaffinity``):
  posts/s (by wall clock and by the process's CPU time), events found, p50/p99 ms a post.
* ``refresh``: the archive of ``web_archive.py`` (``bench/out/web-<archive>.db``; built when
  missing) is copied once to ``bench/out/events-<archive>.db`` and its events table caught
  up from nothing (timed once: the figure is kept in ``events-<archive>.json``; done again
  when the dictionaries or rules changed).  Each run copies that archive, ingests ``--new``
  new posts of two existing channels (ids and dates after theirs) as a sync does
  (``Archive.ingest``, search index deferred), and times ``Archive.update_events()``, then
  a catch-up with nothing to do.
* ``crash``: ``extract_events`` on every post of ``samples/``, of the seed
  (``../shared/seed``) and of ``../shared/corpus`` (each file read by tgscope's own readers,
  through ``Archive.import_file`` into a scratch archive), and of ``--crash-posts``
  generated posts (another seed): exceptions are counted, never raised.  The first full
  catch-up of ``refresh`` runs the extraction over every post of the million-post archive.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_diplomatic import DiplomaticGenerator
from web_archive import ensure

from tgscope.archive import Archive
from tgscope.errors import SourceError
from tgscope.events.extract import extract_events
from tgscope.events.index import EventIndex
from tgscope.events.lexicon import load
from tgscope.store import SourceInfo

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared"
PARTS = ("throughput", "refresh", "crash")
NEW_CHANNELS = {"mfarussia": False, "mid_russia": True}  # username -> Russian


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_to_one_cpu() -> int | None:
    """Run on one CPU (the first this process may use), where the platform allows it."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


# -- throughput ---------------------------------------------------------------------------


def run_throughput(posts: int, seed: int) -> dict:
    cpu = pin_to_one_cpu()
    started = time.perf_counter()
    generator = DiplomaticGenerator(seed)
    generated = [(p.key, p.text or "", p.date, p.channel) for p in generator.posts(posts)]
    generating = time.perf_counter() - started
    started = time.perf_counter()
    lexicon = load()
    loading = time.perf_counter() - started
    timings: list[int] = []
    languages: Counter[str] = Counter()
    types: Counter[str] = Counter()
    modalities: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    found = with_events = 0
    wall, cpu_time = time.perf_counter(), time.process_time()
    for key, text, day, channel in generated:
        start = time.perf_counter_ns()
        events = extract_events(key, text, day, lexicon)
        took = time.perf_counter_ns() - start
        timings.append(took)
        language = "ru" if NEW_CHANNELS.get(channel or "") else "en"
        languages[language] += 1
        spent[language] += took
        found += len(events)
        with_events += bool(events)
        types.update(event.type for event in events)
        modalities.update(event.modality for event in events)
    wall, cpu_time = time.perf_counter() - wall, time.process_time() - cpu_time
    cuts = statistics.quantiles(timings, n=100)
    models = [name for name in ("pymorphy3", "natasha", "slovnet", "torch") if name in sys.modules]
    return {
        "cpu": cpu,
        "models": models,
        "posts": posts,
        "generate_s": generating,
        "lexicon_s": loading,
        "seconds": wall,
        "cpu_seconds": cpu_time,
        "with_events": with_events,
        "events": found,
        "written": dict(generator.kinds.most_common()),
        "types": dict(types.most_common()),
        "modalities": dict(modalities.most_common()),
        "p50_ms": cuts[49] / 1e6,
        "p99_ms": cuts[98] / 1e6,
        "max_ms": max(timings) / 1e6,
        "by_language": {
            language: {"posts": count, "posts_s": count / (spent[language] / 1e9)}
            for language, count in languages.items()
        },
    }


# -- refresh ------------------------------------------------------------------------------


def base_path(archive_posts: int) -> Path:
    return OUT / f"events-{archive_posts}.db"


def _drop(db: Path) -> None:
    for stale in [db, *db.parent.glob(db.name + "-*")]:
        if stale.is_file():
            stale.unlink()


def sidecar_of(archive_posts: int) -> Path:
    return base_path(archive_posts).with_suffix(".json")


def prepare(archive_posts: int, rebuild: bool) -> None:
    """The events archive: copied from the web benchmark's archive and caught up from
    nothing the first time (or when ``rebuild``); the time it took is kept beside it."""
    base, sidecar = base_path(archive_posts), sidecar_of(archive_posts)
    if base.exists() and not rebuild:
        return
    source = ensure(archive_posts)  # built by web_archive.py when missing
    scratch = base.with_name(base.name + ".tmp")
    _drop(scratch)
    print(f"copying {source} to {base}…", flush=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as origin:
        copy = sqlite3.connect(scratch)
        origin.backup(copy)
        copy.close()
    figures = {"first": catch_up(scratch)}
    _drop(base)
    scratch.rename(base)
    sidecar.write_text(json.dumps(figures, indent=1))


def caught_up_base(archive_posts: int) -> dict:
    """The events archive brought up to date with the dictionaries and rules this process
    loaded (they change, and then everything is read again: timed, kept beside it)."""
    base, sidecar = base_path(archive_posts), sidecar_of(archive_posts)
    figures = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    with Archive.open(base, create=False) as archive:
        behind = EventIndex(archive.store.events).behind()  # type: ignore[attr-defined]
    if behind:
        figures["rebuilt"] = catch_up(base)
        sidecar.write_text(json.dumps(figures, indent=1))
    return figures


def catch_up(db: Path) -> dict:
    """The events table of ``db`` caught up, timed; the file left checkpointed."""
    print(f"{time.strftime('%H:%M')}: catching up the events of {db}…", flush=True)
    with Archive.open(db, create=False) as archive:
        start = time.perf_counter()
        done = EventIndex(archive.store.events).catch_up()  # type: ignore[attr-defined]
        seconds = time.perf_counter() - start
        archive.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    found = {
        "seconds": seconds,
        "posts": done.posts,
        "events": done.events,
        "rebuilt": done.rebuilt,
        "peak_mb": peak_mb(),
        "on": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(f"caught up: {found}", flush=True)
    return found


def new_posts(archive: Archive, count: int, seed: int) -> list:
    """``count`` posts of two existing channels, after their last ids and dates."""
    db = archive.store.db  # type: ignore[attr-defined]
    last_ids, last_day = {}, "2015-01-01"
    for channel in NEW_CHANNELS:
        ids, day = db.execute(
            "SELECT max(p.message_id), max(p.date) FROM posts p"
            " JOIN channels c ON c.pk = p.channel_pk WHERE c.username = ?",
            (channel,),
        ).fetchone()
        last_ids[channel] = ids or 0
        last_day = max(last_day, (day or "")[:10])
    start = date.fromisoformat(last_day)
    generated = DiplomaticGenerator(seed).posts(
        count, NEW_CHANNELS, start=start.replace(day=min(start.day, 28)), days=7, last_ids=last_ids
    )
    return list(generated)


def run_refresh(archive_posts: int, new: int, seed: int) -> dict:
    figures = caught_up_base(archive_posts)
    base = base_path(archive_posts)
    work = base.with_name(f"events-{archive_posts}-work.db")
    _drop(work)
    started = time.perf_counter()
    shutil.copyfile(base, work)
    copying = time.perf_counter() - started
    try:
        with Archive.open(work, create=False) as archive:
            tables = archive.store.events  # type: ignore[attr-defined]
            before = tables.db.execute("SELECT count(*) FROM events").fetchone()[0]
            posts = new_posts(archive, new, seed)
            source = SourceInfo(
                "bench", "generated:events:sync", "e" * 64, "2026-11-29T00:00:00+00:00"
            )
            start = time.perf_counter()
            report = archive.ingest(posts, source, defer_index=True)
            ingesting = time.perf_counter() - start
            start = time.perf_counter()
            read = archive.update_events()
            refreshing = time.perf_counter() - start
            after = tables.db.execute("SELECT count(*) FROM events").fetchone()[0]
            start = time.perf_counter()
            again = archive.update_events()
            nothing = time.perf_counter() - start
            total = tables.db.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        _drop(work)
    return {
        "archive_posts": total,
        "copy_s": copying,
        "added": report.added,
        "ingest_s": ingesting,
        "refresh_s": refreshing,
        "read": read,
        "new_events": after - before,
        "events": after,
        "noop_s": nothing,
        "noop_read": again,
        "figures": figures,
    }


# -- no crash -----------------------------------------------------------------------------


class Tally:
    """Posts run through ``extract_events``, events found, exceptions (the first few kept)."""

    def __init__(self) -> None:
        self.posts = self.events = self.errors = 0
        self.seconds = 0.0
        self.examples: list[str] = []

    def run(self, key: str, text: str | None, day: str | None, lexicon) -> None:
        self.posts += 1
        try:
            self.events += len(extract_events(key, text or "", day, lexicon))
        except Exception as error:  # counted: the benchmark says which posts and why
            self.errors += 1
            if len(self.examples) < 5:
                self.examples.append(f"{key}: {type(error).__name__}: {error}")

    def row(self, **more) -> dict:
        return {
            "posts": self.posts,
            "events": self.events,
            "errors": self.errors,
            "examples": self.examples,
            "seconds": self.seconds,
            **more,
        }


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def run_files(paths: list[Path], lexicon) -> dict:
    """Every post of these files, each read by tgscope's readers into a scratch archive."""
    tally, unread = Tally(), []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for number, path in enumerate(paths):
            with Archive.open(Path(scratch) / f"{number}.db") as archive:
                try:
                    read_into(archive, path, f"file_{number}")
                except Exception as error:  # a file the readers refuse is not read, say which
                    unread.append(f"{path.name}: {error}")
                    continue
                for post in archive.posts():
                    tally.run(post.key, post.text, post.date, lexicon)
    tally.seconds = time.perf_counter() - start
    return tally.row(files=len(paths), unread=unread)


def read_into(archive: Archive, path: Path, channel: str) -> None:
    """Import a file; an export that does not name its channel is given ``channel``."""
    try:
        archive.import_file(path)
    except SourceError:
        archive.import_file(path, channel=channel)


def odd_texts() -> dict[str, str]:
    """Texts no channel writes but an import may bring: long, repetitive, odd characters."""
    seed_text = (SHARED / "seed" / "russia_china_dump.txt").read_text(encoding="utf-8")
    cue = "Sergey Lavrov held talks with Wang Yi in Beijing on 9 January. "
    return {
        "empty": "",
        "spaces": " \n\t " * 1000,
        "flags only": "🇷🇺🇨🇳🇮🇳" * 500,
        "one cue 4,096 times": ("встреча " * 4096),
        "4,096 characters of names": ("Лавров Ван И Си Цзиньпин Путин " * 140)[:4096],
        "a cue sentence 2,000 times": cue * 2000,
        "the seed 100 times": seed_text * 100,
        "no spaces": "Lavrovmetwith" * 10_000,
        "dots": "." * 50_000,
        "control characters": "".join(chr(n) for n in range(32)) * 200 + cue,
        "combining and RTL": ("Лавров" + "\u0301\u200f\u202e") * 500 + cue,
        "surrogates escaped": "\udcff talks \udcfe" * 100 + cue,
        "📍 and 💬 alone": "📍\n💬\n📞\n" * 1000,
        "dateline without a date": "📍Moscow, " + "x" * 5000,
        "hashtags": " ".join(f"#Russia{n}" for n in range(5000)),
    }


def run_odd(lexicon) -> dict:
    tally, slowest = Tally(), (0.0, "")
    start = time.perf_counter()
    for name, text in odd_texts().items():
        began = time.perf_counter()
        tally.run(f"odd/{name}", text, "2023-01-10", lexicon)
        slowest = max(slowest, (time.perf_counter() - began, name))
    tally.seconds = time.perf_counter() - start
    return tally.row(files=0, unread=[], slowest=f"{slowest[1]}: {slowest[0]:.2f} s")


def run_crash(posts: int, seed: int) -> dict:
    lexicon = load()
    results = {
        "samples": run_files(files_of(ROOT / "samples"), lexicon),
        "seed": run_files(files_of(SHARED / "seed"), lexicon),
        "corpus": run_files(files_of(SHARED / "corpus"), lexicon),
        "odd texts": run_odd(lexicon),
    }
    tally = Tally()
    start = time.perf_counter()
    for post in DiplomaticGenerator(seed).posts(posts):
        tally.run(post.key, post.text, post.date, lexicon)
    tally.seconds = time.perf_counter() - start
    results["generated"] = tally.row(files=0, unread=[])
    return results


# -- the parent: one process a part, then the tables ----------------------------------------


def child(args: argparse.Namespace) -> None:
    if args.child == "throughput":
        found = run_throughput(args.posts, args.seed)
    elif args.child == "refresh":
        found = run_refresh(args.archive, args.new, args.seed + 1)
    else:
        found = run_crash(args.crash_posts, args.seed + 2)
    found["peak_mb"] = peak_mb()
    print(json.dumps(found))


def measure(part: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", part, "--posts", str(args.posts)]
    command += ["--archive", str(args.archive), "--new", str(args.new), "--seed", str(args.seed)]
    command += ["--crash-posts", str(args.crash_posts)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{part} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain Markdown table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def print_throughput(t: dict) -> None:
    pinned = f"pinned to CPU {t['cpu']}" if t["cpu"] is not None else "not pinned"
    print(f"\nextract_events on {t['posts']:,} generated posts, one process {pinned}")
    by_language = [
        (f"posts/s, {language} posts only ({v['posts']:,})", f"{v['posts_s']:,.0f}", "")
        for language, v in sorted(t["by_language"].items())
    ]
    written = [(f"posts written as {k}", f"{n:,}", "") for k, n in t["written"].items()]
    models = ", ".join(t["models"]) or "none"
    rows = [
        ("posts/s (wall clock)", f"{t['posts'] / t['seconds']:,.0f}", "≥ 500 on one core"),
        ("posts/s (the process's CPU time)", f"{t['posts'] / t['cpu_seconds']:,.0f}", ""),
        *by_language,
        ("seconds (wall / CPU)", f"{t['seconds']:.1f} / {t['cpu_seconds']:.1f}", ""),
        ("p50 ms a post", f"{t['p50_ms']:.3f}", ""),
        ("p99 ms a post", f"{t['p99_ms']:.3f}", ""),
        ("max ms a post", f"{t['max_ms']:.1f}", ""),
        *written,
        ("posts with an event found", f"{t['with_events']:,}", ""),
        ("events found", f"{t['events']:,}", ""),
        *[(f"  {kind}", f"{count:,}", "") for kind, count in t["types"].items()],
        *[(f"  {kind}", f"{count:,}", "") for kind, count in t["modalities"].items()],
        ("dictionaries loaded in (s)", f"{t['lexicon_s']:.2f}", ""),
        ("posts generated in (s, not timed)", f"{t['generate_s']:.1f}", ""),
        ("peak RSS (MB, the posts held in memory)", f"{t['peak_mb']:,.0f}", ""),
        ("models loaded (pymorphy3, natasha, torch…)", models, "none needed"),
    ]
    table(("measure", "value", "target"), rows)


def print_refresh(r: dict, figures: dict) -> None:
    print(f"\nthe events table of a {r['archive_posts']:,}-post archive")
    rows = []
    for label, key in (
        ("first full catch-up", "first"),
        ("full catch-up again, dictionaries changed", "rebuilt"),
    ):
        if key in figures:
            f = figures[key]
            rate = f"{f['posts'] / f['seconds']:,.0f}" if f["seconds"] else ""
            rows.append(
                (
                    f"{label} ({f['on']})",
                    f"{f['seconds']:.0f}",
                    f"{f['posts']:,}",
                    f"{f['events']:,}",
                    rate,
                )
            )
    rate = f"{r['read'] / r['refresh_s']:,.0f}" if r["refresh_s"] else ""
    rows += [
        (
            f"ingest of {r['added']:,} new posts (index deferred)",
            f"{r['ingest_s']:.2f}",
            "",
            "",
            "",
        ),
        (
            "update_events() after them",
            f"{r['refresh_s']:.2f}",
            f"{r['read']:,}",
            f"{r['new_events']:,}",
            rate,
        ),
        ("update_events() with nothing new", f"{r['noop_s']:.4f}", f"{r['noop_read']:,}", "", ""),
    ]
    table(("step", "seconds", "posts read", "events written", "posts/s"), rows)
    first = figures.get("first", {}).get("peak_mb", 0)
    print(
        f"peak RSS: the refresh process {r['peak_mb']:,.0f} MB, the first catch-up {first:,.0f} MB;"
        f" archive copied in {r['copy_s']:.0f} s; {r['events']:,} events in all"
    )


def print_crash(c: dict) -> None:
    print("\nno crash: extract_events on every post")
    rows = [
        (
            name,
            str(t["files"]) if t["files"] else "-",
            f"{t['posts']:,}",
            f"{t['events']:,}",
            str(t["errors"]),
            f"{t['seconds']:.1f}",
        )
        for name, t in c.items()
        if isinstance(t, dict)
    ]
    table(("set", "files", "posts", "events", "exceptions (target 0)", "seconds"), rows)
    for name, t in c.items():
        for example in t.get("examples", []) if isinstance(t, dict) else []:
            print(f"  {name}: {example}")
        for unread in t.get("unread", []) if isinstance(t, dict) else []:
            print(f"  {name}: not read: {unread}")
        if isinstance(t, dict) and "slowest" in t:
            print(f"  {name}: the slowest, {t['slowest']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts timed (throughput)")
    parser.add_argument("--archive", type=int, default=1_000_000, help="posts in the archive")
    parser.add_argument("--new", type=int, default=1_000, help="posts a sync adds (refresh)")
    parser.add_argument("--crash-posts", type=int, default=1_000_000, help="generated (crash)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run, comma-separated")
    parser.add_argument("--rebuild", action="store_true", help="catch up the archive again")
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    parts = [part for part in args.only.split(",") if part]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown parts {', '.join(sorted(unknown))}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; each part in its own process", flush=True)
    if "throughput" in parts:
        print_throughput(measure("throughput", args))
    if "refresh" in parts:
        prepare(args.archive, args.rebuild)
        refreshed = measure("refresh", args)
        print_refresh(refreshed, refreshed["figures"])
    if "crash" in parts:
        print_crash(measure("crash", args))


if __name__ == "__main__":
    main()
