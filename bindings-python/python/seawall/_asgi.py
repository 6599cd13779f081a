"""Seawall at an ASGI service's door (FastAPI, Starlette, any ASGI app), as pure ASGI middleware
(not ``BaseHTTPMiddleware``, whose cancellation is broken): an adaptive concurrency limit admits
or sheds each request (503 with ``Retry-After``), per-route partitions if asked; a client that
disconnects cancels its handler's task (the calls it makes — Seawall's clients, retries' sleeps,
hedges — are cancelled with it); and the deadline its ``x-request-timeout`` header gives (ms) caps
the timeouts of Seawall's outbound calls. ``app.add_middleware(AdaptiveLimitMiddleware, …)``."""
from __future__ import annotations

import asyncio
import math
from typing import Any, Awaitable, Callable, Dict, List, Optional, Union

from . import _clock, _native
from ._bulkhead import Bulkhead
from ._engine import option_error
from ._errors import BulkheadRejectedError
from ._limit import AdaptiveLimit, outcome_of_status, request_deadline

Scope = Dict[str, Any]
Message = Dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> Optional[bytes]:
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return v  # type: ignore[no-any-return]
    return None


class AdaptiveLimitMiddleware:
    """``limit``: an ``AdaptiveLimit`` or its options (default: Gradient2, Netflix's defaults);
    ``partition(scope)``: a request's partition (e.g. by path); ``deadline_header``: the header
    carrying the client's deadline in ms (default ``x-request-timeout``; None: none)."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, limit: Union[AdaptiveLimit, Dict[str, Any], None] = None,
                 partition: Optional[Callable[[Scope], Optional[str]]] = None,
                 deadline_header: Optional[str] = "x-request-timeout", queue: Optional[Dict[str, Any]] = None) -> None:
        self.app = app
        self.partition = partition
        self.deadline_header = deadline_header.lower().encode() if deadline_header else None
        # With a queue, requests beyond the limit wait (newest first: the oldest waiters are the
        # likeliest gone) up to its timeout; the limit is then an adaptive bulkhead's.
        self.bulkhead: Optional[Bulkhead] = None
        self.limit: Optional[AdaptiveLimit] = None
        if queue is not None:
            if isinstance(limit, AdaptiveLimit) or (limit or {}).get("partitions") is not None or partition is not None:
                raise option_error("queue", "no queue with a limit given as an AdaptiveLimit or with partitions", queue)
            options = dict(limit or {})
            name = options.pop("name", None)
            options.pop("seed", None)
            self.bulkhead = Bulkhead(name, adaptive={"algorithm": "gradient2", **options}, max_queue_size=queue.get("max_queue_size"),
                                     queue_timeout=queue.get("timeout"), lifo=True)
        else:
            self.limit = limit if isinstance(limit, AdaptiveLimit) else AdaptiveLimit(**(limit or {}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        if self.bulkhead is not None:
            try:
                return await self.bulkhead.call_async(self._serve, scope, receive, send)
            except BulkheadRejectedError:
                return await self._shed(send)
        permit = self.limit.try_acquire(self.partition(scope) if self.partition is not None else None)  # type: ignore[union-attr]
        if permit is None:
            return await self._shed(send)
        run = _Request(self.app, scope, receive, send)
        token = request_deadline.set(self._deadline(scope))
        outcome = "ignored"
        try:
            await run.run()
            outcome = "ignored" if run.disconnected else outcome_of_status(run.status or 500)
        finally:
            request_deadline.reset(token)
            permit.release(outcome)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request let in by the queue's bulkhead (which times it for the limit)."""
        token = request_deadline.set(self._deadline(scope))
        try:
            await _Request(self.app, scope, receive, send).run()
        finally:
            request_deadline.reset(token)

    def _deadline(self, scope: Scope) -> Optional[float]:
        if self.deadline_header is None:
            return None
        raw = _header(scope, self.deadline_header)
        if raw is None:
            return None
        # Which texts are a deadline is the core's rule (a decimal number of ms), as in Node.
        ms = _native.header_ms(raw.decode("latin-1"))
        return None if math.isnan(ms) else _clock.now() + ms / 1000.0

    async def _shed(self, send: Send) -> None:
        # The core's words; no limit: a queue that was full, or that held the request too long.
        limit = self.limit
        retry_after, body = _native.shed_answer(limit.name if limit is not None else None,
                                                limit._retry_after_ms() if limit is not None else math.nan)
        data = body.encode()
        headers = [(b"content-type", b"application/json"), (b"retry-after", retry_after.encode()),
                   (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": data})


class _Request:
    """One admitted request: the app runs as a task, and a watcher cancels it when the client
    disconnects before the response is complete. The watcher reads ``receive`` only once the app
    has the whole body (a body-less request's empty one is read for it first)."""

    def __init__(self, app: Callable[..., Awaitable[None]], scope: Scope, receive: Receive, send: Send) -> None:
        self.app, self.scope, self._receive, self._send = app, scope, receive, send
        self.status: Optional[int] = None
        self.finished = False
        self.disconnected = False
        self.buffered: List[Message] = []
        self.body_done = asyncio.Event()
        self.gone: "asyncio.Future[Message]" = asyncio.get_running_loop().create_future()
        self.task: "Optional[asyncio.Task[None]]" = None
        self.has_body = _has_body(scope)

    async def receive(self) -> Message:
        if not self.has_body:
            # The watcher reads a body-less request's one message: one reader at a time.
            await self.body_done.wait()
        if self.buffered:
            return self.buffered.pop(0)
        if self.body_done.is_set():
            # The body is read: what is left to hear is the client leaving.
            return await asyncio.shield(self.gone)
        message = await self._receive()
        if message.get("type") == "http.request" and not message.get("more_body", False):
            self.body_done.set()
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
        await self._send(message)

    async def _watch(self) -> None:
        if not self.has_body:
            self.buffered.append(await self._receive())
            self.body_done.set()
        await self.body_done.wait()
        while True:
            message = await self._receive()
            if message.get("type") == "http.disconnect":
                if not self.gone.done():
                    self.gone.set_result(message)
                if not self.finished and self.task is not None and not self.task.done():
                    self.disconnected = True
                    self.task.cancel()
                return

    async def run(self) -> None:
        if _INLINE:
            return await self._run_inline()
        self.task = asyncio.ensure_future(self.app(self.scope, self.receive, self.send))
        watcher = asyncio.ensure_future(self._watch())
        try:
            await asyncio.wait({self.task}, return_when=asyncio.ALL_COMPLETED)
        finally:
            watcher.cancel()
            if not self.task.done():
                # This request's own task was cancelled: the app's goes with it, and is awaited.
                self.task.cancel()
                await asyncio.wait({self.task})
            try:
                await watcher
            except asyncio.CancelledError:
                pass
        if self.task.cancelled():
            if self.disconnected:
                return
            raise asyncio.CancelledError
        exc = self.task.exception()
        if exc is not None:
            raise exc

    async def _run_inline(self) -> None:
        """The app in this request's own task (one task fewer a request): the watcher cancels this
        task when the client leaves, and that cancellation is taken back here."""
        self.task = asyncio.current_task()
        watcher = asyncio.ensure_future(self._watch())
        try:
            await self.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            # Ours (the client left) unless another cancellation is still pending: the server's.
            if self.disconnected and self.task.uncancel() == 0:  # type: ignore[union-attr]
                return
            raise
        finally:
            watcher.cancel()


# Whether the app can run in the request's own task: taking our cancellation back needs
# ``Task.uncancel`` (3.11).
_INLINE = hasattr(asyncio.Task, "uncancel")


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in (b"", b"0")
    return _header(scope, b"transfer-encoding") is not None
