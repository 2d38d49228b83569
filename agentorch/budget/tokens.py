"""Token counting for budget reservations, offline.

OpenAI models are counted exactly with tiktoken. tiktoken downloads its encodings on first use, so
before loading one we point ``TIKTOKEN_CACHE_DIR`` at the encodings litellm's wheel bundles (found
without importing litellm). Where no tokenizer is available for a model (Anthropic, most litellm
providers) the count is an estimate from the cl100k encoding times a safety margin, so a
reservation errs on the side of too much, never too little.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

    from agentorch.models.types import ModelRequest

#: Multiplier applied to cl100k counts for models whose own tokenizer is not available.
ESTIMATE_MARGIN = 1.25
#: Share added to every counted prompt when a call is reserved: providers wrap messages and tool
#: definitions in formatting a client cannot see, so their count may exceed ours by a few percent.
PROMPT_MARGIN = 0.10
#: Tokens a chat format adds per message and per request (OpenAI's documented overhead).
PER_MESSAGE_OVERHEAD = 4
PER_REQUEST_OVERHEAD = 3


def _bundled_cache_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding | None:
    """The tiktoken encoding ``name``, loaded offline; ``None`` if it cannot be had offline."""
    import tiktoken

    if "TIKTOKEN_CACHE_DIR" not in os.environ and "DATA_GYM_CACHE_DIR" not in os.environ:
        bundled = _bundled_cache_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    try:
        return tiktoken.get_encoding(name)
    except Exception:  # no cached file and no network: fall back to estimating
        return None


def encoding_for_openai_model(model: str) -> str:
    """The tiktoken encoding name an OpenAI model uses (o200k for the 4o/4.1/o-series and later)."""
    import tiktoken.model

    try:
        return tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        legacy = ("gpt-3.5", "gpt-4-", "gpt-4")
        if model.startswith(legacy) and not model.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
            return "cl100k_base"
        return "o200k_base"


def count_text(text: str, encoding: str | None) -> int:
    """Tokens in ``text``: exact with ``encoding``; a margin-padded estimate when ``None``."""
    if not text:
        return 0
    enc = get_encoding(encoding or "cl100k_base")
    if enc is None:
        # ~3 characters per token is a pessimistic ratio for English and code.
        estimate = len(text) // 3 + 1
        return int(estimate * ESTIMATE_MARGIN) + 1
    n = len(enc.encode(text, disallowed_special=()))
    if encoding is None:
        return int(n * ESTIMATE_MARGIN) + 1
    return n


@functools.lru_cache(maxsize=8192)
def _count_part(text: str, encoding: str | None) -> int:
    """``count_text`` remembered: a conversation re-sends its earlier messages on every turn."""
    return count_text(text, encoding)


_SCHEMA_TEXT: dict[int, tuple[object, str]] = {}


def _schema_text(owner: object, schema: dict[str, Any]) -> str:
    """A tool's or output's JSON schema as compact text, built once per schema object."""
    cached = _SCHEMA_TEXT.get(id(owner))
    if cached is not None and cached[0] is owner:
        return cached[1]
    text = json.dumps(schema, separators=(",", ":"))
    if len(_SCHEMA_TEXT) > 4096:
        _SCHEMA_TEXT.clear()
    _SCHEMA_TEXT[id(owner)] = (owner, text)
    return text


def _request_parts(request: ModelRequest) -> list[str]:
    parts: list[str] = []
    for message in request.messages:
        content = getattr(message, "content", None)
        if content:
            parts.append(content)
        for call in getattr(message, "tool_calls", ()):
            parts.append(call.name)
            parts.append(call.raw_arguments or json.dumps(call.arguments))
        name = getattr(message, "name", None)
        if name:
            parts.append(name)
    for tool in request.tools:
        parts.append(tool.name)
        parts.append(tool.description)
        parts.append(_schema_text(tool, tool.parameters))
    if request.output_schema is not None:
        parts.append(_schema_text(request.output_schema, request.output_schema.json_schema))
    return parts


def count_request(request: ModelRequest, encoding: str | None) -> int:
    """Prompt tokens of a whole request: messages, tool schemas and output schema.

    Each part (a message's text, a tool call, a schema) is counted on its own and remembered, so
    the growing conversation of an agent loop costs one count per new message, not per turn.
    One token per part is added for the separators between them.
    """
    parts = _request_parts(request)
    body = sum(_count_part(part, encoding) for part in parts) + len(parts)
    return body + len(request.messages) * PER_MESSAGE_OVERHEAD + PER_REQUEST_OVERHEAD


def with_margin(counted: int) -> int:
    """The prompt tokens a reservation sets aside for ``counted`` tokens (``PROMPT_MARGIN`` more)."""
    return math.ceil(counted * (1 + PROMPT_MARGIN))


def output_text(text: str, tool_calls: Any) -> str:
    """A response's output as the text a tokenizer counts: its text and its tool calls."""
    parts = [text]
    for call in tool_calls:
        parts.append(call.name)
        parts.append(call.raw_arguments or json.dumps(call.arguments))
    return "".join(parts)
