"""A lake's shipping identity: its host id and the shared lake it ships to (``ship.json``).

Written once, by the first ``ship``: a lake ships to one shared lake under one host id, so
its objects never collide with another host's, and raw retention on the recording host knows
which shared lake must cover a segment before it may go.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from dataclasses import dataclass

from runlake.errors import InvalidOption, StorageError
from runlake.storage.fs import fsync_path, storage_errors
from runlake.storage.layout import LakePaths

SHIP_FILE = "ship.json"
HOST_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class Shipping:
    """A lake's shipping identity: its host id and the shared lake it ships to."""

    host: str
    to: str


def validate_host(host: str) -> str:
    """``host`` if it is a valid host id (1-63 of a-z, 0-9 and '-'), else InvalidOption."""
    if HOST_ID.fullmatch(host) is None:
        raise InvalidOption(f"invalid host id {host!r}: use 1-63 characters of a-z, 0-9 and "
                            "'-', starting with a letter or digit")
    return host


def shipping_of(paths: LakePaths, *, to: str, host: str | None) -> Shipping:
    """The lake's shipping identity, recorded in ``ship.json`` on the first ship: a new
    host id (this machine's name and a random suffix) unless ``host`` is given. A lake ships
    to one shared lake under one host id; asking for another is an InvalidOption."""
    wanted = Shipping(validate_host(host) if host else _new_host(), to)
    recorded = read_shipping(paths)
    if recorded is None:
        _record(paths, wanted)
        recorded = read_shipping(paths) or wanted  # another shipper may have won the race
    if recorded.to != to or (host is not None and recorded.host != host):
        raise InvalidOption(
            f"the lake at {paths.root} ships to {recorded.to} as host {recorded.host!r} "
            f"({paths.root / SHIP_FILE}); a lake ships to one shared lake under one host id "
            "(remove that file only if nothing was shipped to the one it names)")
    return recorded


def read_shipping(paths: LakePaths) -> Shipping | None:
    """The lake's shipping identity, ``None`` if it never shipped."""
    path = paths.root / SHIP_FILE
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    return Shipping(str(doc["host"]), str(doc["to"]))


def _record(paths: LakePaths, shipping: Shipping) -> None:
    """Write ``ship.json`` whole, only if there is none: a temporary file linked into place
    (a link fails if the name exists), so no reader sees it half-written."""
    path = paths.root / SHIP_FILE
    temporary = path.with_name(f".{SHIP_FILE}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with storage_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"host": shipping.host, "to": shipping.to}))
        fsync_path(temporary)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        fsync_path(path.parent)


def _new_host() -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().lower()).strip("-")[:50]
    return f"{name or 'host'}-{secrets.token_hex(3)}"
