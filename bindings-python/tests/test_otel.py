"""OpenTelemetry through the real SDK: the scripted run on the virtual clock read back from
opentelemetry-sdk's in-memory reader and exporter, against the expectation Node's run is checked
against too (tests/telemetry/otel.json); HTTP attempts as CLIENT spans whose context the server
receives, under FastAPI's request span; the OTLP/HTTP exporters' protobuf decoded by a 127.0.0.1
receiver; what ``instrument()`` refuses; and a process that never calls it imports nothing of
OpenTelemetry."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

# `make test` installs opentelemetry; only a bare `pytest` elsewhere may lack it (never in CI).
if not os.environ.get("CI"):
    pytest.importorskip("opentelemetry")
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind  # noqa: E402

import seawall
from seawall import Bulkhead, CircuitBreaker, ResilientClient, instrument, rate_limiter, retry_with_backoff, virtual_clock, with_timeout
from provider_server import ProviderServer
from scripted_run import POLICIES, scripted_run

EXPECTED = Path(__file__).resolve().parents[2] / "tests" / "telemetry" / "otel.json"
CHAT = "/v1/chat/completions"


class Providers:
    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))

    def metrics(self, policies: Any = None) -> List[Dict[str, Any]]:
        """The metrics as the shared expectation holds them: per instrument its unit and points
        (attributes; a number, or a histogram's count and sum); only ``policies``' when given
        (the presets' breakers are registered at import here, not in Node)."""
        out = []
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data is not None else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points = []
                    for p in m.data.data_points:
                        if policies is not None and p.attributes.get("seawall.policy.name") not in policies:
                            continue
                        value: Any = {"count": p.count, "sum": _round(p.sum)} if hasattr(p, "bucket_counts") else _round(p.value)
                        points.append({"attributes": dict(sorted(p.attributes.items())), "value": value})
                    # An instrument with none of ``policies``' points (a fleet gauge for another
                    # test's breaker) is none of the expectation's.
                    if points or policies is None:
                        out.append({"name": m.name, "unit": m.unit, "points": sorted(points, key=_key)})
        return sorted(out, key=lambda m: m["name"])

    def finished(self) -> List[Any]:
        return list(self.spans.get_finished_spans())


def _round(x: float) -> Any:
    r = round(x, 9)
    return int(r) if r == int(r) else r


def _key(v: Any) -> str:
    # As Node sorts (JSON.stringify, no spaces, whole floats as integers).
    return json.dumps(normalized(v), separators=(",", ":"), ensure_ascii=False)


def normal_spans(finished: List[Any]) -> List[Dict[str, Any]]:
    """The spans as the shared expectation holds them: name, kind, parent's name, attributes and
    events (an exception's by name only: its stack is the language's)."""
    names = {s.context.span_id: s.name for s in finished}
    out = []
    for s in finished:
        events = [["exception"] if e.name == "exception" else [e.name, dict(sorted(e.attributes.items()))] for e in s.events]
        out.append({
            "name": s.name,
            "kind": "client" if s.kind == SpanKind.CLIENT else "internal",
            "parent": names.get(s.parent.span_id) if s.parent is not None else None,
            "attributes": dict(sorted(s.attributes.items())),
            "events": events,
        })
    return sorted(out, key=_key)


def normalized(value: Any) -> Any:
    """Numbers as JSON reads them in both languages (1.0 and 1 alike)."""
    return json.loads(json.dumps(value), parse_float=lambda t: int(float(t)) if float(t) == int(float(t)) else float(t))


@pytest.fixture
def providers() -> Iterator[Providers]:
    p = Providers()
    stop = instrument(meter_provider=p.meter_provider, tracer_provider=p.tracer_provider)
    yield p
    stop()



@contextlib.contextmanager
def uvicorn_in_a_thread(app: Any) -> Iterator[int]:
    """A real uvicorn serving ``app`` on 127.0.0.1 from a thread of its own, as a program runs it
    (its own event loop; ``def`` endpoints in FastAPI's thread pool); answers its port."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)

async def test_the_same_instruments_points_and_spans_as_node_reports(providers: Providers) -> None:
    with virtual_clock() as clock:
        await scripted_run(clock)
    got = normalized({"metrics": providers.metrics(POLICIES), "spans": normal_spans(providers.finished())})
    want = normalized(json.loads(EXPECTED.read_text()))
    for part in ("metrics", "spans"):
        assert [_key(x) for x in got[part]] == [_key(x) for x in want[part]], part


async def test_stopped_nothing_more_is_recorded_and_calls_take_their_plain_path() -> None:
    p = Providers()
    stop = instrument(meter_provider=p.meter_provider, tracer_provider=p.tracer_provider)
    breaker = CircuitBreaker(failure_threshold=5)
    assert breaker.call(lambda: 1) == 1
    await breaker.call_async(lambda: 1)
    stop()
    # The plain methods are back (the breaker's native sync call among them).
    assert "call" in vars(breaker) and type(breaker).call_async.__qualname__ == "CircuitBreaker.call_async"
    breaker.call(lambda: 2)
    assert retry_with_backoff(lambda: 3, max_attempts=2) == 3
    calls = next(m for m in p.metrics() if m["name"] == "seawall.calls")
    assert [pt["value"] for pt in calls["points"]] == [2]
    assert len(p.finished()) == 2


def test_sync_calls_and_threads_are_observed_too(providers: Providers) -> None:
    breaker = CircuitBreaker(name="sync-one", failure_threshold=5)
    policy = seawall.RetryPolicy(max_attempts=3, base_delay=0.0, name="sync-retry")
    flaky = iter([ValueError("once"), None])

    def attempt() -> str:
        e = next(flaky)
        if e is not None:
            raise e
        return breaker.call(lambda: "ok")

    threads = [threading.Thread(target=lambda: breaker.call(lambda: 1)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert policy.call(attempt) == "ok"
    calls = {(pt["attributes"]["seawall.policy.name"], pt["attributes"]["seawall.outcome"]): pt["value"]
             for m in providers.metrics() if m["name"] == "seawall.calls" for pt in m["points"]}
    assert calls == {("sync-one", "success"): 5, ("sync-retry", "success"): 1}
    attempts = next(m for m in providers.metrics() if m["name"] == "seawall.attempt.duration")
    assert [(pt["attributes"]["seawall.attempt"], pt["attributes"]["seawall.outcome"]) for pt in attempts["points"]] == [(1, "failure"), (2, "success")]
    retry_span = next(s for s in providers.finished() if s.name == "retry sync-retry")
    inner = [s for s in providers.finished() if s.parent is not None and s.parent.span_id == retry_span.context.span_id]
    assert [s.name for s in inner] == ["breaker sync-one"]


def test_the_global_providers_by_default_the_api_alone_records_nothing_until_an_sdk_registers() -> None:
    # In a process of its own: the global providers can be set once.
    program = """
import seawall
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from seawall._telemetry import observer

clock = seawall.set_testing(True, auto_advance=False)
seawall.instrument()
breaker = seawall.CircuitBreaker(name="global-one", failure_threshold=2)
assert breaker.call(lambda: "ok") == "ok"
print("observed without an SDK:", observer.sink is not None)
reader, spans = InMemoryMetricReader(), InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracer_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
clock.advance(1.0)  # seen within a second
breaker.call(lambda: "ok")
print("spans:", [s.name for s in spans.get_finished_spans()])
points = [p for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics for m in sm.metrics if m.name == "seawall.calls" for p in m.data.data_points]
print("calls:", [(p.attributes["seawall.policy.name"], p.value) for p in points])
"""
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["observed without an SDK: False", "spans: ['breaker global-one']", "calls: [('global-one', 1)]"]


def test_bad_options_are_refused_with_a_typed_error_naming_the_option() -> None:
    for kwargs, option in (({"meter_provider": object()}, "meter_provider"), ({"tracer_provider": 42}, "tracer_provider")):
        with pytest.raises(TypeError) as info:
            instrument(**kwargs)
        assert (info.value.code, info.value.option) == ("INVALID_OPTION", option), info.value  # type: ignore[attr-defined]


def test_a_process_that_never_instruments_imports_nothing_of_opentelemetry() -> None:
    program = "import sys, seawall\nseawall.CircuitBreaker(failure_threshold=1).call(lambda: 1)\nprint(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "False", "")


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderServer]:
    s = ProviderServer()
    yield s
    s.close()


async def test_http_attempts_are_client_spans_under_the_retry_with_their_context_sent(providers: Providers, provider: ProviderServer) -> None:
    provider.script(CHAT, 503, {"status": 429, "headers": {"retry-after-ms": "5"}}, "ok")
    transport = seawall.ResilientTransport(name="llm", max_retries=2, base_delay=0.001, jitter=False, retry_non_idempotent=True)
    async with httpx.AsyncClient(base_url=provider.url, transport=transport) as client:
        response = await client.post(CHAT, json={}, headers={"x-mine": "1"})
    assert response.status_code == 200
    finished = providers.finished()
    retry = next(s for s in finished if s.name == "retry llm")
    attempts = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert [(s.name, s.attributes.get("http.request.resend_count"), s.attributes["http.response.status_code"], s.parent.span_id) for s in attempts] == [
        ("POST", None, 503, retry.context.span_id),
        ("POST", 1, 429, retry.context.span_id),
        ("POST", 2, 200, retry.context.span_id),
    ]
    assert attempts[0].attributes["server.address"] == "127.0.0.1"
    # The flags (sampled; the SDK may add "random") are the SDK's.
    assert [t.rsplit("-", 1)[0] for t in provider.traceparents[CHAT]] == [f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}" for s in attempts]
    assert [e.name for e in retry.events] == ["retry.scheduled", "retry.scheduled"]


HTTP_EXPECTED = Path(__file__).resolve().parents[2] / "tests" / "telemetry" / "http-spans.json"


def http_tree(finished: List[Any]) -> List[Dict[str, Any]]:
    """An HTTP call's spans as the shared expectation holds them: name, kind, parent's name,
    resend count and status (the URL's port is the run's)."""
    names = {s.context.span_id: s.name for s in finished}
    out = [{
        "name": s.name,
        "kind": "client" if s.kind == SpanKind.CLIENT else "internal",
        "parent": names.get(s.parent.span_id) if s.parent is not None else None,
        "outcome": s.attributes.get("seawall.outcome"),
        "resend": s.attributes.get("http.request.resend_count"),
        "status": s.attributes.get("http.response.status_code"),
    } for s in finished]
    return sorted(out, key=_key)


def http_policies() -> Dict[str, Any]:
    """The policies of an HTTP call, named as in Node's run."""
    return {
        "name": "llm",
        "circuit_breaker": CircuitBreaker(name="llm-breaker", failure_threshold=5),
        "bulkhead": Bulkhead(name="llm-slots", max_concurrent=4),
        "rate_limiter": rate_limiter("llm-rate", limit=100, per=1.0),
        "max_retries": 1,
        "base_delay": 0.001,
        "jitter": False,
        "retry_non_idempotent": True,
    }


async def test_http_through_every_integration_the_same_spans_as_node(provider: ProviderServer) -> None:
    import aiohttp
    import requests

    async def httpx_async() -> None:
        async with httpx.AsyncClient(transport=seawall.ResilientTransport(**http_policies())) as client:
            (await client.post(f"{provider.url}{CHAT}", json={})).raise_for_status()

    async def httpx_sync() -> None:
        with httpx.Client(transport=seawall.ResilientTransport(**http_policies())) as client:
            await asyncio.to_thread(lambda: client.post(f"{provider.url}{CHAT}", json={}).raise_for_status())

    async def aiohttp_middleware() -> None:
        async with aiohttp.ClientSession(middlewares=(seawall.ResilientMiddleware(**http_policies()),)) as session:
            async with session.post(f"{provider.url}{CHAT}", json={}) as r:
                await r.read()

    async def requests_adapter() -> None:
        with requests.Session() as session:
            session.mount("http://", seawall.ResilientAdapter(**http_policies()))
            await asyncio.to_thread(lambda: session.post(f"{provider.url}{CHAT}", json={}).raise_for_status())

    want = json.loads(HTTP_EXPECTED.read_text())
    for client in (httpx_async, httpx_sync, aiohttp_middleware, requests_adapter):
        p = Providers()
        stop = instrument(meter_provider=False, tracer_provider=p.tracer_provider)
        provider.script(CHAT, 503, "ok")
        try:
            await client()
        finally:
            stop()
        finished = p.finished()
        assert [_key(x) for x in normalized(http_tree(finished))] == [_key(x) for x in normalized(want)], client.__name__
        attempts = [s for s in finished if s.kind == SpanKind.CLIENT]
        assert [t.split("-")[2] for t in provider.traceparents[CHAT]] == [f"{s.context.span_id:016x}" for s in attempts], client.__name__


def test_fastapi_to_resilient_client_attempts_are_children_of_the_request_span(provider: ProviderServer) -> None:
    import uvicorn
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    p = Providers()
    app = FastAPI()

    @app.get("/ask")
    async def ask() -> Dict[str, Any]:
        async with ResilientClient(provider.url, max_retries=2, base_delay=0.001, jitter=False, retry_non_idempotent=True) as client:
            r = await client.post(CHAT, json={})
            return {"status": r.status_code}

    FastAPIInstrumentor.instrument_app(app, tracer_provider=p.tracer_provider)
    stop = instrument(meter_provider=False, tracer_provider=p.tracer_provider)
    provider.script(CHAT, 502, 503, "ok")
    try:
        with uvicorn_in_a_thread(app) as port:
            answer = httpx.get(f"http://127.0.0.1:{port}/ask", timeout=30)
            assert answer.json() == {"status": 200}
    finally:
        stop()
    finished = p.finished()
    request = next(s for s in finished if s.kind == SpanKind.SERVER)
    by_id = {s.context.span_id: s for s in finished}

    def ancestors(s: Any) -> List[Any]:
        out = []
        at = by_id.get(s.parent.span_id) if s.parent is not None else None
        while at is not None:
            out.append(at)
            at = by_id.get(at.parent.span_id) if at.parent is not None else None
        return out

    attempts = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert [s.attributes.get("http.request.resend_count") for s in attempts] == [None, 1, 2]
    for a in attempts:
        assert a.context.trace_id == request.context.trace_id
        assert request in ancestors(a)
    assert [t.split("-")[1] for t in provider.traceparents[CHAT]] == [f"{request.context.trace_id:032x}"] * 3


def test_otlp_http_exporters_protobuf_decoded_by_a_local_receiver() -> None:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    received: Dict[str, List[bytes]] = {"/v1/traces": [], "/v1/metrics": []}

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            received.setdefault(self.path, []).append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics"), export_interval_millis=3_600_000)
        meter_provider = MeterProvider(metric_readers=[reader])
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        stop = instrument(meter_provider=meter_provider, tracer_provider=tracer_provider)
        try:
            breaker = CircuitBreaker(name="exported", failure_threshold=1)
            with pytest.raises(ZeroDivisionError):
                breaker.call(lambda: 1 / 0)
            meter_provider.force_flush()
            tracer_provider.force_flush()
        finally:
            stop()
        meter_provider.shutdown()
        tracer_provider.shutdown()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    spans = [s for body in received["/v1/traces"] for r in ExportTraceServiceRequest.FromString(body).resource_spans for ss in r.scope_spans for s in ss.spans]
    assert [s.name for s in spans] == ["breaker exported"]
    attributes = {a.key: a.value.string_value for a in spans[0].attributes}
    assert attributes["seawall.outcome"] == "failure" and attributes["error.type"] == "ZeroDivisionError"
    assert [e.name for e in spans[0].events] == ["breaker.state_changed", "exception"]
    metrics = {m.name: m for body in received["/v1/metrics"] for r in ExportMetricsServiceRequest.FromString(body).resource_metrics
               for sm in r.scope_metrics for m in sm.metrics}
    assert metrics["seawall.calls"].unit == "{call}"
    assert [p.as_int for p in metrics["seawall.calls"].sum.data_points] == [1]
    labels = [({a.key: a.value.string_value for a in d.attributes}, d.as_double or d.as_int) for d in metrics["seawall.breaker.state"].gauge.data_points]
    state = {a["seawall.breaker.state"]: v for a, v in labels if a["seawall.policy.name"] == "exported"}
    assert state["OPEN"] == 1 and state["CLOSED"] == 0


def test_functions_decorated_before_instrument_and_def_endpoints_in_fastapis_thread_pool_are_observed() -> None:
    # As a service is written: policies and decorated functions made at import, OpenTelemetry
    # turned on at start-up, `def` endpoints run by FastAPI in its thread pool on the real clock,
    # and a functools.partial where a function is taken.
    import functools

    import uvicorn
    from fastapi import FastAPI

    breaker = CircuitBreaker(name="decorated-breaker", failure_threshold=5)
    policy = seawall.RetryPolicy(max_attempts=2, base_delay=0.0, name="decorated-retry")

    @breaker
    def lookup(key: str) -> str:
        return key.upper()

    @seawall.retry(max_attempts=2, base_delay=0.0, name="decorated-async")
    async def fetch_async(key: str) -> str:
        return key

    def add(a: int, b: int) -> int:
        return a + b

    app = FastAPI()

    @app.get("/lookup")
    def endpoint(key: str) -> Dict[str, Any]:  # a def endpoint: FastAPI's thread pool runs it
        return {"value": lookup(key), "sum": policy.call(functools.partial(add, 1), 2), "thread": threading.current_thread().name}

    p = Providers()
    stop = instrument(meter_provider=p.meter_provider, tracer_provider=p.tracer_provider)
    try:
        with uvicorn_in_a_thread(app) as port:
            answers = [httpx.get(f"http://127.0.0.1:{port}/lookup", params={"key": f"k{i}"}, timeout=30).json() for i in range(4)]
            assert asyncio.run(fetch_async("direct")) == "direct"
    finally:
        stop()
    assert [a["value"] for a in answers] == ["K0", "K1", "K2", "K3"] and all(a["sum"] == 3 for a in answers)
    assert all(a["thread"] != threading.current_thread().name for a in answers), "the endpoint ran in FastAPI's thread pool"
    calls = {(pt["attributes"]["seawall.policy.name"], pt["attributes"]["seawall.outcome"]): pt["value"]
             for m in p.metrics() if m["name"] == "seawall.calls" for pt in m["points"]}
    assert calls == {("decorated-breaker", "success"): 4, ("decorated-retry", "success"): 4, ("decorated-async", "success"): 1}
    # Stopped, the decorated function calls its plain method again.
    assert lookup("x") == "X" and "call_either" in repr(lookup.func)


def test_on_the_real_clock_a_calls_and_its_attempts_durations_are_read_finely(providers: Providers, caplog: pytest.LogCaptureFixture) -> None:
    """Durations are read on the event loop's clock, not the engine's, which ticks in steps of
    1-4 ms: read off it, nearly every quick call lasted exactly 0 ms."""
    caplog.set_level(logging.DEBUG, logger="seawall")
    breaker = CircuitBreaker(name="fine")
    policy = seawall.RetryPolicy(max_attempts=2, name="fine-retry")
    for _ in range(20):
        breaker.call(lambda: None)
        policy.call(lambda: None)
    ended = [r.seawall for r in caplog.records if r.name == "seawall" and r.seawall["event"] in ("call.ended", "attempt.ended")]
    assert len(ended) == 60, ended
    assert all(e["durationMs"] > 0 for e in ended), [e["durationMs"] for e in ended]
