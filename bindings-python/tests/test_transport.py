"""``ResilientTransport`` inside the clients people use: the real openai 3 and anthropic 2 SDKs
(on httpx2) and plain httpx / httpx2 clients, against a 127.0.0.1 server answering as the
providers do (JSON and server-sent events). Waits run on the virtual clock."""
from __future__ import annotations

import asyncio
import gc
import os
import random
import warnings
from typing import Any, Iterator, List

import httpx
import pytest

# `make test` installs anthropic, httpx2, openai; only a bare `pytest` elsewhere may lack them (never in CI).
if not os.environ.get("CI"):
    pytest.importorskip("anthropic")
    pytest.importorskip("httpx2")
    pytest.importorskip("openai")
import anthropic  # noqa: E402
import httpx2  # noqa: E402
import openai  # noqa: E402

from provider_server import ProviderServer
from seawall import Bulkhead, CircuitBreaker, CircuitBreakerError, RateLimiter, ResilientTransport, virtual_clock

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
ASK = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
ASK_CLAUDE = {"model": "claude-test", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderServer]:
    s = ProviderServer()
    yield s
    s.close()


def openai_client(provider: ProviderServer, transport: ResilientTransport) -> openai.AsyncOpenAI:
    # The SDK's own retries off: the transport's policies decide.
    return openai.AsyncOpenAI(base_url=f"{provider.url}/v1", api_key="test", max_retries=0, http_client=httpx2.AsyncClient(transport=transport))


async def test_openai_waits_what_retry_after_ms_says_then_succeeds(provider: ProviderServer) -> None:
    provider.script(CHAT, {"status": 429, "headers": {"retry-after-ms": "50", "retry-after": "1"}}, "ok")
    waits: List[float] = []
    with virtual_clock() as clock:
        transport = ResilientTransport(max_retries=3, base_delay=1.0, on_retry=lambda _a, _e, delay: waits.append(delay))
        client = openai_client(provider, transport)
        completion = await client.chat.completions.create(**ASK)
        waited = clock.now()
        await client.close()
    assert completion.choices[0].message.content == "hello"
    assert provider.hits[CHAT] == 2
    assert waits == [0.05] and waited == pytest.approx(0.05)


async def test_openai_503s_open_the_breaker_and_later_calls_fail_fast_without_reaching_the_server(provider: ProviderServer) -> None:
    provider.script(CHAT, 503, 503, "ok")
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30)
    client = openai_client(provider, ResilientTransport(circuit_breaker=breaker, max_retries=0))
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(**ASK)
    # openai 3 wraps only httpx's own errors (in APIConnectionError): ours reach the caller as
    # they are, and the SDK does not retry them.
    with pytest.raises(CircuitBreakerError):
        await client.chat.completions.create(**ASK)
    await client.close()
    assert provider.hits[CHAT] == 2 and breaker.state == "OPEN"


async def test_a_streamed_completion_holds_its_slot_while_it_streams_and_one_dropped_mid_way_is_one_failure(provider: ProviderServer) -> None:
    provider.script(CHAT, "stream", "drop")
    breaker, bulkhead = CircuitBreaker(failure_threshold=5), Bulkhead(max_concurrent=2)
    client = openai_client(provider, ResilientTransport(circuit_breaker=breaker, bulkhead=bulkhead))
    stream = await client.chat.completions.create(**ASK, stream=True)
    held = bulkhead.metrics()["active"]
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert (held, text, bulkhead.metrics()["active"], breaker.stats["successful_calls"]) == (1, "hello", 0, 1)
    stream = await client.chat.completions.create(**ASK, stream=True)
    with pytest.raises((httpx2.RemoteProtocolError, openai.APIError)):
        async for _ in stream:
            pass
    await client.close()
    # Never retried once the body started: one request, one failure, the slot back.
    assert provider.hits[CHAT] == 2
    assert (breaker.stats["failed_calls"], breaker.stats["in_flight"], bulkhead.metrics()["active"]) == (1, 0, 0)


async def test_anthropic_async_through_the_transport(provider: ProviderServer) -> None:
    # Overloaded: the provider says to retry (a POST is retried only when the server says so).
    provider.script(MESSAGES, {"status": 529, "headers": {"retry-after-ms": "20", "x-should-retry": "true"}}, "ok", "stream")
    breaker = CircuitBreaker(failure_threshold=3)
    with virtual_clock() as clock:
        transport = ResilientTransport(circuit_breaker=breaker, max_retries=2)
        client = anthropic.AsyncAnthropic(base_url=provider.url, api_key="test", max_retries=0, http_client=httpx2.AsyncClient(transport=transport))
        message = await client.messages.create(**ASK_CLAUDE)
        waited = clock.now()
        async with client.messages.stream(**ASK_CLAUDE) as stream:
            streamed = await stream.get_final_text()
        await client.close()
    assert (message.content[0].text, streamed, provider.hits[MESSAGES]) == ("hello", "hello", 3)
    assert waited == pytest.approx(0.02)
    assert (breaker.stats["failed_calls"], breaker.stats["successful_calls"], breaker.stats["in_flight"]) == (1, 2, 0)


def test_the_sync_sdks_through_the_transport(provider: ProviderServer) -> None:
    provider.script(CHAT, {"status": 429, "headers": {"retry-after-ms": "10"}}, "ok")
    provider.script(MESSAGES, 503, "ok")
    breaker, limiter = CircuitBreaker(failure_threshold=5), RateLimiter(limit=100, per=1.0, max_wait=1.0)
    with virtual_clock():
        transport = ResilientTransport(circuit_breaker=breaker, rate_limiter=limiter, max_retries=2, base_delay=0.01)
        with httpx2.Client(transport=transport) as http:
            completion = openai.OpenAI(base_url=f"{provider.url}/v1", api_key="test", max_retries=0, http_client=http).chat.completions.create(**ASK)
            # A POST answered 503 without Retry-After may have been acted on: not retried.
            with pytest.raises(anthropic.InternalServerError):
                anthropic.Anthropic(base_url=provider.url, api_key="test", max_retries=0, http_client=http).messages.create(**ASK_CLAUDE)
    assert completion.choices[0].message.content == "hello"
    assert (provider.hits[CHAT], provider.hits[MESSAGES]) == (2, 1)
    assert limiter.stats()["admitted"] == 3


@pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
async def test_plain_clients_of_either_library_and_a_streamed_body_that_cannot_be_sent_again(provider: ProviderServer, library: Any) -> None:
    provider.script(CHAT, 502, "ok")
    async with library.AsyncClient(transport=ResilientTransport(base_delay=0.001, retry_non_idempotent=True)) as http:
        r = await http.post(f"{provider.url}{CHAT}", json=ASK)
        assert (r.status_code, provider.hits[CHAT]) == (200, 2)
        provider.script(CHAT, 502, "ok")

        async def body() -> Any:
            yield b"{}"

        # An iterator's body is gone once sent: the 502 is the answer, one request.
        r = await http.post(f"{provider.url}{CHAT}", content=body())
        assert (r.status_code, provider.hits[CHAT]) == (502, 1)
    # An error it ends with says why it was not retried.
    async with library.AsyncClient(transport=ResilientTransport(base_delay=0.001)) as http:
        with pytest.raises(library.ConnectError) as refused:
            await http.post("http://127.0.0.1:9/", content=body())
    assert "cannot be sent again" in "".join(getattr(refused.value, "__notes__", []))


async def test_a_storm_of_cancelled_calls_and_abandoned_streams_gives_every_slot_and_permit_back(provider: ProviderServer) -> None:
    provider.script(CHAT)
    rng = random.Random(7)
    breaker, bulkhead = CircuitBreaker(failure_threshold=1_000_000), Bulkhead(max_concurrent=64, max_queue_size=10_000)
    outcomes = {"ok": 0, "cancelled": 0, "abandoned": 0, "failed": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with httpx2.AsyncClient(transport=ResilientTransport(circuit_breaker=breaker, bulkhead=bulkhead)) as http:
            url = f"{provider.url}{CHAT}"

            async def one(i: int) -> None:
                kind = rng.random()
                if kind < 0.3:
                    # Abandoned: the stream is left after its headers.
                    try:
                        async with http.stream("POST", url, json=ASK) as r:
                            assert r.status_code == 200
                        outcomes["abandoned"] += 1
                    except httpx2.TransportError:
                        outcomes["failed"] += 1
                    return
                task = asyncio.ensure_future(http.post(url, json=ASK))
                if kind < 0.6:
                    await asyncio.sleep(rng.random() * 0.002)
                    task.cancel()
                try:
                    await task
                    outcomes["ok"] += 1
                except asyncio.CancelledError:
                    outcomes["cancelled"] += 1
                except httpx2.TransportError:
                    # A connection the server closed as another request on it was cancelled.
                    outcomes["failed"] += 1

            for start in range(0, 10_000, 500):
                await asyncio.gather(*(one(i) for i in range(start, start + 500)))
        gc.collect()
    unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
    assert sum(outcomes.values()) == 10_000, outcomes
    assert min(outcomes["ok"], outcomes["cancelled"], outcomes["abandoned"]) > 1000 and outcomes["failed"] <= 100, outcomes
    m = bulkhead.metrics()
    assert (m["active"], m["queued"], breaker.stats["in_flight"], breaker.state) == (0, 0, 0, "CLOSED")


def test_a_response_left_open_at_exit_gives_its_slot_back_without_a_panic(tmp_path: Any) -> None:
    # As programs end: a response never closed, still referenced when the interpreter exits.
    import subprocess
    import sys
    script = tmp_path / "left_open.py"
    script.write_text(
        "import httpx2\n"
        "from seawall import Bulkhead, CircuitBreaker, ResilientTransport\n"
        "class Inner:\n"
        "    def handle_request(self, request):\n"
        "        return httpx2.Response(200, stream=httpx2.ByteStream(b'{}'))  # a body not read yet\n"
        "bulkhead = Bulkhead(max_concurrent=1)\n"
        "transport = ResilientTransport(Inner(), circuit_breaker=CircuitBreaker(failure_threshold=5), bulkhead=bulkhead)\n"
        "kept = transport.handle_request(httpx2.Request('GET', 'http://127.0.0.1/'))\n"
        "print(bulkhead.metrics()['active'])\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stderr
    assert "panicked" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


async def test_aiohttp_middleware_retries_by_the_core_and_opens_the_breaker(provider: ProviderServer) -> None:
    import aiohttp

    from seawall import ResilientMiddleware
    provider.script(CHAT, {"status": 429, "headers": {"retry-after-ms": "30"}}, "ok", 503, 503, "ok")
    waits: List[float] = []
    breaker = CircuitBreaker(failure_threshold=2)
    with virtual_clock():
        middleware = ResilientMiddleware(circuit_breaker=breaker, max_retries=1, on_retry=lambda _a, _e, d: waits.append(d))
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
            async with session.post(f"{provider.url}{CHAT}", json=ASK) as r:
                first = (r.status, (await r.json())["choices"][0]["message"]["content"])
            # A POST answered 503 without a delay is not retried: two calls, two failures, open.
            for _ in range(2):
                async with session.post(f"{provider.url}{CHAT}", json=ASK) as r:
                    assert r.status == 503
            with pytest.raises(CircuitBreakerError):
                await session.post(f"{provider.url}{CHAT}", json=ASK)
            state = breaker.state
    assert first == (200, "hello") and waits == [0.03]
    assert (provider.hits[CHAT], state) == (4, "OPEN")


def test_requests_adapter_retries_by_the_core(provider: ProviderServer) -> None:
    import requests

    from seawall import ResilientAdapter
    provider.script(CHAT, {"status": 503, "headers": {"retry-after": "0"}}, "ok")
    bulkhead = Bulkhead(max_concurrent=1)
    with virtual_clock(), requests.Session() as session:
        session.mount("http://", ResilientAdapter(bulkhead=bulkhead, max_retries=2, base_delay=0.01))
        r = session.post(f"{provider.url}{CHAT}", json=ASK, timeout=5)
        # A generator's body cannot be sent again: once, the 502 answered.
        provider.script(CHAT, 502, "ok")
        once = session.post(f"{provider.url}{CHAT}", data=(b for b in [b"{}"]), timeout=5)
    assert (r.status_code, r.json()["choices"][0]["message"]["content"]) == (200, "hello")
    assert (once.status_code, provider.hits[CHAT], bulkhead.metrics()["active"]) == (502, 1, 0)


async def test_google_genai_through_the_transport(provider: ProviderServer) -> None:
    from google import genai
    from google.genai import types
    path = "/v1/models/gemini-test:generateContent"
    provider.script(path, {"status": 429, "headers": {"retry-after-ms": "15"}}, "ok")
    waits: List[float] = []
    with virtual_clock():
        transport = ResilientTransport(max_retries=2, on_retry=lambda _a, _e, delay: waits.append(delay))
        options = types.HttpOptions(base_url=provider.url, httpx_async_client=httpx2.AsyncClient(transport=transport), retry_options=types.HttpRetryOptions(attempts=1))
        client = genai.Client(api_key="test", http_options=options)
        answer = await client.aio.models.generate_content(model="gemini-test", contents="hi")
    assert (answer.text, provider.hits[path], waits) == ("hello", 2, [0.015])


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
async def test_responses_made_whole_by_a_mock_transport_give_their_slot_back(library: Any) -> None:
    # A mock transport (httpx's MockTransport, respx) answers responses read and closed already:
    # nothing streams, so the slot comes back at once — it was never given back before.
    lib = __import__(library)
    bulkhead = Bulkhead(max_concurrent=1)
    transport = ResilientTransport(lib.MockTransport(lambda request: lib.Response(200, content=b"ok")), bulkhead=bulkhead)
    with lib.Client(transport=transport) as client:
        assert [client.get("http://mock.invalid/").status_code for _ in range(3)] == [200, 200, 200]

    async def answer(request: Any) -> Any:
        return lib.Response(200, content=b"ok")

    async with lib.AsyncClient(transport=ResilientTransport(lib.MockTransport(answer), bulkhead=bulkhead)) as client:
        assert [(await client.get("http://mock.invalid/")).status_code for _ in range(3)] == [200, 200, 200]
