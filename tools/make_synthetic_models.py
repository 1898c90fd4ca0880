#!/usr/bin/env python3
"""make_synthetic_models.py - random-weight GGUF models for tests and benchmarks.

Writes a model of a named shape ("preset") with gguf-py, in F32 (norms F32,
matrices F32) or F16 (matrices F16), and derives the quantized variants with
llama.cpp's own quantizer (llama_model_quantize through llama-cpp-python), so a
"Q4_K_M" file has exactly the tensor type mix llama-quantize would give a real
model of that shape.  Every file loads and evaluates in llama.cpp.

    tools/make_synthetic_models.py --preset llama-gqa --ftype Q4_K_M --out m.gguf
    tools/make_synthetic_models.py --small --out-dir DIR [--check tests/models/manifest.json]
    tools/make_synthetic_models.py --preset llama-1b --ftype Q4_K_M   # into the cache
    tools/make_synthetic_models.py --list

Determinism: the weights come from numpy's PCG64 seeded with (seed, preset,
tensor name), the vocabulary is learned from tools/parity_corpus/ by a fixed
BPE procedure, and llama.cpp's quantizer is deterministic, so the same command
gives the same bytes on the same build (tests/models/manifest.json records the
sha256 of each small model; --check compares).

Conditioning (why the scales below are not "init-like"): with plain small
random weights the next-token distribution is nearly uniform and a top-1
comparison is a coin toss between near-ties.  With large gains, on the other
hand, the network amplifies the tiny float-order differences between two
correct implementations (each one resamples llama.cpp's rounding of the
activations to Q8/F16 at a few elements, and a changed K/V entry affects every
later position): llama.cpp against itself (batch vs one token at a time) then
disagrees at the 1e-3 KL level.  The gains below keep that floor near 1e-4
while the distributions stay peaked.  So
  * every block input is RMS-normalised (the architectures do that) and every
    projection has std gain/sqrt(fan_in): activations stay O(1) through the
    layers and attention scores have a spread of about 1.5-2;
  * the output norm weights are set so logits have std ~ LOGIT_STD nats;
  * the MoE router has std ROUTER_STD/sqrt(n_embd), so expert logits are
    well separated (top-2 choice is rarely a near-tie) yet every expert wins
    for some tokens.
Norm weights are stored as llama.cpp's converters store them: the value the
runtime multiplies by (for Gemma that is already 1+w).

Python is allowed in tools/ only; the product never imports this.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO / "tools" / "parity_corpus"
SPACE = "\u2581"  # SentencePiece's visible space

LOGIT_STD = 5.0      # target std of the output logits (nats)
ROUTER_STD = 8.0     # target std of the MoE router logits (gap 2nd-3rd expert: median ~2.4)
ATTN_GAIN = 1.0      # q and k gain: q.k/sqrt(d) has std ~ ATTN_GAIN^2
FFN_DOWN_GAIN = 1.0  # ffn_down std = FFN_DOWN_GAIN/sqrt(n_ff)
EMB_STD_UNTIED = 1.0 # residual RMS the embedding brings in (untied models)

# ---------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------
# fields: arch, n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff,
# n_expert, n_expert_used, rope_base, eps, ctx, tied, qkv_bias, qk_norm,
# gemma (post norms, GeGLU, sqrt(n_embd) embedding scale), swa, rope_freqs,
# space_prefix (SPM add_space_prefix), specials (layout of the special ids)
_BASE = dict(n_expert=0, n_expert_used=0, rope_base=10000.0, eps=1e-5, ctx=4096,
             tied=False, qkv_bias=False, qk_norm=False, gemma=False, swa=0,
             rope_freqs=False, space_prefix=True, specials="llama", big=False)

PRESETS = {
    # Llama / SmolLM-like, NORM rope, GQA 4:1, n_ff not a multiple of 256 so
    # Q4_K_M has to fall back for ffn_down (a second quant family in one file).
    "llama-gqa": dict(_BASE, arch="llama", n_vocab=512, n_embd=256, n_layer=4, n_head=8,
                      n_head_kv=2, head_dim=32, n_ff=704),
    # Qwen3: QK-norm, NEOX rope, no biases, head_dim*n_head != n_embd, tied output.
    "qwen3": dict(_BASE, arch="qwen3", n_vocab=512, n_embd=256, n_layer=4, n_head=4,
                  n_head_kv=2, head_dim=128, n_ff=768, rope_base=1e6, eps=1e-6,
                  tied=True, qk_norm=True),
    # Qwen2: q/k/v biases, NEOX rope, untied output.
    "qwen2": dict(_BASE, arch="qwen2", n_vocab=512, n_embd=256, n_layer=4, n_head=8,
                  n_head_kv=2, head_dim=32, n_ff=704, rope_base=1e6, eps=1e-6,
                  qkv_bias=True),
    # Mixtral-like MoE in the llama arch: 8 experts, top-2, router F32.
    "mixtral-moe": dict(_BASE, arch="llama", n_vocab=512, n_embd=256, n_layer=4, n_head=8,
                        n_head_kv=2, head_dim=32, n_ff=256, n_expert=8, n_expert_used=2,
                        rope_base=1e6),
    # Gemma 3 (270M-like in miniature): n_embd 160 is not a multiple of 256, so
    # Q4_K_M falls back to Q5_0/Q8_0 for most matrices as in the real 270M;
    # 8 layers = 5 local, 1 global (layer 5), 2 local; window 16; tied output;
    # specials laid out as Gemma's (pad 0, eos 1, bos 2, unk 3).
    "gemma3": dict(_BASE, arch="gemma3", n_vocab=1024, n_embd=160, n_layer=8, n_head=4,
                   n_head_kv=1, head_dim=64, n_ff=512, rope_base=1e6, eps=1e-6, ctx=32768,
                   tied=True, qk_norm=True, gemma=True, swa=16, space_prefix=False,
                   specials="gemma"),
    # Benchmark shapes (issue 4): generated on demand into the cache, never committed.
    # Llama-3.2-1B-shaped: tied embeddings, rope_freqs (llama3 scaling), base 500000.
    "llama-1b": dict(_BASE, arch="llama", n_vocab=128256, n_embd=2048, n_layer=16, n_head=32,
                     n_head_kv=8, head_dim=64, n_ff=8192, rope_base=500000.0, ctx=131072,
                     tied=True, rope_freqs=True, big=True),
    # Mixtral-shaped MoE: 8 experts top-2, n_embd 1024, 12 layers, n_ff 2816.
    "mixtral-bench": dict(_BASE, arch="llama", n_vocab=32000, n_embd=1024, n_layer=12, n_head=16,
                          n_head_kv=4, head_dim=64, n_ff=2816, n_expert=8, n_expert_used=2,
                          rope_base=1e6, ctx=32768, big=True),
}
SMALL_PRESETS = [k for k, v in PRESETS.items() if not v["big"]]
SMALL_FTYPES = ["F16", "Q8_0", "Q4_K_M"]   # the committed/golden set; F32 on request

# llama_ftype values (llama.h); F32/F16 are written directly, the rest quantized.
FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
          "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15,
          "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "BF16": 32}


def cache_dir():
    base = os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinglado")
    return Path(base) / "models" / "synthetic"


def model_filename(preset, ftype, seed):
    return f"{preset}-{ftype.lower()}-s{seed}.gguf"


# ---------------------------------------------------------------------------
# vocabulary: a SentencePiece-style (tokenizer.ggml.model = "llama") vocab
# ---------------------------------------------------------------------------
def corpus_text():
    """All corpus documents, sorted by name, joined: the BPE training text."""
    files = sorted(CORPUS_DIR.glob("*.txt"))
    if not files:
        sys.exit(f"make_synthetic_models: no corpus in {CORPUS_DIR}")
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def learn_pieces(text, n_merges):
    """Plain BPE over SentencePiece words: ' ' -> U+2581, a word is U+2581 plus
    what follows up to the next space or newline.  Returns (chars, merges)
    where merges are the merged strings in rank order.  Ties between equally
    frequent pairs go to the lexicographically smallest, so it is deterministic."""
    words = Counter()
    for line in text.split("\n"):
        line = SPACE + line.replace(" ", SPACE)
        for w in re.findall(SPACE + "+[^" + SPACE + "]*|[^" + SPACE + "]+", line):
            words[w] += 1
    chars = sorted({c for w in words for c in w})
    seqs = {w: list(w) for w in words}
    merges = []
    seen = set(chars)
    while len(merges) < n_merges:
        pairs = Counter()
        for w, f in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(c) for c in kv[0][0] + "\0" + kv[0][1]]))
        (a, b), freq = best
        if freq < 2:
            break
        m = a + b
        for w in words:
            s = seqs[w]
            if len(s) < 2:
                continue
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(m)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
        if m not in seen:
            merges.append(m)
            seen.add(m)
    return chars, merges


def build_vocab(n_vocab, specials, seed):
    """Token list, scores, types and special ids.  Layout: special tokens,
    the 256 byte tokens <0x00>..<0xFF>, the corpus characters, the learned
    merges (score -rank), then filler pieces (random lowercase words) up to
    n_vocab.  Token types: 1 normal, 2 unknown, 3 control, 6 byte."""
    if specials == "gemma":
        head = [("<pad>", 3), ("</s>", 3), ("<s>", 3), ("<unk>", 2)]
        ids = dict(pad=0, eos=1, bos=2, unk=3)
    else:
        head = [("<unk>", 2), ("<s>", 3), ("</s>", 3)]
        ids = dict(unk=0, bos=1, eos=2)
    toks = [t for t, _ in head]
    types = [ty for _, ty in head]
    scores = [0.0] * len(head)
    for b in range(256):
        toks.append(f"<0x{b:02X}>")
        types.append(6)
        scores.append(0.0)
    room = n_vocab - len(toks)
    if room <= 0:
        raise ValueError("n_vocab too small for specials + bytes")
    text = corpus_text()
    chars, merges = learn_pieces(text, n_merges=room)
    chars = [c for c in chars if c not in ("\n",)]
    pieces = []
    have = set(toks)
    for c in chars:
        if len(pieces) >= room:
            break
        if c not in have:
            pieces.append((c, -1e9))  # score irrelevant: a pair never concatenates to one char
            have.add(c)
    rank = 0
    for m in merges:
        if len(pieces) >= room:
            break
        if m not in have:
            rank += 1
            pieces.append((m, -float(rank)))
            have.add(m)
    rng = np.random.Generator(np.random.PCG64([seed, 0x70C]))
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(pieces) < room:
        n = int(rng.integers(3, 10))
        w = SPACE + "".join(letters[int(i)] for i in rng.integers(0, 26, n))
        if w in have:
            continue
        rank += 1
        pieces.append((w, -float(rank)))
        have.add(w)
    for p, s in pieces:
        toks.append(p)
        types.append(1)
        scores.append(s)
    assert len(toks) == n_vocab and len(set(toks)) == n_vocab
    return toks, scores, types, ids


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------
class Rand:
    """Per-tensor independent streams: the weights of a tensor depend only on
    (seed, preset, tensor name), not on the order tensors are generated in."""

    def __init__(self, seed, preset):
        self.seed = seed
        self.tag = zlib.crc32(preset.encode())

    def gen(self, name):
        return np.random.Generator(np.random.PCG64([self.seed, self.tag, zlib.crc32(name.encode())]))

    def normal(self, name, shape, std, mean=0.0):
        g = self.gen(name)
        a = g.standard_normal(size=shape, dtype=np.float32)
        a *= np.float32(std)
        if mean:
            a += np.float32(mean)
        return a


def llama3_rope_freqs(head_dim, base, factor=32.0, low=1.0, high=4.0, orig_ctx=8192):
    """The rope_freqs factors llama.cpp's converter writes for Llama 3.1/3.2
    (rope_scaling type llama3): 1 for high frequencies, `factor` for low ones,
    a smooth ramp between.  Computed here from the published formula."""
    freqs = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    low_wl = orig_ctx / low
    high_wl = orig_ctx / high
    out = []
    for f in freqs:
        wl = 2 * np.pi / f
        if wl < high_wl:
            out.append(1.0)
        elif wl > low_wl:
            out.append(factor)
        else:
            smooth = (orig_ctx / wl - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def make_tensors(p, rnd):
    """Yield (name, float32 array in numpy [out, in] order, is_matrix)."""
    E, F, H, HK, D = p["n_embd"], p["n_ff"], p["n_head"], p["n_head_kv"], p["head_dim"]
    V, L, X = p["n_vocab"], p["n_layer"], p["n_expert"]
    gemma = p["gemma"]

    # Embedding.  Untied: rows of std 1 enter the residual with RMS 1.  Tied:
    # the logit of token j is ~ h . E_j, so if the final residual h still
    # points along the current token's own row, "repeat the current token"
    # wins every position (self-logit ~ LOGIT_STD * sqrt(E) * cos).  Real
    # models learn their way out of that; here the embedding enters the
    # residual small (RMS ~0.05-0.1, the blocks see it RMS-normalised anyway)
    # so its share of the final residual, hence the self-logit, stays ~1 std.
    # Gemma multiplies rows by sqrt(E) at input, hence the 1/sqrt(E).
    if p["tied"]:
        emb_std = 0.1 / np.sqrt(E) if gemma else 0.05
    else:
        emb_std = EMB_STD_UNTIED
    emb = rnd.normal("token_embd.weight", (V, E), emb_std)
    yield "token_embd.weight", emb, True

    def norm(name, n, scale=1.0, jitter=0.1):
        return rnd.normal(name, (n,), scale * jitter, mean=scale)

    for il in range(L):
        b = f"blk.{il}."
        yield b + "attn_norm.weight", norm(b + "attn_norm.weight", E), False
        qk_gain = 1.0 if p["qk_norm"] else ATTN_GAIN
        yield b + "attn_q.weight", rnd.normal(b + "attn_q.weight", (H * D, E), qk_gain / np.sqrt(E)), True
        yield b + "attn_k.weight", rnd.normal(b + "attn_k.weight", (HK * D, E), qk_gain / np.sqrt(E)), True
        yield b + "attn_v.weight", rnd.normal(b + "attn_v.weight", (HK * D, E), 1.0 / np.sqrt(E)), True
        if p["qkv_bias"]:
            yield b + "attn_q.bias", rnd.normal(b + "attn_q.bias", (H * D,), 0.5), False
            yield b + "attn_k.bias", rnd.normal(b + "attn_k.bias", (HK * D,), 0.5), False
            yield b + "attn_v.bias", rnd.normal(b + "attn_v.bias", (HK * D,), 0.2), False
        if p["qk_norm"]:
            # per-head RMSNorm then these weights: q.k/sqrt(D) has std ~ w_q*w_k
            yield b + "attn_q_norm.weight", norm(b + "attn_q_norm.weight", D, ATTN_GAIN), False
            yield b + "attn_k_norm.weight", norm(b + "attn_k_norm.weight", D, ATTN_GAIN), False
        yield b + "attn_output.weight", rnd.normal(b + "attn_output.weight", (E, H * D), 1.0 / np.sqrt(H * D)), True
        if gemma:
            yield b + "post_attention_norm.weight", norm(b + "post_attention_norm.weight", E, 0.7), False
        yield b + "ffn_norm.weight", norm(b + "ffn_norm.weight", E), False
        if X:
            yield b + "ffn_gate_inp.weight", rnd.normal(b + "ffn_gate_inp.weight", (X, E), ROUTER_STD / np.sqrt(E)), True
            yield b + "ffn_gate_exps.weight", rnd.normal(b + "ffn_gate_exps.weight", (X, F, E), 1.0 / np.sqrt(E)), True
            yield b + "ffn_down_exps.weight", rnd.normal(b + "ffn_down_exps.weight", (X, E, F), FFN_DOWN_GAIN / np.sqrt(F)), True
            yield b + "ffn_up_exps.weight", rnd.normal(b + "ffn_up_exps.weight", (X, F, E), 1.0 / np.sqrt(E)), True
        else:
            yield b + "ffn_gate.weight", rnd.normal(b + "ffn_gate.weight", (F, E), 1.0 / np.sqrt(E)), True
            yield b + "ffn_down.weight", rnd.normal(b + "ffn_down.weight", (E, F), FFN_DOWN_GAIN / np.sqrt(F)), True
            yield b + "ffn_up.weight", rnd.normal(b + "ffn_up.weight", (F, E), 1.0 / np.sqrt(E)), True
        if gemma:
            yield b + "post_ffw_norm.weight", norm(b + "post_ffw_norm.weight", E, 0.7), False

    # Output: logits = (normalised h * output_norm) . W_out[row].  h has RMS 1,
    # so logit std = |output_norm| * std(W_out) * sqrt(E).
    out_std = emb_std if p["tied"] else 1.0 / np.sqrt(E)
    onorm = LOGIT_STD / (out_std * np.sqrt(E))
    yield "output_norm.weight", norm("output_norm.weight", E, onorm), False
    if not p["tied"]:
        yield "output.weight", rnd.normal("output.weight", (V, E), out_std), True
    if p["rope_freqs"]:
        yield "rope_freqs.weight", llama3_rope_freqs(D, p["rope_base"]), False


def write_float_model(preset, p, path, dtype, seed):
    """Write the F32 or F16 model with gguf-py.  Returns nothing; raises on error."""
    import gguf

    arch = p["arch"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_string("general.name", f"tinglado synthetic {preset} (seed {seed})")
    w.add_string("general.description",
                 "random weights for parity tests and benchmarks; made by tools/make_synthetic_models.py")
    w.add_uint32("general.file_type", 1 if dtype == np.float16 else 0)
    w.add_uint32("general.quantization_version", 2)
    a = arch
    w.add_uint32(f"{a}.context_length", p["ctx"])
    w.add_uint32(f"{a}.embedding_length", p["n_embd"])
    w.add_uint32(f"{a}.block_count", p["n_layer"])
    w.add_uint32(f"{a}.feed_forward_length", p["n_ff"])
    w.add_uint32(f"{a}.attention.head_count", p["n_head"])
    w.add_uint32(f"{a}.attention.head_count_kv", p["n_head_kv"])
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", p["eps"])
    w.add_float32(f"{a}.rope.freq_base", p["rope_base"])
    if p["head_dim"] * p["n_head"] != p["n_embd"] or arch in ("gemma3", "qwen3"):
        w.add_uint32(f"{a}.attention.key_length", p["head_dim"])
        w.add_uint32(f"{a}.attention.value_length", p["head_dim"])
    if arch == "llama":
        w.add_uint32(f"{a}.rope.dimension_count", p["head_dim"])
        w.add_uint32(f"{a}.vocab_size", p["n_vocab"])
    if p["n_expert"]:
        w.add_uint32(f"{a}.expert_count", p["n_expert"])
        w.add_uint32(f"{a}.expert_used_count", p["n_expert_used"])
    if p["swa"]:
        w.add_uint32(f"{a}.attention.sliding_window", p["swa"])

    toks, scores, types, ids = build_vocab(p["n_vocab"], p["specials"], seed)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_string("tokenizer.ggml.pre", "default")
    w.add_array("tokenizer.ggml.tokens", toks)
    w.add_array("tokenizer.ggml.scores", scores)
    w.add_array("tokenizer.ggml.token_type", types)
    w.add_uint32("tokenizer.ggml.bos_token_id", ids["bos"])
    w.add_uint32("tokenizer.ggml.eos_token_id", ids["eos"])
    w.add_uint32("tokenizer.ggml.unknown_token_id", ids["unk"])
    if "pad" in ids:
        w.add_uint32("tokenizer.ggml.padding_token_id", ids["pad"])
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)
    w.add_bool("tokenizer.ggml.add_space_prefix", p["space_prefix"])

    rnd = Rand(seed, preset)
    for name, arr, is_matrix in make_tensors(p, rnd):
        # llama.cpp keeps the router and 1-D tensors in F32 (it never
        # quantizes ffn_gate_inp); matrices take the requested float type.
        if is_matrix and dtype == np.float16 and not name.endswith("ffn_gate_inp.weight"):
            arr = arr.astype(np.float16)
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantize(src, dst, ftype, nthread):
    import llama_cpp

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[ftype]
    params.nthread = nthread
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({ftype}) failed with {rc}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def tensor_types(path):
    import gguf

    r = gguf.GGUFReader(str(path))
    return dict(sorted(Counter(t.tensor_type.name for t in r.tensors).items()))


def make(preset, ftype, out, seed=1, nthread=2, keep_source=False, quiet=False):
    """Create one model file; returns a manifest entry (dict)."""
    p = PRESETS[preset]
    ftype = ftype.upper()
    if ftype not in FTYPES:
        raise SystemExit(f"unknown ftype {ftype}; one of {', '.join(FTYPES)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if ftype in ("F32", "F16"):
        write_float_model(preset, p, tmp, np.float32 if ftype == "F32" else np.float16, seed)
    else:
        # Small presets quantize from an F32 master (as llama-quantize from
        # an f32 conversion); big ones from F16 to keep the temporary file
        # small.  The master is always written afresh (never a stale file).
        master_type = "F16" if p["big"] else "F32"
        src = out.with_name(out.name + f".{master_type.lower()}-master")
        if not quiet:
            print(f"  writing {master_type} master {src}", file=sys.stderr)
        write_float_model(preset, p, src, np.float16 if master_type == "F16" else np.float32, seed)
        try:
            quantize(src, tmp, ftype, nthread)
        finally:
            if not keep_source:
                src.unlink()
    os.replace(tmp, out)
    entry = dict(file=out.name, preset=preset, ftype=ftype, seed=seed, bytes=out.stat().st_size,
                 sha256=sha256(out), tensor_types=tensor_types(out))
    if not quiet:
        print(f"{out}: {entry['bytes']} bytes, {entry['tensor_types']}", file=sys.stderr)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--ftype", default="Q4_K_M", help="F32, F16, Q8_0, Q4_K_M, Q5_0, ... (default Q4_K_M)")
    ap.add_argument("--out", help="output file (default: the synthetic model cache)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="quantizer threads")
    ap.add_argument("--keep-source", action="store_true", help="keep the F32/F16 master of a quantized model")
    ap.add_argument("--small", action="store_true",
                    help=f"all small presets x {'/'.join(SMALL_FTYPES)} into --out-dir")
    ap.add_argument("--out-dir", help="directory for --small (default: the synthetic model cache)")
    ap.add_argument("--check", help="manifest.json: skip files whose sha256 already matches, fail on mismatch")
    ap.add_argument("--write-manifest", help="write the manifest of what was made to this path")
    ap.add_argument("--list", action="store_true", help="list the presets")
    a = ap.parse_args()

    if a.list:
        for k, v in PRESETS.items():
            print(f"{k:14s} arch={v['arch']:7s} vocab={v['n_vocab']:6d} embd={v['n_embd']:5d} layers={v['n_layer']:2d} "
                  f"heads={v['n_head']}/{v['n_head_kv']} head_dim={v['head_dim']} ff={v['n_ff']}"
                  + (f" experts={v['n_expert']}/top{v['n_expert_used']}" if v['n_expert'] else "")
                  + (f" swa={v['swa']}" if v['swa'] else "") + (" tied" if v['tied'] else "")
                  + (" [big: cache only]" if v['big'] else ""))
        return 0

    jobs = []
    if a.small:
        d = Path(a.out_dir) if a.out_dir else cache_dir()
        for pr in SMALL_PRESETS:
            for ft in SMALL_FTYPES:
                jobs.append((pr, ft, d / model_filename(pr, ft, a.seed)))
    elif a.preset:
        out = Path(a.out) if a.out else cache_dir() / model_filename(a.preset, a.ftype, a.seed)
        jobs.append((a.preset, a.ftype, out))
    else:
        ap.error("need --preset, --small or --list")

    expected = {}
    if a.check and Path(a.check).exists():
        expected = {e["file"]: e for e in json.loads(Path(a.check).read_text())["models"]}
    made, bad = [], []
    for pr, ft, out in jobs:
        exp = expected.get(out.name)
        if exp and out.exists() and out.stat().st_size == exp["bytes"] and sha256(out) == exp["sha256"]:
            made.append(exp)
            continue
        e = make(pr, ft, out, seed=a.seed, nthread=a.threads, keep_source=a.keep_source)
        made.append(e)
        if exp and exp["sha256"] != e["sha256"]:
            bad.append(out.name)
    if a.write_manifest:
        Path(a.write_manifest).write_text(json.dumps({"models": made}, indent=1) + "\n")
    for e in made:
        print(f"{e['file']}  {e['bytes']:>10d}  {e['sha256'][:16]}  {e['tensor_types']}")
    if bad:
        print("make_synthetic_models: sha256 differs from the manifest for: " + ", ".join(bad)
              + "\n  (a different llama.cpp build or numpy can round differently; the golden"
              " logits were made from the manifest's bytes)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
