"""What a backend is: something that runs one stage for a config and returns PNG images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runlake.learning.configs import Stage


@dataclass(frozen=True)
class GenerationResult:
    """The images (PNG bytes) one stage produced, the seed it used, and how long it took."""

    images: tuple[bytes, ...]
    seed: int | None
    duration_s: float
    info: Mapping[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """Runs stages. ``generate`` raises :class:`runlake.BackendError` when it cannot."""

    @property
    def name(self) -> str:
        """A short label recorded with each run (``webui``, ``offline``)."""
        ...

    def current_model(self) -> str | None:
        """The checkpoint the backend has loaded, if it can tell."""
        ...

    def generate(
        self, stage: Stage, config: Mapping[str, Any], *, init_image: bytes | None = None
    ) -> GenerationResult:
        """Run ``stage`` with ``config``; img2img and upscale work on ``init_image``."""
        ...
