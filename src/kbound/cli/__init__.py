"""The command line: one module per command, parsing and wiring only; the library does the work."""

from kbound.cli.main import cli, main

__all__ = ["cli", "main"]
