"""A real flaky HTTP server on 127.0.0.1, and an httpx patch that sends every request there (so
the seed examples keep their own URLs)."""
from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List

import httpx
import pytest

import seawall


if os.environ.get("SEAWALL_LOOP") == "uvloop":
    # The async tests on uvloop, the loop uvicorn (so FastAPI) runs on wherever it is installed.
    import uvloop

    def pytest_asyncio_loop_factories(config: Any, item: Any) -> Dict[str, Callable[[], Any]]:
        return {"uvloop": uvloop.new_event_loop}


# How to start this Python again: under qemu (the arm64 suite) the interpreter cannot be exec'd
# by itself, so the runner names the emulator to put before it.
PYTHON = [*shlex.split(os.environ.get("SEAWALL_EXEC_PREFIX", "")), sys.executable]


class FlakyServer:
    def __init__(self) -> None:
        self.scripts: Dict[str, List[Any]] = {}
        self.hits: Dict[str, int] = {}
        # Moves the test's clock by a response's ``afterMs`` (called on the server's thread).
        self.pass_time: Callable[[float], None] = lambda _ms: None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                path = self.path.split("?")[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                script = server.scripts.get(path) or []
                step = script.pop(0) if script else 200
                if step == "hang":
                    time.sleep(5)
                    return
                status, headers = (step, {}) if isinstance(step, int) else (step["status"], step.get("headers", {}))
                if isinstance(step, dict) and "afterMs" in step:
                    # The response takes that long on the test's clock, moved by the test.
                    server.pass_time(step["afterMs"])
                body = json.dumps({"ok": status < 400, "path": path}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A client that went away before its answer (its timeout cut it) is expected: not an error.
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def server() -> Iterator[FlakyServer]:
    s = FlakyServer()
    yield s
    s.close()


@pytest.fixture
def route_to_server(server: FlakyServer, monkeypatch: pytest.MonkeyPatch) -> FlakyServer:
    """Every httpx request goes to the local server, whatever host it names."""
    real_async_send = httpx.AsyncClient.send
    real_send = httpx.Client.send

    def rewrite(request: httpx.Request) -> None:
        local = httpx.URL(server.url)
        request.url = request.url.copy_with(scheme="http", host=local.host, port=local.port)

    async def async_send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        rewrite(request)
        return await real_async_send(self, request, **kwargs)

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        rewrite(request)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", async_send)
    monkeypatch.setattr(httpx.Client, "send", send)
    server.scripts.clear()
    server.hits.clear()
    return server


@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    seawall.set_testing(False)
    for b in (seawall.openai_circuit, seawall.stripe_circuit, seawall.dataservice_circuit):
        b.reset()
    yield
    seawall.set_testing(False)
