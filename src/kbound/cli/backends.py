"""`kbound backends`: every backend with its library, version, availability, settings and decoder rule."""

from __future__ import annotations

import json
import sys

import click

from kbound.backends.base import show_value
from kbound.backends.decoder import decode_modules
from kbound.backends.registry import EFFORTS, entries, spec_name
from kbound.cli.common import run_cli
from kbound.errors import BackendError


def _rows() -> list[dict[str, object]]:
    rows = []
    for name, entry in entries().items():
        cls = entry.cls
        row: dict[str, object] = {"name": name, "origin": entry.origin, "available": cls is not None}
        if cls is None:
            row["reason"] = entry.error
        else:
            try:
                default_spec: str | None = cls.from_args("").spec
            except BackendError:  # a required setting (lm's model file): there is no default spec
                default_spec = None
            row.update(
                library=cls.library,
                version=cls.library_version(),
                summary=cls.summary,
                settings={p.key: {"default": None if p.default is None else show_value(p.default), "help": p.help}
                          for p in cls.params},
                default_spec=default_spec,
                decoder="xz -9e of the loadable part of: "
                + ", ".join([*cls.decoder_native, *cls.decoder_python, *decode_modules(cls.__module__)])
                + " (extension modules with the libraries they load)",
            )
        # The specs each effort really runs (xz is xz:9 in default and xz:9e,dict=256m in max, not its default spec).
        row["efforts"] = {e: found for e, specs in EFFORTS.items()
                          if (found := [s for s in specs if spec_name(s) == name])}
        rows.append(row)
    return rows


@click.command("backends")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def backends_command(fmt: str) -> None:
    """List every backend: library and version, availability (and why not), settings, default spec, decoder rule."""
    sys.exit(run_cli(lambda: _print(fmt)))


def _print(fmt: str) -> int:
    rows = _rows()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return 0
    for row in rows:
        if not row["available"]:
            click.echo(f"{row['name']}  UNAVAILABLE: {row['reason']}\n")
            continue
        settings = ", ".join(  # a setting without a default (None) says in its help what stands in
            f"{k}: {v['help']}" if v["default"] is None else f"{k} (default {v['default']}): {v['help']}"
            for k, v in row["settings"].items()  # type: ignore[attr-defined]
        )
        efforts = "; ".join(f"{e}: {' and '.join(specs)}" for e, specs in row["efforts"].items()) or "none"  # type: ignore[attr-defined]
        click.echo(f"{row['name']}  {row['library']} {row['version']}  ({row['origin']})")
        click.echo(f"  {row['summary']}")
        spec = row["default_spec"] or "none (a setting is required)"
        click.echo(f"  default spec: {spec}    in efforts ({efforts})")
        if settings:
            click.echo(f"  settings: {settings}")
        click.echo(f"  decoder: {row['decoder']}\n")
    sys.stdout.flush()
    return 0
