"""agentorch's bundled tools.

The runtime loads each public module here by path (as a private package, never as a top-level
``tools`` import). Modules whose names start with an underscore are shared helpers, not tools.
"""
