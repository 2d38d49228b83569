"""Encryption of everything a run puts in Temporal's history (prompts, answers, tool arguments).

Temporal records every workflow and activity input and result in the run's history, on the
Temporal service. agentorch's codec encrypts each payload with AES-256-GCM before it leaves the
process, so the service (self-hosted or Temporal Cloud) stores only ciphertext, as the embedded
engine's store holds only redacted content. Error messages and stack traces are encrypted too.

The key, first found wins: ``$AGENTORCH_TEMPORAL_KEY`` (keys separated by commas), else the file
``$AGENTORCH_TEMPORAL_KEY_FILE``, else ``$XDG_CONFIG_HOME/agentorch/temporal.key``
(``~/.config/...``; one key a line). The first key encrypts; every listed key decrypts, so keys
rotate without stopping runs. Each payload names its key by an id derived from the key (never the
key itself). With no key, agentorch refuses to run on Temporal unless
``AGENTORCH_TEMPORAL_PLAINTEXT=1`` says plaintext history is wanted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError as exc:  # pragma: no cover - the temporal extra brings it
    from agentorch.errors import MissingDependencyError

    raise MissingDependencyError(
        "encrypting runs on Temporal needs the cryptography package",
        hint="pip install 'agentorch[temporal]'",
    ) from exc
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from agentorch.errors import ConfigError
from agentorch.store._keys import config_key_file

ENV_KEY = "AGENTORCH_TEMPORAL_KEY"
ENV_FILE = "AGENTORCH_TEMPORAL_KEY_FILE"
ENV_PLAINTEXT = "AGENTORCH_TEMPORAL_PLAINTEXT"
#: Temporal's convention for encrypted payloads (its samples, codec servers and UI use it).
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
#: The shortest key accepted: 32 characters (``openssl rand -hex 32`` gives 64).
MIN_KEY_CHARS = 32
_NONCE = 12
#: How every error about a payload this process cannot decrypt begins.
MARK = "cannot decrypt a Temporal payload"
KEY_HINT = (
    f"give every worker and client the same {ENV_KEY} (or key file); make one with "
    "`openssl rand -hex 32`"
)

log = logging.getLogger("agentorch.temporal")


class KeyMismatchError(Exception):
    """A payload this process cannot decrypt: encrypted with a key it does not have, or altered.

    Not an ``ApplicationError``: a worker without the key fails the workflow task, which Temporal
    retries, so the run waits for a worker that has it instead of failing.
    """


def key_file() -> Path:
    """The key file this process reads (when ``$AGENTORCH_TEMPORAL_KEY`` is not set)."""
    return config_key_file(ENV_FILE, "temporal.key")


def load_keys() -> list[str]:
    """The configured keys, current first (``[]``: none configured).

    Raises:
        ConfigError: the key file cannot be read, or a key is too short.
    """
    value = os.environ.get(ENV_KEY)
    if value:
        return _checked(value.split(","), ENV_KEY)
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if os.environ.get(ENV_FILE):
            raise ConfigError(
                f"the Temporal key file {path} does not exist", hint=KEY_HINT
            ) from None
        return []
    except OSError as exc:
        raise ConfigError(
            f"cannot read the Temporal key file {path}: {exc.strerror or exc}",
            hint=f"fix its permissions, or set {ENV_KEY}",
        ) from None
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    keys = _checked(lines, str(path))
    if not keys:
        raise ConfigError(f"the Temporal key file {path} holds no key", hint=KEY_HINT)
    return keys


def _checked(values: Iterable[str], where: str) -> list[str]:
    keys = [v.strip() for v in values if v.strip()]
    for number, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_CHARS:
            raise ConfigError(
                f"Temporal key {number} in {where} is too short ({len(key)} characters, "
                f"at least {MIN_KEY_CHARS})",
                hint="use 32 random bytes in hex: `openssl rand -hex 32`",
            )
    return keys


def plaintext_allowed() -> bool:
    """Whether ``$AGENTORCH_TEMPORAL_PLAINTEXT`` opts out of encryption."""
    return os.environ.get(ENV_PLAINTEXT, "").strip().lower() in {"1", "true", "yes"}


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each serialized payload, the nonce first; metadata names the key by id.

    ``keys``: the current key first, then older ones still accepted when decrypting. With no
    keys, payloads pass unencrypted and an encrypted one is refused with a clear error.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._ciphers = {
            key_id(k): AESGCM(_derive(k, b"agentorch temporal payloads v1")) for k in keys
        }
        self.current = key_id(keys[0]) if keys else None

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self.current is None:
            return list(payloads)
        cipher = self._ciphers[self.current]
        out = []
        for payload in payloads:
            nonce = os.urandom(_NONCE)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), self.current.encode())
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: self.current.encode()},
                    data=nonce + sealed,
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(p) for p in payloads]

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on (or by a plaintext client)
        kid = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise KeyMismatchError(self.mismatch(kid))
        try:
            plain = cipher.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], kid.encode())
        except InvalidTag:
            raise KeyMismatchError(
                f"{MARK} (key id {kid}): it fails its integrity check (altered, or made with "
                "another key of the same id)"
            ) from None
        return Payload.FromString(plain)

    def mismatch(self, kid: str) -> str:
        """The one-line reason a payload with key id ``kid`` cannot be read here."""
        if self.current is None:
            return f"{MARK} (key id {kid}): no key is configured here"
        return f"{MARK}: it is encrypted with key id {kid}, this process has {self.describe()}"

    def describe(self) -> str:
        """This codec's keys by id, for error messages."""
        return f"key id(s) {', '.join(self.key_ids)}" if self.key_ids else "no key"


def key_id(key: str) -> str:
    """A key's public name in payload metadata: derived from it, revealing nothing of it."""
    return _derive(key, b"agentorch temporal key id")[:8].hex()


def _derive(key: str, purpose: bytes) -> bytes:
    """32 bytes for ``purpose`` from a key (HKDF-SHA256), so any long random text is a key."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(key.encode())


def default_codec(*, plaintext: bool = False) -> EncryptionCodec:
    """The codec from the configured keys; with none, refuse unless plaintext is chosen.

    Raises:
        ConfigError: no key is configured and neither ``plaintext`` nor
            ``$AGENTORCH_TEMPORAL_PLAINTEXT`` allows plaintext history, or a key is unusable.
    """
    keys = load_keys()
    if keys:
        return EncryptionCodec(keys)
    if plaintext or plaintext_allowed():
        log.warning(
            "Temporal history is NOT encrypted: prompts, answers and tool arguments are stored "
            "in plaintext on the Temporal service (%s is set)",
            ENV_PLAINTEXT if not plaintext else "Temporal(plaintext=True)",
        )
        return EncryptionCodec([])
    raise ConfigError(
        "runs on Temporal are encrypted, and no key is configured "
        f"({ENV_KEY}, {ENV_FILE} or {key_file()})",
        hint=f"{KEY_HINT}; or set {ENV_PLAINTEXT}=1 to keep plaintext history",
    )


def data_converter(codec: PayloadCodec) -> DataConverter:
    """agentorch's converter (pydantic JSON) with ``codec`` on every payload and failure."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def undecryptable(codec: PayloadCodec, failure: Failure) -> str | None:
    """Why a worker failed a workflow task, when the reason is a payload it could not decrypt
    (``None``: another reason). The failure's text is itself encrypted, with the worker's key."""
    attrs = failure.encoded_attributes
    message = failure.message
    if attrs.metadata.get("encoding") == ENCODING and isinstance(codec, EncryptionCodec):
        kid = attrs.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        if kid not in codec.key_ids:
            return f"its workers encrypt with key id {kid}, this process has {codec.describe()}"
    if attrs.data:
        try:
            (plain,) = await codec.decode([attrs])
            message = str(json.loads(plain.data).get("message", ""))
        except (KeyMismatchError, ValueError, AttributeError):
            return None
    return message if message.startswith(MARK) else None


class _OneLine(logging.Filter):
    """A key error in a worker's log: one line with the remedy, not the SDK's traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None and not isinstance(exc, KeyMismatchError):
            exc = exc.__cause__ or exc.__context__
        if exc is not None:
            record.msg = f"{record.getMessage()}: {exc} ({KEY_HINT})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


_ONE_LINE = _OneLine()


def quiet_key_errors() -> None:
    """Log key errors of this process's workers as one line each (idempotent)."""
    for name in ("temporalio.worker._workflow", "temporalio.activity"):
        logger = logging.getLogger(name)
        if _ONE_LINE not in logger.filters:
            logger.addFilter(_ONE_LINE)
