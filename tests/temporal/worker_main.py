"""A worker process serving the test app: ``python worker_main.py ADDRESS QUEUE STORE WORKDIR [nested|deep] [user]``.

Writes ``ready-<pid>`` into WORKDIR once it polls, and serves until it is terminated.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from temporal_app import make_supervisor

from agentorch.temporal import Temporal, Timeouts


async def main() -> None:
    address, queue, store, workdir = sys.argv[1:5]
    options = {name: name in sys.argv[5:] for name in ("nested", "user", "deep")}
    supervisor = make_supervisor(store, Path(workdir), **options)
    temporal = Temporal(address, task_queue=queue, timeouts=TIMEOUTS)
    worker = await temporal.worker(supervisor)
    (Path(workdir) / f"ready-{os.getpid()}").write_text("ready")
    await worker.run()


#: Short enough that a killed worker's call moves to the other worker within seconds.
TIMEOUTS = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=2.0)

if __name__ == "__main__":
    asyncio.run(main())
