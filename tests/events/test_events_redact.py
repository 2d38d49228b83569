from __future__ import annotations

import pytest

from agentorch.errors import ConfigError
from agentorch.events import REDACTED, Redactor
from agentorch.events.redact import SecretPattern, is_secret_name, secrets_from_env
from agentorch.events.types import ApprovalRequested, RunFinished, StepStarted, ToolCallStarted

OPENAI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
ANTHROPIC_KEY = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def test_env_secret_values_are_collected_by_variable_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-live-123456")
    monkeypatch.setenv("SERVICE_TOKEN", "tok_abcdefgh1234")
    monkeypatch.setenv("DB_PASSWORD", "correct horse battery")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY")
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # too short to redact safely
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/tmp/tiktoken-cache")  # not a secret name
    monkeypatch.setenv("MAX_TOKENS", "100000000")
    r = Redactor()
    text = (
        "key acme-live-123456, token tok_abcdefgh1234, pw correct horse battery, "
        "aws wJalrXUtnFEMI/K7MDENG/bPxRfiCY, short abc, dir /tmp/tiktoken-cache, max 100000000"
    )
    assert r.redact_text(text) == (
        f"key {REDACTED}, token {REDACTED}, pw {REDACTED}, aws {REDACTED}, short abc, "
        "dir /tmp/tiktoken-cache, max 100000000"
    )
    assert Redactor(env=False).redact_text("acme-live-123456") == "acme-live-123456"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("ANTHROPIC_API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("HF_TOKEN", True),
        ("CLIENT_SECRET", True),
        ("PGPASSWORD", True),
        ("Authorization", True),
        ("api_key", True),
        ("access_token", True),
        ("max_tokens", False),
        ("input_tokens", False),
        ("TIKTOKEN_CACHE_DIR", False),
        ("idempotency_key", False),
        ("PATH", False),
        ("PWD", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_secrets_from_a_given_environment() -> None:
    env = {"X_API_KEY": "  abcdefghij  ", "HOME": "/home/ann", "Y_TOKEN": "short"}
    assert secrets_from_env(env) == ["abcdefghij"]


def test_explicit_secrets_and_add_rebuilds() -> None:
    r = Redactor(["my-db-pass-1"], env=False)
    assert r.redact_text("connect with my-db-pass-1 now") == f"connect with {REDACTED} now"
    assert r.redact_text("tool got 4242-9999-x") == "tool got 4242-9999-x"
    r.add("4242-9999-x", None, "", "no", "abc")  # junk and too-short values are ignored
    assert r.secret_count == 2
    assert r.redact_text("tool got 4242-9999-x") == f"tool got {REDACTED}"


def test_longer_secret_wins_over_a_secret_it_contains() -> None:
    r = Redactor(["abcd1234", "abcd1234efgh5678"], env=False)
    assert r.redact_text("x abcd1234efgh5678 y") == f"x {REDACTED} y"


def test_regex_metacharacters_in_secrets_are_literal() -> None:
    r = Redactor(["p@ss.w*rd(1)"], env=False)
    assert r.redact_text("pw=p@ss.w*rd(1);") == f"pw={REDACTED};"
    assert r.redact_text("pXssXwwrd1") == "pXssXwwrd1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={OPENAI_KEY}", f"key={REDACTED}"),
        (f"x-api-key: {ANTHROPIC_KEY}", f"x-api-key: {REDACTED}"),
        ("Authorization: Bearer abc123DEF456ghi789", f"Authorization: Bearer {REDACTED}"),
        ("id AKIAIOSFODNN7EXAMPLE here", f"id {REDACTED} here"),
        (f"token {GITHUB_TOKEN}.", f"token {REDACTED}."),
        (f"jwt {JWT}", f"jwt {REDACTED}"),
        ("postgresql://app:s3cr3t@db:5432/x", f"postgresql://{REDACTED}@db:5432/x"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAKCA\n-----END RSA PRIVATE KEY-----",
            REDACTED,
        ),
        ("xoxb-123456789012-abcdefghij", REDACTED),
    ],
)
def test_default_patterns(text: str, expected: str) -> None:
    assert Redactor(env=False).redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "use sk-learn-compatible-estimators here",
        "bearer bonds and bearer securities",
        "https://example.com/path@v2",
        "the task-management system",
        "ask-1234567890abcdefghijklmn and XAKIAIOSFODNN7EXAMPLE",
        "max_tokens=4096 and input_tokens=12",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    r = Redactor(env=False)
    assert r.redact_text(text) is text


def test_custom_patterns_replace_the_defaults() -> None:
    r = Redactor(env=False, patterns=[r"ACME-\d{6}"])
    assert r.redact_text(f"ACME-123456 {OPENAI_KEY}") == f"{REDACTED} {OPENAI_KEY}"
    assert Redactor(env=False, patterns=()).redact_text(OPENAI_KEY) == OPENAI_KEY


def test_custom_pattern_with_a_secret_group_keeps_its_context() -> None:
    r = Redactor(
        env=False, patterns=[SecretPattern(r"pin=(?P<secret>\d{4,})", ("pin=",)), r"zz\d+"]
    )
    assert r.redact_text("card pin=123456 zz99") == f"card pin={REDACTED} {REDACTED}"
    assert r.redact_text("zz") == "zz"


def test_redact_event_walks_nested_values_and_copies_only_when_needed() -> None:
    r = Redactor(["s3cret-value"], env=False)
    untouched = {"list": [1, 2, {"deep": "ok"}]}
    event = ToolCallStarted(
        run_id="r1",
        tool="http_get",
        call_id="c1",
        idempotency_key="k1",
        arguments={
            "url": "https://api.example.com",
            "headers": {"Authorization": "Basic dXNlcjpwYXNz", "X-Other": "s3cret-value"},
            "items": ["fine", ("tuple", "s3cret-value"), {"api_key": "short"}],
            "plain": untouched,
        },
    )
    out = r.redact_event(event)
    assert out is not event
    args = out.arguments
    assert args["headers"] == {"Authorization": REDACTED, "X-Other": REDACTED}
    assert args["items"] == ["fine", ("tuple", REDACTED), {"api_key": REDACTED}]
    assert args["plain"] is untouched  # unchanged branches are shared, not copied
    assert args["url"] == "https://api.example.com"
    assert event.arguments["headers"]["X-Other"] == "s3cret-value"  # the input is not mutated


def test_redact_event_returns_the_same_object_when_clean() -> None:
    r = Redactor(env=False)
    event = StepStarted(run_id="r1", step_id="s1", agent="writer", instruction="write it")
    assert r.redact_event(event) is event


def test_redact_event_covers_top_level_strings() -> None:
    r = Redactor(env=False)
    finished = RunFinished(run_id="r1", status="failed", error=f"401 for key {OPENAI_KEY}")
    assert r.redact_event(finished).error == f"401 for key {REDACTED}"
    approval = ApprovalRequested(
        run_id="r1", request_id="a", reason=f"uses {GITHUB_TOKEN}", arguments={"password": "x1"}
    )
    out = r.redact_event(approval)
    assert out.reason == f"uses {REDACTED}"
    assert out.arguments == {"password": REDACTED}


def test_key_based_redaction_can_be_turned_off() -> None:
    r = Redactor(env=False, redact_secret_keys=False)
    assert r.redact_value({"password": "hunter22"}) == {"password": "hunter22"}


def test_invalid_custom_pattern_fails_at_construction() -> None:
    with pytest.raises(ConfigError, match="invalid redaction pattern"):
        Redactor(env=False, patterns=["(unclosed"])


def test_a_long_clean_text_is_remembered_until_a_secret_is_added() -> None:
    redactor = Redactor(env=False)
    text = "The vendor met its targets. " * 400 + "token-abcdef123456"
    assert redactor.redact_text(text) is text  # clean, and remembered as clean
    assert redactor.redact_text(text) is text
    redactor.add("token-abcdef123456")  # what was clean may not be any more
    assert redactor.redact_text(text).endswith("[REDACTED]")


def test_the_memory_of_clean_texts_is_bounded() -> None:
    redactor = Redactor(env=False)
    for i in range(40):
        redactor.redact_text(f"{i} " + "x" * 60_000)
    assert redactor._clean_chars <= 1_100_000
