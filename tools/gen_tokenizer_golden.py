#!/usr/bin/env python3
"""gen_tokenizer_golden.py — tokenizer goldens from llama.cpp (via llama-cpp-python).

Made with (the Gemma 3 golden of the default model):
    ~/.cache/tinglado/llama-venv/bin/python tools/gen_tokenizer_golden.py \
        --vocab ~/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf --out gemma-3

and, for a llama.cpp test vocabulary:
    ~/.cache/tinglado/llama-venv/bin/python tools/gen_tokenizer_golden.py \
        --vocab ~/.cache/tinglado/llama.cpp-vocab/ggml-vocab-llama-spm.gguf --out llama-spm

Input: the corpus of tools/make_tokenizer_corpus.py (tests/golden/tokenizer/corpus.jsonl).
Output: tests/golden/tokenizer/<out>.jsonl, one JSON object per line, told apart by "t":
  meta    the vocabulary's locator (how tests find it: "model:<file>" in the
          models cache, "vocab:<file>" in $TINGLADO_VOCAB_DIR), llama.cpp's
          special ids, add_* flags and end-of-generation ids;
  attrs   "pairs": [id, attr, id, attr, ...] for every token whose llama.cpp
          attribute bits are not plain NORMAL;
  piece   llama_token_to_piece of one token, special=false ("p") and true
          ("ps"), hex — every non-NORMAL token and a seeded sample of others;
  text    one corpus string ("hex") and its ids for each (add_special,
          parse_special) pair: "ff", "ft" always; "tf", "tt" only where they
          differ from the ff/ft ids wrapped in BOS/EOS as meta's add_bos /
          add_eos say (they never do for SPM or BPE: the key is absent, and
          the test derives them from llama.cpp's own lists and flags) — this
          halves the file.  Every --detok-every'th string also has
          llama_detokenize(tt ids, remove_special=false) with unparse_special
          false ("dt") and true ("dts"), hex, and of the ff ids ("df", special
          false: there the first piece's prefix space is at stake); and what
          a stream of those ids
          must print ("st", "sts", only where it differs from dt/dts): the
          pieces of llama_token_to_piece concatenated — the first one with
          lstrip=1 when the vocabulary prefixes a space (add_space_prefix,
          default true for "llama" models: llama.cpp's rule) — no clean-up of
          spaces, then made valid UTF-8 by Python's decode(errors="replace");
          "sf" likewise for the ff ids.
Tests read these files offline; nothing at test time needs Python.
"""
import argparse
import ctypes
import json
import os
import random
import sys

import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN_DIR = os.path.join(ROOT, "tests", "golden", "tokenizer")
ATTR_UNUSED = 1 << 1
ATTR_NORMAL = 1 << 2


@llama_cpp.llama_log_callback
def _quiet(level, text, user_data):
    pass  # llama.cpp warns on every "<bos>" in the corpus; the golden says it all


def detokenize(vocab, ids, special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    cap = 64 + 64 * len(ids)
    while True:
        buf = ctypes.create_string_buffer(cap)
        n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, cap, False, special)
        if n >= 0:
            return buf.raw[:n]
        cap = -n + 16


def piece(vocab, tok, special, lstrip=0):
    cap = 64
    while True:
        buf = ctypes.create_string_buffer(cap)
        n = llama_cpp.llama_token_to_piece(vocab, tok, buf, cap, lstrip, special)
        if n >= 0:
            return buf.raw[:n]
        cap = -n


def lax_decode_overflows(b):
    """True if llama.cpp's lax decoder (unicode_cpt_from_utf8) reads a 4-byte
    sequence (lead F0-F7, three continuation bytes) worth more than U+10FFFF."""
    i = 0
    while i < len(b):
        c = b[i]
        if c >= 0xF0 and c < 0xF8 and i + 3 < len(b) and all(0x80 <= x < 0xC0 for x in b[i + 1:i + 4]):
            cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63)
            if cp > 0x10FFFF:
                return True
            i += 4
        elif c >= 0xE0 and c < 0xF0 and i + 2 < len(b) and all(0x80 <= x < 0xC0 for x in b[i + 1:i + 3]):
            i += 3
        elif c >= 0xC0 and c < 0xE0 and i + 1 < len(b) and 0x80 <= b[i + 1] < 0xC0:
            i += 2
        else:
            i += 1
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", required=True, help="GGUF file holding the vocabulary")
    ap.add_argument("--out", required=True, help="output name: tests/golden/tokenizer/<out>.jsonl")
    ap.add_argument("--corpus", default=os.path.join(GOLDEN_DIR, "corpus.jsonl"))
    ap.add_argument("--locator", help="how tests find the vocabulary (default: vocab:<file> for "
                    "ggml-vocab-*.gguf, else model:<file>)")
    ap.add_argument("--detok-every", type=int, default=3)
    ap.add_argument("--pieces-sample", type=int, default=1500)
    args = ap.parse_args()

    base = os.path.basename(args.vocab)
    locator = args.locator or (("vocab:" if base.startswith("ggml-vocab-") else "model:") + base)
    llama_cpp.llama_log_set(_quiet, ctypes.c_void_p())
    llm = llama_cpp.Llama(model_path=args.vocab, vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)

    corpus = [json.loads(l) for l in open(args.corpus)]
    # llama.cpp's BPE pre-tokenizer throws (and the process aborts) on a text
    # whose lax UTF-8 decoding yields a code point past U+10FFFF; such texts
    # are left out of BPE goldens and listed in meta "aborts" instead.
    aborting = []
    if llm.metadata.get("tokenizer.ggml.model", "llama") != "llama":
        aborting = [rec["i"] for rec in corpus if lax_decode_overflows(bytes.fromhex(rec["hex"]))]
        corpus = [rec for rec in corpus if rec["i"] not in set(aborting)]
    out_path = os.path.join(GOLDEN_DIR, args.out + ".jsonl")
    attrs = [llama_cpp.llama_vocab_get_attr(vocab, i) for i in range(n_vocab)]
    meta = {
        "t": "meta",
        "format": "tinglado-tokenizer-golden-1",
        "vocab": locator,
        "n_vocab": n_vocab,
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "eos": llama_cpp.llama_vocab_eos(vocab),
        "eot": llama_cpp.llama_vocab_eot(vocab),
        "sep": llama_cpp.llama_vocab_sep(vocab),
        "nl": llama_cpp.llama_vocab_nl(vocab),
        "pad": llama_cpp.llama_vocab_pad(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(vocab)),
        "add_sep": bool(llama_cpp.llama_vocab_get_add_sep(vocab)),
        "eog": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "generator": "tools/gen_tokenizer_golden.py",
        "llama_cpp_python": llama_cpp.__version__,
        "corpus": os.path.relpath(args.corpus, ROOT),
        "n_texts": len(corpus),
    }
    if aborting:
        meta["aborts"] = aborting
    rng = random.Random(1234)
    special_ids = [i for i in range(n_vocab) if attrs[i] != ATTR_NORMAL]
    normal_ids = [i for i in range(n_vocab) if attrs[i] == ATTR_NORMAL]
    # pieces: every non-NORMAL token except most of the thousands of
    # "<unusedN>" ones, plus a sample of NORMAL ones
    unused = [i for i in special_ids if attrs[i] & ATTR_UNUSED]
    sample = set(i for i in special_ids if not attrs[i] & ATTR_UNUSED)
    sample |= set(rng.sample(unused, min(100, len(unused))))
    sample |= set(rng.sample(normal_ids, min(args.pieces_sample, len(normal_ids))))
    sample = sorted(sample)
    bos, eos = meta["bos"], meta["eos"]
    md = llm.metadata
    default_prefix = md.get("tokenizer.ggml.model") == "llama"
    space_prefix = md.get("tokenizer.ggml.add_space_prefix", str(default_prefix).lower()) == "true"

    def stream(ids, special):
        out = b"".join(piece(vocab, t, special, 1 if k == 0 and space_prefix else 0)
                       for k, t in enumerate(ids))
        return out.decode("utf-8", errors="replace").encode("utf-8")

    def wrap(ids):
        return ([bos] if meta["add_bos"] else []) + ids + ([eos] if meta["add_eos"] else [])

    n_tokens = 0
    with open(out_path, "w") as w:
        w.write(json.dumps(meta) + "\n")
        pairs = []
        for i in special_ids:
            pairs += [i, attrs[i]]
        w.write(json.dumps({"t": "attrs", "pairs": pairs}) + "\n")
        for i in sample:
            w.write(json.dumps({"t": "piece", "id": i, "p": piece(vocab, i, False).hex(),
                                "ps": piece(vocab, i, True).hex()}) + "\n")
        for k, rec in enumerate(corpus):
            text = bytes.fromhex(rec["hex"])
            row = {"t": "text", "i": rec["i"], "kind": rec["kind"], "hex": rec["hex"]}
            ids = {}
            for name, add_special, parse_special in (("ff", False, False), ("tf", True, False),
                                                     ("ft", False, True), ("tt", True, True)):
                ids[name] = llm.tokenize(text, add_bos=add_special, special=parse_special)
                n_tokens += len(ids[name])
            row["ff"], row["ft"] = ids["ff"], ids["ft"]
            if ids["tf"] != wrap(ids["ff"]):
                row["tf"] = ids["tf"]
            if ids["tt"] != wrap(ids["ft"]):
                row["tt"] = ids["tt"]
            if k % args.detok_every == 0:
                row["dt"] = detokenize(vocab, ids["tt"], False).hex()
                row["dts"] = detokenize(vocab, ids["tt"], True).hex()
                for key, special in (("st", False), ("sts", True)):
                    st = stream(ids["tt"], special).hex()
                    if st != row["d" + key[1:]]:
                        row[key] = st
                # without BOS, the first piece's prefix space is at stake
                row["df"] = detokenize(vocab, ids["ff"], False).hex()
                sf = stream(ids["ff"], False).hex()
                if sf != row["df"]:
                    row["sf"] = sf
            w.write(json.dumps(row, separators=(",", ":")) + "\n")
    size = os.path.getsize(out_path)
    print(f"{out_path}: {len(corpus)} texts, {n_tokens} token ids, {len(sample)} pieces, "
          f"{size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
