"""OpenTelemetry: ``seawall.instrument()`` turns Seawall's events into the core's instruments (one
table, core/src/telemetry.rs, read by Node and the Prometheus text too) and its calls into spans.
Only ``opentelemetry-api`` is needed (``pip install seawall[otel]``), and only once
``instrument()`` is called: until then nothing is imported and a call pays nothing.

Spans: one per guarded call (``retry charge``, ``breaker payments`` …) with an event for each
retry, rejection and state change; for HTTP (the httpx / httpx2 transports and
``ResilientClient``, the aiohttp middleware, the requests adapter) a CLIENT span per attempt with
``http.request.resend_count``, whose context each attempt's request carries (``traceparent``)."""
from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from . import _clock, _native
from ._breaker import flush_all
from ._engine import engine
from ._telemetry import DECISIONS, CountedFailure, Scope, Sink, error_type, observer, route

_stop: Optional[Callable[[], None]] = None
_LOOK_S = 1.0


def _attributes(pairs: List[Tuple[str, str]], fields: Dict[str, Any]) -> Dict[str, Any]:
    """The event's fields as attributes: each instrument's ``(attribute, field)`` pairs, nulls left out."""
    return {attribute: fields[field] for attribute, field in pairs if fields.get(field) is not None}


def _check(meter_provider: Any, tracer_provider: Any) -> None:
    """The core's check of the options: a provider of the right shape goes as ``<object>``,
    anything else as itself (an object lacking the method as ``{}``, which is not one)."""
    shown: Dict[str, Any] = {}
    for option, value, method in (("meter_provider", meter_provider, "get_meter"), ("tracer_provider", tracer_provider, "get_tracer")):
        if value is None or value is False:
            shown[option] = None
        elif isinstance(value, (bool, int, float, str)):
            shown[option] = value
        else:
            shown[option] = "<object>" if callable(getattr(value, method, None)) else {}
    _native.validate("instrument", json.dumps(shown), True)


class _Span(Scope):
    __slots__ = ("span", "context", "_api")

    def __init__(self, span: Any, api: Any) -> None:
        self.span, self._api = span, api
        self.context = api.trace.set_span_in_context(span)

    def attach(self) -> Any:
        return self._api.context.attach(self.context)

    def detach(self, token: Any) -> None:
        self._api.context.detach(token)

    def end(self, outcome: str, exc: Optional[BaseException]) -> None:
        span = self.span
        span.set_attribute("seawall.outcome", outcome)
        if exc is not None:
            _failed(span, exc, self._api)
        span.end()


class _HttpSpan(_Span):
    """An HTTP attempt's span: its status code is set from the response."""

    def end(self, outcome: str, exc: Optional[BaseException]) -> None:
        if exc is not None:
            _failed(self.span, exc, self._api)
        self.span.end()

    def answered(self, status: int) -> None:
        self.span.set_attribute("http.response.status_code", status)
        if status >= 400:
            self.span.set_attribute("error.type", str(status))
            self.span.set_status(self._api.Status(self._api.StatusCode.ERROR))


def _failed(span: Any, exc: BaseException, api: Any) -> None:
    span.set_attribute("error.type", error_type(exc))
    span.set_status(api.Status(api.StatusCode.ERROR, str(exc) or None))
    if not isinstance(exc, CountedFailure):
        span.record_exception(exc)


class _Api:
    """The parts of ``opentelemetry-api`` used here, imported once instrumenting starts."""

    def __init__(self) -> None:
        from opentelemetry import context, metrics, propagate, trace
        from opentelemetry.metrics import Observation
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.context, self.metrics, self.propagate, self.trace = context, metrics, propagate, trace
        self.Observation, self.SpanKind, self.Status, self.StatusCode = Observation, SpanKind, Status, StatusCode
        # The global meter provider's stand-in until an SDK sets one (not exported: when it is not
        # found, every provider counts as recording, which costs time but loses nothing).
        from opentelemetry.metrics import _internal as metrics_internal
        proxy = getattr(metrics_internal, "_ProxyMeterProvider", None)
        self.proxy_meter_provider: Any = proxy if isinstance(proxy, type) else ()


class _OtelSink(Sink):
    def __init__(self, api: _Api, meter: Any, tracer: Any, waiting: Any) -> None:
        self.api, self.tracer = api, tracer
        # The API's global providers before an SDK registers (their proxies record nothing until
        # then); None once one has.
        self._waiting = waiting
        self._metered = meter is not None
        table = json.loads(_native.telemetry_instruments())
        self.by_event: Dict[str, List[Callable[[Dict[str, Any]], None]]] = {}
        for i in table["instruments"] if meter is not None else ():
            pairs = [tuple(p) for p in i["attributes"]]
            if i["events"]:
                recorder = self._recorder(meter, i, pairs, table["buckets"])
                for event in i["events"]:
                    self.by_event.setdefault(event, []).append(recorder)
            else:
                make = meter.create_observable_gauge if i["kind"] == "observableGauge" else meter.create_observable_up_down_counter
                make(i["name"], callbacks=[self._observer(i["observes"], pairs)], unit=i["unit"], description=i["description"])

    def _recorder(self, meter: Any, i: Dict[str, Any], pairs: List[Tuple[str, str]], buckets: List[float]) -> Callable[[Dict[str, Any]], None]:
        if i["kind"] == "counter":
            counter = meter.create_counter(i["name"], unit=i["unit"], description=i["description"])
            return lambda fields: counter.add(1, _attributes(pairs, fields))
        histogram = meter.create_histogram(i["name"], unit=i["unit"], description=i["description"], explicit_bucket_boundaries_advisory=buckets)
        field, scale = i["value"], i["scale"]

        def record(fields: Dict[str, Any]) -> None:
            value = fields.get(field)
            if isinstance(value, (int, float)):
                histogram.record(value * scale, _attributes(pairs, fields))

        return record

    def _observer(self, family: str, pairs: List[Tuple[str, str]]) -> Callable[[Any], List[Any]]:
        Observation = self.api.Observation

        def observe(_options: Any) -> List[Any]:
            # The named breakers and bulkheads, read from the engine's registry as the SDK collects.
            if observer.sink is not self:
                return []
            flush_all()
            return [Observation(value, _attributes(pairs, {"policy": name, "label": label}))
                    for f, name, label, value in json.loads(engine.gauge_samples()) if f == family]

        return observe

    def recording(self) -> bool:
        """Whether anything would be recorded (the API's proxies record nothing before an SDK)."""
        waiting = self._waiting
        if waiting is None:
            return True
        meter_proxy, tracer_proxy = waiting
        api = self.api
        if (self._metered and api.metrics.get_meter_provider() is not meter_proxy) or (self.tracer is not None and api.trace.get_tracer_provider() is not tracer_proxy):
            self._waiting = None
            return True
        return False

    def event(self, name: str, fields: Dict[str, Any]) -> None:
        recorders = self.by_event.get(name)
        if recorders:
            # The field ``event``: the event's own name.
            named = {**fields, "event": name}
            for record in recorders:
                record(named)
        if self.tracer is not None and name in DECISIONS:
            span = self.api.trace.get_current_span()
            if span.is_recording():
                span.add_event(name, {f"seawall.{k}": v for k, v in fields.items() if v is not None})

    def enter(self, kind: str, policy: Optional[str]) -> Optional[Scope]:
        if self.tracer is None:
            return None
        attributes = {"seawall.policy.kind": kind}
        if policy is not None:
            attributes["seawall.policy.name"] = policy
        span = self.tracer.start_span(kind if policy is None else f"{kind} {policy}", kind=self.api.SpanKind.INTERNAL, attributes=attributes)
        return _Span(span, self.api)

    def http(self, method: str, url: str, resend_count: int, headers: Any) -> Optional[Scope]:
        if self.tracer is None:
            return None
        attributes: Dict[str, Any] = {"http.request.method": method, "url.full": url}
        parts = urlsplit(url)
        if parts.hostname:
            attributes["server.address"] = parts.hostname
            attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        if resend_count > 0:
            attributes["http.request.resend_count"] = resend_count
        span = self.tracer.start_span(method, kind=self.api.SpanKind.CLIENT, attributes=attributes)
        scope = _HttpSpan(span, self.api)
        carrier: Dict[str, str] = {}
        self.api.propagate.inject(carrier, context=scope.context)
        for k, v in carrier.items():
            headers[k] = v
        return scope


def instrument(meter_provider: Any = None, tracer_provider: Any = None) -> Callable[[], None]:
    """Reports Seawall's events as OpenTelemetry metrics and spans, to the given providers or the
    global ones. Answers a function that stops it (calling ``instrument`` again replaces the last).
    ``False`` for either provider leaves that signal out."""
    global _stop
    _check(meter_provider, tracer_provider)
    try:
        api = _Api()
    except ImportError as exc:
        err = ImportError("seawall.instrument() needs opentelemetry-api: pip install 'seawall[otel]'")
        raise err from exc
    # The API's proxies stand for the global providers until an SDK sets them: while both given
    # (or defaulted) ones are proxies, calls are not observed.
    meter_proxy = api.metrics.get_meter_provider() if meter_provider is None else None
    tracer_proxy = api.trace.get_tracer_provider() if tracer_provider is None else None
    waiting = None
    proxies = (isinstance(meter_proxy, api.proxy_meter_provider) or meter_provider is False,
               isinstance(tracer_proxy, api.trace.ProxyTracerProvider) or tracer_provider is False)
    if all(proxies) and (meter_provider, tracer_provider) != (False, False):
        waiting = (meter_proxy, tracer_proxy)
    if meter_provider is None:
        meter_provider = meter_proxy
    if tracer_provider is None:
        tracer_provider = tracer_proxy
    meter = meter_provider.get_meter("seawall") if meter_provider is not False else None
    tracer = tracer_provider.get_tracer("seawall") if tracer_provider is not False else None
    if _stop is not None:
        _stop()
    sink = _OtelSink(api, meter, tracer, waiting)

    def start() -> None:
        observer.sink = sink
        route(True)

    # With the API alone nothing would be recorded: the policies keep their plain methods, and the
    # API is asked once a second whether an SDK has been set since (on the virtual clock when one
    # is installed, else from a daemon thread).
    stopped = threading.Event()
    cancel: List[Callable[[], None]] = []

    def look_later(clock: Any) -> None:
        def look() -> None:
            if sink.recording():
                start()
            else:
                look_later(clock)

        cancel[:] = [clock.call_later(_LOOK_S, look)]

    def look_from_a_thread() -> None:
        while not stopped.wait(_LOOK_S):
            if sink.recording():
                start()
                return

    if sink.recording():
        start()
    elif _clock.virtual() is not None:
        look_later(_clock.virtual())
    else:
        threading.Thread(target=look_from_a_thread, name="seawall-otel-wait", daemon=True).start()

    def stop() -> None:
        global _stop
        stopped.set()
        for c in cancel:
            c()
        if observer.sink is sink:
            observer.sink = None
            route(False)
        if _stop is stop:
            _stop = None

    _stop = stop
    return stop
