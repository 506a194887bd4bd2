"""WebUIBackend against a small WebUI-API server on 127.0.0.1, run by the test."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

import runlake
from runlake import LearningRecord, PipelineRunner, WebUIBackend

LOADED_MODEL = "juggernautXL_v9.safetensors [1a2b3c4d5e]"


def png(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeWebUI(ThreadingHTTPServer):
    """Speaks the part of the AUTOMATIC1111 API the backend uses; ``mode`` picks a failure."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: FakeWebUI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/sdapi/v1/options":
            self.answer(200, {"sd_model_checkpoint": LOADED_MODEL, "CLIP_stop_at_last_layers": 2})
        else:
            self.answer(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body))
        if self.server.mode == "hang":
            self.server.release.wait(30)
            return
        if self.server.mode == "error":
            self.answer(500, {"error": "OutOfMemoryError", "detail": "",
                              "errors": "CUDA out of memory. Tried to allocate 2.00 GiB"})
            return
        if self.server.mode == "garbage":
            self.answer_raw(200, b"<html>a proxy login page</html>", "text/html")
            return
        self.answer(200, self.generate(body))

    def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.path == "/sdapi/v1/extra-single-image":
            source = Image.open(io.BytesIO(base64.b64decode(body["image"])))
            factor = body["upscaling_resize"]
            return {"image": encode(png((source.width * factor, source.height * factor))),
                    "html_info": "<p>done</p>"}
        count = body.get("batch_size", 1)
        seed = body.get("seed", -1) if body.get("seed", -1) >= 0 else 777
        info = {"seed": seed, "all_seeds": [seed + i for i in range(count)],
                "sd_model_name": "juggernautXL_v9"}
        return {"images": [encode(png()) for _ in range(count)], "parameters": body,
                "info": json.dumps(info)}

    def answer(self, status: int, payload: dict[str, Any]) -> None:
        self.answer_raw(status, json.dumps(payload).encode(), "application/json")

    def answer_raw(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def webui() -> Iterator[FakeWebUI]:
    server = FakeWebUI()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port on 127.0.0.1 that is bound but not listening: connections are refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"


def test_txt2img(webui: FakeWebUI) -> None:
    backend = WebUIBackend(webui.url + "/")
    result = backend.generate("txt2img", {"model": "sdxl.safetensors", "prompt": "a fox",
                                          "steps": 20, "seed": 42, "batch_size": 2,
                                          "scheduler": None})
    assert len(result.images) == 2 and all(i.startswith(b"\x89PNG") for i in result.images)
    assert result.seed == 42 and result.info["all_seeds"] == [42, 43]
    assert result.duration_s >= 0
    ((path, body),) = webui.requests
    assert path == "/sdapi/v1/txt2img"
    assert body == {"prompt": "a fox", "steps": 20, "seed": 42, "batch_size": 2,
                    "override_settings": {"sd_model_checkpoint": "sdxl.safetensors"},
                    "override_settings_restore_afterwards": True}


def test_img2img_and_upscale_send_the_image(webui: FakeWebUI) -> None:
    backend = WebUIBackend(webui.url)
    source = png((16, 8))
    refined = backend.generate("img2img", {"prompt": "a fox", "denoising_strength": 0.4},
                               init_image=source)
    upscaled = backend.generate("upscale", {"upscaler": "R-ESRGAN 4x+",
                                            "upscaling_resize": 2}, init_image=source)
    (img2img_path, img2img_body), (upscale_path, upscale_body) = webui.requests
    assert img2img_path == "/sdapi/v1/img2img"
    assert base64.b64decode(img2img_body["init_images"][0]) == source
    assert img2img_body["denoising_strength"] == 0.4 and len(refined.images) == 1
    assert upscale_path == "/sdapi/v1/extra-single-image"
    assert upscale_body == {"image": encode(source), "upscaler_1": "R-ESRGAN 4x+",
                            "upscaling_resize": 2}
    assert Image.open(io.BytesIO(upscaled.images[0])).size == (32, 16)


def test_current_model_reads_the_options(webui: FakeWebUI) -> None:
    assert WebUIBackend(webui.url).current_model() == LOADED_MODEL


def test_a_pipeline_run_against_the_server(webui: FakeWebUI) -> None:
    seen: list[LearningRecord] = []
    config = {"txt2img": {"prompt": "a fox", "steps": 20, "seed": -1},
              "pipeline": {"upscale_enabled": True},
              "upscale": {"upscaler": "Lanczos", "upscaling_resize": 2}}
    result = PipelineRunner(WebUIBackend(webui.url), on_learning_record=seen.append).run(config)
    (record,) = seen
    assert record.primary_model == LOADED_MODEL  # not in the config: asked the server
    assert record.stage_plan == ["txt2img", "upscale"]
    assert record.stage_events[1]["seed"] == 777  # the seed the server actually used
    assert len(result.images) == 1 and record.metadata["backend"] == "webui"


def test_http_500_is_a_backend_error_with_the_servers_detail(webui: FakeWebUI) -> None:
    webui.mode = "error"
    with pytest.raises(runlake.BackendError) as info:
        WebUIBackend(webui.url).generate("txt2img", {"prompt": "a fox"})
    message = str(info.value)
    assert "HTTP 500" in message and "CUDA out of memory" in message
    assert "/sdapi/v1/txt2img" in message
    assert isinstance(info.value, runlake.LakeError)


def test_connection_refused_is_a_backend_error(refused_url: str) -> None:
    with pytest.raises(runlake.BackendError, match=r"connection refused.*--api"):
        WebUIBackend(refused_url).generate("txt2img", {"prompt": "a fox"})
    with pytest.raises(runlake.BackendError, match="connection refused"):
        WebUIBackend(refused_url).current_model()


def test_a_server_that_does_not_answer_times_out(webui: FakeWebUI) -> None:
    webui.mode = "hang"
    with pytest.raises(runlake.BackendError, match=r"no answer within 0.2 s \(timed out\)"):
        WebUIBackend(webui.url, timeout=0.2).generate("txt2img", {"prompt": "a fox"})


def test_an_answer_that_is_not_the_api_is_a_backend_error(webui: FakeWebUI) -> None:
    webui.mode = "garbage"
    with pytest.raises(runlake.BackendError, match="not JSON"):
        WebUIBackend(webui.url).generate("txt2img", {"prompt": "a fox"})


def test_unknown_paths_are_http_errors(webui: FakeWebUI) -> None:
    backend = WebUIBackend(webui.url + "/prefix")
    with pytest.raises(runlake.BackendError, match=r"HTTP 404.*Not Found"):
        backend.current_model()


@pytest.mark.parametrize("url", ["127.0.0.1:7860", "ftp://host", "http://"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(runlake.InvalidOption):
        WebUIBackend(url)


def test_img2img_without_an_image_is_refused_before_any_request(webui: FakeWebUI) -> None:
    with pytest.raises(runlake.BackendError, match="needs an input image"):
        WebUIBackend(webui.url).generate("img2img", {"prompt": "x"})
    assert webui.requests == []
