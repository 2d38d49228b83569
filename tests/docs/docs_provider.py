"""A local OpenAI- and Anthropic-compatible server for docs examples that call a provider.

It speaks both wire formats on 127.0.0.1 (chat completions at ``/v1/chat/completions``, the
Messages API at ``/v1/messages``, each plain or streamed) and answers from the request itself.
A bundled specialist or the router asking (recognised by its system prompt) gets what it would get
offline: its offline model's answer, or a plan made from the task (``docs_specialists.py``).
Anyone else gets a generic answer: a structured-output request an instance of its JSON schema, a
forced tool call arguments that fit the tool's schema, anything else a short text. Deterministic,
so examples can print.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from docs_specialists import (
    Specialists,
    from_anthropic,
    from_openai,
    text_of,
    to_anthropic,
    to_openai,
)

TEXT = "This answer comes from the local test model."
KEY = "sk-docs-test-0123456789abcdef"


def instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A small value valid for ``schema`` (the JSON Schema subset pydantic and tools produce)."""
    defs = (
        defs if defs is not None else {**schema.get("$defs", {}), **schema.get("definitions", {})}
    )
    if "$ref" in schema:
        return instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance(options[0], defs)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance(sub, defs) for name, sub in properties.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [instance(schema.get("items", {"type": "string"}), defs) for _ in range(count)]
    return {"string": "example", "integer": 1, "number": 1.0, "boolean": True}.get(kind)


def _tokens(payload: Any) -> int:
    return max(1, len(json.dumps(payload)) // 4)


# --- OpenAI chat completions ----------------------------------------------------------------------


def openai_reply(request: dict[str, Any]) -> dict[str, Any]:
    """The assistant message (content or tool calls) the request asks for."""
    fmt = request.get("response_format") or {}
    choice = request.get("tool_choice")
    tools = {t["function"]["name"]: t["function"] for t in request.get("tools") or []}
    forced = None
    if isinstance(choice, dict):
        forced = choice.get("function", {}).get("name")
    elif choice == "required" and tools:
        forced = next(iter(tools))
    if forced in tools:
        arguments = instance(tools[forced].get("parameters") or {"type": "object"})
        call = {"id": "call_docs_1", "type": "function"}
        call["function"] = {"name": forced, "arguments": json.dumps(arguments)}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if fmt.get("type") == "json_schema":
        content = json.dumps(instance(fmt["json_schema"].get("schema") or {}))
    elif fmt.get("type") == "json_object":
        content = json.dumps({"answer": TEXT})
    else:
        content = TEXT
    return {"role": "assistant", "content": content}


def openai_body(request: dict[str, Any], specialists: Specialists | None = None) -> dict[str, Any]:
    """A chat completion: the known caller's answer (see ``Specialists``), else a generic one."""
    asked = from_openai(request)
    caller = specialists.caller(asked.system or "") if specialists is not None else None
    if specialists is not None and caller is not None:
        answer = specialists.answer(caller, asked)
        message = to_openai(answer)
        prompt, completion = answer.usage.input_tokens, answer.usage.output_tokens
    else:
        message = openai_reply(request)
        prompt, completion = _tokens(request.get("messages")), _tokens(message)
    return {
        "id": "chatcmpl-docs",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "local"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def openai_stream(request: dict[str, Any], specialists: Specialists | None = None) -> Iterator[Any]:
    body = openai_body(request, specialists)
    message, finish = body["choices"][0]["message"], body["choices"][0]["finish_reason"]

    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        choices = [{"index": 0, "delta": delta, "finish_reason": reason}]
        return {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                "choices": choices}  # fmt: skip

    yield chunk({"role": "assistant", "content": ""})
    if message.get("tool_calls"):
        for index, call in enumerate(message["tool_calls"]):
            yield chunk({"tool_calls": [{"index": index, **call}]})
    else:
        for word in message["content"].split(" "):
            yield chunk({"content": word + " "})
    yield chunk({}, finish)
    yield {**chunk({}), "choices": [], "usage": body["usage"]}
    yield "[DONE]"


# --- Anthropic messages ---------------------------------------------------------------------------


def anthropic_body(
    request: dict[str, Any], specialists: Specialists | None = None
) -> dict[str, Any]:
    """A message: the known caller's answer (see ``Specialists``), else a generic one."""
    choice = request.get("tool_choice") or {}
    tools = {t["name"]: t for t in request.get("tools") or []}
    caller = specialists.caller(text_of(request.get("system"))) if specialists else None
    if specialists is not None and caller is not None:
        output = caller.output_tool(request.get("tools") or [])
        answer = specialists.answer(caller, from_anthropic(request, output))
        content = to_anthropic(answer, output)
        stop = "tool_use" if content[0]["type"] == "tool_use" else "end_turn"
        usage = {"input_tokens": answer.usage.input_tokens,
                 "output_tokens": answer.usage.output_tokens}  # fmt: skip
        return _message(request, content, stop, usage)
    forced = choice.get("name") if choice.get("type") == "tool" else None
    if choice.get("type") == "any" and tools:
        forced = next(iter(tools))
    if forced in tools:
        block = {"type": "tool_use", "id": "toolu_docs_1", "name": forced}
        block["input"] = instance(tools[forced].get("input_schema") or {"type": "object"})
        content, stop = [block], "tool_use"
    else:
        content, stop = [{"type": "text", "text": TEXT}], "end_turn"
    usage = {"input_tokens": _tokens(request.get("messages")), "output_tokens": _tokens(content)}
    return _message(request, content, stop, usage)


def _message(
    request: dict[str, Any], content: list[dict[str, Any]], stop: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": "msg_docs",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "local"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_stream(
    request: dict[str, Any], specialists: Specialists | None = None
) -> Iterator[tuple[str, Any]]:
    body = anthropic_body(request, specialists)
    usage = body["usage"]
    start = {**body, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 0}}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(body["content"]):
        if block["type"] == "text":
            empty, delta = (
                {"type": "text", "text": ""},
                {"type": "text_delta", "text": block["text"]},
            )
        else:
            empty = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": empty},
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": body["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": usage["output_tokens"]}}  # fmt: skip
    yield "message_stop", {"type": "message_stop"}


# --- the server -----------------------------------------------------------------------------------


class ProviderServer:
    """``server = ProviderServer().start()``; ``server.env()`` points the SDKs at it.

    ``specialists``: the callers answered as themselves (default: the bundled specialists and the
    router); ``Specialists([])`` leaves only the router.
    """

    def __init__(self, specialists: Specialists | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.specialists = specialists or Specialists()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, **request})
                known = server.specialists
                try:
                    self.answer(request, known)
                except Exception as exc:  # a bug here shows as the provider's error message
                    self.send_json(500, {"error": {"message": f"{type(exc).__name__}: {exc}"}})

            def answer(self, request: dict[str, Any], known: Specialists) -> None:
                if self.path.endswith("/chat/completions"):
                    if request.get("stream"):
                        self.sse((None, item) for item in openai_stream(request, known))
                    else:
                        self.send_json(200, openai_body(request, known))
                elif self.path.endswith("/messages"):
                    if request.get("stream"):
                        self.sse(anthropic_stream(request, known))
                    else:
                        self.send_json(200, anthropic_body(request, known))
                else:
                    self.send_json(404, {"error": {"message": f"no route {self.path}"}})

            def send_json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def sse(self, events: Any) -> None:
                events = list(events)  # answered in full before the headers: errors are a 500
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                for name, item in events:
                    data = item if isinstance(item, str) else json.dumps(item)
                    prefix = f"event: {name}\n" if name else ""
                    self.wfile.write(f"{prefix}data: {data}\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        return {
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": f"{self.url}/v1",
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": self.url,
        }

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
