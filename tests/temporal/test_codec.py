"""The payload codec on its own: encryption, key ids and rotation, key loading, refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from agentorch.errors import ConfigError
from agentorch.temporal import Temporal
from agentorch.temporal.codec import (
    ENCODING,
    KEY_ID,
    MARK,
    EncryptionCodec,
    KeyMismatchError,
    _OneLine,
    default_codec,
    key_id,
    load_keys,
    undecryptable,
)

OLD = "old-key-" + "0" * 40
NEW = "new-key-" + "1" * 40
SECRET = b'{"prompt": "the bid price is 1,234,567"}'


def _payload(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_payloads_are_encrypted_and_name_their_key_by_id() -> None:
    codec = EncryptionCodec([NEW])
    (sealed,) = await codec.encode([_payload()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID].decode() == key_id(NEW) != NEW
    assert b"1,234,567" not in sealed.SerializeToString() and NEW.encode() not in sealed.data
    (again,) = await codec.encode([_payload()])
    assert again.data != sealed.data  # a fresh nonce per payload
    assert await codec.decode([sealed]) == [_payload()]


async def test_rotation_encrypts_with_the_first_key_and_reads_the_older_ones() -> None:
    (before,) = await EncryptionCodec([OLD]).encode([_payload()])
    rotated = EncryptionCodec([NEW, OLD])
    (after,) = await rotated.encode([_payload()])
    assert after.metadata[KEY_ID].decode() == key_id(NEW)
    assert await rotated.decode([before, after]) == [_payload(), _payload()]
    with pytest.raises(KeyMismatchError) as refused:
        await EncryptionCodec([OLD]).decode([after])
    assert str(refused.value) == (
        f"{MARK}: it is encrypted with key id {key_id(NEW)}, this process has key id(s) "
        f"{key_id(OLD)}"
    )


async def test_an_altered_payload_or_a_plaintext_process_is_refused() -> None:
    codec = EncryptionCodec([NEW])
    (sealed,) = await codec.encode([_payload()])
    altered = Payload()
    altered.CopyFrom(sealed)
    altered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(KeyMismatchError, match="fails its integrity check"):
        await codec.decode([altered])
    with pytest.raises(KeyMismatchError, match="no key is configured here"):
        await EncryptionCodec([]).decode([sealed])
    # unmarked payloads (from before encryption was on) are read as they are
    assert await codec.decode([_payload()]) == [_payload()]
    assert await EncryptionCodec([]).encode([_payload()]) == [_payload()]


def test_keys_come_from_the_environment_then_the_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTORCH_TEMPORAL_KEY", f" {NEW} , {OLD} ")
    assert load_keys() == [NEW, OLD]
    monkeypatch.delenv("AGENTORCH_TEMPORAL_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("AGENTORCH_TEMPORAL_KEY_FILE", raising=False)
    assert load_keys() == []  # no default file
    default = tmp_path / "agentorch" / "temporal.key"
    default.parent.mkdir()
    default.write_text(f"# current first\n{NEW}\n\n{OLD}\n")
    assert load_keys() == [NEW, OLD]
    named = tmp_path / "k"
    monkeypatch.setenv("AGENTORCH_TEMPORAL_KEY_FILE", str(named))
    with pytest.raises(ConfigError, match="does not exist"):
        load_keys()
    named.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="holds no key"):
        load_keys()
    named.write_text("short\n")
    with pytest.raises(ConfigError, match="too short") as short:
        load_keys()
    assert "short" not in str(short.value).replace("too short", "")  # the key is never shown


def test_no_key_refuses_unless_plaintext_is_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AGENTORCH_TEMPORAL_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as refused:
        default_codec()
    assert "no key is configured" in str(refused.value)
    assert "AGENTORCH_TEMPORAL_PLAINTEXT=1" in (refused.value.hint or "")
    with pytest.raises(ConfigError):
        Temporal("127.0.0.1:1").converter()
    with caplog.at_level(logging.WARNING, "agentorch.temporal"):
        assert Temporal("127.0.0.1:1", plaintext=True).converter().payload_codec is not None
        monkeypatch.setenv("AGENTORCH_TEMPORAL_PLAINTEXT", "1")
        assert default_codec().current is None
    assert sum("NOT encrypted" in r.getMessage() for r in caplog.records) == 2


async def test_error_messages_are_encrypted_too_and_a_key_error_is_recognised() -> None:
    from temporalio.exceptions import ApplicationError

    codec = EncryptionCodec([NEW])
    converter = Temporal(codec=codec).converter()
    failure = Failure()
    await converter.encode_failure(ApplicationError("tool failed on 1,234,567"), failure)
    assert b"1,234,567" not in failure.SerializeToString()
    assert await undecryptable(codec, failure) is None  # another reason

    key_failure = Failure()
    await converter.encode_failure(KeyMismatchError(f"{MARK}: no"), key_failure)
    assert await undecryptable(codec, key_failure) == f"{MARK}: no"  # read with our key
    assert await undecryptable(EncryptionCodec([OLD]), key_failure) == (
        f"its workers encrypt with key id {key_id(NEW)}, this process has key id(s) {key_id(OLD)}"
    )
    # a worker that chose plaintext history reports in plaintext
    plain = Failure()
    await (
        Temporal(codec=EncryptionCodec([]))
        .converter()
        .encode_failure(
            KeyMismatchError(f"{MARK} (key id {key_id(NEW)}): no key is configured here"), plain
        )
    )
    assert await undecryptable(codec, plain) == (
        f"{MARK} (key id {key_id(NEW)}): no key is configured here"
    )


def test_a_key_error_in_a_worker_s_log_is_one_line() -> None:
    try:
        raise KeyMismatchError(f"{MARK}: no")
    except KeyMismatchError:
        import sys

        record = logging.LogRecord(
            "temporalio.worker._workflow", logging.ERROR, __file__, 1, "Failed on %s", ("r1",),
            sys.exc_info(),
        )  # fmt: skip
    assert _OneLine().filter(record)
    assert record.exc_info is None
    assert record.getMessage().startswith(f"Failed on r1: {MARK}: no (give every worker")


def test_the_commands_refuse_to_run_on_temporal_without_a_key(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    rfp = str(Path(__file__).resolve().parents[2] / "examples" / "rfp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTORCH_TEMPORAL")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    store = f"sqlite:///{tmp_path}/runs.db"
    for args in (
        ["run", rfp, "--temporal", "127.0.0.1:1", "--approve-all", "--store", store],
        ["worker", rfp, "--temporal", "127.0.0.1:1", "--store", store],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "agentorch", *args],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert done.returncode != 0, done.stdout
        assert "no key is configured" in done.stderr and "Traceback" not in done.stderr
        assert "AGENTORCH_TEMPORAL_PLAINTEXT=1" in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "agentorch", "runs", "--store", store, "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert '"run_id"' not in listed.stdout  # nothing half-started
