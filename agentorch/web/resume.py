"""Continuing a run after its decisions: ``agentorch resume`` in a child process.

The same command a person would type after ``agentorch approve`` (so the run continues exactly
as from a terminal, on the engine and workflow it recorded), started in the server's working
folder. The store URL goes through the environment, never the command line (``ps`` shows that).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO

from agentorch.errors import UserError
from agentorch.store.base import RESUMABLE, Store

#: How much of a finished resume's output the run page shows.
_TAIL = 2000
#: What ``agentorch resume``'s exit codes mean (the command's documented codes).
EXIT_WORDS = {
    0: "the run finished",
    1: "the run failed",
    2: "the resume was refused",
    3: "the run waits for a decision again",
    4: "the budget is spent",
    5: "a tool call is in doubt",
    6: "the steps finished but the job did not: see the outcome",
    130: "the resume was interrupted",
}


@dataclass
class Resumption:
    run_id: str
    by: str
    started_at: float
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    ended_at: float | None = None
    exit_code: int | None = None
    tail: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self) -> None:
        with self._lock:
            if self.exit_code is not None:
                return
            code = self.process.poll()
            if code is None:
                return
            self.output.seek(0)
            text = self.output.read().decode("utf-8", errors="replace")
            self.output.close()
            self.tail = text[-_TAIL:]
            self.exit_code, self.ended_at = code, time.time()

    @property
    def meaning(self) -> str:
        return EXIT_WORDS.get(self.exit_code or 0, "the resume ended") if not self.running else ""

    @property
    def running(self) -> bool:
        self.poll()
        return self.exit_code is None


class Resumer:
    """Starts and tracks ``agentorch resume`` processes, at most one per run."""

    def __init__(self, store_url: str, *, cwd: str | None = None) -> None:
        self.store_url = store_url
        self.cwd = cwd or os.getcwd()
        self._runs: dict[str, Resumption] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> Resumption | None:
        resumption = self._runs.get(run_id)
        if resumption is not None:
            resumption.poll()
        return resumption

    def check(self, store: Store, run_id: str) -> None:
        """Refuse, with the reason, a resume that cannot go on now."""
        run = store.get_run(run_id)
        if run.status not in RESUMABLE:
            raise UserError(f"run {run.run_id} is {run.status}: there is nothing to continue")
        if "temporal" in run.spec:
            raise UserError(
                f"run {run.run_id} runs on Temporal: it continues by itself once decided"
            )
        pending = store.approvals(run.run_id, pending_only=True)
        if pending:
            raise UserError(
                f"run {run.run_id} still waits for {len(pending)} decision(s): decide them first"
            )
        holder, until = store.lease_holder(run.run_id)
        if holder is not None and until is not None and until > time.time():
            raise UserError(f"run {run.run_id} is running in another process ({holder})")
        current = self.get(run.run_id)
        if current is not None and current.running:
            raise UserError(f"run {run.run_id} is already being resumed")

    def start(self, store: Store, run_id: str, *, by: str) -> Resumption:
        with self._lock:
            self.check(store, run_id)
            output = tempfile.TemporaryFile()  # noqa: SIM115 (read and closed in poll)
            env = dict(os.environ, AGENTORCH_STORE=self.store_url)
            process = subprocess.Popen(
                [sys.executable, "-m", "agentorch", "resume", run_id, "--json"],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            resumption = Resumption(run_id, by, time.time(), process, output)
            self._runs[run_id] = resumption
            return resumption

    def close(self, *, wait: float = 0.0) -> None:
        """Wait up to ``wait`` seconds for running resumes (they continue on their own after)."""
        deadline = time.monotonic() + wait
        for resumption in list(self._runs.values()):
            while resumption.running and time.monotonic() < deadline:
                time.sleep(0.1)
