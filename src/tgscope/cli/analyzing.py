"""The analysis commands: network, spread, duplicates, engagement."""

from __future__ import annotations

import click  # noqa: F401

from .base import (  # noqa: F401  (the lead trims what no command uses once they are in)
    cli,
    console,
    db_option,
    err_console,
    filter_options,
    json_text,
    reports_errors,
    safe_text,
)

# -- network ----------------------------------------------------------------------------------

# -- spread -----------------------------------------------------------------------------------

# -- duplicates -------------------------------------------------------------------------------

# -- engagement -------------------------------------------------------------------------------
