"""An HTTP relay on 127.0.0.1 that forwards to a local S3 server without some headers: a
store that ignores ``If-None-Match`` (run as its own process; see ``seaweed.start_proxy``).

    python proxy.py UPSTREAM_PORT [HEADER ...]

Prints its URL on the first line of stdout and serves until its stdin closes.
"""

from __future__ import annotations

import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}


def handler(upstream: int, dropped: frozenset[str]) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads only the first line of stdout

        def relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in HOP_BY_HOP | dropped}
            connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        # http.server dispatches on these names.
        def do_GET(self) -> None:
            self.relay()

        def do_PUT(self) -> None:
            self.relay()

        def do_POST(self) -> None:
            self.relay()

        def do_DELETE(self) -> None:
            self.relay()

        def do_HEAD(self) -> None:
            self.relay()

    return Relay


def main() -> None:
    upstream, dropped = int(sys.argv[1]), frozenset(h.lower() for h in sys.argv[2:])
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(upstream, dropped))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
