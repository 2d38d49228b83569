"""agentorch's own, provider-neutral message, tool-call and usage types.

Every provider adapter translates to and from these; nothing above ``models/`` sees a vendor's wire
format. They are pydantic models because they are persisted (the journal replays model responses).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(BaseModel):
    """Tokens a call consumed and, once priced, what it cost.

    ``input_tokens`` includes cached and cache-write tokens (the provider-neutral total);
    ``cached_input_tokens`` and ``cache_write_tokens`` say how many of them were billed at the
    cache rates.
    """

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0
    unpriced: bool = False
    #: Some of these tokens were counted from the text because the provider reported no usage.
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            requests=self.requests + other.requests,
            cost_usd=self.cost_usd + other.cost_usd,
            unpriced=self.unpriced or other.unpriced,
            estimated=self.estimated or other.estimated,
        )


class ToolCall(_Frozen):
    """A model's request to call a tool.

    ``arguments`` is the parsed JSON object; when the model sent something that is not a JSON
    object (truncated, malformed), ``arguments`` is empty and ``arguments_error`` says why, so the
    loop can hand the error back to the model instead of crashing.
    """

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""
    arguments_error: str | None = None


class SystemMessage(_Frozen):
    kind: Literal["system"] = "system"
    content: str


class UserMessage(_Frozen):
    kind: Literal["user"] = "user"
    content: str


class AssistantMessage(_Frozen):
    kind: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class ToolResultMessage(_Frozen):
    kind: Literal["tool_result"] = "tool_result"
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolResultMessage,
    Field(discriminator="kind"),
]


class ToolSchema(_Frozen):
    """What a model is shown of a tool: its name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class OutputSchema(_Frozen):
    """A request for structured output that validates against ``json_schema``.

    Providers with native JSON-schema output use it directly; others force a tool named ``name``.
    """

    name: str = "final_result"
    description: str = "Return the final result."
    json_schema: dict[str, Any]
    strict: bool = False


class ModelSettings(_Frozen):
    max_tokens: int = 4096
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    #: Seconds a call may take, whatever the provider: the runtime abandons it after that.
    timeout: float | None = 120.0
    parallel_tool_calls: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelSettings:
        # ConfigError is not a ValueError, so pydantic lets it through unwrapped.
        from agentorch._checks import check_int, check_timeout

        check_int("ModelSettings", "max_tokens", self.max_tokens, minimum=1)
        check_timeout("ModelSettings", "timeout", self.timeout)
        return self


ToolChoice = Literal["auto", "required", "none"] | str


class ModelRequest(_Frozen):
    """Everything a model needs for one call, in agentorch's terms."""

    messages: tuple[Message, ...]
    tools: tuple[ToolSchema, ...] = ()
    tool_choice: ToolChoice = "auto"
    output_schema: OutputSchema | None = None
    settings: ModelSettings = ModelSettings()

    @property
    def system(self) -> str | None:
        """The system prompt: all system messages joined, for providers that take it apart."""
        parts = [m.content for m in self.messages if isinstance(m, SystemMessage)]
        return "\n\n".join(parts) if parts else None


StopReason = Literal["stop", "tool_calls", "length", "content_filter", "other"]


class ModelResponse(BaseModel):
    """One completed model call."""

    model_config = ConfigDict(extra="forbid")

    message: AssistantMessage
    usage: Usage = Usage()
    stop_reason: StopReason = "stop"
    model_name: str = ""
    provider: str = ""
    response_id: str | None = None

    @property
    def text(self) -> str:
        return self.message.content or ""

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.message.tool_calls


class TextDelta(_Frozen):
    """A piece of streamed text."""

    kind: Literal["text_delta"] = "text_delta"
    text: str


class ResponseDone(BaseModel):
    """The end of a stream: the complete response, with usage."""

    kind: Literal["done"] = "done"
    response: ModelResponse


StreamChunk = TextDelta | ResponseDone
