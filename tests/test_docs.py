"""The documentation says what the code does: generated usage blocks, the effort table, links, the front page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbound.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def help_of(command: str) -> str:
    return CliRunner().invoke(cli, [command, "--help"], prog_name="kbound", terminal_width=100).stdout


@pytest.mark.parametrize(("command", "tag"), [("estimate", "usage"), ("curve", "usage:curve"),
                                              ("compare", "usage:compare"), ("tradeoff", "usage:tradeoff"),
                                              ("plan", "usage:plan"), ("backends", "usage:backends")])
def test_the_cli_reference_is_the_real_help(command: str, tag: str) -> None:
    """docs/cli.md's usage blocks are each command's --help (regenerate with `make readme`)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {tag} -->\n```text\n(.*?)```\n<!-- /{tag} -->", text, re.S)
    assert block, f"docs/cli.md has no {tag} block"
    assert block.group(1) == help_of(command)


def test_the_effort_table_is_the_presets() -> None:
    from kbound.backends.registry import EFFORTS

    text = (ROOT / "docs" / "backends.md").read_text(encoding="utf-8")
    for effort, specs in EFFORTS.items():
        row = re.search(rf"^\| `{effort}` \| (.*) \|$", text, re.M)
        assert row, f"docs/backends.md has no row for --effort {effort}"
        assert row.group(1).replace(" (when installed)", "") == ", ".join(specs)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_points_at_a_file(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_the_readme_is_a_front_page() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 120 <= text.count("\n") <= 260
    assert "Usage: kbound" not in text  # no pasted --help: that is docs/cli.md
    for section in ("## Two commands", "## What the bound means", "## A training set on a cluster", "## Exit codes",
                    "## What kbound promises"):
        assert section in text


def _run_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:`, whose imports only name types for the checker."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo += node.orelse
        else:
            todo += ast.iter_child_nodes(node)
    return nodes


def test_each_stage_imports_only_the_stages_before_it() -> None:
    """The package order drawn in docs/architecture.md is the order of imports, function-level ones included."""

    text = (ROOT / "docs" / "architecture.md").read_text()
    order = re.findall(r"(\w+)(?: ──▶|\n)", text[text.index("```text") + 7 :].split("\n", 2)[1] + "\n")
    assert order[:3] == ["sources", "backends", "dedup"] and order[-1] == "cli"
    upward = []
    for path in sorted((ROOT / "src" / "kbound").rglob("*.py")):
        parts = path.relative_to(ROOT / "src" / "kbound").parts
        if len(parts) < 2 or parts[0] not in order:
            continue
        for node in _run_time_nodes(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                stage = name.split(".")[1] if name.startswith("kbound.") and name.count(".") else None
                if stage in order and order.index(stage) > order.index(parts[0]):
                    upward.append(f"{'/'.join(parts)}:{node.lineno} imports {name}")
    assert upward == []


# A rule written beside its one function: the function is what the code must use (STYLE.md, item 11).
_WRITTEN_ONCE = {
    "a run status compared as a literal (use run.outcome's VERIFIED, UNVERIFIED, FAILED)":
        re.compile(r"""[!=]= ["'](?:verified|unverified|failed)["']"""),
    "a rounding helper for JSON (use report.view.rounded)": re.compile(r"def _r(?:ound)?\("),
    "a spec split into its name (use backends.registry.spec_name)": re.compile(r"""partition\(["']:["']\)\[0\]"""),
}


def test_each_rule_written_twice_is_now_one_function() -> None:
    found = []
    for path in sorted((ROOT / "src" / "kbound").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        for what, pattern in _WRITTEN_ONCE.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                if not (rel == "src/kbound/backends/registry.py" and "spec_name" in what):
                    found.append(f"{rel}:{line}: {what}")
    assert found == []
    from kbound.backends.registry import spec_name

    assert spec_name(" XZ:9e,dict=64m") == "xz" and spec_name("raw") == "raw"
