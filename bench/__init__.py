"""Benchmarks of agentorch against LangGraph, the OpenAI Agents SDK and Pydantic AI.

Run ``python -m bench [--quick] [--only NAME] [--out BENCHMARKS.md]``. Every framework runs the same
workload (``bench.workload``): a supervisor delegating to specialists, each calling one tool once,
on a fake model with a configurable latency. See ``BENCHMARKS.md`` for the results.
"""
