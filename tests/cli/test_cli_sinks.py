"""``--events FILE`` writes the run's events as JSON Lines; ``--otlp URL`` exports its trace."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Cli

from agentorch.events import read_jsonl


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    """A real OTLP/HTTP endpoint on 127.0.0.1 that records what it receives."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            received.append(self.rfile.read(length))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_events_file_and_otlp_export(
    cli: Cli, demo: Path, tmp_path: Path, collector: tuple[str, list[bytes]]
) -> None:
    url, received = collector
    events_file = tmp_path / "events.jsonl"
    result = cli("run", str(demo), "--approve-all", "--events", str(events_file), "--otlp", url)
    assert result.exit_code == 0, result.output
    kinds = [e.kind for e in read_jsonl(events_file)]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert received, "no spans reached the OTLP endpoint"
    payload = b"".join(received)
    assert b"invoke_workflow" in payload and b"gen_ai.operation.name" in payload
