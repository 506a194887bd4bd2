"""The ``ship`` command: a recording host's raw lines to a shared lake, once or every N."""

from __future__ import annotations

import re
import time
from typing import Annotated

import typer

from runlake.cli.render import print_ship
from runlake.cli.session import session

_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def ship(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The shared lake, e.g. s3://bucket/prefix "
                                    "(credentials and endpoint from AWS_*).")],
    every: Annotated[str | None, typer.Option(
        "--every", help="Ship again after this long, until interrupted: 30s, 5m, 1h.")] = None,
    host: Annotated[str | None, typer.Option(
        "--host", help="This lake's name on the shared lake (default: the machine's name "
        "and a random suffix, kept in ship.json).")] = None,
) -> None:
    """Upload the new complete lines of this lake's segments to a shared lake, as immutable
    objects, exactly once: a killed or repeated shipper neither loses nor duplicates.

    Example: runlake --lake ./lake ship --to s3://studio-lake/sweeps --every 30s
    """
    pause = _seconds(every) if every is not None else None
    here = session(ctx)
    shipper = here.lake().shipper(to, host=host)
    first = True
    while True:
        result = shipper.run()
        if first or result.objects:
            print_ship(here.out, result)
        if pause is None:
            return
        first = False
        time.sleep(pause)


def _seconds(text: str) -> float:
    match = _EVERY.fullmatch(text.strip().lower())
    if match is None or float(match.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r}: use a duration like 30s, 5m or 1h",
                                 param_hint="--every")
    return float(match.group(1)) * _UNIT[match.group(2)]
