"""Session-wide guards: no real network, no real provider keys.

Any connection to a non-loopback address (or a DNS lookup of a non-local host) raises
``NetworkBlocked`` and fails the test, even if library code swallows the exception, unless the
test is marked ``@pytest.mark.network``. Sub-folders add their own fixtures in their own conftest.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Before anything imports litellm: never download its cost map.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
from agentorch.workflow import PROVIDER_KEYS  # after the litellm switch above

# Property tests check correctness, not speed: on a loaded machine generating inputs is slow, and
# hypothesis's deadline and too_slow health check would fail tests that are right.
settings.register_profile("agentorch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("agentorch")

_ALSO_SECRET = (
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
for _key in (*PROVIDER_KEYS, *_ALSO_SECRET):
    os.environ.pop(_key, None)
# Every store of the session (and the processes tests start) signs audit heads with this key,
# so no test writes a key file into the home folder.
os.environ["AGENTORCH_AUDIT_KEY"] = "tests-only-audit-key-5f0c2a9d41e8"
os.environ.pop("AGENTORCH_AUDIT_KEY_FILE", None)


class NetworkBlocked(RuntimeError):
    """A test tried to reach a non-local host (not an ``OSError``: never mistaken for one)."""


class _Guard:
    def __init__(self) -> None:
        self.allowed = False
        self.violations: list[str] = []

    def check(self, host: Any, what: str) -> None:
        if self.allowed or _is_local(host):
            return
        self.violations.append(f"{what} {host!r}")
        raise NetworkBlocked(f"network access blocked in tests: {what} {host!r}")


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0].lower()
    if host in ("", "localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


GUARD = _Guard()
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection
_real_getaddrinfo = socket.getaddrinfo


def _host_of(address: Any) -> Any:
    return address[0] if isinstance(address, tuple) and address else None  # AF_UNIX: a path


def _connect(self: socket.socket, address: Any) -> None:
    GUARD.check(_host_of(address), "connect to")
    _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    GUARD.check(_host_of(address), "connect to")
    return _real_connect_ex(self, address)


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    GUARD.check(_host_of(address), "connect to")
    return _real_create_connection(address, *args, **kwargs)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    GUARD.check(host, "resolve")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
socket.create_connection = _create_connection
socket.getaddrinfo = _getaddrinfo


@pytest.fixture(autouse=True)
def _network_guard(request: pytest.FixtureRequest) -> Any:
    """Fail the test if it tried to reach the network (unless marked ``network``)."""
    GUARD.allowed = request.node.get_closest_marker("network") is not None
    GUARD.violations.clear()
    yield GUARD
    violations, GUARD.violations = list(GUARD.violations), []
    GUARD.allowed = False
    if violations:
        pytest.fail("test tried to reach the network: " + "; ".join(violations), pytrace=False)


@pytest.fixture
def network_guard(_network_guard: _Guard) -> _Guard:
    """The active guard, for tests that check it (they must clear ``violations`` themselves)."""
    return _network_guard
