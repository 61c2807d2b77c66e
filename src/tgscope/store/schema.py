"""The SQLite schema as data: numbered migrations and the views Datasette shows.

``PRAGMA user_version`` holds the schema version; :func:`migrate` runs the
migrations a file lacks, each in its own transaction.  Add a migration, never
edit one that has shipped.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO meta VALUES ('archive_id', lower(hex(randomblob(16))));
    CREATE TABLE channels (
        pk INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        title TEXT,
        description TEXT,
        verified INTEGER,
        subscribers INTEGER,
        photos INTEGER,
        videos INTEGER,
        links INTEGER,
        files INTEGER,
        updated_at TEXT
    );
    CREATE TABLE sources (
        pk INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        UNIQUE (kind, ref, sha256, observed_at)  -- a page fetched again is seen again
    );
    CREATE TABLE posts (
        pk INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        channel_pk INTEGER REFERENCES channels(pk),
        message_id INTEGER,
        date TEXT,
        text TEXT NOT NULL DEFAULT '',
        views INTEGER,
        forwarded_from_title TEXT,
        forwarded_from_channel TEXT,
        forwarded_from_id INTEGER,
        reply_to_channel TEXT,
        reply_to_id INTEGER,
        author TEXT,
        edited INTEGER NOT NULL DEFAULT 0,
        service TEXT,
        album_id TEXT,
        entities TEXT NOT NULL DEFAULT '[]',
        link_preview TEXT,
        seq INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX posts_channel_message ON posts(channel_pk, message_id)
        WHERE message_id IS NOT NULL;
    CREATE INDEX posts_date ON posts(date);
    CREATE TABLE reactions (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,
        emoji TEXT,
        custom_emoji_id TEXT,
        paid INTEGER NOT NULL DEFAULT 0,
        count INTEGER NOT NULL,
        PRIMARY KEY (post_pk, position)
    ) WITHOUT ROWID;
    CREATE TABLE media (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,
        type TEXT NOT NULL,
        url TEXT,
        unsupported INTEGER NOT NULL DEFAULT 0,
        item TEXT NOT NULL,  -- the whole media entry as JSON; the columns above are for queries
        PRIMARY KEY (post_pk, position)
    ) WITHOUT ROWID;
    CREATE TABLE hashtags (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,
        tag TEXT NOT NULL,
        folded TEXT NOT NULL,  -- case-folded in Python (SQLite folds ASCII only): for filters
        PRIMARY KEY (post_pk, position)
    ) WITHOUT ROWID;
    CREATE INDEX hashtags_folded ON hashtags(folded);
    CREATE TABLE mentions (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,
        username TEXT NOT NULL,
        PRIMARY KEY (post_pk, position)
    ) WITHOUT ROWID;
    CREATE TABLE links (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,
        url TEXT NOT NULL,
        PRIMARY KEY (post_pk, position)
    ) WITHOUT ROWID;
    CREATE TABLE observations (
        pk INTEGER PRIMARY KEY,
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        source_pk INTEGER NOT NULL REFERENCES sources(pk),
        observed_at TEXT NOT NULL,
        views INTEGER,
        reactions TEXT NOT NULL DEFAULT '[]',
        UNIQUE (post_pk, source_pk)
    );
    CREATE VIEW posts_overview AS
        SELECT posts.pk, posts.key, channels.username AS channel, channels.title AS channel_title,
               posts.message_id, posts.date, posts.text, posts.views,
               posts.forwarded_from_title, posts.forwarded_from_channel,
               (SELECT sum(count) FROM reactions WHERE post_pk = posts.pk) AS reactions_total,
               (SELECT group_concat(tag, ' ') FROM hashtags WHERE post_pk = posts.pk) AS hashtags
        FROM posts LEFT JOIN channels ON channels.pk = posts.channel_pk;
    CREATE VIEW hashtag_counts AS
        SELECT tag, count(*) AS posts FROM hashtags GROUP BY tag ORDER BY posts DESC, tag;
    CREATE VIEW channel_summary AS
        SELECT channels.username, channels.title, channels.subscribers,
               count(posts.pk) AS posts, min(posts.date) AS first_post, max(posts.date) AS last_post
        FROM channels LEFT JOIN posts ON posts.channel_pk = channels.pk
        GROUP BY channels.pk;
    CREATE VIEW forwards AS
        SELECT channels.username AS channel, posts.forwarded_from_title AS forwarded_from,
               posts.forwarded_from_channel, count(*) AS posts
        FROM posts LEFT JOIN channels ON channels.pk = posts.channel_pk
        WHERE posts.forwarded_from_title IS NOT NULL OR posts.forwarded_from_channel IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY posts DESC;
    """,
    # 2: where each channel's web sync stands, so an interrupted walk resumes
    """
    CREATE TABLE sync_state (
        channel TEXT PRIMARY KEY,
        newest_id INTEGER,  -- the newest post archived: a new walk from the top stops there
        cursor INTEGER,  -- an interrupted walk goes on from here
        target INTEGER,  -- ... down to this id (the newest_id when that walk started)
        updated_at TEXT NOT NULL
    );
    """,
    # 3: evidence and history: fetched pages, earlier texts of edited posts, deletions
    """
    CREATE TABLE raw_pages (
        pk INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        sha256 TEXT NOT NULL,  -- of the page as fetched
        content BLOB NOT NULL,  -- the page, zlib-compressed
        UNIQUE (url, sha256)
    );
    CREATE TABLE post_versions (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        replaced_at TEXT NOT NULL,  -- when a source first showed the newer text
        text TEXT NOT NULL,
        entities TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (post_pk, replaced_at, text)
    );
    ALTER TABLE posts ADD COLUMN deleted_at TEXT;  -- when a sync found the post gone
    """,
    # 4: walks cut by --since, kept apart from the walk in progress so neither forgets the other
    """
    ALTER TABLE sync_state ADD COLUMN held TEXT NOT NULL DEFAULT '[]';
    -- held: JSON list of [cursor, target, date], newest first: history left unwalked (cut
    -- by --since, or interrupted), from ?before=cursor down to post target (null: the first
    -- post); every post below the cursor is older than date (null: not known)
    """,
    # 5: what the Telegram API and Desktop exports add to a post
    """
    ALTER TABLE posts ADD COLUMN forwards INTEGER;  -- times forwarded
    ALTER TABLE posts ADD COLUMN replies INTEGER;  -- comments in the discussion group
    ALTER TABLE posts ADD COLUMN via_bot TEXT;  -- sent through this bot (username)
    ALTER TABLE posts ADD COLUMN buttons TEXT;  -- JSON list of inline buttons {text, url}
    ALTER TABLE channels ADD COLUMN avatar TEXT;  -- URL of the channel's picture
    ALTER TABLE channels ADD COLUMN telegram_id INTEGER;  -- numeric id (exports, the API)
    """,
    # 6: provenance: each kind of source's version of a post seen by several kinds, and
    # fingerprints to find a text dump's post (no id) in another source
    """
    CREATE TABLE post_sources (
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        kind TEXT NOT NULL,  -- kind of source: web, desktop-json, textdump, ...
        observed_at TEXT NOT NULL,  -- its latest observation of the post
        record TEXT NOT NULL,  -- the post as that kind of source last gave it (JSON)
        PRIMARY KEY (post_pk, kind)
    ) WITHOUT ROWID;
    CREATE TABLE post_aliases (
        key TEXT PRIMARY KEY,  -- the key a copy without an id had (a text dump's)
        post_pk INTEGER NOT NULL REFERENCES posts(pk)  -- the post it was merged into
    ) WITHOUT ROWID;
    ALTER TABLE posts ADD COLUMN fingerprint TEXT;  -- letters and digits of the text, hashed
    CREATE INDEX posts_fingerprint ON posts(channel_pk, fingerprint) WHERE fingerprint IS NOT NULL;
    """,
    # 7: indexes for a channel's posts by date and for the search index catching up; each
    # collector's state under its own kind (was 'api:<name>' in the channel column); the
    # forwards and replies of each observation, for a post's history
    """
    CREATE INDEX posts_channel_date ON posts(channel_pk, date);
    CREATE INDEX posts_seq ON posts(seq);
    CREATE TABLE sync_state_by_kind (
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,  -- the collector: web (t.me/s pages) or api (the Telegram API)
        newest_id INTEGER,  -- the newest post archived: a new walk from the top stops there
        cursor INTEGER,  -- an interrupted walk goes on from here
        target INTEGER,  -- ... down to this id (the newest_id when that walk started)
        updated_at TEXT NOT NULL,
        held TEXT NOT NULL DEFAULT '[]',  -- history left unwalked: [[cursor, target, date]]
        PRIMARY KEY (channel, kind)
    );
    INSERT INTO sync_state_by_kind
        SELECT CASE WHEN channel LIKE 'api:%' THEN substr(channel, 5) ELSE channel END,
               CASE WHEN channel LIKE 'api:%' THEN 'api' ELSE 'web' END,
               newest_id, cursor, target, updated_at, held
        FROM sync_state;
    DROP TABLE sync_state;
    ALTER TABLE sync_state_by_kind RENAME TO sync_state;
    ALTER TABLE observations ADD COLUMN forwards INTEGER;
    ALTER TABLE observations ADD COLUMN replies INTEGER;
    """,
    # 8: posts removed (merged into another) by the write numbered seq: the search index drops
    # them when it catches up, as it adds what was written
    """
    CREATE TABLE removed_posts (
        pk INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL
    );
    CREATE INDEX removed_posts_seq ON removed_posts(seq);
    """,
    # 9: the near-copy index (tgscope duplicates), derived from the posts like the search
    # index: normalised texts with their MinHash signatures, LSH buckets, the pairs verified
    # exactly, and the last write it holds; the forwards of a post found by its original
    """
    CREATE TABLE nearcopy_texts (
        id INTEGER PRIMARY KEY,  -- BLAKE2b of the normalised words: equal texts, one row
        signature BLOB NOT NULL,  -- MinHash, little-endian uint32 x num_perm
        shingles INTEGER NOT NULL  -- how many distinct shingles
    );
    CREATE TABLE nearcopy_posts (
        post_pk INTEGER PRIMARY KEY,  -- a post long enough to compare
        text_id INTEGER NOT NULL,  -- its normalised text (nearcopy_texts.id)
        seq INTEGER NOT NULL  -- the write of the text it was made from (posts.seq)
    );
    CREATE INDEX nearcopy_posts_text ON nearcopy_posts(text_id);
    CREATE TABLE nearcopy_buckets (
        bucket INTEGER NOT NULL,  -- one band of a signature, hashed with the band's number
        text_id INTEGER NOT NULL,
        PRIMARY KEY (bucket, text_id)
    ) WITHOUT ROWID;
    CREATE TABLE nearcopy_pairs (
        a INTEGER NOT NULL,  -- texts, a < b, found in one bucket and verified exactly
        b INTEGER NOT NULL,
        jaccard REAL NOT NULL,  -- of their shingle sets, at least the index's floor
        PRIMARY KEY (a, b)
    ) WITHOUT ROWID;
    CREATE INDEX nearcopy_pairs_b ON nearcopy_pairs(b);
    CREATE TABLE nearcopy_state (
        name TEXT PRIMARY KEY,  -- seq, floor, num_perm, rows, shingle, min_words, version
        value TEXT NOT NULL
    );
    CREATE INDEX posts_forwarded_from ON posts(forwarded_from_channel, forwarded_from_id)
        WHERE forwarded_from_id IS NOT NULL;
    """,
    # 10: diplomatic events (tgscope events), derived from the posts' texts like the search
    # index: one row an event, its parties apart for the filters, and the last write and
    # dictionary version it holds
    """
    CREATE TABLE events (
        pk INTEGER PRIMARY KEY,
        post_pk INTEGER NOT NULL REFERENCES posts(pk),
        position INTEGER NOT NULL,  -- its order among the post's events
        type TEXT NOT NULL,  -- PLOVER: CONSULT, AGREE, SUPPORT, ...
        modality TEXT NOT NULL,  -- factual, future, negated, reported
        mode TEXT NOT NULL,  -- JSON list: phone, video, visit, third-party, multilateral, meet
        date TEXT,  -- the day, when known
        date_min TEXT,  -- bounds when only a range is known
        date_max TEXT,
        partial TEXT,  -- MM-DD: a day without its year, placed by the post's neighbours
        own_min TEXT,  -- the bounds its own text gives (the actors' terms), before neighbours
        own_max TEXT,
        occasion TEXT,
        place_country TEXT,
        record TEXT NOT NULL,  -- the event as tgscope events writes it (JSON)
        UNIQUE (post_pk, position)
    );
    CREATE INDEX events_date ON events(date_min, date_max);
    CREATE INDEX events_type ON events(type, date_min);
    CREATE TABLE event_parties (
        event_pk INTEGER NOT NULL REFERENCES events(pk),
        side TEXT NOT NULL,  -- actor or recipient
        name TEXT,
        country TEXT,  -- ISO 3166-1 alpha-3
        org TEXT  -- an international body or bloc when country is NULL
    );
    CREATE INDEX event_parties_event ON event_parties(event_pk);
    CREATE INDEX event_parties_country ON event_parties(country, event_pk);
    CREATE INDEX event_parties_name ON event_parties(name COLLATE NOCASE, event_pk);
    CREATE TABLE events_state (
        name TEXT PRIMARY KEY,  -- seq (the last write extracted), version (the dictionaries')
        value TEXT NOT NULL
    );
    CREATE INDEX observations_source ON observations(source_pk);  -- a file's posts, in order
    """,
    # 11: media kept as evidence (tgscope media): each file once, named by its SHA-256 in the
    # folder beside the archive, and what each fetch of a post's medium gave
    """
    CREATE TABLE media_files (
        sha256 TEXT PRIMARY KEY,  -- the file is <archive>.media/ab/cd/<sha256>
        size INTEGER NOT NULL,
        mime TEXT,  -- from its bytes, not from what a server said
        width INTEGER,
        height INTEGER,
        duration INTEGER,  -- seconds, as the source gave it (audio, video)
        stored_at TEXT NOT NULL,
        phash TEXT,  -- perceptual hashes of an image (64 bits in hex), for the same picture
        dhash TEXT,  -- reposted; NULL until hashed, or when the file is no image
        hashed INTEGER NOT NULL DEFAULT 0  -- 1 once hashing was tried
    ) WITHOUT ROWID;
    CREATE INDEX media_files_unhashed ON media_files(hashed) WHERE hashed = 0;
    CREATE TABLE media_fetches (
        post TEXT NOT NULL,  -- the post's key, or @channel for the channel's picture
        position INTEGER NOT NULL,  -- the medium's place among the post's media
        part TEXT NOT NULL,  -- file, thumb (a video's poster), link_preview (its image), avatar
        type TEXT NOT NULL,  -- photo, video, ... as the post says
        url TEXT,  -- where it was fetched from, or the exported file it was taken from
        status TEXT NOT NULL,  -- stored, expired, missing, too_large, refused, failed
        sha256 TEXT REFERENCES media_files(sha256),  -- when stored
        http_status INTEGER,
        size INTEGER,  -- the bytes stored, or announced when too large
        reason TEXT,  -- why not stored, in a few words
        attempts INTEGER NOT NULL DEFAULT 1,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (post, position, part)
    ) WITHOUT ROWID;
    CREATE INDEX media_fetches_sha256 ON media_fetches(sha256) WHERE sha256 IS NOT NULL;
    """,
    # 12: the collectors' queue (tgscope watch, tgscope worker) and the politeness budget
    # they share; times are seconds since 1970 from the database's clock
    """
    CREATE TABLE watch (
        channel TEXT PRIMARY KEY,
        every_s REAL NOT NULL,  -- how often it is synced
        due_at REAL NOT NULL,  -- when it is next to be synced
        lease_owner TEXT,  -- the worker syncing it now
        lease_until REAL,  -- when that worker's claim ends unless it renews it
        failures INTEGER NOT NULL DEFAULT 0,  -- syncs failed in a row
        last_error TEXT,
        last_done REAL,  -- when a sync of it last finished
        added_at REAL NOT NULL
    );
    CREATE INDEX watch_due ON watch(due_at);
    CREATE TABLE host_budget (
        host TEXT PRIMARY KEY,
        next_at REAL NOT NULL  -- the earliest time the next request to the host may start
    );
    """,
]


def _reread_reactions(connection: sqlite3.Connection) -> None:
    """Version 6 and earlier wrote the usual reactions of an observation as JSON by hand,
    which an emoji with a backslash made invalid: read those rows again, the hand-written
    entries as they were written.  (A backslash that happened to form a valid escape cannot
    be told apart, and such rows are valid JSON: they are left as they are.)"""
    rows = connection.execute(
        "SELECT pk, reactions FROM observations WHERE NOT json_valid(reactions)"
    ).fetchall()
    for pk, text in rows:
        connection.execute(
            "UPDATE observations SET reactions = ? WHERE pk = ?",
            (json.dumps(_hand_written(text), ensure_ascii=False), pk),
        )


_HAND_WRITTEN = re.compile(r'\{"emoji": "([^"]*)", "count": (-?\d+)\}')


def _hand_written(text: str) -> list:
    """The entries of ``[{...}, {...}]`` where some were written without escaping."""
    decoder = json.JSONDecoder()
    found: list = []
    at = 1
    while at < len(text) and text[at] != "]":
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError:
            entry = _HAND_WRITTEN.match(text, at)
            if entry is None:
                return found  # not tgscope's writing: what could be read
            value, at = {"emoji": entry[1], "count": int(entry[2])}, entry.end()
        found.append(value)
        at += 2 if text.startswith(", ", at) else 0
    return found


#: Python steps run after a migration's SQL, in its transaction
REPAIRS: dict[int, Callable[[sqlite3.Connection], None]] = {7: _reread_reactions}
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the file up to :data:`SCHEMA_VERSION`; return the version it had.

    Each migration runs in its own write transaction, which first reads the version again:
    two processes opening an old file at once migrate it once.  ``connection`` must be in
    autocommit mode (``isolation_level=None``).
    """
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"archive schema version {version} is newer than this tgscope ({SCHEMA_VERSION})"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            (now,) = connection.execute("PRAGMA user_version").fetchone()
            if now < number:  # not done meanwhile by another process
                for statement in _statements(MIGRATIONS[number - 1]):
                    connection.execute(statement)
                if number in REPAIRS:
                    REPAIRS[number](connection)
                connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return version


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (``executescript`` would commit first)."""
    statements, statement = [], ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            statements.append(statement)
            statement = ""
    if any(line.strip() and not line.strip().startswith("--") for line in statement.splitlines()):
        raise RuntimeError(f"a migration ends without ';': {statement.strip()[:60]}")
    return statements
