"""Inserting rows without binding NULLs: their columns are left out, to take their default.

sqlite3 binds ``None`` through its adapter protocol and, finding no adapter, raises and
clears two AttributeErrors for each one: a post's row with its dozen empty fields costs three
times a row of values.  (A NULL adapter registered with ``sqlite3`` would change every
program's sqlite3 in the process.)  So rows are grouped by which of their values are set, and
each group is inserted by a statement naming only those columns; the others take their
default, NULL.  Even a page of posts that all differ costs less so than binding their NULLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import compress, repeat
from operator import is_not

from .dbapi import Connection, dialect_of

Pattern = tuple[bool, ...]  # which of a row's values are set


def insert_rows(
    db: Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple],
    *,
    verb: str = "INSERT",
    on_conflict: str = "",
    in_order: bool = False,
) -> None:
    """``verb INTO table (columns) VALUES ... on_conflict`` for each row, its ``None`` values
    left out (``on_conflict``: ``ON CONFLICT DO NOTHING``, say, which PostgreSQL takes too).

    Only for columns whose default is NULL where a row may hold ``None``.  Rows are grouped
    by the values they have; ``in_order`` keeps their order (an ``INTEGER PRIMARY KEY``
    the table assigns, say) by grouping only rows next to each other.
    """
    if not dialect_of(db).omit_nulls:  # an engine that binds NULL as fast as a value
        every = (True,) * len(columns)
        db.executemany(_insert(verb, table, columns, every, on_conflict), list(rows))
        return
    for pattern, group in _grouped(rows, in_order=in_order):
        statement = _insert(verb, table, columns, pattern, on_conflict)
        if all(pattern):
            db.executemany(statement, group)
        else:
            db.executemany(statement, [tuple(compress(row, pattern)) for row in group])


def _grouped(rows: Iterable[tuple], *, in_order: bool) -> list[tuple[Pattern, list[tuple]]]:
    groups: list[tuple[Pattern, list[tuple]]] = []
    by_pattern: dict[Pattern, list[tuple]] = {}
    for row in rows:
        pattern = tuple(map(is_not, row, repeat(None)))  # in C
        if in_order:
            if not groups or groups[-1][0] != pattern:
                groups.append((pattern, []))
            groups[-1][1].append(row)
        elif (group := by_pattern.get(pattern)) is not None:
            group.append(row)
        else:
            group = by_pattern[pattern] = [row]
            groups.append((pattern, group))
    return groups


@lru_cache(maxsize=1024)
def _insert(
    verb: str, table: str, columns: tuple[str, ...], pattern: Pattern, on_conflict: str = ""
) -> str:
    names = list(compress(columns, pattern))
    statement = f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    return f"{statement} {on_conflict}" if on_conflict else statement
