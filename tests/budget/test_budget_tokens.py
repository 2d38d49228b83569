"""Token counting: exact with tiktoken for OpenAI models, offline; padded estimates otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from agentorch.budget.tokens import (
    ESTIMATE_MARGIN,
    count_request,
    count_text,
    encoding_for_openai_model,
    get_encoding,
)
from agentorch.models.types import (
    AssistantMessage,
    ModelRequest,
    OutputSchema,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    ToolSchema,
    UserMessage,
)

TEXTS = [
    "Draft our response to this RFP.",
    "Ünïcödé, emoji 🚀, 中文 text, and code: def f(x): return x ** 2",
    "<|endoftext|> is an ordinary string here",
    "word " * 3000,
]


@pytest.mark.parametrize("model", ["gpt-4.1-mini", "gpt-4o", "o3-mini", "gpt-4"])
def test_encoding_names(model: str) -> None:
    expected = "cl100k_base" if model == "gpt-4" else "o200k_base"
    assert encoding_for_openai_model(model) == expected


@pytest.mark.parametrize("text", TEXTS)
def test_count_text_matches_tiktoken_exactly_offline(text: str) -> None:
    encoding = encoding_for_openai_model("gpt-4.1-mini")
    counted = count_text(text, encoding)  # points TIKTOKEN_CACHE_DIR at litellm's bundled files
    assert os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    assert counted == len(enc.encode(text, disallowed_special=()))
    assert get_encoding("o200k_base") is get_encoding("o200k_base")


def test_cl100k_is_available_offline_too() -> None:
    import tiktoken

    text = TEXTS[1]
    assert count_text(text, "cl100k_base") == len(tiktoken.get_encoding("cl100k_base").encode(text))


def test_estimate_without_encoding_is_padded() -> None:
    text = TEXTS[3]
    exact = count_text(text, "cl100k_base")
    assert count_text(text, None) == int(exact * ESTIMATE_MARGIN) + 1
    assert count_text("", None) == 0


def test_count_request_covers_messages_tools_and_schema() -> None:
    messages = (
        SystemMessage(content="You are a pricing analyst."),
        UserMessage(content="Price SKU-1."),
        AssistantMessage(tool_calls=(ToolCall(id="c1", name="lookup", arguments={"sku": "1"}),)),
        ToolResultMessage(tool_call_id="c1", name="lookup", content="12.50"),
    )
    bare = ModelRequest(messages=messages)
    with_tools = ModelRequest(
        messages=messages,
        tools=(ToolSchema(name="lookup", description="Look up a SKU's list price."),),
        output_schema=OutputSchema(json_schema={"type": "object", "properties": {"x": {}}}),
    )
    n_bare = count_request(bare, "o200k_base")
    assert n_bare > count_text("You are a pricing analyst.", "o200k_base") + 4 * 4
    assert count_request(with_tools, "o200k_base") > n_bare
    assert count_request(bare, None) >= n_bare


def test_encodings_load_with_the_network_blocked() -> None:
    # A fresh interpreter, no cache dir configured, and tiktoken's downloader made to fail.
    code = textwrap.dedent(
        """
        import os
        import tiktoken.load

        def no_network(url):
            raise AssertionError(f"tried to download {url}")

        tiktoken.load.read_file = no_network
        from agentorch.budget.tokens import count_text

        text = "Offline token counting for gpt-4.1-mini."
        n = count_text(text, "o200k_base")
        assert n == len(tiktoken.get_encoding("o200k_base").encode(text)), n
        print(n)
        """
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 0
