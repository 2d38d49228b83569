"""Secret redaction: API keys, tokens and passwords never leave the process in an event.

Every event goes through ``Redactor.redact_event`` before any subscriber sees it (the store, JSONL,
OpenTelemetry, logs, user callbacks). A secret is found three ways:

- by value: values of secret-looking environment variables (``*_API_KEY``, ``*_TOKEN``,
  ``*SECRET*``, ``*PASSWORD*``, ``AUTHORIZATION``, ...) and values added with ``add()`` (the runtime
  adds tool arguments marked secret and the API keys of configured models);
- by shape: regexes for common key formats (``sk-...``, ``Bearer ...``, ``AKIA...``, ``ghp_...``,
  JWTs, private keys, passwords in URLs), each run only when a literal it needs is present;
- by name: a string stored under a secret-looking dict key (``"api_key": ...``).

Streamed text (a model's deltas) goes through a ``StreamRedactor``: it holds back only the tail
that could still become a secret when the next chunk arrives, so a secret split across chunks is
caught like one in a single string.

Clean text, the common case, costs a few substring tests (``in``), and short clean strings
(ids, names) are remembered. One alternation regex of all secrets and shapes was measured
slower: Python's regex engine cannot skip ahead on it and tries every branch at every position.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

import regex
from pydantic import BaseModel

from agentorch.errors import ConfigError

REDACTED = "[REDACTED]"

#: Environment variable (and dict key) names whose values are secrets.
SECRET_NAME = re.compile(
    r"(api_?key|secret|passw(or)?d|authorization|private_?key|access_?key|"
    r"(^|_)(auth_?)?token($|_)|(^|_)pat$|session_?key|cookie)",
    re.IGNORECASE,
)


class SecretPattern(NamedTuple):
    """A secret's shape: a regex, and literals one of which is in every match (a cheap
    pre-check). When the regex has a ``secret`` group only that group is replaced, so context
    like ``Bearer`` or ``postgresql://`` stays readable."""

    regex: str
    triggers: tuple[str, ...] = ()


# Each regex starts with a literal, so the engine can skip ahead fast (a leading \b or
# lookbehind would make it try every position); word-boundary checks come after the literal.
DEFAULT_PATTERNS: tuple[SecretPattern, ...] = (
    # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-); a digit keeps "sk-learn-style-words" out.
    SecretPattern(r"sk-(?<![A-Za-z0-9_]sk-)(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{20,}", ("sk-",)),
    SecretPattern(  # HTTP bearer tokens
        r"earer (?<=[Bb]earer )(?P<secret>(?=\S*\d)[A-Za-z0-9\-._~+/]{8,}=*)", ("earer ",)
    ),
    SecretPattern(r"A[KS]IA(?<![A-Za-z0-9]A[KS]IA)[0-9A-Z]{16}\b", ("AKIA", "ASIA")),  # AWS
    SecretPattern(  # GitHub tokens
        r"gh[pousr]_(?<![A-Za-z0-9]gh[pousr]_)[A-Za-z0-9]{30,}\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    SecretPattern(r"github_pat_[A-Za-z0-9_]{22,}", ("github_pat_",)),
    SecretPattern(r"glpat-[A-Za-z0-9_\-]{20,}", ("glpat-",)),  # GitLab
    SecretPattern(r"xox[abposr]-[A-Za-z0-9\-]{10,}", ("xox",)),  # Slack
    SecretPattern(r"AIza[0-9A-Za-z_\-]{35}\b", ("AIza",)),  # Google API keys
    SecretPattern(  # JWTs
        r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+", ("eyJ",)
    ),
    SecretPattern(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        ("PRIVATE KEY-----",),
    ),
    SecretPattern(r"://(?P<secret>[^\s:/@]+:[^\s/@]+)@", ("://",)),  # user:password in URLs
)

#: Strings found clean are remembered (ids and names repeat in every event; a model's answer is
#: written again as a step's output and the run's): up to this many, this long, this much in all.
_CLEAN_CACHE_MAX_LEN = 65_536
_CLEAN_CACHE_SIZE = 4096
_CLEAN_CACHE_CHARS = 1_000_000

#: Secret values shorter than this are ignored: redacting them would mangle ordinary text.
MIN_ENV_SECRET_LENGTH = 8
MIN_SECRET_LENGTH = 4

_E = TypeVar("_E", bound=BaseModel)
_SCALARS = frozenset({bool, int, float})

_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "0", "1", "yes", "no"})


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a variable or dict key name says its value is a secret."""
    return SECRET_NAME.search(name) is not None


@lru_cache(maxsize=4096)
def _secret_key(name: str) -> bool:
    """``is_secret_name`` for dict keys, remembered (a run writes the same few keys often)."""
    return is_secret_name(name)


def secrets_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables (at least 8 characters long)."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    for name, value in env.items():
        value = value.strip()
        if len(value) >= MIN_ENV_SECRET_LENGTH and is_secret_name(name):
            found.append(value)
    return found


class _Compiled(NamedTuple):
    rx: re.Pattern[str]
    triggers: tuple[str, ...]
    repl: Any  # str or a function of the match
    #: The same regex for partial matching (``regex``), or None when it does not compile there.
    partial: Any


def _keep_context(m: re.Match[str]) -> str:
    whole, start = m.group(0), m.start()
    return whole[: m.start("secret") - start] + REDACTED + whole[m.end("secret") - start :]


_LOOKAHEAD = re.compile(r"\(\?=[^()]*\)")


def _compile(pattern: str | re.Pattern[str] | SecretPattern) -> _Compiled:
    if isinstance(pattern, SecretPattern):
        source, triggers = pattern.regex, pattern.triggers
    else:
        source, triggers = (pattern if isinstance(pattern, str) else pattern.pattern), ()
    try:
        rx = re.compile(source)
    except re.error as exc:
        raise ConfigError(f"invalid redaction pattern {source!r}: {exc}") from exc
    try:
        # Lookaheads are dropped for partial matching: one cannot say "maybe" at the end of a
        # chunk, so it would reject a secret still arriving. Looser only means a longer wait.
        partial: Any = regex.compile(_LOOKAHEAD.sub("", source))
    except regex.error:
        partial = None
    repl = _keep_context if "secret" in rx.groupindex else REDACTED
    return _Compiled(rx, triggers, repl, partial)


#: How much of a stream's tail waits when a custom pattern cannot be partially matched.
_UNKNOWN_HOLD = 256
#: Characters kept before a possible secret for the patterns' lookbehinds (``Bearer ``).
_CONTEXT = 8


class Redactor:
    """Replaces secrets in text and events with ``[REDACTED]``.

    Args:
        secrets: Secret values to redact wherever they appear.
        env: Also collect values of secret-looking environment variables (once, now).
        patterns: Secret shapes: regexes (the whole match is replaced, or only a group named
            ``secret``), or ``SecretPattern`` with literals that every match contains.
        redact_secret_keys: Also redact any string stored under a secret-looking dict key.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        env: bool = True,
        patterns: Iterable[str | re.Pattern[str] | SecretPattern] = DEFAULT_PATTERNS,
        redact_secret_keys: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._patterns = tuple(_compile(p) for p in patterns)
        self.redact_secret_keys = redact_secret_keys
        #: Known secret values, longest first (one containing another is replaced whole).
        self._secrets: tuple[str, ...] = ()
        self._min_len = 0
        # Recently seen strings without secrets, and their total length (``_CLEAN_CACHE_*``).
        self._clean: dict[str, None] = {}
        self._clean_chars = 0
        values = list(secrets)
        if env:
            values.extend(secrets_from_env())
        self.add(*values)
        self._reset()

    @property
    def secret_count(self) -> int:
        """How many distinct secret values are known (not counting patterns)."""
        return len(self._secrets)

    def add(self, *values: str | None) -> None:
        """Add secret values (e.g. a model's API key or a secret tool argument).

        Values shorter than 4 characters or that are plain words like ``true`` are ignored.
        """
        new = {
            v.strip()
            for v in values
            if isinstance(v, str)
            and len(v.strip()) >= MIN_SECRET_LENGTH
            and v.strip().lower() not in _NOT_SECRET_VALUES
        }
        with self._lock:
            if new <= set(self._secrets):
                return
            self._secrets = tuple(sorted(new.union(self._secrets), key=len, reverse=True))
            self._reset()

    def add_from_env(self, environ: Mapping[str, str] | None = None) -> None:
        """Collect secret-looking environment variables again (after the environment changed)."""
        self.add(*secrets_from_env(environ))

    def _reset(self) -> None:
        # The shortest string worth scanning: no custom pattern -> the shortest default match.
        custom = any(not p.triggers for p in self._patterns)
        lengths = [len(s) for s in self._secrets]
        if self._patterns:
            lengths.append(1 if custom else 7)  # "://a:b@"
        self._min_len = min(lengths) if lengths else 1 << 30
        self._clean = {}
        self._clean_chars = 0

    def redact_text(self, text: str) -> str:
        """``text`` with every secret replaced; the same object when nothing matched."""
        if len(text) < self._min_len or text in self._clean:
            return text
        original = text
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in self._patterns:
            if pattern.triggers:
                for trigger in pattern.triggers:
                    if trigger in text:
                        break
                else:
                    continue
            text = pattern.rx.sub(pattern.repl, text)
        if text == original:
            size = len(text)
            if size <= _CLEAN_CACHE_MAX_LEN:
                if len(self._clean) >= _CLEAN_CACHE_SIZE or self._clean_chars > _CLEAN_CACHE_CHARS:
                    self._clean.clear()
                    self._clean_chars = 0
                self._clean[text] = None
                self._clean_chars += size
            return original
        return text

    def hold_from(self, text: str) -> int:
        """Where the part of ``text`` that could still grow into a secret begins.

        That is the start of a known secret's prefix at the end, or of a match of a shape that
        is partial or could extend, less ``_CONTEXT`` characters that lookbehinds read; a match
        that straddles the point moves it back before its start. The last ``_CONTEXT``
        characters always wait, since the next chunk may start a match that looks back at them.
        """
        end = len(text)
        hold = end
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            for k in range(min(len(secret) - 1, end), 0, -1):
                if text.endswith(secret[:k]):
                    hold = min(hold, end - k)
                    break
            at = text.find(secret)
            while at != -1:
                spans.append((at, at + len(secret)))
                at = text.find(secret, at + 1)
        for pattern in self._patterns:
            if pattern.partial is None:
                hold = min(hold, end - _UNKNOWN_HOLD)
                continue
            for m in pattern.partial.finditer(text, partial=True):
                if m.end() < end:
                    spans.append(m.span())
                elif m.start() < end:
                    hold = min(hold, m.start())
        hold = max(0, hold - _CONTEXT)
        moved = True
        while moved and hold:
            moved = False
            for start, stop in spans:
                if start - _CONTEXT < hold < stop:
                    hold, moved = max(0, start - _CONTEXT), True
        return hold

    def stream(self) -> StreamRedactor:
        """A redactor for one stream of text chunks (see ``StreamRedactor``)."""
        return StreamRedactor(self)

    def redact_value(self, value: Any) -> Any:
        """Redact strings inside ``value`` (nested dicts, lists, tuples); same object if clean."""
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return self.redact_text(value)
        if kind is dict:
            return self._walk_dict(value)
        if value is None or kind in _SCALARS:
            return value
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return self._walk_dict(value)
        if isinstance(value, list | tuple):
            items: list[Any] | None = None
            for i, item in enumerate(value):
                if item is None or type(item) in _SCALARS:
                    continue
                new = self._walk(item)
                if new is not item:
                    if items is None:
                        items = list(value)
                    items[i] = new
            if items is None:
                return value
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, BaseModel):
            return self.redact_event(value)
        return value

    def _walk_dict(self, value: dict[Any, Any]) -> dict[Any, Any]:
        # Runs on everything a durable run writes: scalars are skipped without a call, and a
        # key's name is tested once per distinct key (``_secret_key``).
        changed: dict[Any, Any] | None = None
        by_name = self.redact_secret_keys
        for key, item in value.items():
            kind = type(item)
            if item is None or kind in _SCALARS:
                continue
            if (
                by_name
                and (kind is str or isinstance(item, str))
                and item
                and item != REDACTED
                and isinstance(key, str)
                and _secret_key(key)
            ):
                new: Any = REDACTED
            elif kind is str:
                new = self.redact_text(item)
            else:
                new = self._walk(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed

    def redact_event(self, event: _E) -> _E:
        """The event with secrets in its string fields replaced; the same object if clean.

        Only changed fields are copied (a shallow ``model_copy``); the input is never mutated.
        """
        update: dict[str, Any] | None = None
        for name, value in event.__dict__.items():  # pydantic keeps field values here
            kind = type(value)
            if kind is str:
                new = self.redact_text(value)
            elif value is None or kind in _SCALARS:
                continue
            else:
                new = self._walk(value)
            if new is not value:
                if update is None:
                    update = {}
                update[name] = new
        if update is None:
            return event
        return event.model_copy(update=update)


class StreamRedactor:
    """Redacts one stream of text chunks so a secret split across chunks is still caught.

    ``feed`` returns the part of the text so far that no later chunk can turn into a secret,
    redacted; the rest waits for the next chunk. ``flush`` returns what is left at the end.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._pending = ""

    def feed(self, text: str) -> str:
        buffer = self._pending + text
        cut = self.redactor.hold_from(buffer)
        self._pending = buffer[cut:]
        return self.redactor.redact_text(buffer[:cut]) if cut else ""

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return self.redactor.redact_text(rest) if rest else ""
