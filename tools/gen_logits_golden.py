#!/usr/bin/env python3
"""gen_logits_golden.py - llama.cpp's teacher-forced next-token distributions,
stored compactly for offline parity checks in `make test`.

    tools/gen_logits_golden.py -m MODEL --out tests/golden/logits/NAME.bin [--docs RE]
                               [--max-doc-tokens N] [--max-positions N] [--stats STATS.json]
    tools/gen_logits_golden.py --dump FILE.bin        # print a summary of a golden file
    tools/gen_logits_golden.py --verify FILE.bin -m MODEL   # recompute with llama.cpp, compare

For every corpus document (tools/parity_corpus/*.txt, llama.cpp's token ids,
BOS included, <= --max-tokens per document) and every position, the file
holds llama.cpp's top-K token ids with their log-probabilities, the position's
logsumexp of the raw logits (so raw logit = logprob + lse) and the
log-probability of the actual next token.  Layout (all little-endian):

  header, 96 bytes
    0   char[8]  magic "TGLOGIT1"
    8   u32      version = 1
    12  u32      header size in bytes = 96 (the first document starts here)
    16  u32      n_vocab
    20  u32      K (top-K per position; 16)
    24  u32      n_docs
    28  u32      n_positions (sum of the documents' n_tokens)
    32  u8[32]   sha256 of the model file the logits came from
    64  u32      n_ctx the reference ran with (>= every n_tokens)
    68  u32      flags: bit 0 = BOS was added by the tokenizer
    72  u8[24]   zero
  then n_docs documents, each
    u32         n_tokens
    i32[n]      token ids
    n records of 8 + 8K bytes:
      f32       lse           log(sum_j exp(logit_j)) of the row (computed in float64)
      f32       next_logprob  log p(tokens[i+1]) under the row; NaN at the last position
      i32[K]    top ids, by descending logit (ties: smaller id first)
      f32[K]    their log-probabilities (float64 log-softmax, stored as f32)

Row i is the distribution after token i (of token i+1), as in `tinglado logits`.
With --stats the script also measures llama.cpp against itself (the same
tokens decoded one at a time instead of in one batch): that spread is the
floor any reimplementation can be expected to reach; it is written to the
stats JSON and printed.

Python is allowed in tools/ only.
"""
import argparse
import hashlib
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_ref  # noqa: E402
import parity  # noqa: E402

MAGIC = b"TGLOGIT1"
VERSION = 1
HEADER_SIZE = 96
TOP_K = 16


def topk_row(row64, k):
    """Indices of the k largest logits: descending value, ties to the smaller id."""
    idx = np.argpartition(-row64, k)[:k]
    return idx[np.lexsort((idx, -row64[idx]))]


def encode_doc(tokens, logits, k):
    lp, lse = llama_ref.log_softmax64(logits)
    n = len(tokens)
    parts = [struct.pack("<I", n), np.asarray(tokens, dtype="<i4").tobytes()]
    rec = np.dtype([("lse", "<f4"), ("next", "<f4"), ("ids", "<i4", (k,)), ("lp", "<f4", (k,))])
    recs = np.zeros(n, dtype=rec)
    for i in range(n):
        ids = topk_row(logits[i].astype(np.float64), k)
        recs[i]["lse"] = lse[i]
        recs[i]["next"] = lp[i, tokens[i + 1]] if i + 1 < n else np.nan
        recs[i]["ids"] = ids
        recs[i]["lp"] = lp[i, ids]
    parts.append(recs.tobytes())
    return b"".join(parts)


def read_golden(path):
    """Parse a golden file: returns (header dict, [dict(tokens, lse, next, ids, lp)])."""
    b = Path(path).read_bytes()
    if b[:8] != MAGIC:
        raise ValueError(f"{path}: bad magic")
    version, hsize, n_vocab, k, n_docs, n_pos = struct.unpack_from("<6I", b, 8)
    if version != VERSION or hsize != HEADER_SIZE:
        raise ValueError(f"{path}: version {version} / header {hsize} not understood")
    sha = b[32:64].hex()
    n_ctx, flags = struct.unpack_from("<2I", b, 64)
    off = hsize
    rec = np.dtype([("lse", "<f4"), ("next", "<f4"), ("ids", "<i4", (k,)), ("lp", "<f4", (k,))])
    docs = []
    for _ in range(n_docs):
        (n,) = struct.unpack_from("<I", b, off)
        off += 4
        toks = np.frombuffer(b, dtype="<i4", count=n, offset=off)
        off += 4 * n
        recs = np.frombuffer(b, dtype=rec, count=n, offset=off)
        off += rec.itemsize * n
        docs.append(dict(tokens=toks, lse=recs["lse"], next=recs["next"], ids=recs["ids"], lp=recs["lp"]))
    if off != len(b):
        raise ValueError(f"{path}: {len(b) - off} trailing bytes")
    if sum(len(d["tokens"]) for d in docs) != n_pos:
        raise ValueError(f"{path}: n_positions mismatch")
    return dict(n_vocab=n_vocab, k=k, n_docs=n_docs, n_positions=n_pos, sha256=sha, n_ctx=n_ctx, flags=flags), docs


def self_spread(llm1, toks, batch_logits):
    """llama.cpp against itself: the same tokens decoded one at a time
    (llm1 has n_batch = 1) vs in one batch.  Returns per-row KL, max |dlogit|,
    top-1 agreement."""
    ref1 = llama_ref.teacher_forced_logits(llm1, toks)
    lp_b, _ = llama_ref.log_softmax64(batch_logits)
    lp_1, _ = llama_ref.log_softmax64(ref1)
    kl = (np.exp(lp_b) * (lp_b - lp_1)).sum(axis=1)
    dl = np.abs(batch_logits.astype(np.float64) - ref1).max(axis=1)
    agree = (batch_logits.argmax(axis=1) == ref1.argmax(axis=1))
    return kl, dl, agree


def moe_stats(model, docs):
    """Expert usage as llama.cpp routes the golden documents: per layer, how
    often each expert is among the top-k, and how far the k-th router logit is
    from the (k+1)-th (a small gap = a choice that float noise could flip).
    Empty for dense models."""
    usage, gaps = {}, []
    for _, toks in docs:
        d, _ = llama_ref.dump_tensors(model, toks, r"ffn_moe_(topk|logits)-\d+")
        if not d:
            return {}
        for name, arr in d.items():
            layer = int(name.split("-")[1].split("#")[0])
            if name.startswith("ffn_moe_topk"):
                cnt = np.bincount(arr.reshape(len(toks), -1).ravel(), minlength=0)
                u = usage.setdefault(layer, np.zeros(0, dtype=np.int64))
                if len(cnt) > len(u):
                    u = np.pad(u, (0, len(cnt) - len(u)))
                u[:len(cnt)] += cnt
                usage[layer] = u
                k_used = arr.reshape(len(toks), -1).shape[1]
            elif "#" not in name:
                srt = np.sort(arr.reshape(len(toks), -1), axis=1)[:, ::-1]
                gaps.append(srt[:, 1] - srt[:, 2])
    g = np.concatenate(gaps) if gaps else np.zeros(1)
    return dict(experts_used_per_token=int(k_used),
                usage_per_layer={str(k): [int(x) for x in v] for k, v in sorted(usage.items())},
                router_gap_k_to_k1_median=float(np.median(g)),
                router_gap_below_0_01=float(np.mean(g < 0.01)),
                router_gap_below_0_1=float(np.mean(g < 0.1)))


def generate(a):
    model = a.model
    llm = llama_ref.load(model, n_ctx=a.max_tokens, n_threads=a.threads)
    nv = llama_ref.n_vocab(llm)
    docs = parity.documents(llm, a.max_tokens, a.docs, a.max_positions, a.max_doc_tokens)
    llm1 = None
    if a.stats:
        import llama_cpp

        llama_ref._quiet_logs()
        llm1 = llama_cpp.Llama(model_path=str(model), n_ctx=a.max_tokens, n_batch=1, n_ubatch=1,
                               n_threads=a.threads, n_threads_batch=a.threads, logits_all=True,
                               flash_attn=False, verbose=False)
    body = []
    n_pos = 0
    st = dict(top1p=[], ent=[], margin=[], kl_self=[], dl_self=[], agree_self=[], self_argmax=0)
    for name, toks in docs:
        logits = llama_ref.teacher_forced_logits(llm, toks)
        body.append(encode_doc(toks, logits, a.top_k))
        n_pos += len(toks)
        if a.stats:
            lp, _ = llama_ref.log_softmax64(logits)
            p = np.exp(lp)
            st["top1p"] += list(p.max(axis=1))
            st["ent"] += list(-(p * lp).sum(axis=1))
            srt = np.sort(logits, axis=1)
            st["margin"] += list(srt[:, -1] - srt[:, -2])
            st["self_argmax"] += int((logits.argmax(axis=1) == np.asarray(toks)).sum())
            kl, dl, ag = self_spread(llm1, toks, logits)
            st["kl_self"] += list(kl)
            st["dl_self"] += list(dl)
            st["agree_self"] += list(ag)
        print(f"  {name}: {len(toks)} positions", file=sys.stderr)
    sha = bytes.fromhex(llama_ref.file_sha256(model))
    hdr = MAGIC + struct.pack("<6I", VERSION, HEADER_SIZE, nv, a.top_k, len(docs), n_pos) + sha \
        + struct.pack("<2I", a.max_tokens, 1) + bytes(24)
    assert len(hdr) == HEADER_SIZE
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_bytes(hdr + b"".join(body))
    print(f"{a.out}: {len(docs)} documents, {n_pos} positions, {Path(a.out).stat().st_size} bytes")
    if a.stats:
        m = np.array(st["margin"])
        s = dict(model=Path(model).name, model_sha256=sha.hex(), golden=Path(a.out).name, positions=n_pos,
                 documents=len(docs), n_vocab=nv, llama_cpp_python=llama_ref.version(), threads=a.threads,
                 top1_prob_mean=float(np.mean(st["top1p"])), entropy_mean=float(np.mean(st["ent"])),
                 top2_margin_median=float(np.median(m)), frac_margin_below_0_01=float(np.mean(m < 0.01)),
                 frac_margin_below_0_05=float(np.mean(m < 0.05)),
                 frac_argmax_is_current_token=st["self_argmax"] / max(n_pos, 1),
                 self_one_by_one_vs_batch=dict(
                     kl_mean=float(np.mean(st["kl_self"])), kl_max=float(np.max(st["kl_self"])),
                     abs_dlogit_max=float(np.max(st["dl_self"])),
                     abs_dlogit_mean_of_row_max=float(np.mean(st["dl_self"])),
                     top1_agreement_pct=100.0 * float(np.mean(st["agree_self"])) if st["agree_self"] else 100.0))
        moe = moe_stats(model, docs)
        if moe:
            s["moe"] = moe
        print(json.dumps(s, indent=1))
        p = Path(a.stats)
        allst = json.loads(p.read_text()) if p.exists() else {}
        allst[s["golden"]] = s
        p.write_text(json.dumps(dict(sorted(allst.items())), indent=1) + "\n")
    return 0


def dump(path):
    h, docs = read_golden(path)
    print(json.dumps(h, indent=1))
    for i, d in enumerate(docs):
        n = len(d["tokens"])
        fin = d["next"][np.isfinite(d["next"])]
        print(f"doc {i}: {n} tokens, first {list(d['tokens'][:8])}, mean next-token nll {-fin.mean():.4f}, "
              f"mean top-1 prob {np.exp(d['lp'][:, 0]).mean():.3f}")
    return 0


def verify(path, model, threads):
    """Recompute with llama.cpp and compare (checks this tool and the reader)."""
    h, docs = read_golden(path)
    if llama_ref.file_sha256(model) != h["sha256"]:
        print(f"verify: {model} is not the model of {path} (sha256 differs)")
        return 1
    llm = llama_ref.load(model, n_ctx=h["n_ctx"], n_threads=threads)
    worst = 0.0
    for d in docs:
        logits = llama_ref.teacher_forced_logits(llm, [int(t) for t in d["tokens"]]).astype(np.float64)
        lp, lse = llama_ref.log_softmax64(logits)
        rows = np.arange(len(d["tokens"]))[:, None]
        worst = max(worst, float(np.abs(lp[rows, d["ids"]] - d["lp"]).max()), float(np.abs(lse - d["lse"]).max()))
        if not (logits.argmax(axis=1) == d["ids"][:, 0]).all():
            print("verify: top-1 differs")
            return 1
    print(f"verify: {path} OK, max |delta| {worst:.2e}")
    return 0 if worst < 1e-3 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("-m", "--model")
    ap.add_argument("--out")
    ap.add_argument("--docs", help="regex over corpus file names")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--max-doc-tokens", type=int, help="truncate each document to this many tokens")
    ap.add_argument("--max-positions", type=int)
    ap.add_argument("--top-k", type=int, default=TOP_K)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--stats", help="add this model's reference statistics to a JSON file")
    ap.add_argument("--dump", help="print a golden file's summary")
    ap.add_argument("--verify", help="recompute a golden file with llama.cpp and compare")
    a = ap.parse_args()
    if a.dump:
        return dump(a.dump)
    if a.verify:
        return verify(a.verify, a.model, a.threads)
    if not a.model or not a.out:
        ap.error("need -m MODEL and --out FILE")
    return generate(a)


if __name__ == "__main__":
    sys.exit(main())
