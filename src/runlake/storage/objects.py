"""A lake in an object store (``s3://bucket/prefix``; ``gs://`` and ``az://`` through the
same client): the store, its directories, and the check that it honours ``If-None-Match``.

- :class:`ObjectStore`: one root in a store, through obstore (conditional create, ranged
  reads, listings); every obstore error becomes a :class:`~runlake.errors.StorageError`.
- :class:`ObjectFiles`: a directory of that root as :class:`~runlake.storage.files.Files`.
- :func:`probe`: once per store and process, before the first commit or shipped object:
  create a key, create it again, and refuse the store (:class:`~runlake.errors.UnsafeStore`)
  if the second create succeeded. A store that ignores ``If-None-Match`` lets two Delta
  commits of the same version both "succeed" (one is lost) and two shippers overwrite each
  other.

Credentials and endpoint come from the standard variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ALLOW_HTTP``, ...) or
from ``storage_options`` (the same keys, as delta-rs takes them). This module is the only
one that imports obstore; the recording path never loads it.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    NotFoundError,
    UnknownConfigurationKeyError,
)
from obstore.store import ObjectStore as _Store
from obstore.store import from_url

from runlake.errors import InvalidOption, StorageError, UnsafeStore
from runlake.storage.files import Entry

SCHEMES = ("s3", "s3a", "gs", "az", "abfs", "abfss")
_URL = re.compile(r"([a-z][a-z0-9+.-]*)://([^/]+)(/.*)?")
# Keys a client takes as HTTP client options rather than store configuration.
_CLIENT_KEYS = {"allow_http", "allow_invalid_certificates", "timeout", "connect_timeout",
                "proxy_url"}
_LIST_CHUNK = 1000
_PROBE_FOLDER = "_runlake/probe"
_PROBED: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
_PROBE_LOCK = threading.Lock()


@contextmanager
def store_errors(where: str, doing: str) -> Iterator[None]:
    """Translate obstore's errors into :class:`StorageError` naming the object and what
    failed (its first line: obstore appends pages of debug detail)."""
    try:
        yield
    except StorageError:
        raise
    except (BaseError, OSError) as exc:  # a missing key is a FileNotFoundError
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StorageError(f"cannot {doing} {where}: {first}") from exc


class ObjectStore:
    """The lake's root in an object store: keys are relative to ``url``."""

    def __init__(self, url: str, options: Mapping[str, str] | None = None) -> None:
        match = _URL.fullmatch(url.rstrip("/"))
        if match is None or match.group(1) not in SCHEMES:
            raise InvalidOption(f"unsupported lake URL {url!r}: use s3://bucket/prefix "
                                f"(or {', '.join(s + '://' for s in SCHEMES[2:])})")
        self.url = url.rstrip("/")
        self.options = {str(k): str(v) for k, v in (options or {}).items()}
        with store_errors(self.url, "open the object store at"):
            self._store = _open(self.url, self.options)

    def __repr__(self) -> str:
        return f"ObjectStore({self.url!r})"

    def __reduce__(self) -> tuple[type[ObjectStore], tuple[str, dict[str, str]]]:
        # Sent to other processes (an executor's workers) as its URL and options.
        return (ObjectStore, (self.url, self.options))

    def uri(self, key: str) -> str:
        return f"{self.url}/{key}" if key else self.url

    def create(self, key: str, data: bytes | memoryview) -> bool:
        """Create ``key`` only if it does not exist (``If-None-Match: *``); ``False`` if it
        did. One PUT: objects written through here are small enough to buffer."""
        with store_errors(self.uri(key), "create"):
            try:
                obstore.put(self._store, key, data, mode="create", use_multipart=False)
            except AlreadyExistsError:
                return False
        return True

    def put(self, key: str, data: bytes) -> None:
        """Write ``key`` whole (a PUT is atomic: never seen half-written)."""
        with store_errors(self.uri(key), "write"):
            obstore.put(self._store, key, data, use_multipart=False)

    def get(self, key: str) -> bytes | None:
        """The bytes of ``key``, ``None`` if it does not exist."""
        with store_errors(self.uri(key), "read"):
            try:
                return bytes(obstore.get(self._store, key).bytes())
            except (FileNotFoundError, NotFoundError):
                return None

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``key``."""
        with store_errors(self.uri(key), "read"):
            return bytes(obstore.get_range(self._store, key, start=start, end=end))

    def head(self, key: str) -> Entry | None:
        """The size and time of ``key``, ``None`` if it does not exist."""
        with store_errors(self.uri(key), "look up"):
            try:
                meta = obstore.head(self._store, key)
            except (FileNotFoundError, NotFoundError):
                return None
        return Entry(key, int(meta["size"]), int(meta["last_modified"].timestamp() * 1000))

    def delete(self, key: str) -> None:
        with store_errors(self.uri(key), "delete"):
            obstore.delete(self._store, key)

    def entries(self, under: str = "") -> list[Entry]:
        """Every object below the folder ``under``, sorted by key."""
        with store_errors(self.uri(under), "list"):
            pages = obstore.list(self._store, under or None, chunk_size=_LIST_CHUNK)
            found = [Entry(meta["path"], int(meta["size"]),
                           int(meta["last_modified"].timestamp() * 1000))
                     for page in pages for meta in page]
        return sorted(found, key=lambda e: e.name)

    def folders(self, under: str = "") -> list[str]:
        """The names of the folders directly below ``under``."""
        with store_errors(self.uri(under), "list"):
            listing = obstore.list_with_delimiter(self._store, under or None)
        return sorted(p.rsplit("/", 1)[-1] for p in listing["common_prefixes"])


def _open(url: str, options: Mapping[str, str]) -> _Store:
    """The obstore store for ``url``: the options it knows as configuration, HTTP settings
    as client options; keys only delta-rs knows are left to delta-rs."""
    config: dict[str, str] = {}
    client: dict[str, str] = {}
    for key, value in options.items():
        bare = key.lower().removeprefix("aws_").removeprefix("google_").removeprefix("azure_")
        (client if bare in _CLIENT_KEYS else config)[key] = value
    retry = {"max_retries": 3, "retry_timeout": timedelta(seconds=30)}
    opener = cast(Any, from_url)  # its overloads want typed dicts per store kind
    while True:
        try:
            store: _Store = opener(url, config=config or None, client_options=client or None,
                                   retry_config=retry)
            return store
        except UnknownConfigurationKeyError as exc:
            unknown = next((k for k in config if k.lower() in str(exc).lower()), None)
            if unknown is None:
                raise
            del config[unknown]


@dataclass(frozen=True)
class ObjectFiles:
    """A :class:`~runlake.storage.files.Files` directory: the keys below ``prefix``."""

    store: ObjectStore
    prefix: str

    def __str__(self) -> str:
        return self.uri

    @property
    def uri(self) -> str:
        return self.store.uri(self.prefix)

    @property
    def options(self) -> dict[str, str] | None:
        return dict(self.store.options) or None

    @property
    def local(self) -> Path | None:
        return None

    def child(self, name: str) -> str:
        return self.store.uri(self._key(name))

    def read(self, name: str) -> bytes | None:
        return self.store.get(self._key(name))

    def create(self, name: str, data: bytes | memoryview) -> None:
        if not self.store.create(self._key(name), data):
            raise StorageError(f"cannot create {self.child(name)}: it already exists")

    def replace(self, name: str, data: bytes) -> None:
        self.store.put(self._key(name), data)

    def remove(self, name: str) -> None:
        self.store.delete(self._key(name))

    def size(self, name: str) -> int:
        found = self.store.head(self._key(name))
        return found.size if found else 0

    def entries(self, under: str = "") -> list[Entry]:
        base = self._key(under) if under else self.prefix
        cut = len(self.prefix) + 1
        return [Entry(e.name[cut:], e.size, e.modified_ms) for e in self.store.entries(base)]

    def exists(self) -> bool:
        return bool(self.store.folders(self.prefix)) or bool(self.entries())

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


def probe(store: ObjectStore) -> None:
    """Check once per process that ``store`` honours ``If-None-Match: *``; raise
    :class:`UnsafeStore` if a second create of the same key succeeds."""
    identity = (store.url, tuple(sorted(store.options.items())))
    with _PROBE_LOCK:
        if identity in _PROBED:
            return
        key = f"{_PROBE_FOLDER}/{uuid.uuid4().hex}"
        first = store.create(key, b"1")  # an unreachable store fails here, saying why
        try:
            second = store.create(key, b"2")
        finally:
            store.delete(key)
        if not first or second:
            raise UnsafeStore(
                f"the object store at {store.url} ignores If-None-Match (a second "
                "conditional create of the same key succeeded): commits and shipped objects "
                "could be lost silently there, so runlake refuses to write to it"
            )
        _PROBED.add(identity)
