"""Keep the repo's ``agents/`` folder from shadowing the OpenAI Agents SDK (import name ``agents``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def isolate() -> None:
    """Move the repo root (and ``''``) to the end of ``sys.path``; ``bench`` stays importable.

    Call it before anything imports ``agents``. A stale ``agents`` module from the repo is dropped.
    """

    def is_root(entry: str) -> bool:
        try:
            return Path(entry or os.getcwd()).resolve() == ROOT
        except OSError:
            return False

    sys.path[:] = [p for p in sys.path if not is_root(p)] + [str(ROOT)]
    stale = sys.modules.get("agents")
    if stale is not None and str(ROOT) in str(getattr(stale, "__file__", "")):
        for key in [k for k in sys.modules if k == "agents" or k.startswith("agents.")]:
            del sys.modules[key]


def child_env() -> dict[str, str]:
    """Environment for child processes: the repo root on PYTHONPATH (``bench`` and ``agentorch``).

    A regular package anywhere on the path beats the namespace directory an editable install of
    agentorch leaves in site-packages (``agentorch/_bundled``), so ``agentorch`` resolves here.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env
