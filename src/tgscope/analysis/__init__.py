"""Analyses over the archive: who spreads whom (network, spread), who copies whom
(near-duplicate clusters), and how far posts reach (engagement).

Each analysis is a function over the store that returns plain records; :class:`tgscope.Archive`
has a method for each, the CLI a command, the web app a page.  Derived tables (the near-copy
index) follow the search index's pattern: they know the last write they hold and catch up
from the store's sequence numbers.
"""
