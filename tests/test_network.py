"""The forwards, mentions and links networks: planted edges found exactly, in every format."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from tgscope.analysis.network import Edge, Node, linked_channel
from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError, QueryError

from .analysis_archives import build_network_archive
from .engines import ENGINES, engine_archive, nowhere

ROOT = Path(__file__).parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

FORWARDS = [
    Edge("mid_russia", "rusembchina", 3, "2023-03-01T09:00:00+00:00",
         "2023-03-05T12:30:00+00:00", 3600.0),
    Edge("mid_russia", "rusemb_uk", 2, "2023-03-01T10:00:00+00:00",
         "2023-03-03T08:00:00+00:00", 7200.0),
    Edge("rusembchina", "news_agg", 1, "2023-03-01T09:30:00+00:00",
         "2023-03-01T09:30:00+00:00", 1800.0),
    Edge("Иван Петров", "rusembchina", 1, "2023-03-04T07:00:00+00:00",
         "2023-03-04T07:00:00+00:00", None),
]  # fmt: skip
NODES = [
    Node("mid_russia", "МИД России", True, 5, 5, 0),
    Node("news_agg", "Агрегатор новостей", True, 5, 0, 1),
    Node("rusemb_uk", "Russian Embassy in the UK", True, 5, 0, 2),
    Node("rusembchina", "Посольство России в Китае", True, 6, 1, 4),
    Node("Иван Петров", "Иван Петров", False, 0, 1, 0),
]
CSV = """\
source,target,count,first,last,median_delay_s
mid_russia,rusembchina,3,2023-03-01T09:00:00+00:00,2023-03-05T12:30:00+00:00,3600
mid_russia,rusemb_uk,2,2023-03-01T10:00:00+00:00,2023-03-03T08:00:00+00:00,7200
rusembchina,news_agg,1,2023-03-01T09:30:00+00:00,2023-03-01T09:30:00+00:00,1800
Иван Петров,rusembchina,1,2023-03-04T07:00:00+00:00,2023-03-04T07:00:00+00:00,
"""


@pytest.fixture(scope="module", params=ENGINES)
def archive_path(request, tmp_path_factory) -> Iterator[str]:
    """The planted archive, once per module on each engine."""
    with engine_archive(request, tmp_path_factory.mktemp("network"), "a.db") as target:
        yield str(build_network_archive(target))


@pytest.fixture
def archive(archive_path):
    with Archive.open(archive_path, create=False) as opened:
        yield opened


def run(archive_path: str | Path, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, ["network", "--db", str(archive_path), *args])
    assert result.exit_code == expect, result.output
    return result.output


def test_forwards_edges_counts_dates_and_delays_exact(archive):
    found = archive.network()
    assert found.kind == "forwards"
    assert found.edges == FORWARDS
    assert found.nodes == NODES


def test_mentions_edges_leave_out_a_channel_naming_itself(archive):
    found = archive.network(kind="mentions")
    assert [(e.source, e.target, e.count, e.first, e.median_delay_s) for e in found.edges] == [
        ("mid_russia", "news_agg", 1, "2023-03-08T10:00:00+00:00", None),
        ("mid_russia", "rusemb_uk", 1, "2023-03-07T10:00:00+00:00", None),
        ("rusembchina", "news_agg", 1, "2023-03-08T10:00:00+00:00", None),
    ]
    assert found.nodes == NODES[:4]  # the forward totals ride along


def test_links_edges_count_a_post_once_and_skip_invitations(archive):
    found = archive.network(kind="links")
    assert [(e.source, e.target, e.count, e.last) for e in found.edges] == [
        ("mid_russia", "news_agg", 1, "2023-03-09T10:00:00+00:00"),  # two links, one post
        ("rusemb_uk", "rusembchina", 1, "2023-03-09T12:00:00+00:00"),  # telegram.me
        ("rusembchina", "rusemb_uk", 1, "2023-03-10T10:00:00+00:00"),  # t.me/RusEmbChina
    ]


@pytest.mark.parametrize(
    ("url", "channel"),
    [
        ("https://t.me/mid_russia/100", "mid_russia"),
        ("https://T.me/s/MID_Russia/101", "mid_russia"),
        ("http://telegram.me/rusemb_uk", "rusemb_uk"),
        ("t.me/RusEmbChina?single", "rusembchina"),
        ("https://www.t.me/s/news_agg", "news_agg"),
        ("https://t.me/joinchat/AAAAAE", None),
        ("https://t.me/+abcdef", None),
        ("https://t.me/c/1234/5", None),
        ("https://t.me/addstickers/Pack", None),
        ("https://example.org/t.me/mid_russia", None),
        ("https://at.me/mid_russia", None),
    ],
)
def test_linked_channel(url, channel):
    assert linked_channel(url) == channel


def test_date_filters_select_the_spreading_posts(archive):
    found = archive.network(since="2023-03-02", until="2023-03-04")
    assert [(e.source, e.target, e.count, e.median_delay_s) for e in found.edges] == [
        ("mid_russia", "rusemb_uk", 1, None),  # equal counts: by name ("_" before "c")
        ("mid_russia", "rusembchina", 1, 7200.0),
        ("Иван Петров", "rusembchina", 1, None),
    ]
    mfa = next(node for node in found.nodes if node.name == "mid_russia")
    assert (mfa.posts, mfa.forwards_out) == (1, 2)  # posts and forwards in the range


def test_channel_keeps_the_edges_touching_it(archive):
    found = archive.network(channel="@RusEmb_UK")
    assert found.edges == [FORWARDS[1]]
    assert [node.name for node in found.nodes] == ["mid_russia", "rusemb_uk"]
    assert found.nodes[0].forwards_out == 5  # totals over every channel
    assert archive.network(channel="rusembchina").edges == [
        FORWARDS[0],
        FORWARDS[2],
        FORWARDS[3],
    ]


def test_bad_options_are_one_line_errors(archive, archive_path):
    with pytest.raises(OptionError, match="kind: 'replies' is not one of"):
        archive.network(kind="replies")
    with pytest.raises(QueryError, match="not a date"):
        archive.network(since="yesterday")
    output = run(archive_path, "--since", "2023-13-01", expect=1)
    assert output.strip().splitlines() == [
        "Error: not a date: '2023-13-01' (use YYYY-MM-DD or ISO 8601)"
    ]
    assert "Invalid value for '--format'" in run(archive_path, "--format", "xml", expect=2)
    assert "--format table prints" in run(archive_path, "-o", "x.txt", expect=2)
    missing = run(nowhere(archive_path), expect=1)
    assert missing.startswith("Error: ") and len(missing.strip().splitlines()) == 1


def test_csv_header_and_rows_exact(archive_path, tmp_path):
    assert run(archive_path, "--format", "csv") == CSV
    out = tmp_path / "edges.csv"
    run(archive_path, "--format", "csv", "-o", str(out))
    assert out.read_text(encoding="utf-8") == CSV


def test_json_nodes_and_edges(archive_path):
    data = json.loads(run(archive_path, "--format", "json"))
    assert data["edges"][0] == {
        "source": "mid_russia",
        "target": "rusembchina",
        "count": 3,
        "first": "2023-03-01T09:00:00+00:00",
        "last": "2023-03-05T12:30:00+00:00",
        "median_delay_s": 3600.0,
    }
    assert len(data["edges"]) == 4
    assert data["nodes"][4] == {
        "name": "Иван Петров",
        "title": "Иван Петров",
        "archived": False,
        "posts": 0,
        "forwards_out": 1,
        "forwards_in": 0,
    }


@pytest.mark.parametrize("format_", ["gexf", "graphml"])
def test_graph_files_read_back_with_networkx(archive_path, tmp_path, format_):
    out = tmp_path / f"net.{format_}"
    run(archive_path, "--format", format_, "-o", str(out))
    graph = nx.read_gexf(out) if format_ == "gexf" else nx.read_graphml(out)
    assert sorted(graph.nodes) == sorted(node.name for node in NODES)
    assert sorted(graph.edges) == sorted((e.source, e.target) for e in FORWARDS)
    for node in NODES:
        data = graph.nodes[node.name]
        assert data["label"] == node.title
        assert data["title"] == node.title
        assert (data["posts"], data["forwards_out"], data["forwards_in"]) == (
            node.posts,
            node.forwards_out,
            node.forwards_in,
        )
        assert data["archived"] in (node.archived, str(node.archived).lower())
    for edge in FORWARDS:
        data = graph.edges[edge.source, edge.target]
        assert (data["count"], data["first"], data["last"]) == (edge.count, edge.first, edge.last)
        assert data.get("median_delay_s") == edge.median_delay_s
        assert (data["start"], data["end"]) == (str(edge.first)[:10], str(edge.last)[:10])


def test_gexf_is_dynamic_for_gephi(archive_path, tmp_path):
    out = tmp_path / "net.gexf"
    run(archive_path, "--format", "gexf", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert 'mode="dynamic"' in text and 'timeformat="date"' in text
    assert 'start="2023-03-01" end="2023-03-05"' in text


def test_gexf_to_standard_output(archive_path):
    assert run(archive_path, "--format", "gexf").startswith("<?xml")


def test_table_lists_top_sources_and_amplifiers(archive_path):
    output = run(archive_path)
    lines = output.splitlines()
    assert lines[0] == "forwards: 4 edge(s) between 5 channel(s), 7 spreading post(s)"
    sources = lines[lines.index("top sources") :]
    assert any("mid_russia" in line and "МИД России" in line and " 5 " in line for line in sources)
    amplifiers = lines[lines.index("top amplifiers") :]
    first, second = amplifiers[4], amplifiers[5]  # title, header, rule, rule, rows
    assert "rusembchina" in first and " 4 " in first and "2 channel(s)" in first
    assert "rusemb_uk" in second and " 2 " in second and "1 channel(s)" in second


def test_to_arrow_and_to_networkx(archive):
    found = archive.network()
    table = found.to_arrow()
    assert table.column_names == ["source", "target", "count", "first", "last", "median_delay_s"]
    assert table.column("count").to_pylist() == [3, 2, 1, 1]
    assert table.column("median_delay_s").to_pylist() == [3600.0, 7200.0, 1800.0, None]
    nodes = found.to_arrow("nodes")
    assert nodes.column("name").to_pylist() == [node.name for node in NODES]
    graph = found.to_networkx()
    assert graph.is_directed()
    assert graph.edges["mid_russia", "rusembchina"]["weight"] == 3
    assert "median_delay_s" not in graph.edges["Иван Петров", "rusembchina"]
    empty = archive.network(channel="nobody")
    assert empty.to_arrow().num_rows == 0 and empty.to_networkx().number_of_nodes() == 0


def test_network_of_the_bundled_samples_opens_from_gexf(archive_db, tmp_path):
    """samples/: rusembchina's web page forwards mfarussia/ 1 post (2022-11-15) and its
    export a post of the hidden user "Hidden Reader"; russia_china_dump.txt's five posts are
    all "Forwarded from Russian MFA 🇷🇺" (a title, no username); mid_ru_dump.txt has none."""
    db = archive_db
    with Archive.open(db) as archive:
        report = archive.import_paths(
            [
                ROOT / "samples" / name
                for name in ("rusembchina_page.html", "rusembchina_export.json")
            ]
        )
        assert not report.failures
        archive.import_paths([ROOT / "samples" / "mid_ru_dump.txt"], channel="mid_russia")
        archive.import_paths([ROOT / "samples" / "russia_china_dump.txt"], channel="ru_cn")
    out = tmp_path / "s.gexf"
    run(db, "--format", "gexf", "-o", str(out))
    graph = nx.read_gexf(out)
    assert sorted(graph.edges) == [
        ("Hidden Reader", "rusembchina"),
        ("Russian MFA 🇷🇺", "ru_cn"),  # the dump names the original by its title only
        ("mfarussia", "rusembchina"),
    ]
    assert graph.edges["Russian MFA 🇷🇺", "ru_cn"]["count"] == 5
    assert graph.nodes["rusembchina"]["title"] == "Посольство России в Китае"
    assert graph.nodes["rusembchina"]["forwards_in"] == 2
    assert graph.edges["mfarussia", "rusembchina"]["first"] == "2022-11-15T09:12:00+00:00"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")
def test_network_of_the_real_corpus_opens_from_gexf(tmp_path):
    """Hand-checked: topwar_official's page forwards one post each of yaremshooter,
    belarus_vpo, vysokygovorit, dimsmirnov175 and impnavigator; the anonymised page's
    test_channel one of another_channel; the Desktop export two of users Jen and Aida."""
    db = tmp_path / "c.db"
    pages = CORPUS / "tme_html"
    with Archive.open(db) as archive:
        archive.import_paths(
            [pages / "topwar_and_milbloggers" / "full.html", pages / "anonymized_with_reactions"]
        )
        export = CORPUS / "desktop_export" / "help_ukrainians_germany" / "result.json"
        archive.import_paths([export], channel="help_ukr_de")
    out = tmp_path / "c.gexf"
    run(db, "--format", "gexf", "-o", str(out))
    graph = nx.read_gexf(out)
    topwar = ["yaremshooter", "belarus_vpo", "vysokygovorit", "dimsmirnov175", "impnavigator"]
    assert sorted(graph.edges) == sorted(
        [(name, "topwar_official") for name in topwar]
        + [("another_channel", "test_channel"), ("Aida", "help_ukr_de"), ("Jen", "help_ukr_de")]
    )
    assert all(data["count"] == 1 for *_, data in graph.edges(data=True))
    assert graph.nodes["topwar_official"]["forwards_in"] == 5
    assert graph.nodes["yaremshooter"]["title"] == "Военкор Ярем"
    assert graph.nodes["yaremshooter"]["posts"] == 0
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_graph_files_hold_titles_with_control_characters(archive_db, tmp_path):
    import networkx as nx

    from tgscope.record import Channel, Post

    from .helpers import source

    db = archive_db
    forward = {"title": "Bad\x0b\x00title", "channel": None, "id": None}
    with Archive.open(db) as archive:
        archive.ingest(
            [
                Channel("evil", title="Ev\x01il"),
                Post(key="evil/1", channel="evil", id=1, text="x", forwarded_from=forward),
            ],
            source(),
        )
    for format_ in ("gexf", "graphml"):
        path = tmp_path / f"h.{format_}"
        run(db, "--format", format_, "-o", str(path))
        graph = nx.read_gexf(path) if format_ == "gexf" else nx.read_graphml(path)
        assert sorted(graph.nodes) == ["Bad\ufffd\ufffdtitle", "evil"]
        assert graph.nodes["evil"]["title"] == "Ev\ufffdil"


def test_an_unwritable_output_is_a_one_line_error(archive_path, tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "x.gexf"
    output = run(archive_path, "--format", "gexf", "-o", str(missing), expect=1)
    assert output == f"Error: {missing}: cannot write: No such file or directory\n"


def test_a_channel_without_edges_is_said_so(archive_path):
    result = CliRunner().invoke(cli, ["network", "--db", str(archive_path), "--channel", "nochan"])
    assert result.exit_code == 0
    assert result.output.endswith("note: no edge touches nochan in this range\n")


def test_keys_in_tables_are_folded_never_cut(monkeypatch):
    import io

    from rich.console import Console

    from tgscope.cli import display

    out = io.StringIO()
    monkeypatch.setattr(display, "console", Console(file=out, width=40))
    key = "china_embassy_ru/dump-037aa2f5c1d2e3f4"
    display.print_table("", ("post", "relation", "views"), [(key, "copy", 12)])
    folded = "".join(line.strip("│ ").split("│")[0].strip() for line in out.getvalue().splitlines())
    assert key in folded
