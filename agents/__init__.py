"""agentorch's built-in specialists: parser, writer, compliance, critic, editor, submitter.

The runtime loads this folder by path as a private package (``_agentorch_ext.bundled.agents``),
never as a top-level ``agents`` import (that name belongs to the OpenAI Agents SDK). Each public
module defines one specialist; modules starting with ``_`` are shared helpers.
"""
