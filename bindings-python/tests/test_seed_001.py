"""Seed 001's examples, unchanged but for the import line (``shared.utils.resilience`` →
``seawall``), against a real local HTTP server."""
from __future__ import annotations

import os
import sys
import types
from typing import Any

import httpx

from conftest import FlakyServer

DATASERVICE_URL = "http://dataservice.internal"
OPENAI_API_KEY = "sk-test"
DATASERVICE_API_KEY = "ds-test"


async def test_1_simple_retry_with_backoff(route_to_server: FlakyServer) -> None:
    import seawall
    seawall.set_testing(True)
    route_to_server.scripts["/scholarships/match"] = [503, 500]

    from seawall import retry_with_backoff

    async def fetch_scholarships(query: str):
        async def api_call():
            async with httpx.AsyncClient() as client:
                response = await client.get(f"{DATASERVICE_URL}/scholarships/match?query={query}")
                response.raise_for_status()
                return response.json()

        return await retry_with_backoff(
            api_call,
            max_attempts=3,
            base_delay=0.5,
            max_delay=4.0
        )

    assert (await fetch_scholarships("stem"))["ok"] is True
    assert route_to_server.hits["/scholarships/match"] == 3


async def test_2_circuit_breaker_for_external_apis(route_to_server: FlakyServer) -> None:
    from seawall import CircuitBreaker, with_circuit_breaker

    # Define circuit breaker (5 failures → open for 60s)
    openai_circuit = CircuitBreaker(
        name="openai",
        failure_threshold=5,
        recovery_timeout=60.0,
        half_open_max_calls=3
    )

    @with_circuit_breaker(openai_circuit)
    async def call_openai(prompt: str):
        async with httpx.AsyncClient() as client:
            response = await client.post(
                "https://api.openai.com/v1/chat/completions",
                headers={"Authorization": f"Bearer {OPENAI_API_KEY}"},
                json={"model": "gpt-4", "messages": [{"role": "user", "content": prompt}]}
            )
            return response.json()

    assert (await call_openai("hi"))["path"] == "/v1/chat/completions"
    assert openai_circuit.state == "CLOSED"


async def test_3_resilient_http_client(route_to_server: FlakyServer) -> None:
    from seawall import ResilientClient, dataservice_circuit

    # Create client with circuit breaker
    client = ResilientClient(
        base_url="https://saa-core-data-v2-jamarrlmayes.replit.app",
        circuit_breaker=dataservice_circuit,
        timeout=10.0,
        max_retries=3
    )

    # Use client for API calls
    async def signup_student(email: str, age: int):
        response = await client.post(
            "/student/signup",
            json={"email": email, "age": age},
            headers={"X-API-Key": DATASERVICE_API_KEY}
        )
        return response.json()

    assert (await signup_student("a@b.c", 17))["path"] == "/student/signup"
    await client.aclose()


async def test_4_stripe_with_circuit_breaker(monkeypatch: Any) -> None:
    created: list = []
    fake = types.ModuleType("stripe")
    fake.checkout = types.SimpleNamespace(Session=types.SimpleNamespace(create=lambda **kw: created.append(kw) or {"id": "cs_1", **kw}))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stripe", fake)

    from seawall import stripe_circuit, retry_with_backoff
    import stripe

    async def create_checkout_session(user_id: str, amount: int):
        async def _call():
            return stripe.checkout.Session.create(
                payment_method_types=["card"],
                line_items=[{
                    "price_data": {
                        "currency": "usd",
                        "product_data": {"name": "Credits"},
                        "unit_amount": amount
                    },
                    "quantity": 1
                }],
                mode="payment",
                success_url="https://app.scholaraiadvisor.com/success",
                cancel_url="https://app.scholaraiadvisor.com/cancel",
                metadata={"user_id": user_id}
            )

        return await retry_with_backoff(
            _call,
            max_attempts=3,
            circuit_breaker=stripe_circuit
        )

    session = await create_checkout_session("u1", 500)
    assert session["id"] == "cs_1" and created[0]["metadata"] == {"user_id": "u1"}
    assert stripe_circuit.stats["successful_calls"] == 1


async def test_5_combined_pattern(route_to_server: FlakyServer, monkeypatch: Any) -> None:
    import seawall
    seawall.set_testing(True)
    monkeypatch.setitem(os.environ, "DATASERVICE_URL", "http://dataservice.internal")
    route_to_server.scripts["/users/u1"] = [502]

    from seawall import (
        ResilientClient,
        CircuitBreaker,
        retry_with_backoff,
        exponential_backoff_with_jitter
    )

    # Service-specific circuits
    dataservice_circuit = CircuitBreaker(name="dataservice", failure_threshold=5, recovery_timeout=15.0)
    orchestrator_circuit = CircuitBreaker(name="orchestrator", failure_threshold=3, recovery_timeout=30.0)

    # Clients
    dataservice = ResilientClient(
        base_url=os.environ["DATASERVICE_URL"],
        circuit_breaker=dataservice_circuit
    )

    async def process_document(user_id: str, document_id: str):
        # Step 1: Get user features from DataService
        user = await dataservice.get(f"/users/{user_id}")

        # Step 2: Run NLP analysis (with manual retry)
        async def analyze():
            # Analysis logic here
            pass

        features = await retry_with_backoff(
            analyze,
            max_attempts=3,
            base_delay=1.0,
            max_delay=5.0
        )

        # Step 3: Store features
        await dataservice.post(
            f"/users/{user_id}/features",
            json=features
        )

        return {"status": "processed", "features": features}

    assert await process_document("u1", "d1") == {"status": "processed", "features": None}
    assert route_to_server.hits["/users/u1"] == 2, "the 502 was retried"
    assert orchestrator_circuit.state == "CLOSED"
    d = exponential_backoff_with_jitter(2, base_delay=0.5, max_delay=4.0, jitter_factor=0.1)
    assert 1.8 <= d <= 2.2
    await dataservice.aclose()


def test_configuration_defaults() -> None:
    from seawall import defaults
    d = defaults()
    assert (d["maxAttempts"], d["baseDelay"], d["maxDelay"], d["jitterFactor"]) == (3, 500, 4000, 0.1)
    assert (d["failureThreshold"], d["resetTimeout"], d["halfOpenMaxCalls"]) == (5, 30000, 3)


async def test_circuit_states_diagram() -> None:
    from seawall import CircuitBreaker, CircuitBreakerError, virtual_clock
    with virtual_clock(auto_advance=False) as clock:
        cb = CircuitBreaker(failure_threshold=2, recovery_timeout=30.0, half_open_max_calls=1)
        for _ in range(2):  # CLOSED → (failure_threshold reached) → OPEN
            try:
                cb.call(lambda: 1 / 0)
            except ZeroDivisionError:
                pass
        assert cb.state == "OPEN"
        try:
            cb.call(lambda: "refused")
            raise AssertionError("should be refused")
        except CircuitBreakerError as e:
            assert (e.code, e.state, e.retry_after) == ("CIRCUIT_OPEN", "OPEN", 30.0)
        clock.advance(30.0)  # OPEN → (recovery_timeout elapsed) → HALF_OPEN
        assert cb.state == "HALF_OPEN"
        try:
            cb.call(lambda: 1 / 0)  # HALF_OPEN → (failure) → OPEN
        except ZeroDivisionError:
            pass
        assert cb.state == "OPEN"
        clock.advance(30.0)
        assert cb.call(lambda: "ok") == "ok"  # HALF_OPEN → (success) → CLOSED
        assert cb.state == "CLOSED"
