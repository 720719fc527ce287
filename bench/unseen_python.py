"""Write the text no kbound model was tuned on: the first 4,000,000 bytes of this interpreter's
standard-library `.py` files (depth 1-2, outside `test*` and `site-packages`), concatenated in
C-locale path order, as `bench/CM_RESULTS.md` measures it.

    .venv/bin/python bench/unseen_python.py OUT [--size 4000000]

With CPython 3.11.7 the result has sha256 0e34d50f3dc9e054d3ea9a13d3ec5fb3abd38435c82b05d37d3a92a9c39ad67c
(printed, so another build's text is seen to differ).
"""

from __future__ import annotations

import argparse
import hashlib
import sysconfig
from pathlib import Path


def stdlib_files(root: Path) -> list[Path]:
    names = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if len(rel.parts) > 2 or rel.parts[0].startswith("test") or rel.parts[0] == "site-packages":
            continue
        names.append("./" + rel.as_posix())
    return [root / name[2:] for name in sorted(names, key=lambda n: n.encode())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=4_000_000)
    args = parser.parse_args()
    text = bytearray()
    for path in stdlib_files(Path(sysconfig.get_paths()["stdlib"])):
        text += path.read_bytes()
        if len(text) >= args.size:
            break
    data = bytes(text[: args.size])
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
