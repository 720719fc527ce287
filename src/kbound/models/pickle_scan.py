"""Reading a PyTorch pickle's storages and tensors by walking its opcodes, never executing them.

`pickletools.genops` only decodes opcodes; this module runs a symbolic stack over them in which
GLOBAL makes a `Global` name, REDUCE a `Call` record and BINPERSID a `Persistent` record, so
nothing is imported or called. Opcodes it does not model make it give up (parameters unknown).
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass, field
from typing import Any


class Unreadable(Exception):
    """The pickle uses something this walker does not model; parameters stay unknown."""


@dataclass(frozen=True)
class Global:
    """A name the pickle would import (it is never imported here)."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Call:
    """A call the pickle would make (REDUCE, NEWOBJ, INST, OBJ); recorded, never made."""

    func: Any
    args: Any


@dataclass(eq=False)
class Persistent:
    """A persistent id: in torch checkpoints `('storage', type, key, location, numel)`."""

    pid: Any


@dataclass
class Scan:
    """Every call and persistent id the pickle would have made, and every global it names."""

    calls: list[Call] = field(default_factory=list)
    persistent: list[Persistent] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)


_MARK = object()
_PUSH_ARG = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
}
_CONST = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_NOOP = {"PROTO", "FRAME"}


def _until_mark(stack: list[Any]) -> list[Any]:
    items: list[Any] = []
    while True:
        if not stack:
            raise Unreadable("MARK missing")
        item = stack.pop()
        if item is _MARK:
            items.reverse()
            return items
        items.append(item)


def scan(data: bytes) -> Scan:
    """Walk the opcodes of one pickle; raise Unreadable if it is malformed or uses what is not modelled."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    out = Scan()
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name in _NOOP:
                continue
            if name == "STOP":
                return out
            if name in _PUSH_ARG:
                stack.append(arg)
            elif name in _CONST:
                stack.append(_CONST[name])
            elif name == "MARK":
                stack.append(_MARK)
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attr = str(arg).partition(" ")
                else:
                    attr, module = stack.pop(), stack.pop()
                g = Global(str(module), str(attr))
                out.globals.append(g)
                stack.append(g)
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = stack[-n:]
                if len(items) != n or any(i is _MARK for i in items):
                    raise Unreadable("short stack")
                del stack[-n:]
                stack.append(tuple(items))
            elif name == "TUPLE":
                stack.append(tuple(_until_mark(stack)))
            elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
                stack.append([])
            elif name in ("LIST", "DICT", "FROZENSET"):
                stack.append(_until_mark(stack))
            elif name in ("APPENDS", "SETITEMS", "ADDITEMS"):
                _until_mark(stack)
            elif name == "APPEND":
                stack.pop()
            elif name == "SETITEM":
                del stack[-2:]
            elif name in ("BINPERSID", "PERSID"):
                p = Persistent(stack.pop() if name == "BINPERSID" else arg)
                out.persistent.append(p)
                stack.append(p)
            elif name in ("REDUCE", "NEWOBJ"):
                args = stack.pop()
                c = Call(stack.pop(), args)
                out.calls.append(c)
                stack.append(c)
            elif name == "NEWOBJ_EX":
                _kwargs, args = stack.pop(), stack.pop()
                c = Call(stack.pop(), args)
                out.calls.append(c)
                stack.append(c)
            elif name in ("INST", "OBJ"):
                items = _until_mark(stack)
                if name == "INST":
                    module, _, attr = str(arg).partition(" ")
                    g = Global(module, attr)
                    out.globals.append(g)
                    c = Call(g, tuple(items))
                else:
                    c = Call(items[0], tuple(items[1:]))
                out.calls.append(c)
                stack.append(c)
            elif name in ("BUILD", "POP"):
                stack.pop()
            elif name == "POP_MARK":
                _until_mark(stack)
            elif name == "DUP":
                stack.append(stack[-1])
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(str(arg))] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[int(str(arg))])
            else:
                raise Unreadable(f"opcode {name} is not modelled")
    except (IndexError, KeyError, ValueError, TypeError) as e:
        raise Unreadable(str(e) or type(e).__name__) from None
    raise Unreadable("no STOP opcode")
