"""Chaos against real sockets: ``ResilientClient`` (breaker + retries + a deadline per attempt)
against a server on 127.0.0.1 that misbehaves at random with a fixed seed — resets mid-body,
never answers, answers byte by byte, drips headers for ever, closes after the headers, sends an
invalid status line, Retry-After garbage, huge headers, 429/503 (one with a body bigger than the
socket buffers). Every request must end within its deadline, with a response or a typed error;
afterwards no socket stays open (every response says ``Connection: close``), no permit is held,
and the loop reported no exception. The same behaviours as bindings-node/test/chaos.test.mjs."""
from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import time
from typing import Any, Dict, List, Set

import httpx

import seawall
from seawall import CircuitBreaker, CircuitBreakerError, ResilientClient

REQUESTS = int(os.environ.get("SEAWALL_CHAOS_REQUESTS", "10000"))

BEHAVIOURS = [
    ("ok", 40), ("reset-mid-body", 8), ("never-answers", 3), ("byte-by-byte", 6), ("close-after-headers", 8),
    ("invalid-status-line", 8), ("retry-after-garbage", 8), ("huge-headers", 5), ("status-503", 7),
    ("status-429", 7), ("status-503-big-body", 4), ("headers-drip-forever", 2),
]


def head(status: str, extra: str = "", length: int = 2) -> bytes:
    return f"HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {length}\r\n{extra}\r\n".encode("latin-1")


class ChaosServer:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.open: Set[asyncio.StreamWriter] = set()
        # Connections that carried a request (the others are the client pool's idle ones: a
        # connection opened for a request cancelled before it was sent).
        self.answered: Set[asyncio.StreamWriter] = set()
        self.served: Dict[str, int] = {}
        self.handlers: Set[asyncio.Task[Any]] = set()
        self.server: Any = None
        self.url = ""

    def pick(self) -> str:
        names, weights = zip(*BEHAVIOURS)
        return self.random.choices(names, weights)[0]

    async def start(self) -> "ChaosServer":
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            how = self.pick()
            self.served[how] = self.served.get(how, 0) + 1
            self.answered.add(writer)
            await self.behave(how, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        except OSError as exc:
            # The client may go away while the server misbehaves on its socket (setting SO_LINGER
            # on a socket it closed meanwhile): the server's own race, not the client's finding.
            if exc.errno != errno.EBADF:
                raise
        finally:
            self.open.discard(writer)
            self.handlers.discard(task)
            writer.close()

    async def behave(self, how: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if how == "ok":
            writer.write(head("200 OK") + b"ok")
        elif how == "reset-mid-body":
            writer.write(head("200 OK", "", 1000) + b"partial")
            await writer.drain()
            await asyncio.sleep(0.001)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
            writer.transport.abort()
            return
        elif how == "never-answers":
            await reader.read()  # until the client gives up and closes
            return
        elif how == "byte-by-byte":
            for b in head("200 OK") + b"ok":
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(0.002)
        elif how == "headers-drip-forever":
            # A header line every 20 ms, never the end of the headers: no single read waits long,
            # so only a deadline for the whole attempt ends it.
            writer.write(b"HTTP/1.1 200 OK\r\n")
            while not writer.is_closing():
                writer.write(b"x-drip: a\r\n")
                await writer.drain()
                await asyncio.sleep(0.02)
            return
        elif how == "close-after-headers":
            writer.write(head("200 OK", "", 100))
        elif how == "invalid-status-line":
            writer.write(b"HTTP/1.1 two hundred\r\n\r\n")
        elif how == "retry-after-garbage":
            garbage = self.random.choice(["soon", "-1", "1e9", "Wed, 99 Foo 2026 99:99:99 GMT", "\u00ff\u00fe", "99999999999999999999"])
            writer.write(head("503 Service Unavailable", f"retry-after: {garbage}\r\n") + b"no")
        elif how == "huge-headers":
            writer.write(head("200 OK", f"x-huge: {'a' * 128 * 1024}\r\n") + b"ok")
        elif how == "status-503":
            writer.write(head("503 Service Unavailable", "retry-after: 0\r\n") + b"no")
        elif how == "status-429":
            writer.write(head("429 Too Many Requests", "retry-after: 0\r\n") + b"no")
        elif how == "status-503-big-body":
            body = b"x" * (4 * 1024 * 1024)
            writer.write(head("503 Service Unavailable", "retry-after: 0\r\n", len(body)) + body)
        await writer.drain()

    async def close(self) -> None:
        self.server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


async def test_requests_against_a_misbehaving_server_all_end_typed_leaving_no_socket_or_permit() -> None:
    loop = asyncio.get_running_loop()
    reported: List[Dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx))
    server = await ChaosServer(20261201).start()
    cb = CircuitBreaker("chaos-py", failure_rate_threshold=0.4, volume_threshold=20, window_size=50,
                        recovery_timeout=0.02, half_open_max_calls=3)
    timeout, max_retries, max_delay = 0.15, 2, 0.005
    # Each request's own bound: its attempts' deadlines, its backoff, and some room.
    deadline = (max_retries + 1) * (timeout + max_delay) + 2.0
    outcomes: Dict[str, int] = {}
    late: List[float] = []
    state = {"next": 0}

    def count(k: str) -> None:
        outcomes[k] = outcomes.get(k, 0) + 1

    try:
        async with ResilientClient(server.url, circuit_breaker=cb, timeout=timeout, max_retries=max_retries,
                                   base_delay=0.001, max_delay=max_delay) as client:
            async def lane() -> None:
                while state["next"] < REQUESTS:
                    state["next"] += 1
                    started = time.monotonic()
                    try:
                        r = await client.get("/")
                        count(f"status {r.status_code}")
                    except CircuitBreakerError as exc:
                        count("breaker open")
                        # A polite client waits as told before trying again (not in a spin).
                        await asyncio.sleep(min(exc.retry_after or 0.005, 0.05))
                    except seawall.TimeoutError:
                        count("timeout")
                    except httpx.HTTPError as exc:
                        count(f"httpx {type(exc).__name__}")
                    except Exception as exc:  # noqa: BLE001 - anything else is a finding
                        count(f"untyped {type(exc).__name__}: {exc}")
                    if time.monotonic() - started > deadline:
                        late.append(time.monotonic() - started)

            lanes = asyncio.gather(*(lane() for _ in range(32)))
            try:
                await asyncio.wait_for(lanes, 300)  # a bound for the test itself, far past any deadline
            except asyncio.TimeoutError:
                raise AssertionError(f"requests still running after 300 s: {outcomes}, served {server.served}") from None
            # With `Connection: close` on every response, a socket still open after carrying a
            # request is one nobody released.
            for _ in range(600):
                if not server.open & server.answered:
                    break
                await asyncio.sleep(0.01)
            summary = f"outcomes {outcomes}, served {server.served}"
            assert sum(outcomes.values()) == REQUESTS, summary
            assert [k for k in outcomes if k.startswith("untyped")] == [], summary
            assert late == [], f"requests past their deadline of {deadline} s: {summary}"
            assert len(server.open & server.answered) == 0, f"sockets left open: {summary}"
        # Closing the client closes every socket, its pool's idle ones too.
        for _ in range(600):
            if not server.open:
                break
            await asyncio.sleep(0.01)
        assert len(server.open) == 0, f"sockets left open after the client closed: {summary}"
        st = cb.stats
        assert st["in_flight"] + st["half_open_in_flight"] == 0, summary
        assert reported == [], reported[:3]
        for how, _ in BEHAVIOURS:
            assert server.served.get(how, 0) > 0, f"{how} never served: {summary}"
        print(f"chaos: {summary}")
    finally:
        loop.set_exception_handler(None)
        await server.close()
