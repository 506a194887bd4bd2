"""Image-generation backends behind one small protocol.

``WebUIBackend`` talks to an AUTOMATIC1111 / Forge server over its HTTP API;
``OfflineBackend`` renders small deterministic PNGs locally (demo and tests).
"""

from __future__ import annotations

from runlake.learning.backends.base import Backend, GenerationResult
from runlake.learning.backends.offline import OfflineBackend
from runlake.learning.backends.webui import WebUIBackend

__all__ = ["Backend", "GenerationResult", "OfflineBackend", "WebUIBackend"]
