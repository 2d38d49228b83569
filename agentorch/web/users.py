"""The review inbox's people: local users with scrypt-hashed passwords, API tokens, and roles.

Kept in one JSON file (``agentorch users`` manages it; mode 0600, replaced atomically): names,
roles, password hashes, the SHA-256 of each API token, and the key that signs session cookies.
No password or token is ever stored in clear.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentorch.errors import ConfigError, UserError

Role = Literal["viewer", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "reviewer", "admin")
#: Where the users file is when neither ``--users`` nor ``$AGENTORCH_USERS`` names one.
DEFAULT_USERS_FILE = "agentorch-users.json"
#: scrypt's cost (n=2**14, r=8: 16 MiB and ~50 ms a check): OWASP's minimum for scrypt.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
#: API tokens start with this, so a leaked one is recognisable (and the redactor's shapes see it).
TOKEN_PREFIX = "aotk_"


def resolve_users_file(path: str | os.PathLike[str] | None) -> Path:
    return Path(path or os.environ.get("AGENTORCH_USERS") or DEFAULT_USERS_FILE)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex): the stdlib's memory-hard password hash."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 2**20, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class User:
    name: str
    role: Role
    password: str = ""  # the scrypt hash; empty: token-only
    tokens: list[str] = field(default_factory=list)  # SHA-256 digests
    #: Raised when the password changes or the user is removed and re-added: old sessions end.
    generation: int = 0

    def may(self, role: Role) -> bool:
        """Whether this user holds ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


class UserBook:
    """The users file, re-read when it changes on disk (``agentorch users`` in another terminal)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}
        self._secret = ""
        self._load()

    # --- reading ---------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._users, self._secret, self._stamp = {}, "", None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            users = {
                name: User(
                    name=name,
                    role=raw["role"],
                    password=raw.get("password", ""),
                    tokens=list(raw.get("tokens", [])),
                    generation=int(raw.get("generation", 0)),
                )
                for name, raw in data.get("users", {}).items()
            }
            secret = str(data.get("secret", ""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"cannot read the users file {self.path}: {exc}",
                hint="recreate it with: agentorch users add NAME --role admin",
            ) from None
        bad = [u.name for u in users.values() if u.role not in ROLES]
        if bad:
            raise ConfigError(
                f"users file {self.path}: unknown role for {', '.join(bad)}",
                hint=f"roles: {', '.join(ROLES)}",
            )
        self._users, self._secret, self._stamp = users, secret, stamp

    def refresh(self) -> None:
        with self._lock:
            self._load()

    def users(self) -> list[User]:
        self.refresh()
        return sorted(self._users.values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        self.refresh()
        return self._users.get(name)

    @property
    def secret(self) -> str:
        """The key that signs session cookies (created with the file)."""
        self.refresh()
        return self._secret

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.get(name)
        if user is None or not user.password:
            check_password(password, _DUMMY_HASH)  # the same time whether or not the name exists
            return None
        return user if check_password(password, user.password) else None

    def by_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        for user in self.users():
            if any(hmac.compare_digest(digest, t) for t in user.tokens):
                return user
        return None

    # --- changing (``agentorch users``) ----------------------------------------------------------

    def add(self, name: str, role: str, password: str | None) -> User:
        """Add a user, or change an existing one's role and password."""
        if not _NAME.match(name):
            raise UserError(
                f"bad user name {name!r}",
                hint="letters, digits and . _ @ - (at most 64), starting with a letter or digit",
            )
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}", hint=f"one of: {', '.join(ROLES)}")
        if password is not None and len(password) < MIN_PASSWORD:
            raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
        with self._lock:
            self._load()
            old = self._users.get(name)
            user = User(
                name=name,
                role=role,
                password=hash_password(password) if password is not None else "",
                tokens=list(old.tokens) if old else [],
                generation=(old.generation + 1) if old else 0,
            )
            if old is not None and password is None:
                user.password = old.password
            self._users[name] = user
            self._save()
        return user

    def remove(self, name: str) -> None:
        with self._lock:
            self._load()
            if name not in self._users:
                raise UserError(f"no user {name!r}", hint="agentorch users list")
            del self._users[name]
            self._save()

    def new_token(self, name: str) -> str:
        """A new API token for ``name`` (shown once; only its digest is kept)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self._load()
            user = self._users.get(name)
            if user is None:
                raise UserError(f"no user {name!r}", hint="agentorch users add NAME --role ROLE")
            user.tokens.append(token_digest(token))
            self._save()
        return token

    def revoke_tokens(self, name: str) -> int:
        with self._lock:
            self._load()
            user = self._users.get(name)
            if user is None:
                raise UserError(f"no user {name!r}", hint="agentorch users list")
            count = len(user.tokens)
            user.tokens = []
            self._save()
        return count

    def _save(self) -> None:
        data: dict[str, Any] = {
            "secret": self._secret or secrets.token_urlsafe(48),
            "users": {
                u.name: {
                    "role": u.role,
                    "password": u.password,
                    "tokens": u.tokens,
                    "generation": u.generation,
                }
                for u in sorted(self._users.values(), key=lambda u: u.name)
            },
        }
        folder = self.path.resolve().parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._stamp = None
        self._load()


_DUMMY_HASH = hash_password("agentorch-no-such-user", salt=b"\0" * 16)
