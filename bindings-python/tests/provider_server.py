"""A 127.0.0.1 server that answers as the providers do: OpenAI's chat completions, Anthropic's
messages (as JSON or as server-sent events) and Gemini's ``generateContent`` (JSON), each path following a script of steps.

A step is a status (``503``), a dict (``{"status": 429, "headers": {"retry-after-ms": "50"}}``),
``"ok"`` (the provider's JSON answer), ``"stream"`` (its SSE answer, whole) or ``"drop"`` (the SSE
answer cut off after two events: the connection closes mid-stream). With no step left: ``"ok"``.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

OPENAI_COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-test",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
GEMINI_RESPONSE = {
    "candidates": [{"content": {"parts": [{"text": "hello"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
}
ANTHROPIC_MESSAGE = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
    "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def openai_events() -> List[str]:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "gpt-test"}
    parts = [{"role": "assistant", "content": ""}, {"content": "hel"}, {"content": "lo"}]
    events = [json.dumps({**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in parts]
    events.append(json.dumps({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    return [f"data: {e}\n\n" for e in events] + ["data: [DONE]\n\n"]


def anthropic_events() -> List[str]:
    start = {**ANTHROPIC_MESSAGE, "content": [], "stop_reason": None}
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hel"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events]


class ProviderServer:
    def __init__(self) -> None:
        self.scripts: Dict[str, List[Any]] = {}
        self.hits: Dict[str, int] = {}
        # Each request's ``traceparent`` header (None without one), per path.
        self.traceparents: Dict[str, List[Any]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: without this, a kept-alive connection
            # waits on the client's delayed ACK (40 ms) for each response.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                path = self.path.split("?")[0]
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                elif self.headers.get("transfer-encoding") == "chunked":
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        self.rfile.read(size + 2)
                        if size == 0:
                            break
                with server._lock:
                    server.hits[path] = server.hits.get(path, 0) + 1
                    server.traceparents.setdefault(path, []).append(self.headers.get("traceparent"))
                    script = server.scripts.get(path) or []
                    step = script.pop(0) if script else "ok"
                anthropic = path.endswith("/messages")
                if step in ("stream", "drop"):
                    # Chunked, as the providers stream: a dropped stream ends without its last
                    # chunk, which the client reads as an error, not as the end.
                    events = anthropic_events() if anthropic else openai_events()
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for e in events[:2] if step == "drop" else events:
                        data = e.encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    if step == "drop":
                        self.close_connection = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
                    return
                status, headers = (200, {}) if step == "ok" else (step, {}) if isinstance(step, int) else (step["status"], step.get("headers", {}))
                if status < 400:
                    answer = GEMINI_RESPONSE if path.endswith(":generateContent") else ANTHROPIC_MESSAGE if anthropic else OPENAI_COMPLETION
                    body = json.dumps(answer).encode()
                else:
                    body = json.dumps({"error": {"type": "server_error", "message": f"status {status}"}}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            # Hundreds of clients connect at once in the storm test (the default backlog is 5).
            request_queue_size = 1024

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A client that goes away mid-request (cancelled, abandoned) is expected: not an error.
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def script(self, path: str, *steps: Any) -> None:
        with self._lock:
            self.scripts[path] = list(steps)
            self.hits[path] = 0
            self.traceparents[path] = []

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
