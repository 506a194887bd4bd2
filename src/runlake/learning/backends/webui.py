"""``WebUIBackend``: the AUTOMATIC1111 / Forge HTTP API (start the WebUI with ``--api``).

Endpoints used: ``POST /sdapi/v1/txt2img`` and ``/sdapi/v1/img2img`` (images come back as
base64 PNGs, ``info`` is a JSON string), ``POST /sdapi/v1/extra-single-image`` for upscaling,
and ``GET /sdapi/v1/options`` for the loaded checkpoint. A config's ``model`` is sent as a
per-request ``override_settings`` so a run never changes the server's default for others.

Every failure becomes a :class:`BackendError` naming the URL: connection refused (the server
is not running), a timeout, an HTTP error status with the server's own detail, or an answer
that is not the API's JSON.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import orjson

from runlake.errors import BackendError, InvalidOption
from runlake.learning.backends.base import GenerationResult
from runlake.learning.configs import Stage

DEFAULT_URL = "http://127.0.0.1:7860"
DEFAULT_TIMEOUT = 600.0  # an SDXL hires run on a small GPU can take minutes
_DETAIL_CHARS = 300
# Config keys that are runlake's, not the API's.
_NOT_API_KEYS = ("model",)


class WebUIBackend:
    """A WebUI server at ``base_url``.

    >>> backend = WebUIBackend("http://127.0.0.1:7860", timeout=300)   # doctest: +SKIP
    >>> backend.generate("txt2img", {"prompt": "a fox", "steps": 20})  # doctest: +SKIP
    """

    name = "webui"

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidOption(f"WebUI URL must look like http://host:port, got {base_url!r}")
        if timeout <= 0:
            raise InvalidOption(f"timeout must be positive, got {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"WebUIBackend({self.base_url!r})"

    def current_model(self) -> str | None:
        """``sd_model_checkpoint`` from the server's options."""
        value = self._call("GET", "/sdapi/v1/options").get("sd_model_checkpoint")
        return value if isinstance(value, str) and value else None

    def generate(
        self, stage: Stage, config: Mapping[str, Any], *, init_image: bytes | None = None
    ) -> GenerationResult:
        """Run one stage on the server; the duration is the request's wall time."""
        started = time.perf_counter()
        if stage == "upscale":
            answer = self._call("POST", "/sdapi/v1/extra-single-image",
                                _upscale_payload(config, _require(init_image, stage)))
            encoded = [answer.get("image")]
        else:
            answer = self._call("POST", f"/sdapi/v1/{stage}",
                                _generation_payload(stage, config, init_image))
            encoded = answer.get("images") or []
        images = tuple(self._decode(item, stage) for item in encoded)
        info = _info(answer)
        seed = info.get("seed")
        return GenerationResult(images, seed if isinstance(seed, int) else None,
                                time.perf_counter() - started, info)

    def _call(self, method: str, path: str, payload: object = None) -> dict[str, Any]:
        url = self.base_url + path
        body = _send(method, url, payload, self.timeout)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BackendError(f"{method} {url}: the answer is not JSON "
                               f"({body[:80]!r}); is this a WebUI API?") from exc
        if not isinstance(answer, dict):
            raise BackendError(f"{method} {url}: expected a JSON object, got {answer!r:.80}")
        return answer

    def _decode(self, item: object, stage: str) -> bytes:
        if isinstance(item, str):
            try:
                # Some servers prefix a data URL header; the API proper sends bare base64.
                return base64.b64decode(item.rpartition(",")[2], validate=True)
            except binascii.Error:
                pass
        raise BackendError(f"{self.base_url}: {stage} answered with an image that is not "
                           "base64 text")


def _send(method: str, url: str, payload: object, timeout: float) -> bytes:
    data = None if payload is None else orjson.dumps(payload)
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise BackendError(f"{method} {url}: HTTP {exc.code} {exc.reason}: "
                           f"{_error_detail(exc)}") from exc
    except urllib.error.URLError as exc:
        raise _unreachable(method, url, exc.reason, timeout) from exc
    except (OSError, http.client.HTTPException) as exc:  # a timeout or reset mid-answer
        raise _unreachable(method, url, exc, timeout) from exc


def _unreachable(method: str, url: str, reason: object, timeout: float) -> BackendError:
    if isinstance(reason, TimeoutError):
        return BackendError(f"{method} {url}: no answer within {timeout:g} s (timed out)")
    if isinstance(reason, ConnectionRefusedError):
        return BackendError(f"{method} {url}: connection refused; is the WebUI running, "
                            "started with --api?")
    return BackendError(f"{method} {url}: cannot reach the WebUI ({reason})")


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read().decode("utf-8", "replace")
    except OSError:
        return "(no detail)"
    try:
        answer = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text[:_DETAIL_CHARS] or "(no detail)"
    if isinstance(answer, dict):
        parts = [str(answer[k]) for k in ("error", "detail", "errors") if answer.get(k)]
        text = "; ".join(parts) or text
    return text[:_DETAIL_CHARS]


def _generation_payload(
    stage: Stage, config: Mapping[str, Any], init_image: bytes | None
) -> dict[str, Any]:
    payload = {k: v for k, v in config.items() if v is not None and k not in _NOT_API_KEYS}
    model = config.get("model")
    if model:
        payload["override_settings"] = {**payload.get("override_settings", {}),
                                        "sd_model_checkpoint": model}
        payload["override_settings_restore_afterwards"] = True
    if stage == "img2img":
        payload["init_images"] = [_encode(_require(init_image, stage))]
    return payload


def _upscale_payload(config: Mapping[str, Any], image: bytes) -> dict[str, Any]:
    return {
        "image": _encode(image),
        "upscaler_1": config.get("upscaler", "None"),
        "upscaling_resize": config.get("upscaling_resize", 2),
    }


def _info(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The ``info`` of a generation answer, which the API sends as a JSON string."""
    raw = answer.get("info")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"text": raw}
    return raw if isinstance(raw, dict) else {}


def _encode(image: bytes) -> str:
    return base64.b64encode(image).decode("ascii")


def _require(image: bytes | None, stage: str) -> bytes:
    if image is None:
        raise BackendError(f"{stage} needs an input image")
    return image
