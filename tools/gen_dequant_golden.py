#!/usr/bin/env python3
"""gen_dequant_golden.py — reference data for tests/tensor/test_types.c.

Command that made the committed files (run from the repository root):

    ~/.cache/tinglado/llama-venv/bin/python tools/gen_dequant_golden.py

with gguf 0.19.0 (PyPI), numpy 2.4.6 and llama-cpp-python 0.3.36 (whose
libggml-base.so / libggml-cpu.so are loaded with ctypes), and the default
model ~/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf (or $TINGLADO_MODEL).
Everything random comes from numpy's PCG64 with fixed seeds, so re-running it
reproduces the files byte for byte.

What it writes to tests/golden/dequant/ (all little-endian; every .bin file
starts with a 16-byte header: b"TGG1", u32 kind, u32 ggml type, u32 count):

  dq_<type>.bin   kind 1, decoding.  count = number of blocks; then the raw
                  blocks, then the float32 values gguf-py's numpy dequantizer
                  (gguf.quants.dequantize) makes of them.  Q8_K, which gguf-py
                  lacks, is decoded by ggml's dequantize_row_q8_K instead.
                  The blocks are random bytes whose f16 scale fields are
                  overwritten with random *finite* f16 values (uniform over
                  the finite bit patterns, so subnormals and large values
                  occur), followed by 8 edge-case blocks: scales 0, -0,
                  +-65504, the smallest subnormal, +Inf and NaN, and quant
                  bytes all 0x00 / all 0xFF.  Blocks with Inf/NaN scales
                  decode to NaN in places; the test compares NaN positions.
  qz_<type>.bin   kind 2, encoding.  count = number of blocks (values for
                  f16/bf16); then the float32 inputs, then the bytes ggml's
                  reference encoder quantize_row_<type>_ref writes (f16: numpy
                  astype(float16); bf16: gguf-py's BF16 quantizer).  Inputs
                  mix Gaussian, uniform, one-sided, outlier, constant, zero,
                  tiny (below ggml's 1e-15 group epsilon), integer-valued,
                  large, and half-integer (exact rounding ties) blocks; the f16/bf16 inputs add
                  exact rounding ties and their neighbours, overflow and
                  subnormal boundaries, Inf and NaN.
  vd_<type>.bin   kind 3, dot products.  count = rows; then u32 n_per_row;
                  then per row the x row (this type, encoded by ggml's
                  reference encoder) and the y row (its vec_dot_type, encoded
                  the same way); then one float32 per row: what ggml-cpu's own
                  vec_dot (the optimized CPU kernel) returns.  The test
                  compares our scalar dot within a tolerance.
  bulk.txt        the same checks at scale, by hash: lines "decode <type> <blocks>
                  <seed> <sha256>" and "encode <type> <blocks> <seed> <sha256>"
                  over inputs that both this tool and the C test derive from
                  splitmix64(seed) (see bulk_encode_input / bulk_decode_blocks),
                  hashing gguf-py's float32 output / ggml's encoded bytes.
  fp_exhaustive.txt   SHA-256 of the float32 bytes of all 65536 f16 and all
                  65536 bf16 values in bit order, decoded by numpy / gguf-py
                  (NaN outputs replaced by 0x7fc00000 first, since NaN
                  payload handling differs between implementations).
  model_gemma-3-270m-q4_k_m.txt   for every tensor of the default model: name,
                  type, element count, and the SHA-256 of the float32 bytes
                  gguf.quants.dequantize produces for it.
"""

import ctypes
import hashlib
import os
import struct
import sys

import numpy as np

import gguf
import llama_cpp
from gguf.constants import GGMLQuantizationType as T
from gguf.quants import dequantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "dequant")
MODEL = os.environ.get("TINGLADO_MODEL") or os.path.expanduser(
    "~/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf")

# (block elements, bytes per block) as ggml defines them.  Not taken from
# gguf-py: its GGML_QUANT_SIZES has 40 bytes for Q8_1, ggml's block is 36.
GEOM = {
    T.F32: (1, 4), T.F16: (1, 2), T.BF16: (1, 2),
    T.Q4_0: (32, 18), T.Q4_1: (32, 20), T.Q5_0: (32, 22), T.Q5_1: (32, 24),
    T.Q8_0: (32, 34), T.Q8_1: (32, 36),
    T.Q2_K: (256, 84), T.Q3_K: (256, 110), T.Q4_K: (256, 144), T.Q5_K: (256, 176),
    T.Q6_K: (256, 210), T.Q8_K: (256, 292),
}
# Byte offsets of the f16 scale fields in each block.
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
VEC_DOT_TYPE = {
    T.F32: T.F32, T.F16: T.F16, T.BF16: T.BF16,
    T.Q4_0: T.Q8_0, T.Q5_0: T.Q8_0, T.Q8_0: T.Q8_0, T.Q4_1: T.Q8_1, T.Q5_1: T.Q8_1,
    T.Q2_K: T.Q8_K, T.Q3_K: T.Q8_K, T.Q4_K: T.Q8_K, T.Q5_K: T.Q8_K, T.Q6_K: T.Q8_K,
}
KIND_DEQUANT, KIND_QUANT, KIND_VEC_DOT = 1, 2, 3

LIBDIR = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
ggml_base = ctypes.CDLL(os.path.join(LIBDIR, "libggml-base.so"))
ggml_cpu = ctypes.CDLL(os.path.join(LIBDIR, "libggml-cpu.so"))


def header(kind, qtype, count):
    return b"TGG1" + struct.pack("<III", kind, int(qtype), count)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"  {name}: {len(data)} bytes")


def ggml_encode(qtype, x):
    """Encode float32 x with ggml's reference encoder (or the numpy f16/bf16
    conversions for the float types)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if qtype == T.F32:
        return x.tobytes()
    if qtype == T.F16:
        return x.astype(np.float16).tobytes()
    if qtype == T.BF16:
        return gguf.quants.quantize(x, T.BF16).tobytes()
    bs, ts = GEOM[qtype]
    assert x.size % bs == 0
    out = ctypes.create_string_buffer(x.size // bs * ts)  # zeroed
    fn = getattr(ggml_base, f"quantize_row_{qtype.name.lower().replace('_k', '_K')}_ref")
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    fn(x.ctypes.data, out, x.size)
    return out.raw


def ggml_decode_q8_K(raw):
    n = len(raw) // 292 * 256
    out = np.zeros(n, dtype=np.float32)
    fn = ggml_base.dequantize_row_q8_K
    fn.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    fn(raw, out.ctypes.data, n)
    return out


# ---- decoding -------------------------------------------------------------

def random_finite_f16(rng, n):
    """Uniform over the finite f16 bit patterns (exponent field != 31)."""
    v = rng.integers(0, 0x10000, size=n, dtype=np.uint32)
    bad = (v & 0x7C00) == 0x7C00
    while bad.any():
        v[bad] = rng.integers(0, 0x10000, size=int(bad.sum()), dtype=np.uint32)
        bad = (v & 0x7C00) == 0x7C00
    return v.astype(np.uint16)


EDGE_F16 = [0x0000, 0x8000, 0x7BFF, 0xFBFF, 0x0001, 0x7C00, 0x7E00, 0x3C00]
EDGE_F32 = [0.0, -0.0, 3.0e38, -3.0e38, 1e-45, float("inf"), float("nan"), 1.0]


def dequant_blocks(rng, qtype, n_random):
    bs, ts = GEOM[qtype]
    n = n_random + len(EDGE_F16)
    blocks = rng.integers(0, 256, size=(n, ts), dtype=np.uint8)
    # Edge blocks: quant bytes all 0x00 in the 7th, all 0xFF in the 8th.
    blocks[n_random + 6, :] = 0x00
    blocks[n_random + 7, :] = 0xFF
    if qtype == T.Q8_K:
        d = rng.standard_normal(n).astype(np.float32) * np.float32(1e-2)
        d[n_random:] = np.array(EDGE_F32, dtype=np.float32)
        blocks[:, 0:4] = d.view(np.uint8).reshape(n, 4)
    else:
        for k, off in enumerate(F16_FIELDS[qtype]):
            f = random_finite_f16(rng, n)
            f[n_random:] = np.array(EDGE_F16, dtype=np.uint16)
            if k == 1:  # a second field (min) gets the opposite sign on edges
                f[n_random:] ^= 0x8000
            blocks[:, off:off + 2] = f.view(np.uint8).reshape(n, 2)
    raw = blocks.tobytes()
    if qtype == T.Q8_K:
        values = ggml_decode_q8_K(raw)
    else:
        values = dequantize(blocks, qtype).astype(np.float32, copy=False)
    values = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    assert values.size == n * bs
    return header(KIND_DEQUANT, qtype, n) + raw + values.tobytes()


def gen_dequant(rng):
    for qtype in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]:
        write(f"dq_{qtype.name.lower()}.bin", dequant_blocks(rng, qtype, 56))
    for qtype in [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K]:
        write(f"dq_{qtype.name.lower()}.bin", dequant_blocks(rng, qtype, 10))
    # F32 decoding is a copy; 256 random bit patterns keep the test honest.
    raw = rng.integers(0, 2**32, size=256, dtype=np.uint32).tobytes()
    vals = dequantize(np.frombuffer(raw, dtype=np.uint8).copy(), T.F32)
    write("dq_f32.bin", header(KIND_DEQUANT, T.F32, 256) + raw + np.asarray(vals, np.float32).tobytes())


def canon_nan_bytes(f32):
    u = np.ascontiguousarray(f32, dtype=np.float32).view(np.uint32)
    u = np.where((u & 0x7FFFFFFF) > 0x7F800000, np.uint32(0x7FC00000), u).astype("<u4")
    return u.tobytes()


def gen_exhaustive():
    all16 = np.arange(0x10000, dtype=np.uint16)
    f16 = all16.view(np.float16).astype(np.float32)
    bf16 = dequantize(all16.view(np.uint8).copy(), T.BF16)
    lines = [
        "# SHA-256 of the float32 outputs for all 65536 inputs in bit order, NaN -> 0x7fc00000",
        "f16_to_f32 " + hashlib.sha256(canon_nan_bytes(f16)).hexdigest(),
        "bf16_to_f32 " + hashlib.sha256(canon_nan_bytes(bf16)).hexdigest(),
    ]
    write("fp_exhaustive.txt", ("\n".join(lines) + "\n").encode())


# ---- encoding -------------------------------------------------------------

def input_block(rng, kind, n):
    if kind == 0:
        return rng.standard_normal(n)
    if kind == 1:
        return rng.standard_normal(n) * 1e-3
    if kind == 2:
        a = 10 ** rng.uniform(-3, 3)
        return rng.uniform(-a, a, n)
    if kind == 3:
        return np.abs(rng.standard_normal(n)) + 0.5  # all positive
    if kind == 4:
        return -np.abs(rng.standard_normal(n)) - 0.25  # all negative
    if kind == 5:
        x = rng.standard_normal(n) * 0.1
        x[rng.integers(0, n)] = rng.choice([-1, 1]) * 25.0  # one outlier
        return x
    if kind == 6:
        return np.zeros(n)
    if kind == 7:
        return np.full(n, rng.uniform(-2, 2))  # constant
    if kind == 8:
        return rng.standard_normal(n) * 1e-20  # below GROUP_MAX_EPS
    if kind == 9:
        return rng.integers(-8, 9, n).astype(np.float64)  # rounding ties
    if kind == 10:
        return rng.standard_normal(n) * 2e4  # large, still finite in f16
    if kind == 11:
        x = rng.standard_normal(n)  # sparse
        x[rng.random(n) < 0.7] = 0.0
        return x
    # Exact rounding ties: half-integers with the extreme value +-127, so
    # d = 1 and 1/d = 1 for Q8_0/Q8_1/Q8_K, where roundf (ties away from
    # zero) and nearest_int (ties to even) disagree.
    x = rng.integers(-100, 100, n) + 0.5
    x[rng.integers(0, n)] = rng.choice([-127.0, 127.0])
    return x


N_INPUT_KINDS = 13


def gen_quant(rng):
    for qtype, nblk in [(T.Q4_0, 39), (T.Q4_1, 39), (T.Q5_0, 39), (T.Q5_1, 39), (T.Q8_0, 39),
                        (T.Q8_1, 39), (T.Q2_K, 13), (T.Q3_K, 13), (T.Q4_K, 13), (T.Q5_K, 13),
                        (T.Q6_K, 13), (T.Q8_K, 13)]:
        bs, ts = GEOM[qtype]
        x = np.concatenate([input_block(rng, i % N_INPUT_KINDS, bs) for i in range(nblk)]).astype(np.float32)
        raw = ggml_encode(qtype, x)
        assert len(raw) == nblk * ts
        write(f"qz_{qtype.name.lower()}.bin", header(KIND_QUANT, qtype, nblk) + x.tobytes() + raw)

    # f32 -> f16: random bit patterns, exact ties between neighbouring f16
    # values and the f32 values just around them, and boundary cases.
    h = random_finite_f16(rng, 1500)
    h = h[(h & 0x7FFF) != 0x7BFF]  # the next value up would be Inf
    lo = h.view(np.float16).astype(np.float64)
    hi = (h + np.where(h & 0x8000, -1, 1).astype(np.int32)).astype(np.uint16)
    hi = np.where((h & 0x7FFF) == 0, h | 1, hi).astype(np.uint16)  # +-0 -> +-smallest
    mid = ((lo + hi.view(np.float16).astype(np.float64)) / 2).astype(np.float32)
    mid_up = np.nextafter(mid, np.float32(np.inf), dtype=np.float32)
    mid_dn = np.nextafter(mid, np.float32(-np.inf), dtype=np.float32)
    rnd = rng.integers(0, 2**32, size=1500, dtype=np.uint32).view(np.float32)
    edges = np.array([0.0, -0.0, 65504, 65519.996, 65520, 65536, -65520, 1e10, np.inf, -np.inf, np.nan,
                      2.0**-14, 2.0**-14 * (1 - 2**-24), 2.0**-24, 2.0**-25, 2.0**-25 * (1 + 2**-23),
                      2.0**-26, -(2.0**-25), 1e-45, 5.96e-8, 1.0, 1.0 + 2**-11, 1.0 + 3 * 2**-11],
                     dtype=np.float32)
    xs = np.concatenate([mid, mid_up, mid_dn, rnd, edges]).astype(np.float32)
    write("qz_f16.bin", header(KIND_QUANT, T.F16, xs.size) + xs.tobytes() + ggml_encode(T.F16, xs))

    # f32 -> bf16: random bits, exact ties (low half 0x8000) and neighbours.
    b = rng.integers(0, 2**32, size=1000, dtype=np.uint32)
    ties = (b & 0xFFFF0000) | 0x8000
    xs = np.concatenate([b, ties, ties + 1, ties - 1,
                         np.array([0x7F7FFFFF, 0x7F7F8000, 0xFF7F8000, 0x7F800000, 0x7F800001, 0xFFC00001,
                                   0x00000001, 0x80008000, 0x00018000, 0x3F808000], dtype=np.uint32)])
    xs = xs.astype(np.uint32).view(np.float32)
    write("qz_bf16.bin", header(KIND_QUANT, T.BF16, xs.size) + xs.tobytes() + ggml_encode(T.BF16, xs))


# ---- bulk checks by hash --------------------------------------------------

MASK64 = (1 << 64) - 1


def splitmix64(seed, count, start=0):
    """Draws start..start+count-1 of the splitmix64 stream of seed (the
    state after k draws is seed + k * 0x9e3779b97f4a7c15)."""
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def bulk_encode_input(seed, n_blocks, bs):
    """Per block: one draw r picks an exponent e = r % 31 - 20 and a mode
    (r >> 8) % 4; then one draw v per element gives m = (v >> 40) - 2^23 (an
    exact float) and the value is, by mode: m * 2^(e-23); |m| * 2^(e-23);
    0 unless v % 4 == 0, else m * 2^(e-23); (m >> 19) * 0.5 (half-integers,
    rounding ties)."""
    draws = splitmix64(seed, n_blocks * (1 + bs)).reshape(n_blocks, 1 + bs)
    r, v = draws[:, :1], draws[:, 1:]
    e = (r % np.uint64(31)).astype(np.int64) - 20
    mode = ((r >> np.uint64(8)) % np.uint64(4)).astype(np.int64)
    m = (v >> np.uint64(40)).astype(np.int64) - (1 << 23)
    scale = np.ldexp(1.0, e - 23)
    x = np.where(mode == 0, m * scale, 0.0)
    x = np.where(mode == 1, np.abs(m) * scale, x)
    x = np.where((mode == 2) & ((v & np.uint64(3)) == 0), m * scale, x)
    x = np.where(mode == 3, (m >> 19) * 0.5, x)
    return x.astype(np.float32).reshape(-1)


def bulk_decode_blocks(seed, qtype, n_blocks):
    """Per block: ceil(type_size / 8) draws, little-endian, give the bytes;
    then one draw per f16 scale field: its low 16 bits, with bit 14 cleared
    if the exponent is all ones (so it is finite).  Q8_K's f32 d is instead
    m * 2^(e-23) with m, e from one draw as in bulk_encode_input."""
    bs, ts = GEOM[qtype]
    nw = (ts + 7) // 8
    fields = F16_FIELDS.get(qtype, [0])
    per = nw + len(fields)
    draws = splitmix64(seed, n_blocks * per).reshape(n_blocks, per)
    blocks = draws[:, :nw].copy().view(np.uint8).reshape(n_blocks, nw * 8)[:, :ts].copy()
    for k, off in enumerate(fields):
        d = draws[:, nw + k]
        if qtype == T.Q8_K:
            e = (d % np.uint64(31)).astype(np.int64) - 20
            m = (d >> np.uint64(40)).astype(np.int64) - (1 << 23)
            f = (m * np.ldexp(1.0, e - 23)).astype(np.float32)
            blocks[:, 0:4] = f.view(np.uint8).reshape(n_blocks, 4)
        else:
            h = (d & np.uint64(0xFFFF)).astype(np.uint16)
            h = np.where((h & 0x7C00) == 0x7C00, h & ~np.uint16(0x4000), h).astype("<u2")
            blocks[:, off:off + 2] = h.view(np.uint8).reshape(n_blocks, 2)
    return blocks


def gen_bulk():
    lines = ["# kind type blocks seed sha256 (see tools/gen_dequant_golden.py)"]
    seed = 1000
    for qtype in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K]:
        seed += 1
        n = 8192 if GEOM[qtype][0] == 32 else 1024
        blocks = bulk_decode_blocks(seed, qtype, n)
        if qtype == T.Q8_K:
            vals = ggml_decode_q8_K(blocks.tobytes())
        else:
            vals = dequantize(blocks, qtype)
        h = hashlib.sha256(np.ascontiguousarray(vals, dtype="<f4").tobytes()).hexdigest()
        lines.append(f"decode {qtype.name.lower()} {n} {seed} {h}")
    for qtype in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q8_1, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K,
                  T.Q6_K, T.Q8_K]:
        seed += 1
        bs = GEOM[qtype][0]
        n = 8192 if bs == 32 else 512
        raw = ggml_encode(qtype, bulk_encode_input(seed, n, bs))
        lines.append(f"encode {qtype.name.lower()} {n} {seed} {hashlib.sha256(raw).hexdigest()}")
    write("bulk.txt", ("\n".join(lines) + "\n").encode())


# ---- dot products ---------------------------------------------------------

class CpuTraits(ctypes.Structure):
    _fields_ = [("from_float", ctypes.c_void_p), ("vec_dot", ctypes.c_void_p),
                ("vec_dot_type", ctypes.c_int), ("nrows", ctypes.c_int64)]


VEC_DOT_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                              ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                              ctypes.c_int)


def gen_vec_dot(rng):
    ggml_cpu.ggml_cpu_init.restype = None
    ggml_cpu.ggml_cpu_init()
    ggml_cpu.ggml_get_type_traits_cpu.restype = ctypes.POINTER(CpuTraits)
    ggml_cpu.ggml_get_type_traits_cpu.argtypes = [ctypes.c_int]
    n_rows = 6
    for qtype, vdt in VEC_DOT_TYPE.items():
        n = 256 if qtype in (T.F32, T.F16, T.BF16) else 512
        tr = ggml_cpu.ggml_get_type_traits_cpu(int(qtype)).contents
        assert tr.vec_dot_type == int(vdt), (qtype, tr.vec_dot_type)
        fn = VEC_DOT_FN(tr.vec_dot)
        rows, results = [], []
        for r in range(n_rows):
            x = input_block(rng, r % 6, n).astype(np.float32)
            y = (rng.standard_normal(n) * (1 + r)).astype(np.float32)
            xb, yb = ggml_encode(qtype, x), ggml_encode(vdt, y)
            s = ctypes.c_float(0)
            fn(n, ctypes.byref(s), 0, xb, 0, yb, 0, 1)
            rows.append(xb + yb)
            results.append(s.value)
        data = header(KIND_VEC_DOT, qtype, n_rows) + struct.pack("<I", n) + b"".join(rows)
        data += np.array(results, dtype=np.float32).tobytes()
        write(f"vd_{qtype.name.lower()}.bin", data)


# ---- the default model ----------------------------------------------------

def gen_model():
    r = gguf.GGUFReader(MODEL)
    lines = [f"# {os.path.basename(MODEL)}: {os.path.getsize(MODEL)} bytes, {len(r.tensors)} tensors",
             "# name type n_elements sha256(float32 little-endian bytes of gguf.quants.dequantize)"]
    for t in r.tensors:
        qtype = T(t.tensor_type)
        data = t.data
        h = hashlib.sha256()
        if qtype in (T.F32, T.F16, T.BF16) and data.dtype != np.uint8:
            rows = data.reshape(-1, data.shape[-1] if data.ndim else 1)
        else:
            rows = data.reshape(-1, data.shape[-1])
        step = max(1, (1 << 22) // max(1, rows.shape[1]))
        n = 0
        for r0 in range(0, rows.shape[0], step):
            v = np.ascontiguousarray(dequantize(rows[r0:r0 + step], qtype), dtype="<f4")
            n += v.size
            h.update(v.tobytes())
        assert n == int(t.n_elements), (t.name, n, t.n_elements)
        lines.append(f"{t.name} {qtype.name.lower().replace('_k', '_K')} {n} {h.hexdigest()}")
    write("model_gemma-3-270m-q4_k_m.txt", ("\n".join(lines) + "\n").encode())


def main():
    os.makedirs(OUT, exist_ok=True)
    # Inf/NaN scales and f16 overflow are deliberate inputs here.
    np.seterr(all="ignore")
    print(f"gguf {getattr(gguf, '__version__', '?')}, numpy {np.__version__}, "
          f"llama-cpp-python {llama_cpp.__version__}; writing {os.path.normpath(OUT)}")
    gen_dequant(np.random.default_rng(20250101))
    gen_exhaustive()
    gen_bulk()
    gen_quant(np.random.default_rng(20250102))
    gen_vec_dot(np.random.default_rng(20250103))
    if "--no-model" not in sys.argv:
        gen_model()


if __name__ == "__main__":
    main()
