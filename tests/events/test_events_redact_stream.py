"""Streamed text is redacted over a window that spans chunk boundaries: a secret split across
deltas never reaches a subscriber, whatever the split."""

from __future__ import annotations

import pytest

from agentorch.events import REDACTED, Redactor
from agentorch.events.redact import StreamRedactor

ENV_SECRET = "hunter2-Corp-Vault-77"

#: One example of every kind of secret the redactor knows: by value and by each default shape.
KINDS: dict[str, tuple[str, str]] = {
    "env value": (ENV_SECRET, ENV_SECRET),
    "openai": (
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    ),
    "bearer": ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789"),
    "aws": ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "github": (
        "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    ),
    "github pat": (
        "github_pat_11ABCDEFG0123456789abcdefXYZ",
        "github_pat_11ABCDEFG0123456789abcdefXYZ",
    ),
    "gitlab": ("glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789"),
    "slack": ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    "google": (
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    ),
    "jwt": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "private key": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
        "-----END RSA PRIVATE KEY-----",
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
    ),
    "url password": ("postgresql://admin:Sup3rS3cretPw@db.internal:5432/x", "Sup3rS3cretPw"),
}


def redactor() -> Redactor:
    return Redactor([ENV_SECRET], env=False)


def stream(chunks: list[str], r: Redactor | None = None) -> str:
    window = StreamRedactor(r or redactor())
    out = [window.feed(chunk) for chunk in chunks]
    out.append(window.flush())
    return "".join(out)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_secret_split_at_every_position_is_redacted(kind: str) -> None:
    secret_text, core = KINDS[kind]
    text = f"Here is the value: {secret_text} and the rest of the answer.\n"
    r = redactor()
    assert core not in r.redact_text(text)  # the whole text is redacted, as a reference
    start = text.index(secret_text)
    for cut in range(start, start + len(secret_text) + 1):
        joined = stream([text[:cut], text[cut:]], r)
        assert core not in joined, (kind, cut)
        assert REDACTED in joined
        assert joined == r.redact_text(text), (kind, cut)
    one_by_one = stream(list(text), r)
    assert core not in one_by_one and one_by_one == r.redact_text(text)
    three = stream([text[i : i + 3] for i in range(0, len(text), 3)], r)
    assert core not in three and three == r.redact_text(text)


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_emitted_piece_holds_part_of_a_secret(kind: str) -> None:
    """Every piece a subscriber sees is final: no prefix of a secret is shown while it arrives."""
    secret_text, core = KINDS[kind]
    text = f"value {secret_text} end"
    window = StreamRedactor(redactor())
    shown = ""
    for ch in text:
        shown += window.feed(ch)
        assert core[: max(6, len(core) // 2)] not in shown
    shown += window.flush()
    assert core not in shown


def test_clean_text_streams_through_with_little_delay() -> None:
    window = StreamRedactor(redactor())
    words = "The supplier shall deliver monthly reports within ten days. " * 5
    pieces = [w + " " for w in words.split()]
    shown = "".join(window.feed(piece) for piece in pieces)
    assert len(words) - len(shown) < 20  # only a short tail waits for the next chunk
    assert shown + window.flush() == "".join(pieces)


async def test_a_streamed_secret_never_reaches_events_or_the_live_view() -> None:
    """End to end: a model streams a secret in small chunks; no event and no frame shows it."""
    from collections.abc import AsyncIterator
    from io import StringIO

    from rich.console import Console

    from agentorch import Agent, Budget, Plan, ScriptedModel, Step, Supervisor
    from agentorch.cli.view import LiveView
    from agentorch.events.types import BaseEvent
    from agentorch.models.types import ModelRequest, ResponseDone, StreamChunk, TextDelta

    key = KINDS["openai"][0]
    answer = f"The key you asked for is {key}; keep it safe.\nSecond line."

    class ChunkedModel(ScriptedModel):
        async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
            response = await self.request(request)
            for i in range(0, len(response.text or ""), 5):
                yield TextDelta(text=(response.text or "")[i : i + 5])
            yield ResponseDone(response=response)

    class Talker(Agent):
        name = "talker"
        description = "Talks."

    console = Console(file=StringIO(), width=200, force_terminal=True)
    view = LiveView(console)
    frames: list[str] = []
    events: list[BaseEvent] = []

    def watch(event: BaseEvent) -> None:
        events.append(event)
        view(event)
        if event.kind == "text_delta":
            frame = Console(file=StringIO(), width=200)
            frame.print(view.render())
            frames.append(frame.file.getvalue())  # type: ignore[attr-defined]

    supervisor = Supervisor(
        [Talker(model=ChunkedModel([answer]))],
        budget=Budget(allow_unpriced=True),
        plan=Plan(steps=[Step(id="s", agent="talker", instruction="talk")], final_step="s"),
        on_event=watch,
    )
    supervisor.stream_text = True
    await supervisor.run("talk")
    deltas = "".join(e.text for e in events if e.kind == "text_delta")  # type: ignore[attr-defined]
    assert deltas == answer.replace(key, REDACTED)
    assert frames and not any(key[:12] in frame for frame in frames)
    assert any(REDACTED in frame for frame in frames)


def test_the_live_view_redacts_the_joined_stream() -> None:
    """Deltas redacted one by one (as any other subscriber gets them) are redacted again joined."""
    from io import StringIO

    from rich.console import Console

    from agentorch.cli.view import LiveView
    from agentorch.events.types import StepStarted, TextDeltaEvent

    key = KINDS["github"][0]
    view = LiveView(Console(file=StringIO(), width=200, force_terminal=True))
    view.redactor = redactor()
    view(StepStarted(step_id="s", agent="a", instruction="x"))
    for piece in ("token: ", key[:10], key[10:25], key[25:], " done"):
        view(TextDeltaEvent(agent="a", step_id="s", text=piece))
    frame = Console(file=StringIO(), width=200)
    frame.print(view.render())
    shown = frame.file.getvalue()  # type: ignore[attr-defined]
    assert key[:10] not in shown and f"token: {REDACTED} done" in shown
