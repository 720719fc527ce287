"""`python -m kbound`: the same as the `kbound` command."""

from kbound.cli import main

main()
