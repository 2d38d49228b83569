"""``python -m agentorch.cli``."""

from agentorch.cli import main

main()
