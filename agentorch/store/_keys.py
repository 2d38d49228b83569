"""The audit key: a secret that signs (HMAC-SHA256) each run's audit head, so a database writer
without it cannot truncate or rewrite a log unnoticed.

Where it comes from, first found wins: ``$AGENTORCH_AUDIT_KEY`` (the key itself), else the file
``$AGENTORCH_AUDIT_KEY_FILE``, else ``$XDG_CONFIG_HOME/agentorch/audit.key`` (``~/.config/...``).
A process that writes creates the default file (32 random bytes, hex, mode 0600) when there is
none. The key is never stored in the database and never logged.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

from agentorch.errors import StoreError

ENV_KEY = "AGENTORCH_AUDIT_KEY"
ENV_FILE = "AGENTORCH_AUDIT_KEY_FILE"


def config_key_file(env_file: str, name: str) -> Path:
    """A key file: the one ``$env_file`` names, else ``name`` in agentorch's config folder."""
    named = os.environ.get(env_file)
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "agentorch" / name


def key_file() -> Path:
    """The key file this process uses."""
    return config_key_file(ENV_FILE, "audit.key")


def load_key(*, create: bool) -> bytes | None:
    """The audit key, or ``None`` when there is none and ``create`` is false.

    Raises:
        StoreError: the key file cannot be read, or (``create``) cannot be created.
    """
    value = os.environ.get(ENV_KEY)
    if value:
        return value.encode("utf-8")
    path = key_file()
    key = _read(path)
    if key is not None or not create:
        return key
    _create(path)
    return _read(path)


def sign_head(key: bytes, run_id: str, seq: int, head: str) -> str:
    """HMAC-SHA256 (hex) of a run's audit head: its run id, last ``seq`` and last hash."""
    message = f"agentorch-audit-head\n{run_id}\n{seq}\n{head}".encode()
    return hmac.digest(key, message, "sha256").hex()  # OpenSSL's one-shot HMAC


def head_signed(key: bytes, run_id: str, seq: int, head: str, mac: str | None) -> bool:
    return mac is not None and hmac.compare_digest(sign_head(key, run_id, seq, head), mac)


def _read(path: Path) -> bytes | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"cannot read the audit key file {path}: {exc.strerror or exc}",
            hint=f"fix its permissions, or set {ENV_KEY}",
        ) from exc
    if not text:
        raise StoreError(
            f"the audit key file {path} is empty",
            hint=f"delete it (a new key is made) or set {ENV_KEY}",
        )
    return text.encode("utf-8")


def _create(path: Path) -> None:
    """Write a new random key atomically; a key another process created meanwhile is kept."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # the first key made wins
            os.link(tmp, path)
    except OSError as exc:
        raise StoreError(
            f"cannot create the audit key file {path}: {exc.strerror or exc}",
            hint=f"set {ENV_KEY} (the same value on every machine sharing a store) "
            f"or {ENV_FILE} to a writable path",
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
