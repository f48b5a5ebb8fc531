"""A local stand-in for an OpenAI-compatible chat-completions endpoint, whole or streamed (no LLM can run here).

It answers every request with ``PIECES`` joined — as one JSON body, or with ``"stream": true`` as SSE chunks the
way OpenAI sends them — and can be told to misbehave: ``slow`` (wait before answering), ``error`` (HTTP 500),
``drip`` (stream the pieces ``DRIP_SECONDS`` apart), ``break`` (stream two pieces, then send garbage).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A marker split across pieces ("[" + "1]") and one naming no passage ("[9]").
PIECES = ["今年民心工程", "共66项[", "1]，覆盖业教保医", "等领域[2", "][9]。"]
ANSWER = "今年民心工程共66项[1]，覆盖业教保医等领域[2]。"  # what a client should receive
DRIP_SECONDS = 0.6


class StandIn(ThreadingHTTPServer):
    """The server; ``behaviour`` and ``requests`` are per instance, so tests do not share state by accident."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = "ok"
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def handle_error(self, request: object, client_address: object) -> None:
        # A test's client may give up before the answer is all sent (a timeout, a stream it stops reading): the
        # connection it drops is no error of the stand-in's, and its traceback would only litter the test log.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        behaviour = self.server.behaviour
        if behaviour == "slow":
            time.sleep(2)
        if behaviour == "error":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not body.get("stream"):
            out = json.dumps({"choices": [{"message": {"role": "assistant", "content": "".join(PIECES)}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = PIECES[:2] if behaviour == "break" else PIECES
        self._event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        for piece in pieces:
            if behaviour == "drip":
                time.sleep(DRIP_SECONDS)
            self._event({"choices": [{"index": 0, "delta": {"content": piece}}]})
        if behaviour == "break":
            self.wfile.write(b"data: {not json\n\n")
            self.wfile.flush()
            return
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, chunk: dict) -> None:
        self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


def start() -> StandIn:
    """A running stand-in on a free port (stop it with ``shutdown()``)."""
    server = StandIn()
    # A short poll interval: shutdown() waits for the loop's next poll (0.5 s by default, paid per test).
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
