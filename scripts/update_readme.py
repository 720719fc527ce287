"""Rewrite the README's usage block from the real `kbound estimate --help` (tests check they match)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from kbound.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    """Replace the text between the usage markers with the current help output."""
    help_text = CliRunner().invoke(cli, ["estimate", "--help"], prog_name="kbound", terminal_width=100).stdout
    text = README.read_text(encoding="utf-8")
    block = f"<!-- usage -->\n```text\n{help_text}```\n<!-- /usage -->"
    new, n = re.subn(r"<!-- usage -->\n.*?<!-- /usage -->", lambda _: block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md: no usage block to replace")
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
