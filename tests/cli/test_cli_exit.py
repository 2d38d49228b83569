"""The command's exit when Temporal's client was loaded: no interpreter finalization, same status."""

from __future__ import annotations

import atexit
import sys
import types

import pytest

import agentorch.cli as cli


@pytest.mark.parametrize(("argv", "status"), [(["runs", "--help"], 0), (["no-such-command"], 2)])
def test_a_process_that_loaded_temporal_exits_with_the_commands_status(
    argv: list[str], status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    exits: list[int] = []
    flushed: list[str] = []
    monkeypatch.setitem(sys.modules, "temporalio.bridge.fake", types.ModuleType("fake"))
    monkeypatch.setattr("os._exit", exits.append)
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: flushed.append("atexit"))
    monkeypatch.setattr("agentorch.tuning.tune_gc", lambda: None)
    with pytest.raises(SystemExit):  # os._exit is stubbed, so the SystemExit goes on
        cli.main(argv)
    assert exits == [status] and flushed == ["atexit"]


def test_without_temporal_the_interpreter_exits_as_usual(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.startswith("temporalio.bridge")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr("os._exit", lambda code: pytest.fail("os._exit called"))
    monkeypatch.setattr("agentorch.tuning.tune_gc", lambda: None)
    with pytest.raises(SystemExit) as done:
        cli.main(["runs", "--help"])
    assert done.value.code in (0, None)
