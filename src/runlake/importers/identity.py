"""Which run an image is: an id that survives a metadata rewrite, and tells apart images whose
metadata is the same.

The id is derived from what identifies the generation -- the text of the metadata the run
was read from (``parameters``, ComfyUI's ``prompt``, ``invokeai_metadata``, ...; as text, so
a tEXt chunk rewritten as iTXt is the same) and the image's size -- not from the file's
bytes. A tool that rewrites the file to add its own keys (StableNew embeds a review and
re-encodes the pixels) leaves that text alone, so the id stays.

Hashing the image data instead (the PNG IDAT bytes) does not survive: a re-encode changes the
compressed bytes (ComfyUI saves at compression level 4, StableNew re-saves at 6; two zlib
builds differ at the same level), and hashing the decoded pixels costs a decode per image
(~30 images/s here). The content (the inflated image data) is hashed only where metadata
cannot tell images apart:

- a generation whose metadata says its images share it (a ComfyUI graph with a batch size
  above one): every image's id includes its content;
- two files with the same key (one in the lake or earlier in this import, at another path):
  both contents are compared; the same content is the same run (a copy, a rewrite), another
  content is another run, whose id includes its content. If the first file is gone, the two
  cannot be compared and the new one counts as the same run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from runlake.records.ids import derived_id
from runlake.records.tables import RUNS_TABLE

NAMESPACE = f"image/{RUNS_TABLE}"


def generation_key(texts: Mapping[str, str], width: int, height: int) -> str:
    """The identity key of a generation: its metadata texts (by key) and the image size."""
    parts = [f"{key}\0{texts[key]}" for key in sorted(texts)]
    return derived_id(NAMESPACE, "\0".join([*parts, f"{width}x{height}"]).encode())


def content_id(key: str, content: str) -> str:
    """The id of an image told apart from others with the same key by its content."""
    return derived_id(f"{NAMESPACE}/content", f"{key}\0{content}".encode())


@dataclass(frozen=True)
class Resolved:
    """A file's record id, and the content hash that went into it (if any)."""

    record_id: str
    content: str | None = None


class Resolver:
    """Gives each file of an import its record id (see the module), in order.

    ``known`` maps the keys already in the lake to the image path of their run;
    ``content_of`` hashes an image's content (slow: called only on a collision).
    """

    def __init__(self, known: Mapping[str, str | None],
                 content_of: Callable[[str], str | None]) -> None:
        self._owners: dict[str, str | None] = dict(known)
        self._content_of = content_of
        self._contents: dict[str, str | None] = {}

    def resolve(self, key: str, path: str, content: str | None) -> Resolved:
        if content is not None:  # batch-shared: the content is part of every id
            return Resolved(content_id(key, content), content)
        if key not in self._owners:
            self._owners[key] = path
            return Resolved(key)
        owner = self._owners[key]
        if owner is None or owner == path or not os.path.exists(owner):
            return Resolved(key)  # the same file again, or one we cannot compare with
        mine = self._content(path)
        if mine is None or mine == self._content(owner):
            return Resolved(key)  # a copy or a rewrite: the same image
        return Resolved(content_id(key, mine), mine)

    def _content(self, path: str) -> str | None:
        if path not in self._contents:
            self._contents[path] = self._content_of(path)
        return self._contents[path]
