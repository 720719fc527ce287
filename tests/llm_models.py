"""Tiny llama-architecture GGUF models written with the `gguf` package, for the llama.cpp tests.

A GPT-2 style byte-level vocabulary (the 256 bytes, one merge, an end-of-text token used as
BOS), one transformer block of width 32. With `zero=True` the output weights are zero: the
model predicts every token with probability 1/258, so its loss is exactly log2(258) bits a token.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

VOCAB = 258


def byte_chars() -> dict[int, str]:
    """GPT-2's printable stand-in character for each byte (bytes_to_unicode)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def write_tiny_llama(path: Path, *, zero: bool = False, seed: int = 0, n_ctx: int = 512) -> Path:
    """Write a one-block llama model to `path`; random weights from `seed`, or zero output weights."""
    n_embd, n_head, n_ff = 32, 2, 64
    chars = byte_chars()
    tokens = [chars[b] for b in range(256)] + ["Ġt", "<|endoftext|>"]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(1)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_file_type(0)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([1] * 257 + [3])  # normal tokens, then one control token
    w.add_token_merges(["Ġ t"])
    w.add_bos_token_id(VOCAB - 1)
    w.add_eos_token_id(VOCAB - 1)
    w.add_add_bos_token(True)
    rng = np.random.default_rng(seed)

    def tensor(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.2).astype(np.float32))

    tensor("token_embd.weight", VOCAB, n_embd)
    w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    if zero:
        w.add_tensor("output.weight", np.zeros((VOCAB, n_embd), np.float32))
    else:
        tensor("output.weight", VOCAB, n_embd)
    w.add_tensor("blk.0.attn_norm.weight", np.ones(n_embd, np.float32))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(n_embd, np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        tensor(f"blk.0.{name}.weight", n_embd, n_embd)
    tensor("blk.0.ffn_gate.weight", n_ff, n_embd)
    tensor("blk.0.ffn_up.weight", n_ff, n_embd)
    tensor("blk.0.ffn_down.weight", n_embd, n_ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
