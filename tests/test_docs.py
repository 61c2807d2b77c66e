"""The README is the user's manual: every command has help and a section, and its examples run."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from tgscope.cli import cli

from .conftest import ROOT, SAMPLES

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTIONS = dict(re.findall(r"^### (\S+)\n(.*?)(?=^##)", README + "\n##", re.S | re.M))
BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
# show prints where the file was read and when: it is run, not compared
COMPARED = ["import", "search", "export", "stats", "reindex"]


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
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    return tmp_path


def run(line: str) -> str:
    args = shlex.split(line)
    assert args[0] == "tgscope"
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_examples_print_what_the_readme_says(workdir):
    examples = {name: BLOCK.findall(SECTIONS[name]) for name in SECTIONS}
    command, expected = examples["import"][:2]
    assert run(command.strip()) == expected
    run("tgscope import --channel mid_russia samples/mid_ru_dump.txt")
    for name in COMPARED[1:]:
        command, expected = examples[name][:2]
        assert run(command.strip()) == expected, name
    show_command = examples["show"][0].strip()
    assert run(show_command).startswith("russia_china_demo/dump-f4a23d0446df2fd9\n")
