"""The events command: diplomatic events extracted from the archive's posts."""

from __future__ import annotations

import click

from ..errors import OptionError
from .base import cli, console, db_option, err_console, reports_errors, safe_text


@cli.command()
@db_option
@click.option("--channel", help="Only posts of this channel (username).")
@click.option(
    "--since", metavar="DATE", help="Only events that may have happened on or after DATE."
)
@click.option(
    "--until", metavar="DATE", help="Only events that may have happened on or before DATE."
)
@click.option(
    "--type",
    "type_",
    metavar="TYPE",
    help="CONSULT, AGREE, SUPPORT, ACCUSE, PROTEST, SANCTION, ...",
)
@click.option("--actor", help="An actor's name (any part: Lavrov) or country (RUS).")
@click.option("--country", help="A country among the parties: RUS, or a name (Russia).")
@click.option("--dyad", metavar="A,B", help="Both countries among the parties: RUS,CHN.")
@click.option(
    "--mode",
    type=click.Choice(["phone", "video", "visit", "third-party", "multilateral", "meet"]),
    help="How they consulted (CONSULT events).",
)
@click.option(
    "--modality",
    type=click.Choice(["factual", "future", "negated", "reported"]),
    help="factual: it happened; future: planned; negated; reported: a memory or a claim.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
)
@click.option("--rebuild", is_flag=True, help="Extract every post's events again first.")
@click.option(
    "--dask",
    metavar="SPEC",
    help="With --rebuild: on a Dask cluster, local:N or tcp://scheduler:8786 (an archive in"
    " PostgreSQL).",
)
@reports_errors
def events(
    db, channel, since, until, type_, actor, country, dyad, mode, modality, format_, rebuild, dask
):
    """Diplomatic events: who met, called, visited, invited, praised or accused whom, where
    and when, each with the words of the post that say it.

    The events table is brought up to date first (import and sync do it too). JSON Lines:
    one event a line, the record of shared/docs/events.md; CSV: one event a row, parties as
    actor1_name, actor1_country, ... columns."""
    from ..archive import Archive
    from ..events.filters import event_filter

    chosen = event_filter(
        channel=channel,
        since=since,
        until=until,
        type=type_,
        actor=actor,
        country=country,
        dyad=dyad,
        mode=mode,
        modality=modality,
    )
    if dask and not rebuild:
        raise OptionError("--dask goes with --rebuild (a full pass on the cluster)")
    with Archive.open(db, create=False) as archive:
        if rebuild:
            count = archive.rebuild_events(dask=dask)
            err_console.print(f"{count} event(s) extracted again from every post")
        found = archive.events(chosen)
    if format_ == "jsonl":
        for event in found:
            click.echo(event.to_json())
    elif format_ == "csv":
        _write_csv(found)
    else:
        _print_events(found)


def _write_csv(found) -> None:
    import csv
    import sys

    from ..events.model import csv_header, csv_row

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(csv_header())
    for event in found:
        out.writerow(csv_row(event))


def _print_events(found) -> None:
    from .display import print_table

    rows = [(_when(event), _what(event), _who(event), _place(event), event.post) for event in found]
    print_table(f"{len(found)} event(s)", ("date", "event", "who", "where", "post"), rows)
    if not found:
        err_console.print("note: no event matches (tgscope events --help lists the filters)")


def _when(event) -> str:
    if event.date:
        return event.date
    if event.date_min or event.date_max:
        return f"{event.date_min or '…'} – {event.date_max or '…'}"
    return "?"


def _what(event) -> str:
    """``CONSULT third-party+multilateral``, and the modality when it did not simply happen."""
    what = " ".join(filter(None, (event.type, " + ".join(event.mode))))
    return what if event.modality == "factual" else f"{what} ({event.modality})"


def _who(event) -> str:
    """The actors, and ``→`` those it was aimed at."""
    who = _parties(event.actors)
    return f"{who} → {_parties(event.recipients)}" if event.recipients else who


def _parties(parties) -> str:
    return "; ".join(
        f"{party['name']} ({party['country'] or party.get('org')})"
        if party["name"]
        else str(party["country"] or party.get("org"))
        for party in parties
    )


def _place(event) -> str:
    place = event.place
    where = ""
    if place:
        where = ", ".join(part for part in (place["name"], place["country"]) if part)
    if event.occasion:
        where = f"{where} [{event.occasion}]" if where else f"[{event.occasion}]"
    return where


__all__ = ["console", "events", "safe_text"]
