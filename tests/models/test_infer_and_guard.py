"""``infer_model`` on the documented strings, the network guard, and a fast, SDK-free import."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agentorch.errors import (
    ConfigError,
    MissingCredentialsError,
    MissingDependencyError,
    UnknownModelError,
)
from agentorch.models import infer_model
from agentorch.models.anthropic import AnthropicModel
from agentorch.models.litellm import LiteLLMModel
from agentorch.models.openai import OpenAIModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("spec", "cls", "provider", "name"),
    [
        ("openai:gpt-4.1-mini", OpenAIModel, "openai", "gpt-4.1-mini"),
        ("anthropic:claude-sonnet-4-5", AnthropicModel, "anthropic", "claude-sonnet-4-5"),
        ("litellm:ollama/llama3", LiteLLMModel, "litellm", "ollama/llama3"),
    ],
)
def test_infer_model_without_any_key(spec: str, cls: type, provider: str, name: str) -> None:
    assert not any(os.environ.get(k) for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"))
    model = infer_model(spec)
    assert isinstance(model, cls)
    assert (model.provider, model.name, model.id, model.price_key) == (provider, name, spec, name)


def test_infer_model_passes_options() -> None:
    model = infer_model("openai:llama3", base_url="http://127.0.0.1:8000/v1")
    assert isinstance(model, OpenAIModel) and model.base_url == "http://127.0.0.1:8000/v1"
    lite = infer_model("litellm:azure/my-deployment", api_version="2024-10-21")
    assert isinstance(lite, LiteLLMModel) and lite.litellm_kwargs["api_version"] == "2024-10-21"


def test_unknown_provider_and_bad_strings() -> None:
    with pytest.raises(UnknownModelError, match="unknown model provider 'gemini'"):
        infer_model("gemini:pro")
    with pytest.raises(UnknownModelError):
        infer_model("gpt-4.1-mini")
    with pytest.raises(ConfigError):
        infer_model("openai:")


def test_missing_sdk_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "litellm" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError) as info:
        infer_model("litellm:ollama/llama3")
    assert info.value.hint == "pip install litellm"


async def test_no_key_error_is_clear_at_request_time() -> None:
    from _models_helpers import ask

    with pytest.raises(MissingCredentialsError) as info:
        await infer_model("anthropic:claude-sonnet-4-6").request(ask())
    assert str(info.value).startswith("no API key for anthropic: set ANTHROPIC_API_KEY")


def test_a_missing_key_can_be_found_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in ("anthropic:claude-sonnet-4-6", "openai:gpt-4.1-mini"):
        with pytest.raises(MissingCredentialsError, match="no API key for"):
            infer_model(spec).check_credentials()
    infer_model("openai:local", base_url="http://127.0.0.1:9/v1").check_credentials()  # no key
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    infer_model("anthropic:claude-sonnet-4-6").check_credentials()


def test_guard_blocks_non_local_connections(network_guard: Any) -> None:
    with pytest.raises(RuntimeError, match="network access blocked"):
        socket.create_connection(("10.255.255.1", 443), timeout=0.01)
    with pytest.raises(RuntimeError, match="network access blocked"):
        socket.getaddrinfo("api.openai.com", 443)
    sock = socket.socket()
    try:
        with pytest.raises(RuntimeError, match="network access blocked"):
            sock.connect(("10.255.255.1", 443))
        assert sock.connect_ex(("127.0.0.1", 9)) != 0  # loopback is allowed (and closed)
    finally:
        sock.close()
    assert len(network_guard.violations) == 3
    network_guard.violations.clear()  # this test expected them


def test_guard_fails_a_test_even_when_the_error_is_swallowed(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_reach.py").write_text(
        textwrap.dedent(
            """
            import socket
            import pytest

            def test_swallowed():
                try:
                    socket.create_connection(("api.openai.com", 443), timeout=0.01)
                except Exception:
                    pass  # a library that hides the failure must not hide the attempt

            @pytest.mark.network
            def test_marked_is_allowed(network_guard):
                assert network_guard.allowed  # (nothing is called: tests stay offline)
            """
        )
    )
    ini = (
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    network: may reach the network\n"
    )
    (tmp_path / "pytest.ini").write_text(ini)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    assert "test tried to reach the network" in result.stdout
    assert "2 passed, 1 error" in result.stdout  # the swallowed attempt errors at teardown


def test_import_agentorch_loads_no_provider_sdk() -> None:
    code = (
        "import json, sys, agentorch, agentorch.models;"
        "print(json.dumps(sorted(m for m in ('openai', 'anthropic', 'litellm') if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == []
