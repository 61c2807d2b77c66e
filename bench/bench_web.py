"""Web app benchmark: ``tgscope serve`` over real loopback HTTP, on an archive of a million posts.

    python bench/bench_web.py [--posts 1000000] [--workers 2] [--requests 200] [--duration 60]
                              [--clients 50] [--port 0] [--db PATH] [--python-client]

Builds (once, cached in ``bench/out/``, see ``web_archive.py``) a researcher's archive of 20
state channels, starts the real server as a subprocess (``python -m tgscope serve``, bound to
127.0.0.1) and prints two tables:

1. latency, one client at a time, after a warm-up: p50/p95 over ``--requests`` requests of the
   channel page of the biggest channel, the same deep in its history (``?before=``), random post
   pages, a search for a common word (in ≥ 20% of posts, measured in the index) with and without
   a channel filter, a rare word, the JSON twin of the channel page, the charts' data a
   browser loads with each channel page (the URL its twin names), and the overview and
   hashtags pages.  Target: p95 ≤ 150 ms for every page.
2. throughput: ``--clients`` concurrent clients for ``--duration`` seconds over a mix of those
   URLs (weights 3 channel page, 2 deep channel page, 3 post page, 1 each search, JSON twin
   and charts; the overview and hashtags are left out): pages/s, errors (any answer but 200,
   or a failed connection), p50/p95/p99 under load.  Targets: ≥ 200 pages/s, no errors.
   Measured with ``wrk`` (Debian: ``apt-get install wrk``), a C client that leaves the server
   the CPU; without it a Python asyncio client stands in, and its figure is pessimistic (it
   competes with the server for the same cores).

Only loopback is ever reached.  The machine's load average is printed: figures taken while
other work runs are lower than the server can do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psutil
from gen import RARE_WORDS, PostGenerator
from web_archive import OUT, POSTS, ensure

from tgscope.archive import Archive
from tgscope.web.server import is_loopback
from tgscope.words import index_token

P95_TARGET_MS = 150.0
THROUGHPUT_TARGET = 200.0
COMMON_SHARE = 0.20
WRK_INSTALL = "wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)"


@dataclass
class Page:
    """One kind of page: its name in the tables and the paths it rotates through."""

    name: str
    paths: list[str]
    weight: int = 1  # its share of the mix under load; 0: measured alone only
    timings: list[float] = field(default_factory=list)
    errors: int = 0


# -- what to ask for ---------------------------------------------------------------------------


def biggest_channel(db: Path) -> tuple[str, int, int, int]:
    """The channel with the most posts: (username, posts, lowest id, highest id)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT c.username, count(*), min(p.message_id), max(p.message_id)"
            " FROM posts p JOIN channels c ON c.pk = p.channel_pk"
            " GROUP BY p.channel_pk ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    return row


def random_keys(db: Path, count: int, rng: random.Random) -> list[str]:
    """``count`` keys of posts drawn at random from the whole archive."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        (top,) = connection.execute("SELECT max(pk) FROM posts").fetchone()
        pks = rng.sample(range(1, top + 1), count)
        marks = ",".join("?" * len(pks))
        rows = connection.execute(f"SELECT key FROM posts WHERE pk IN ({marks})", pks)
        keys = [key for (key,) in rows]
    rng.shuffle(keys)
    return keys


def pick_words(db: Path) -> tuple[tuple[str, int], tuple[str, int], int]:
    """A common word (in ≥ 20% of posts: the least common such), a rare one (the least common
    found at all), with the posts each is in, and the archive's post count."""
    with Archive.open(db, create=False) as archive:
        searcher = archive.index.index.searcher()
        generator = PostGenerator(seed=5)
        frequencies = {
            word: searcher.doc_freq("words", index_token(word))
            for word in {*generator.en, *generator.ru, *RARE_WORDS}
            if len(word) > 3 and word.isalpha()
        }
        total = searcher.num_docs
    commons = [(f, w) for w, f in frequencies.items() if f >= COMMON_SHARE * total and w.islower()]
    rares = [(f, w) for w, f in frequencies.items() if f > 0]
    if not commons or not rares:
        sys.exit(f"{db}: no word of bench/gen.py's vocabulary is common enough; use its archive")
    common, rare = min(commons), min(rares)
    return (common[1], common[0]), (rare[1], rare[0]), total


def pages(db: Path, rng: random.Random) -> tuple[list[Page], str]:
    """The pages to measure and a line saying what was picked."""
    channel, posts, low, high = biggest_channel(db)
    (common, common_posts), (rare, rare_posts), total = pick_words(db)
    middle = [
        rng.randint(low + (high - low) * 2 // 5, low + (high - low) * 3 // 5) for _ in range(50)
    ]
    keys = random_keys(db, 1000, rng)
    found = [
        Page("channel page", [f"/channels/{channel}"], 3),
        Page(
            "channel page, ?before= middle", [f"/channels/{channel}?before={i}" for i in middle], 2
        ),
        Page("post page (random posts)", [f"/posts/{key}" for key in keys], 3),
        Page("search, common word", [f"/search?q={quote(common)}"], 1),
        Page("search, common word + channel", [f"/search?q={quote(common)}&channel={channel}"], 1),
        Page("search, rare word", [f"/search?q={quote(rare)}"], 1),
        Page("channel page, JSON twin", [f"/channels/{channel}.json"], 1),
        Page("overview /", ["/"], 0),
        Page("hashtags /hashtags", ["/hashtags"], 0),
    ]
    said = (
        f"archive {db.name}: {total:,} posts; biggest channel {channel!r} ({posts:,} posts,"
        f" ids {low}-{high}); common word {common!r} ({common_posts:,} posts,"
        f" {common_posts / total:.0%}); rare word {rare!r} ({rare_posts:,} posts)"
    )
    return found, said


def add_charts(base: str, found: list[Page], weight: int) -> None:
    """The charts' data a browser loads with every channel page, at the URL the channel
    page's JSON twin names (``charts``), when it names one."""
    twin = next(page for page in found if page.paths[0].endswith(".json"))
    charts = httpx.get(base + twin.paths[0], timeout=60).json().get("charts")
    if isinstance(charts, str) and charts.startswith("/"):
        found.insert(
            found.index(twin) + 1, Page("channel charts (JSON it loads)", [charts], weight)
        )


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_command(db: Path, port: int, workers: int) -> list[str]:
    """The command that starts the server, ``--workers`` only when the CLI has it."""
    base = [sys.executable, "-m", "tgscope", "serve"]
    helptext = subprocess.run([*base, "--help"], capture_output=True, text=True, check=False)
    if helptext.returncode != 0:
        sys.exit(f"tgscope serve is not available:\n{helptext.stderr.strip()}")
    command = [*base, "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    if "--workers" in helptext.stdout:
        command += ["--workers", str(workers)]
    elif workers != 1:
        print(f"note: tgscope serve has no --workers; one process serves (asked for {workers})")
    return command


@contextmanager
def running(command: list[str], base: str, log: Path) -> Iterator[psutil.Process]:
    """The server, started and answering ``/``; stopped (and its workers) on leaving."""
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(server, base, log)
        yield psutil.Process(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(server: subprocess.Popen, base: str, log: Path, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit {server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/", timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    sys.exit(f"the server did not answer / within {limit:.0f} s (log: {log})")


def cpu_seconds(server: psutil.Process) -> float:
    """CPU time of the server and its worker processes so far."""
    total = 0.0
    for process in (server, *server.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


# -- one client at a time ----------------------------------------------------------------------


def measure_latency(base: str, found: list[Page], requests: int, warmup: int, cap: float) -> None:
    """Each page ``requests`` times in turn (at most ``cap`` seconds each), keep-alive."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for page in found:
            for number in range(warmup):
                client.get(page.paths[number % len(page.paths)])
            stop = time.monotonic() + cap
            for number in range(requests):
                path = page.paths[number % len(page.paths)]
                start = time.perf_counter()
                try:
                    response = client.get(path)
                    response.read()
                    ok = response.status_code == 200
                except httpx.TransportError:
                    ok = False
                page.timings.append((time.perf_counter() - start) * 1000)
                page.errors += not ok
                if time.monotonic() > stop:
                    break


def keepalive_penalty(base: str, path: str, count: int = 30) -> tuple[float, float]:
    """Median ms of ``path`` on a kept-alive connection and on a new connection each time.

    Tens of ms more on the kept-alive one is Nagle's algorithm meeting delayed ACKs: the
    server's sockets lack TCP_NODELAY (uvicorn ``--workers N`` before Kludex/uvicorn#3149)."""

    def timed(client: httpx.Client) -> float:
        start = time.perf_counter()
        client.get(path).read()
        return (time.perf_counter() - start) * 1000

    with httpx.Client(base_url=base, timeout=60) as client:
        client.get(path)
        kept = [timed(client) for _ in range(count)]
    fresh = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=60) as client:
            fresh.append(timed(client))
    return statistics.median(kept), statistics.median(fresh)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def print_latency(found: list[Page]) -> None:
    header = f"{'page':<34} {'n':>5} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}  target p95 ≤ 150 ms"
    print(header)
    print("-" * len(header))
    for page in found:
        p50, p95 = percentile(page.timings, 0.5), percentile(page.timings, 0.95)
        verdict = "met" if p95 <= P95_TARGET_MS and not page.errors else "NOT met"
        print(
            f"{page.name:<34} {len(page.timings):>5} {page.errors:>6} {p50:>8.1f} {p95:>8.1f}"
            f"  {verdict}"
        )


# -- many clients at once ----------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    errors: Counter[str]  # "HTTP 500", "timeout", "connect"…: how many
    p50: float
    p95: float
    p99: float
    client: str

    @property
    def rate(self) -> float:
        """Pages served (answers 200) per second."""
        answered_badly = sum(n for kind, n in self.errors.items() if kind.startswith("HTTP"))
        return (self.requests - answered_badly) / self.seconds


def mix(found: list[Page], rng: random.Random, size: int = 2000) -> list[str]:
    """``size`` paths in random order, each kind of page by its weight."""
    kinds = [page for page in found if page.weight]
    weights = [page.weight for page in kinds]
    paths = []
    for number in range(size):
        page = rng.choices(kinds, weights)[0]
        paths.append(page.paths[number % len(page.paths)])
    return paths


WRK_SCRIPT = """
paths = {%s}
statuses = {}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("start", #threads * 997)
  table.insert(threads, thread)
end

function init(args)
  counter = start
end

function request()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter])
end

function response(status, headers, body)
  if status ~= 200 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = {connect = e.connect, read = e.read, write = e.write, timeout = e.timeout}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      local name = "HTTP " .. status
      errors[name] = (errors[name] or 0) + count
    end
  end
  local parts = {}
  for name, count in pairs(errors) do
    table.insert(parts, string.format('"%%s": %%d', name, count))
  end
  io.write(string.format(
    'WRK {"requests": %%d, "us": %%d, "errors": {%%s},'
    .. ' "p50": %%d, "p95": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def load_with_wrk(base: str, paths: list[str], clients: int, seconds: int) -> Load:
    script = OUT / "bench_web_mix.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(path) for path in paths))
    command = [
        "wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), base,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRK "))
    got = json.loads(line[4:])
    return Load(
        requests=got["requests"],
        seconds=got["us"] / 1e6,
        errors=Counter({kind: count for kind, count in got["errors"].items() if count}),
        p50=got["p50"] / 1000,
        p95=got["p95"] / 1000,
        p99=got["p99"] / 1000,
        client="wrk",
    )


def load_with_python(base: str, paths: list[str], clients: int, seconds: int) -> Load:
    """The stand-in for wrk: asyncio and httpx, on the server's cores (pessimistic)."""
    timings: list[float] = []
    errors: Counter[str] = Counter()

    async def client(number: int, http: httpx.AsyncClient, deadline: float) -> None:
        position = number * 997
        while time.monotonic() < deadline:
            position = (position + 1) % len(paths)
            start = time.perf_counter()
            try:
                response = await http.get(paths[position])
                if response.status_code != 200:
                    errors[f"HTTP {response.status_code}"] += 1
            except httpx.TransportError as error:
                errors[type(error).__name__] += 1
                continue
            timings.append((time.perf_counter() - start) * 1000)

    async def run() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as http:
            start = time.monotonic()
            deadline = start + seconds
            await asyncio.gather(*(client(n, http, deadline) for n in range(clients)))
            return time.monotonic() - start

    elapsed = asyncio.run(run())
    return Load(
        requests=len(timings),
        seconds=elapsed,
        errors=errors,
        p50=percentile(timings, 0.5),
        p95=percentile(timings, 0.95),
        p99=percentile(timings, 0.99),
        client="python asyncio + httpx (pessimistic: it shares the server's cores)",
    )


def print_load(load: Load, clients: int, server_cpu: float | None) -> None:
    rate_ok = load.rate >= THROUGHPUT_TARGET
    print(f"\n{clients} concurrent clients for {load.seconds:.0f} s, a mix of the pages above")
    print(f"client: {load.client}")
    rows = [
        ("pages/s", f"{load.rate:,.0f}", f"target ≥ {THROUGHPUT_TARGET:.0f}: "
         + ("met" if rate_ok else "NOT met")),
        ("answers", f"{load.requests:,}", "any status"),
        ("errors", f"{load.errors.total():,}", "target 0: "
         + ("met" if not load.errors else "NOT met: " + describe(load.errors))),
        ("p50 / p95 / p99 ms", f"{load.p50:.0f} / {load.p95:.0f} / {load.p99:.0f}", "under load"),
        ("server CPU", "?" if server_cpu is None else f"{server_cpu / load.seconds:.2f} cores",
         f"of {os.cpu_count()}"),
    ]  # fmt: skip
    for name, value, note in rows:
        print(f"{name:<22} {value:>20}   {note}")


def describe(errors: Counter[str]) -> str:
    return ", ".join(f"{count:,} × {kind}" for kind, count in errors.most_common())


# -- the whole run -----------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--posts", type=int, default=POSTS, help="size of the generated archive")
    add("--db", type=Path, help="serve this archive instead of the generated one")
    add("--workers", type=int, default=2, help="server processes, if it has them")
    add("--requests", type=int, default=200, help="per page, one client")
    add("--warmup", type=int, default=20, help="requests per page not timed")
    add("--cap", type=float, default=120, help="seconds at most per page, one client")
    add("--clients", type=int, default=50, help="concurrent clients under load")
    add("--duration", type=int, default=60, help="seconds under load")
    add("--charts-weight", type=int, default=1, help="share of the charts' JSON in the mix")
    add("--port", type=int, default=0, help="0: a free one")
    add("--url", help="measure a server already serving the archive here (loopback only)")
    add("--python-client", action="store_true", help="load with Python, not wrk")
    return parser.parse_args()


@contextmanager
def server_for(args: argparse.Namespace, db: Path) -> Iterator[tuple[str, psutil.Process | None]]:
    """The base URL and the server's process: the one at ``--url`` or one started here."""
    if args.url:
        base = args.url.rstrip("/")
        if not is_loopback(urlsplit(base).hostname or ""):
            sys.exit(f"{args.url}: not a loopback address; this benchmark only measures loopback")
        print(f"server: already running at {base}")
        yield base, listening(urlsplit(base).port or 80)
        return
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    command = serve_command(db, port, args.workers)
    print(f"server: {' '.join(command[1:])}")
    with running(command, base, OUT / "bench_web_server.log") as server:
        yield base, server


def listening(port: int) -> psutil.Process | None:
    """The process serving ``port`` here (the supervisor, when its workers share its socket),
    when this user may see it."""

    def listens(process: psutil.Process) -> bool:
        try:
            connections = process.net_connections("tcp")
        except psutil.Error:
            return False
        return any(c.status == "LISTEN" and c.laddr.port == port for c in connections)

    with suppress(psutil.Error):
        for connection in psutil.net_connections("tcp"):
            if connection.status == "LISTEN" and connection.laddr.port == port and connection.pid:
                process = psutil.Process(connection.pid)
                while (parent := process.parent()) is not None and listens(parent):
                    process = parent
                return process
    return None


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    args = arguments()
    db = args.db or ensure(args.posts)
    rng = random.Random(9)
    found, said = pages(db, rng)
    print(said)
    with server_for(args, db) as (base, server):
        print(f"load average before: {load_average()}\n")
        add_charts(base, found, args.charts_weight)
        measure_latency(base, found, args.requests, args.warmup, args.cap)
        print_latency(found)
        kept, fresh = keepalive_penalty(base, found[-1].paths[0])
        print(
            f"\n{found[-1].paths[0]} on a kept-alive connection {kept:.1f} ms, on a new one"
            f" {fresh:.1f} ms"
            + ("  (Nagle: no TCP_NODELAY on the server's sockets)" if kept > fresh + 20 else "")
        )
        paths = mix(found, rng)
        use_wrk = shutil.which("wrk") and not args.python_client
        if not use_wrk and not args.python_client:
            print(f"\n{WRK_INSTALL}; falling back to a Python client")
        before = cpu_seconds(server) if server else 0.0
        load = (load_with_wrk if use_wrk else load_with_python)(
            base, paths, args.clients, args.duration
        )
        print_load(load, args.clients, cpu_seconds(server) - before if server else None)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
