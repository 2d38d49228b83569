"""The shared SDK-error mapping: retryability, Retry-After parsing, key redaction."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from agentorch.errors import ProviderError
from agentorch.models._common import parse_tool_arguments
from agentorch.models._errors import parse_retry_after, redact, to_provider_error


def test_retry_after_seconds_ms_and_http_date() -> None:
    assert parse_retry_after({"Retry-After": "5"}) == 5.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    date = format_datetime(datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: now) == 30.0
    assert parse_retry_after({"retry-after": date}, now=lambda: now + 60) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_redaction_masks_given_secrets_and_key_shapes() -> None:
    text = "bad key sk-proj-abcdefghijklmnop and my-custom-secret-value"
    masked = redact(text, ("my-custom-secret-value",))
    assert "abcdefghijklmnop" not in masked and "my-custom-secret-value" not in masked
    assert "sk-proj-***" in masked


class FakeStatusError(Exception):
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"status {status}")
        self.status_code = status
        self.headers = headers
        self.body = {"error": {"message": "quota", "type": "rate_limit_error"}}


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(408, True), (409, True), (429, True), (500, True), (529, True), (400, False), (422, False)],
)
def test_status_codes(status: int, retryable: bool) -> None:
    error = to_provider_error(
        FakeStatusError(status, {"retry-after": "3"}), provider="p", model="m"
    )
    assert isinstance(error, ProviderError)
    assert (error.status_code, error.retryable) == (status, retryable)
    assert error.retry_after == (3.0 if retryable else None)
    assert str(error) == f"p:m: HTTP {status}: rate_limit_error: quota"


def test_timeouts_connections_and_unknown_errors() -> None:
    timeout = to_provider_error(TimeoutError(), provider="p", model="m")
    assert timeout.retryable and "timed out" in str(timeout)

    class APIConnectionError(Exception):
        pass

    assert to_provider_error(APIConnectionError("reset"), provider="p", model="m").retryable
    other = to_provider_error(RuntimeError("weird"), provider="p", model="m")
    assert not other.retryable and "RuntimeError: weird" in str(other)


def test_provider_errors_pass_through_and_long_messages_are_cut() -> None:
    original = ProviderError("x", provider="p", model="m")
    assert to_provider_error(original, provider="q", model="n") is original
    long = to_provider_error(RuntimeError("y" * 5000), provider="p", model="m")
    assert len(str(long)) < 600


def test_tool_argument_parsing_never_raises() -> None:
    assert parse_tool_arguments("1", "t", '{"a": 1}').arguments == {"a": 1}
    assert parse_tool_arguments("1", "t", "  ").arguments_error is None
    bad = parse_tool_arguments("1", "t", '{"a": ')
    assert bad.arguments == {} and bad.raw_arguments == '{"a": ' and bad.arguments_error
    assert "JSON object" in (parse_tool_arguments("1", "t", '"s"').arguments_error or "")
