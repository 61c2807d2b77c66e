"""Diplomatic events extracted from posts (the record: ``shared/docs/events.md``)."""
