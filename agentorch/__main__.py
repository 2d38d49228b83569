"""``python -m agentorch``: the ``agentorch`` command."""

from agentorch.cli import main

main()
