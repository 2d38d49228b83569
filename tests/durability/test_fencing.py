"""Fencing: an owner paused past its lease (SIGSTOP) while another process resumed the run never
runs a side effect again and never writes again; a refused resume writes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_fixture import pg_server, pg_url  # noqa: F401  (fixtures)

from agentorch import Agent, Budget, FunctionModel, Plan, Step, Supervisor
from agentorch.errors import RunLockedError
from agentorch.store import open_store

APP = Path(__file__).with_name("pause_app.py")
TTL = "1.5"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def start(
    store_url: str, workdir: Path, mode: str, run_id: str, **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(APP), store_url, str(workdir), mode, run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AGENTORCH_LEASE_TTL": TTL, **env},
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, object], str]:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    lines = out.strip().splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), err


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_paused_owner_never_runs_or_writes_after_another_process_resumed(
    store_url: str, tmp_path: Path
) -> None:
    run_id = "fenced1"
    owner = start(store_url, tmp_path, "run", run_id, PAUSE="1", PAUSE_WAIT="20")
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "paused").exists():
            assert owner.poll() is None, owner.communicate()
            assert time.monotonic() < deadline, "the owner never reached its first model call"
            time.sleep(0.05)
        os.kill(owner.pid, signal.SIGSTOP)  # a laptop lid, Ctrl-Z, a VM pause
        time.sleep(float(TTL) + 1.0)  # the stopped owner's lease expires

        code, resumed, err = finish(start(store_url, tmp_path, "resume", run_id))
        assert code == 0, err[-3000:]
        assert resumed == {"lease_lost": False, "status": "succeeded", "output": "b finished"}
    except BaseException:
        owner.kill()
        owner.communicate()
        raise
    finally:
        if owner.poll() is None:
            os.kill(owner.pid, signal.SIGCONT)
    code, paused, err = finish(owner)
    assert code == 3, (code, paused, err[-3000:])
    assert paused["lease_lost"] is True

    # every side effect ran once; the paused owner made no call after it woke up
    assert lines(tmp_path / "effects.txt") == ["a", "b"]
    owner_calls = [c for c in lines(tmp_path / "calls.txt") if c.startswith(f"{owner.pid}:")]
    assert owner_calls == [f"{owner.pid}:a:0"]
    # the run finished once, as the resumer left it
    store = open_store(store_url)
    try:
        record = store.get_run(run_id)
        assert record.status == "succeeded"
        assert record.output == "b finished"
        kinds = [e.kind for e in store.events(run_id)]
        assert kinds.count("run_finished") == 1
        assert kinds.count("run_resumed") == 1
        assert store.verify_audit(run_id).ok
        assert store.lease_holder(run_id) == (None, None)
    finally:
        store.close()


async def test_a_refused_resume_writes_nothing(store_url: str, tmp_path: Path) -> None:
    class Solo(Agent):
        name = "solo"

    store = open_store(store_url)
    sup = Supervisor(
        [Solo(model=FunctionModel(lambda request: "ok", name="solo"))],
        plan=Plan(steps=[Step(id="s", agent="solo", instruction="Do it")], final_step="s"),
        store=store,
        budget=Budget(usd=5.0, prices={"function:solo": {"input": 1e-6, "output": 1e-6}}),
    )
    try:
        result = await sup.run("Do it", run_id="locked1")
        assert result.status == "succeeded", result.error
        store.update_run("locked1", status="interrupted")
        store.acquire_lease("locked1", "elsewhere:1:abcd", ttl=600, now=time.time())
        before = store.get_run("locked1")
        events_before = [e.kind for e in store.events("locked1")]

        with pytest.raises(RunLockedError):
            await sup.resume("locked1", budget=Budget(usd=999.0))

        after = store.get_run("locked1")
        assert after.budget == before.budget
        assert after.budget["usd"] == 5.0
        assert after.status == "interrupted"
        assert after.updated_at == before.updated_at
        assert [e.kind for e in store.events("locked1")] == events_before
        assert store.lease_holder("locked1")[0] == "elsewhere:1:abcd"
    finally:
        store.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_owner_not_yet_reaped_counts_as_dead() -> None:
    """A SIGKILLed process stays in the process table until its parent reaps it (an orphan's new
    parent, a container's init, may take its time): its lease is free to take at once."""
    import socket

    from agentorch import leases

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while leases._is_dying(child.pid) is False and time.monotonic() < deadline:
            time.sleep(0.05)
        owner = f"{socket.gethostname()}:{child.pid}:feedbeef"
        assert leases._owner_is_dead(owner)  # exited, not reaped: dead
    finally:
        child.wait()
    assert leases._owner_is_dead(owner)  # reaped: gone
    alive = f"{socket.gethostname()}:{os.getpid()}:feedbeef"
    assert not leases._owner_is_dead(alive)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_owner_counts_as_dead_while_it_is_still_exiting() -> None:
    """``kill -9`` then ``agentorch resume`` at once: the killed process stays in state R while
    the kernel frees its memory (a second or more for a large one). From the kill on, its
    lease is free to take at every moment."""
    import signal
    import socket

    from agentorch import leases

    code = "import sys; x = bytearray(400 * 10**6); print(1, flush=True); sys.stdin.read()"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as child:
        owner = f"{socket.gethostname()}:{child.pid}:feedbeef"
        assert child.stdout is not None and child.stdout.readline() == b"1\n"
        assert not leases._owner_is_dead(owner)  # running
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # from the kill until it is a zombie (this test reaps it)
            try:
                state = Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0]
            except OSError:
                break
            assert leases._owner_is_dead(owner), state
            if state == "Z":
                break
            assert time.monotonic() < deadline


def test_what_counts_as_killed_in_proc() -> None:
    from agentorch.leases import _killed

    def stat(state: str, flags: int) -> str:
        return f"123 (python (x)) {state} 1 123 123 0 -1 {flags} 0 0 0 0"

    quiet = "Name:\tpython\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
    kill_pending = quiet.replace("ShdPnd:\t0000000000000000", "ShdPnd:\t0000000000000100")
    term_pending = quiet.replace("ShdPnd:\t0000000000000000", "ShdPnd:\t0000000000004000")
    assert not _killed(stat("S", 0x400000), quiet)  # asleep
    assert not _killed(stat("R", 0x400040), term_pending)  # SIGTERM: it may handle it
    assert _killed(stat("R", 0x400000), kill_pending)  # SIGKILL delivered, not acted on yet
    assert _killed(stat("R", 0x40040C), kill_pending)  # freeing its memory
    assert _killed(stat("D", 0x40040C), quiet)  # exiting
    assert _killed(stat("Z", 0x40840C), quiet)  # exited, not reaped
