"""The README's client examples, as written, against the provider-like 127.0.0.1 server: the
SDKs find it through their own environment variables (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``),
so the example's code runs unchanged."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from provider_server import ProviderServer

README = Path(__file__).resolve().parents[2] / "README.md"


def example(section: str, language: str) -> str:
    text = README.read_text()
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", part, re.S)
    assert found, f"no {language} example under '{section}'"
    return found.group(1)


@pytest.fixture()
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    s = ProviderServer()
    monkeypatch.setenv("OPENAI_BASE_URL", f"{s.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    yield s
    s.close()


async def test_the_python_client_example_runs_as_written(provider: ProviderServer) -> None:
    # `make test` installs the SDKs; only a bare `pytest` elsewhere may lack them (never in CI).
    if not os.environ.get("CI"):
        for module in ("httpx2", "openai", "anthropic"):
            pytest.importorskip(module)
    provider.script("/v1/chat/completions", {"status": 429, "headers": {"retry-after-ms": "5"}}, "ok")
    scope: Dict[str, Any] = {}
    exec(compile(example("Inside the clients you already use (Python)", "python"), "README.md", "exec"), scope)
    completion = await scope["client"].chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}])
    message = await scope["claude"].messages.create(model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert (completion.choices[0].message.content, message.content[0].text) == ("hello", "hello")
    assert provider.hits["/v1/chat/completions"] == 2
    await scope["client"].close()
    await scope["claude"].close()
