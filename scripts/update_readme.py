"""Rewrite the README's usage blocks from the real `--help` of each command (tests check they match)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from kbound.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
#: Commands with their own usage block, `<!-- usage:NAME -->`, beside estimate's `<!-- usage -->`.
COMMAND_BLOCKS = ("curve", "compare", "tradeoff")


def _help(command: str) -> str:
    return CliRunner().invoke(cli, [command, "--help"], prog_name="kbound", terminal_width=100).stdout


def main() -> None:
    """Replace the text between the usage markers with the current help output."""
    text = README.read_text(encoding="utf-8")
    for command, tag in (("estimate", "usage"), *((c, f"usage:{c}") for c in COMMAND_BLOCKS)):
        block = f"<!-- {tag} -->\n```text\n{_help(command)}```\n<!-- /{tag} -->"
        text, n = re.subn(rf"<!-- {tag} -->\n.*?<!-- /{tag} -->", lambda _, b=block: b, text, flags=re.S)
        if n != 1:
            raise SystemExit(f"README.md: no {tag} block to replace")
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
