"""The README is the user's manual: every command has help and a section, and its examples run."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from tgscope.cli import cli

from .conftest import ROOT, SAMPLES

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTIONS = dict(re.findall(r"^### (\S+)\n(.*?)(?=^##)", README + "\n##", re.S | re.M))
BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
COMPARED = ["import", "search", "export", "stats", "reindex"]
#: where the README's examples were run, and when the sample files were last changed
HOME = "/home/me/tgscope"
SAMPLES_CHANGED = datetime(2026, 11, 28, 10, 51, 7, tzinfo=UTC).timestamp()


def test_every_command_has_help_and_a_readme_section():
    assert sorted(cli.commands) == sorted(SECTIONS)
    for name, command in cli.commands.items():
        assert command.help and len(command.help.strip()) > 20, name
        result = CliRunner().invoke(cli, [name, "--help"], prog_name="tgscope")
        assert result.exit_code == 0 and "Usage: tgscope" in result.output


def test_quick_start_names_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copytree(SAMPLES, tmp_path / "samples")
    for sample in (tmp_path / "samples").iterdir():  # each file's observations are dated so
        os.utime(sample, (SAMPLES_CHANGED, SAMPLES_CHANGED))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    return tmp_path


def run(line: str) -> str:
    args = shlex.split(line)
    assert args[0] == "tgscope"
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, result.output
    return result.output


def assert_prints(command: str, expected: str, workdir) -> None:
    """Run a README example; "…" at the start of the expected output skips what comes first."""
    output = run(command.strip()).replace(str(workdir), HOME)
    if expected.startswith("…\n"):
        assert output.endswith(expected[2:]), command
    else:
        assert output == expected, command


def test_readme_examples_print_what_the_readme_says(workdir):
    examples = {name: BLOCK.findall(SECTIONS[name]) for name in SECTIONS}
    command, expected = examples["import"][:2]
    assert run(command.strip()) == expected
    run("tgscope import --channel mid_russia samples/mid_ru_dump.txt")
    for name in COMPARED[1:]:
        command, expected = examples[name][:2]
        assert run(command.strip()) == expected, name
    assert_prints(*examples["stats"][2:4], workdir)  # stats --json
    assert_prints(*examples["show"][:2], workdir)
    run("tgscope import samples/rusembchina_page.html samples/rusembchina_export.json")
    for at in range(2, len(examples["show"]), 2):
        assert_prints(*examples["show"][at : at + 2], workdir)
    run("tgscope import samples/russia_china_dump.txt --channel russia_china_demo --db seed.db")
    assert_prints(*examples["events"][:2], workdir)


def test_the_python_example_prints_what_the_readme_says(workdir):
    api = README.split("## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = BLOCK.findall(api)
    assert len(blocks) >= 6  # the archive's example, the analyses', the events'
    for code, expected in (blocks[0:2], blocks[2:4], blocks[4:6]):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
        assert printed.getvalue() == expected
