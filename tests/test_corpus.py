"""Real Telegram material captured by others (../shared/corpus): skipped when it is absent.

This release reads text dumps only; every real page and export must be recognised for what it
is and refused with a clear one-line message, never imported as garbage text.
"""

from __future__ import annotations

import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import UnknownFormat

from .conftest import SHARED

CORPUS = SHARED / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")


@pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_real_pages_and_exports_are_refused_clearly(path, db_path, seed_path):
    kind = "JSON" if path.suffix == ".json" else "HTML/XML"
    with Archive.open(db_path) as archive:
        archive.import_paths([seed_path])
        with pytest.raises(UnknownFormat) as caught:
            archive.import_file(path)
    assert str(caught.value) == f"{path}: {kind} input is not supported yet (only text dumps)"
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM posts").fetchone() == (5,)
    assert db.execute("SELECT count(*) FROM sources").fetchone() == (1,)


@pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")
def test_corpus_has_the_files_sources_md_lists():
    folders = {p.parent.relative_to(CORPUS).as_posix() for p in FILES}
    assert {
        "tme_html/topwar_and_milbloggers",
        "tme_html/tchantest_snippets",
        "tme_html/anonymized_with_reactions",
        "desktop_export/help_ukrainians_germany",
        "desktop_export/html_export_small_group",
    } <= folders
