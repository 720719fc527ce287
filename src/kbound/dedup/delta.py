"""Near copies: the literal stretches between references, coded against the earlier bytes they probably edit.

A document copied with a few words changed keeps most of its chunks (they are references), but
every chunk that holds a change is new, and whole chunks of it would be literal. Such a literal
stretch (a gap) sits between two references, and the bytes it edits are next to their targets:
after the first occurrence of the chunk before the gap, before the one of the chunk after it.
The stage plans, per shard, a window of those earlier bytes for each short gap (`plan_windows`),
reads the windows from the shards that hold them in one pass each (`gather`, which also checks
that shard's sha256, so the window bytes are the ones that shard's verified round trip
rebuilds), and the splitter codes each gap as references into its windows where at least
`MIN_MATCH` bytes agree, and literal bytes elsewhere (`cover`).

A match is found by comparing bytes (the gap's edges against the window's edges, then anchors
of `PROBE` bytes found in the window and extended both ways), so a reference the splitter
writes always names bytes equal to the input it replaces; the heuristics only decide how much is
found. Chunks that later shards name stay literal, as the verifier requires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kbound.dedup.chunking import Chunking
from kbound.dedup.index import DUP
from kbound.errors import CorpusError
from kbound.sources.stream import CorpusStream

#: A window to read: for the gap at `gap` (bytes into the shard that codes it), `length` bytes at
#: `offset` of shard `shard`; `side` says which of the gap's ends it lines up with.
WINDOW = np.dtype([("gap", "<u8"), ("side", "u1"), ("shard", "<u4"), ("offset", "<u8"), ("length", "<u4")])
BOTH, LEFT, RIGHT = 0, 1, 2
#: The fewest equal bytes coded as a reference: a reference costs about 5 recipe bytes, 32 literal bytes
#: about 8 once coded.
MIN_MATCH = 32
#: Bytes of a gap looked up in a window to find where the two agree again after an edit.
PROBE = 32


def window_budget(shard_bytes: int) -> int:
    """Window bytes one shard may ask for (held by the splitter; a gather holds about as much): a quarter of
    the shard, at least 64 MiB, at most 512 MiB."""
    return max(64 << 20, min(shard_bytes // 4, 512 << 20))


def window_key(s: int) -> str:
    """The key of shard s's windows in a gather's kept result (and of its requests in a plan's)."""
    return f"windows{s}"


def plan_windows(dups: np.ndarray, shard: int, size: int, sizes: Sequence[int], chunking: Chunking
                 ) -> dict[str, Any]:
    """The windows one shard's gaps ask for, grouped by the shard that holds them.

    `dups` are the shard's references (every partition's, in chunk order) with their own offsets,
    `size` the shard's bytes, `sizes` every shard's. Returns {window_key(t): WINDOW array} and
    "shards": the shards t asked.
    """
    assert dups.dtype == DUP
    rows: list[tuple[int, int, int, int, int]] = []
    ends = dups["offset"].astype(np.int64) + dups["length"].astype(np.int64)
    # A gap between references k-1 and k (k = 0: before the first; k = len: after the last).
    for k in range(len(dups) + 1):
        gap = int(ends[k - 1]) if k else 0
        gap_end = int(dups["offset"][k]) if k < len(dups) else size
        g = gap_end - gap
        if g <= 0:
            continue
        left = (int(dups["target_shard"][k - 1]), int(dups["target_offset"][k - 1]) + int(dups["length"][k - 1])) \
            if k else None
        right = (int(dups["target_shard"][k]), int(dups["target_offset"][k])) if k < len(dups) else None
        if left and right and left[0] == right[0] and 0 < right[1] - left[1] <= 2 * g + chunking.max_bytes \
                and g <= 2 * chunking.max_bytes:
            rows.append((gap, BOTH, left[0], left[1], right[1] - left[1]))
            continue
        # Only one end lines up (an edit in a document's first or last chunk, text between): the chunk
        # it changed is rarely over 4 times the average (normalized chunking), so that much past the
        # left target and before the right one.
        reach = min(g, 4 * chunking.avg_bytes) + chunking.min_bytes
        if left:
            n = min(reach, int(sizes[left[0]]) - left[1])
            if n > 0:
                rows.append((gap, LEFT, left[0], left[1], n))
        if right and right[1] > 0:
            lo = max(0, right[1] - reach)
            rows.append((gap, RIGHT, right[0], lo, right[1] - lo))
    table = np.array(rows, dtype=WINDOW) if rows else np.empty(0, dtype=WINDOW)
    # Within the budget, windows that line up with both ends first (the likeliest edits), then by position.
    budget = window_budget(size)
    if int(table["length"].sum()) > budget:
        order = np.lexsort((table["gap"], table["side"] != BOTH))
        keep = order[np.cumsum(table["length"][order].astype(np.int64)) <= budget]
        table = table[np.sort(keep)]
    out: dict[str, Any] = {}
    held = sorted({int(t) for t in table["shard"]})
    for t in held:
        out[window_key(t)] = table[table["shard"] == t]
    out["shards"] = held
    assert all(t <= shard for t in held)
    return out


@dataclass(frozen=True)
class Windows:
    """The windows one gather read for one shard: the requests, and their bytes one after another."""

    table: np.ndarray
    data: bytes


def gather(selection: Any, sha256: str, asks: Sequence[tuple[int, np.ndarray]]) -> dict[str, Any]:
    """Read one shard once and cut out the windows each later shard asked of it: {window_key(s): Windows}.

    The whole shard is read so that its sha256 can be compared with the one its rows were
    verified against: a window holds the bytes those rows' decoders rebuild there.
    """
    spans = [(int(r["offset"]), int(r["length"]), (s, i)) for s, table in asks for i, r in enumerate(table)]
    digest = hashlib.sha256()
    got = cut_spans(CorpusStream(selection), spans, digest)
    if digest.hexdigest() != sha256:
        raise CorpusError("the input changed while it was being read: a shard's bytes differ from the ones coded")
    if len(got) < len(spans):
        raise CorpusError("the input changed while it was being read: a shard is shorter than when it was indexed")
    return {window_key(s): Windows(table, b"".join(got[(s, i)] for i in range(len(table)))) for s, table in asks}


def cut_spans(chunks: Iterable[bytes], spans: Iterable[tuple[int, int, Any]], digest: Any = None) -> dict[Any, bytes]:
    """The bytes at (offset, length) of a stream, by key, holding only from the earliest span not yet complete.

    With `digest`, every chunk is fed to it and the stream is read to its end; else reading stops
    after the last span.
    """
    todo = sorted(spans, key=lambda x: (x[0], x[1]))
    out: dict[Any, bytes] = {}
    pos, k, buf = 0, 0, b""
    for chunk in chunks:
        if digest is not None:
            digest.update(chunk)
        elif k == len(todo):
            break
        buf += chunk
        while k < len(todo) and todo[k][0] + todo[k][1] <= pos + len(buf):
            offset, n, key = todo[k]
            out[key] = buf[offset - pos : offset - pos + n]
            k += 1
        drop = min(todo[k][0] - pos, len(buf)) if k < len(todo) else len(buf)
        if drop > 0:
            buf, pos = buf[drop:], pos + drop
    return out


def by_gap(windows: Iterable[Windows], starts: np.ndarray) -> dict[int, list[tuple[int, int, bytes]]]:
    """The windows of one shard's gaps: gap offset -> [(side, corpus position, bytes)]."""
    out: dict[int, list[tuple[int, int, bytes]]] = {}
    for w in windows:
        at = 0
        for r in w.table:
            n = int(r["length"])
            out.setdefault(int(r["gap"]), []).append(
                (int(r["side"]), int(starts[int(r["shard"])]) + int(r["offset"]), w.data[at : at + n]))
            at += n
    return out


def _prefix(a: bytes, b: bytes) -> int:
    """The length of the common prefix of a and b."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # a[:lo] agrees, a[:hi] does not
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _suffix(a: bytes, b: bytes) -> int:
    """The length of the common suffix of a and b."""
    lo, hi = 0, min(len(a), len(b))
    if a[len(a) - hi :] == b[len(b) - hi :]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def cover(data: bytes, windows: Sequence[tuple[int, int, bytes]], at_start: bool, at_end: bool
          ) -> list[tuple[int, int, int]]:
    """Stretches of `data` equal to window bytes: (offset in data, length, corpus position), in order.

    `windows` as `by_gap` gives them; `at_start`/`at_end` say whether data begins/ends where the
    gap does (only then do the windows' edges line up with it).
    """
    found: list[tuple[int, int, int]] = []
    a, b = 0, len(data)
    if at_start:
        best = max(((_prefix(data, w), pos) for side, pos, w in windows if side in (BOTH, LEFT)), default=(0, 0))
        if best[0] >= MIN_MATCH:
            found.append((0, best[0], best[1]))
            a = best[0]
    tail: tuple[int, int, int] | None = None
    if at_end and a < b:
        best = max(((_suffix(data[a:], w), pos + len(w)) for side, pos, w in windows if side in (BOTH, RIGHT)),
                   default=(0, 0))
        if best[0] >= MIN_MATCH:
            tail = (b - best[0], best[0], best[1] - best[0])
            b -= best[0]
    _anchors(data, a, b, windows, found, depth=0)
    if tail:
        found.append(tail)
    return sorted(found)


def _anchors(data: bytes, a: int, b: int, windows: Sequence[tuple[int, int, bytes]],
             found: list[tuple[int, int, int]], depth: int) -> None:
    """Find, in data[a:b], stretches that some window holds: probe, extend both ways, and recurse on what is left."""
    if b - a < MIN_MATCH or depth > 16:
        return
    # The middle, and just inside either end: an edit of a word leaves the text a probe or two on in step.
    for x in dict.fromkeys(x for x in (a + (b - a - PROBE) // 2, a, a + PROBE, a + 2 * PROBE, b - PROBE,
                                        b - 2 * PROBE, b - 3 * PROBE) if a <= x <= b - PROBE):
        probe = data[x : x + PROBE]
        for _, pos, w in windows:
            i = w.find(probe)
            if i < 0:
                continue
            back = _suffix(data[a:x], w[:i])
            ahead = _prefix(data[x + PROBE : b], w[i + PROBE :])
            start, n = x - back, back + PROBE + ahead
            found.append((start, n, pos + i - back))
            _anchors(data, a, start, windows, found, depth + 1)
            _anchors(data, start + n, b, windows, found, depth + 1)
            return
