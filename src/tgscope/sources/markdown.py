"""Telegram's markdown as Telethon writes it, read back into plain text and entities.

Tools built on Telethon store ``message.text``: the text with its formatting written as
``**bold**``, ``__italic__``, ``~~strike~~``, ```code```, ````pre```` and ``[text](url)``
(Telethon's ``extensions.markdown``).  :func:`parse` turns that back into the record's
plain ``text`` and ``entities`` (offsets in code points), so searches and snippets see the
words, not the markup.

It reads what Telethon's own parser reads, the same way (a delimiter pairs with the next
same delimiter, not right after it; nothing is formatted inside code or a link's text;
whitespace around the whole text is stripped), but in one pass: Telethon's rebuilds the text
for every pair, which takes minutes on a long hostile cell.  Telethon is an optional extra of
tgscope, so it cannot be the parser; the tests compare the two.
"""

from __future__ import annotations

import re

from ..record import Entity

#: delimiter -> entity type, longest first (```` ``` ```` is not three ```` ` ````)
DELIMITERS = {"```": "pre", "**": "bold", "__": "italic", "~~": "strikethrough", "`": "code"}
_VERBATIM = {"pre", "code"}  # nothing inside is formatted
_DELIMITER = re.compile("|".join(re.escape(d) for d in DELIMITERS))
_MARKUP = re.compile(r"\*\*|__|~~|`|\[")


def parse(markdown: str) -> tuple[str, list[Entity]]:
    """``"**Hi** [there](https://x.y)"`` -> ``("Hi there", [bold 0-2, text_link 3-8])``."""
    if not _MARKUP.search(markdown):
        return markdown.strip(), []
    return _Parser(markdown).run()


class _Parser:
    """One left-to-right pass: text goes to ``out``; an opened entity waits for the position
    of its closing delimiter, found when it opened, to learn its length."""

    def __init__(self, source: str):
        self.source = source
        self.out: list[str] = []
        self.length = 0  # code points written so far
        self.entities: list[Entity] = []
        self.closings: dict[int, tuple[int, Entity]] = {}  # position -> (its size, entity)
        self.verbatim_until = -1  # inside code or a link's text: no markup up to here
        self.failed: dict[str, int] = {}  # delimiter -> a position after which it never occurs
        self.next_bracket = self.next_paren = -1  # cached finds (keep the pass linear)

    def run(self) -> tuple[str, list[Entity]]:
        source, position = self.source, 0
        while position < len(source):
            if position in self.closings:
                position = self._close(position)
            elif position < self.verbatim_until:
                position = self._write_until(self.verbatim_until, position)
            elif step := self._markup(position):
                position = step
            else:
                position = self._write_until(self._next_markup(position + 1), position)
        return _strip(self.out, self.entities)

    def _markup(self, position: int) -> int | None:
        """A delimiter that opens an entity, or a link, at ``position``: the position after."""
        match = _DELIMITER.match(self.source, position)
        if match:
            return self._open(match.group(), position)
        return self._link(position) if self.source[position] == "[" else None

    def _close(self, position: int) -> int:
        size, entity = self.closings.pop(position)
        entity["length"] = self.length - entity["offset"]
        return position + size

    def _write_until(self, end: int, position: int) -> int:
        """Write plain text up to ``end``, stopping at a pending closing delimiter."""
        stop = min((at for at in self.closings if position <= at < end), default=end)
        self.out.append(self.source[position:stop])
        self.length += stop - position
        return stop

    def _next_markup(self, position: int) -> int:
        match = _MARKUP.search(self.source, position)
        return match.start() if match else len(self.source)

    def _open(self, delimiter: str, position: int) -> int | None:
        """Open an entity if ``delimiter`` closes later; the position after it, or None.

        The closing is searched from one character after the delimiter (so ``****`` is no
        empty bold), counting only characters that stay in the text."""
        end = position + len(delimiter)
        if self._overlaps_closing(position, end):
            return None
        after = end
        while after in self.closings:
            after += self.closings[after][0]
        closing = self._find_closing(delimiter, after + 1)
        if closing is None:
            return None
        kind = DELIMITERS[delimiter]
        entity: Entity = {"type": kind, "offset": self.length, "length": 0}
        self.entities.append(entity)
        self.closings[closing] = (len(delimiter), entity)
        if kind in _VERBATIM:
            self.verbatim_until = closing
        return position + len(delimiter)

    def _find_closing(self, delimiter: str, start: int) -> int | None:
        if start >= self.failed.get(delimiter, len(self.source) + 1):
            return None
        while (found := self.source.find(delimiter, start)) >= 0:
            if not self._overlaps_closing(found, found + len(delimiter)):
                return found
            start = found + 1  # overlaps a delimiter that already closes something
        self.failed[delimiter] = min(start, self.failed.get(delimiter, start))
        return None

    def _overlaps_closing(self, start: int, end: int) -> bool:
        return any(start < at + size and at < end for at, (size, _) in self.closings.items())

    def _link(self, position: int) -> int | None:
        """``[text](url)``: a text_link over ``text``; the position after ``(url)``.

        The text ends at the first ``]`` and the URL at the first ``)``, as in Telethon's
        pattern; the two finds are cached, so a text of many ``[`` stays one pass."""
        source = self.source
        if self.next_bracket < position:
            self.next_bracket = _find(source, "]", position)
        bracket = self.next_bracket
        if source[bracket + 1 : bracket + 2] != "(":
            return None
        if self.next_paren < bracket + 2:
            self.next_paren = _find(source, ")", bracket + 2)
        paren = self.next_paren
        if paren >= len(source) or self._overlaps_closing(bracket, paren + 1):
            return None  # unclosed, or a delimiter that closes something ends in ``(url)``
        entity: Entity = {
            "type": "text_link",
            "offset": self.length,
            "length": 0,
            "url": source[bracket + 2 : paren],
        }
        self.entities.append(entity)
        inside = position + 1  # the text is written as it is, ending what closes in it
        while inside < bracket:
            inside = (
                self._close(inside)
                if inside in self.closings
                else self._write_until(bracket, inside)
            )
        entity["length"] = self.length - entity["offset"]
        return paren + 1


def _find(text: str, what: str, start: int) -> int:
    found = text.find(what, start)
    return found if found >= 0 else len(text)


def _strip(out: list[str], entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Whitespace around the text removed, entities moved with it; empty entities dropped."""
    text = "".join(out)
    stripped = text.lstrip()
    left = len(text) - len(stripped)
    stripped = stripped.rstrip()
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, len(stripped))
        if end > start:
            entity["offset"], entity["length"] = start, end - start
            kept.append(entity)
    return stripped, kept
