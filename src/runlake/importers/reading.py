"""One image file -> what an import needs of it (:class:`ImageRead`), or why it yields no run.

This is the part of an import that runs in worker processes for a large folder: it reads
the file's metadata (never its pixels, see :mod:`runlake.importers.containers`), detects the
tool and reads its generation, and computes the identity key. It never raises for a bad
file: the reason goes into the result, one sentence, in one of three kinds -- no generation
metadata, unsupported format NAME, damaged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from runlake.importers.containers import (
    Damaged,
    ImageMeta,
    Unsupported,
    content_digest,
    read_meta,
)
from runlake.importers.detect import BadMetadata, read_generation
from runlake.importers.generation import Generation
from runlake.importers.identity import generation_key

NO_METADATA = "no generation metadata"


@dataclass
class ImageRead:
    """One file read: its generation and identity, or the reason it has none."""

    path: str
    mtime: float = 0.0
    format: str | None = None
    width: int = 0
    height: int = 0
    generation: Generation | None = None
    texts: dict[str, str] = field(default_factory=dict)  # the texts the run was read from
    key: str | None = None
    content: str | None = None
    reason: str | None = None


def read_file(path: str) -> ImageRead:
    """Read ``path``; a batch-shared generation (a ComfyUI batch) also gets its content hash,
    the only way to tell its images apart (see ``importers.identity``)."""
    read = ImageRead(path)
    try:
        with open(path, "rb") as stream:
            read.mtime = os.fstat(stream.fileno()).st_mtime
            meta = read_meta(stream)
            _fill(read, meta)
            if read.generation is not None and read.generation.batch_shared:
                read.content = content_digest(stream, meta)
    except Unsupported as exc:
        read.reason = f"unsupported format {exc}"
    except (Damaged, BadMetadata) as exc:
        read.reason = f"damaged: {exc}"
    except OSError as exc:
        read.reason = f"cannot be read ({exc.strerror or exc})"
    except Exception as exc:  # a reader's bug on odd metadata must not stop the others
        read.reason = f"damaged: its metadata could not be read ({type(exc).__name__}: {exc})"
    if read.reason is not None:
        read.generation = None
    return read


def read_content(path: str) -> str | None:
    """The content hash of the image at ``path``; None if it cannot be read any more."""
    try:
        with open(path, "rb") as stream:
            return content_digest(stream, read_meta(stream))
    except (OSError, Damaged, Unsupported):
        return None


def _fill(read: ImageRead, meta: ImageMeta) -> None:
    read.format, read.width, read.height = meta.format, meta.width, meta.height
    generation = read_generation(meta.texts)
    if generation is None:
        keys = ", ".join(sorted(meta.texts)) or "none"
        read.reason = f"{NO_METADATA} (text keys: {_short(keys)})"
        return
    read.generation = generation
    read.texts = {key: meta.texts[key] for key in generation.keys if key in meta.texts}
    read.key = generation_key(read.texts, meta.width, meta.height)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
