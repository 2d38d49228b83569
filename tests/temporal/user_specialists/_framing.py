"""The user's prompt helper: module state made at import (a lock, a label from the environment)."""

from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()
LABEL = os.environ.get("USER_SPECIALIST_LABEL", "FRAMED")


def framed(text: str) -> str:
    with _LOCK:
        return f"[{LABEL}]\n{text}"
