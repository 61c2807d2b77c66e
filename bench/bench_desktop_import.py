"""Desktop export benchmark: a generated 1,000,000-message ``result.json`` (about 1 GB).

    python bench/bench_desktop_import.py [--messages 1000000]

Prints one table: messages per second and peak memory of ``tgscope import`` on the export,
beside the floor measured in the same run: streaming-parse the same JSON with ijson and index
the same texts with the archive's search engine (its schema and analyzer), nothing else.
Each side runs in its own process, so each peak RSS is its own.  Targets: total time ≤ 1.5×
the floor, peak RSS ≤ 300 MB.  The export is generated once and cached in ``bench/out/``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor(export: Path, folder: Path) -> dict:
    """Stream the messages with ijson, index their texts with tantivy, nothing else."""
    import ijson

    from tgscope.search import SearchIndex
    from tgscope.store import IndexDoc

    index = SearchIndex(folder / "floor.index")
    start = time.perf_counter()
    batch, count = [], 0
    with export.open("rb") as stream:
        for message in ijson.items(stream, "messages.item", use_float=True):
            pieces = message.get("text_entities") or []
            text = "".join(piece.get("text", "") for piece in pieces)
            tags = [p["text"][1:] for p in pieces if p.get("type") == "hashtag"]
            count += 1
            batch.append(IndexDoc(count, text, "bench_channel", None, tags, True))
            if len(batch) == 1000:
                index.stage(batch)
                batch = []
    index.stage(batch)
    index.commit(1)
    return {"seconds": time.perf_counter() - start, "messages": count, "rss_mb": peak_rss_mb()}


def ours(export: Path, folder: Path) -> dict:
    from tgscope.archive import Archive

    start = time.perf_counter()
    with Archive.open(folder / "bench.db") as archive:
        report = archive.import_paths([export], channel="bench_channel")
    seconds = time.perf_counter() - start
    assert not report.failures, report.failures[0].error
    return {"seconds": seconds, "messages": report.total("added"), "rss_mb": peak_rss_mb()}


def in_child(step: str, export: Path, folder: Path) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--child", step, str(export), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        step, export, folder = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        print(json.dumps((floor if step == "floor" else ours)(export, folder)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    export = out / f"desktop_{args.messages}.json"
    if not export.exists():
        from gen import write_desktop_export

        partial = export.with_suffix(".partial")
        write_desktop_export(partial, args.messages)
        partial.rename(export)
    folder = Path(tempfile.mkdtemp(prefix="tgscope-bench-"))
    try:
        base = in_child("floor", export, folder)
        result = in_child("ours", export, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert base["messages"] == result["messages"] == args.messages
    size = export.stat().st_size / 1e9
    ratio = result["seconds"] / base["seconds"]
    rows = [
        ("export", f"{args.messages:,} messages, {size:.2f} GB", ""),
        (
            "floor: ijson + tantivy",
            f"{args.messages / base['seconds']:,.0f} msg/s ({base['seconds']:.0f} s)",
            f"peak RSS {base['rss_mb']:.0f} MB",
        ),
        (
            "tgscope import",
            f"{args.messages / result['seconds']:,.0f} msg/s ({result['seconds']:.0f} s)",
            f"{ratio:.2f}× floor (target ≤ 1.5×)",
        ),
        ("peak RSS of the import", f"{result['rss_mb']:.0f} MB", "target ≤ 300 MB"),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<34}  {note}")


if __name__ == "__main__":
    main()
