"""numba as an optional speed-up: `njit` compiles where numba is installed and is the identity where not.

The model backends' decoders are their Python source on CPython with NumPy. Their kernels use
integer arithmetic below 2^63 only, so compiled and plain Python runs give the same bytes;
numba (and LLVM under it) only make them faster, and a decoder need not have them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The numba version in use, or None where the kernels run as plain Python.
NUMBA_VERSION: str | None = None
_compile: Any = None


def njit(*, cache: bool = False, fastmath: bool = False) -> Callable[[F], F]:
    """numba.njit(cache=..., fastmath=...) where numba is installed; otherwise leave the function as plain Python.

    `fastmath` lets LLVM reorder floating-point sums (and so vectorise them): only for sums
    whose every term and partial sum is an integer below 2^53, which come out exact in any order.
    """
    if _compile is None:
        return lambda f: f
    compiled: Callable[[F], F] = _compile(cache=cache, fastmath=fastmath)
    return compiled


def _no_prefetch(arr: Any, i: int) -> None:
    """A hint to the cache; nothing to do as plain Python."""


prefetch: Callable[..., Any] = _no_prefetch

with contextlib.suppress(ImportError):
    import numba

    NUMBA_VERSION = numba.__version__
    _compile = numba.njit
    if not getattr(numba.config, "DISABLE_JIT", False):
        from llvmlite import ir  # type: ignore[import-untyped]
        from numba import types
        from numba.core import cgutils
        from numba.extending import intrinsic

        @intrinsic
        def _llvm_prefetch(typingctx, arr, i):  # type: ignore[no-untyped-def]
            """Ask the CPU to start loading arr[i] into the cache (llvm.prefetch); changes no result.

            A table lookup waits on memory; issuing the next byte's lookups early lets them overlap.
            """

            def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
                aryty = signature.args[0]
                ary = context.make_array(aryty)(context, builder, args[0])
                ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
                    context, builder, aryty, ary, [args[1]], wraparound=False
                )
                i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
                fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
                fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")  # type: ignore[no-untyped-call]
                builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
                return context.get_dummy_value()

            return types.void(arr, i), codegen

        prefetch = _llvm_prefetch


def version_note() -> str:
    """How the kernels run here, for a backend's version string."""
    return f"numba {NUMBA_VERSION}" if NUMBA_VERSION else "plain Python (no numba)"
