#!/usr/bin/env python3
"""test_probe_scores.py — `tinglado probe` end to end ($TINGLADO_BIN, default
build/asan/tinglado) on two tiny random models this file writes as GGUF
(standard library only), checked against independent computations:

- the per-token log-probabilities `probe score --tokens` reports equal those
  of `tinglado logits` (a separate, one-sequence code path), and so do the
  greedy choices (its top-1);
- from those log-probabilities, Python recomputes perplexity, Min-K% Prob
  (k = 20 and 50), the zlib length (zlib.compress) and ratio, the lowercase
  ratio (Python's str.lower, then `tinglado logits` on the lowercased text),
  the log-likelihood ratio against the reference model (its `logits`), the
  longest greedy match, K-extractability, the Wilson interval of each
  extractable fraction, and the AUC of each score with DeLong's interval;
- CSV output has the same numbers;
- canary exposure equals brute-force ranking of all 64 candidates, each
  scored as a whole sentence with `tinglado logits`;
- bad usage exits 2, a missing file 1, with a message.
Exits 1 if any check failed; prints "N passed, N failed".
"""
import csv
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib

BIN = os.environ.get("TINGLADO_BIN", "build/asan/tinglado")
passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"  CHECK failed: {what}" + (f"\n    {detail}" if detail else ""), file=sys.stderr)


# ---- a tiny llama GGUF, written by hand --------------------------------------

V, E, NL, NH, NKV, HD, FF = 300, 32, 2, 4, 2, 8, 48


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_tiny(path, seed):
    rnd = random.Random(seed)
    kv = []

    def put(key, typ, payload):
        kv.append(gguf_str(key) + struct.pack("<I", typ) + payload)

    put("general.architecture", 8, gguf_str("llama"))
    for k, v in [("context_length", 256), ("embedding_length", E), ("block_count", NL), ("feed_forward_length", FF),
                 ("attention.head_count", NH), ("attention.head_count_kv", NKV)]:
        put("llama." + k, 4, struct.pack("<I", v))
    put("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5))
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581w%d" % i for i in range(259, V)]
    types = [2, 3, 3] + [6] * 256 + [1] * (V - 259)
    put("tokenizer.ggml.model", 8, gguf_str("llama"))
    put("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, V) + b"".join(gguf_str(t) for t in toks))
    put("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, V) + struct.pack("<%df" % V, *[-float(i) for i in range(V)]))
    put("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, V) + struct.pack("<%di" % V, *types))
    put("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1))
    put("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 2))
    tensors = []

    def t(name, n0, n1, scale, offset):
        vals = [offset + scale * rnd.uniform(-1, 1) for _ in range(n0 * n1)]
        tensors.append((name, [n0, n1] if n1 > 1 else [n0], struct.pack("<%df" % len(vals), *vals)))

    t("token_embd.weight", E, V, 3.0, 0.0)
    t("output_norm.weight", E, 1, 0.1, 1.0)
    for l in range(NL):
        p = "blk.%d." % l
        t(p + "attn_norm.weight", E, 1, 0.1, 1.0)
        t(p + "attn_q.weight", E, NH * HD, 0.3, 0.0)
        t(p + "attn_k.weight", E, NKV * HD, 0.3, 0.0)
        t(p + "attn_v.weight", E, NKV * HD, 0.3, 0.0)
        t(p + "attn_output.weight", NH * HD, E, 0.3, 0.0)
        t(p + "ffn_norm.weight", E, 1, 0.1, 1.0)
        t(p + "ffn_gate.weight", E, FF, 0.3, 0.0)
        t(p + "ffn_up.weight", E, FF, 0.3, 0.0)
        t(p + "ffn_down.weight", FF, E, 0.3, 0.0)
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for k in kv:
        out += k
    off = 0
    for name, ne, data in tensors:
        out += gguf_str(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        out += struct.pack("<IQ", 0, off)
        off += (len(data) + 31) // 32 * 32
    out += b"\0" * (-len(out) % 32)
    for _, _, data in tensors:
        out += data + b"\0" * (-len(data) % 32)
    with open(path, "wb") as f:
        f.write(out)


# ---- helpers -----------------------------------------------------------------

def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True)


def logits(model, text):
    """(token ids, lp of each next token, top-1 id at each position) from `tinglado logits`."""
    r = run("logits", "-m", model, "-p", text, "--json", "--top", "1", "-t", "1")
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    ids = [row["token"] for row in rows]
    lps = [row["logprob"] for row in rows[:-1]]
    top = [row["top"][0][0] for row in rows[:-1]]
    return ids, lps, top


def min_k(lp, k):
    n = max(1, int(len(lp) * k / 100))
    return sum(sorted(lp)[:n]) / n


def wilson(k, n, z=1.959963984540054):
    if n == 0:
        return 0.0, 0.0, 0.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return p, max(0.0, c - h), min(1.0, c + h)


def delong(pos, neg, z=1.959963984540054):
    psi = lambda a, b: 1.0 if a > b else 0.5 if a == b else 0.0
    v10 = [sum(psi(a, b) for b in neg) / len(neg) for a in pos]
    v01 = [sum(psi(a, b) for a in pos) / len(pos) for b in neg]
    auc = sum(v10) / len(pos)
    var = lambda v: sum((x - auc) ** 2 for x in v) / (len(v) - 1) if len(v) > 1 else 0.0
    se = math.sqrt(var(v10) / len(pos) + var(v01) / len(neg))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def close(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


SEEN = [
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.",
    "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa",
    "Ça représentait un serpent boa qui avalait un fauve. ÉTÉ À PARIS.",
    "Все счастливые семьи похожи друг на друга. ДОМ И САД.",
]
UNSEEN = [
    "Marta labelled every jar twice, once in pencil and once in marker.",
    "The tram conductor kept a notebook of every umbrella left behind.",
    "Zz Yy Xx 0123456789 !? mixed CASE and digits 42 in one LINE.",
]


def main():
    tmp = tempfile.mkdtemp(prefix="tinglado-probe-")
    target, ref = os.path.join(tmp, "target.gguf"), os.path.join(tmp, "ref.gguf")
    write_tiny(target, 5)
    write_tiny(ref, 6)
    c1, c2 = os.path.join(tmp, "seen.txt"), os.path.join(tmp, "unseen.txt")
    with open(c1, "w") as f:
        f.write("# a note line, not a document\n" + "\n\n".join(SEEN) + "\n")
    with open(c2, "w") as f:
        f.write("\n\n\n".join(UNSEEN))

    for kpct in (20, 50):
        r = run("probe", "score", "-m", target, "-f", c1, "-f", c2, "--ref-model", ref, "--json", "--tokens",
                "--min-k", str(kpct), "--prefix", "4,10,30", "--suffix", "8", "-t", "1")
        check(r.returncode == 0, f"probe score --min-k {kpct} runs", r.stderr)
        if r.returncode:
            continue
        out = json.loads(r.stdout)
        docs = out["documents"]
        check(len(docs) == len(SEEN) + len(UNSEEN), "one entry per document")
        rate = out["pass_tokens_per_s"]
        check(out["tokens_scored"] == sum(d["n_tokens"] for d in docs) and rate["n"] >= 1
              and rate["lo"] <= rate["median"] <= rate["hi"], "throughput with its n and interval", str(rate))
        zs = [d["zlib"] for d in docs]
        check(zs == sorted(zs), "sorted by zlib, most member-like (lowest) first", str(zs))
        texts = SEEN + UNSEEN
        for d in docs:
            text = texts[d["doc"] - 1]
            check(d["text"] == text, f"doc {d['doc']} text round-trips")
            ids, lps, top = logits(target, text)
            lp = d["lp"]
            check(d["tokens"] == ids[1:], f"doc {d['doc']} tokens as `logits` tokenizes")
            worst = max(abs(a - b) for a, b in zip(lp, lps))
            check(len(lp) == len(lps) and worst < 2e-5, f"doc {d['doc']} lp equal `logits`'", f"worst {worst}")
            check(d["argmax"] == top, f"doc {d['doc']} greedy choices equal `logits`' top-1")
            log_ppl = -sum(lp) / len(lp)
            check(close(d["log_ppl"], log_ppl, 1e-7), f"doc {d['doc']} log ppl", f"{d['log_ppl']} vs {log_ppl}")
            check(close(d["ppl"], math.exp(log_ppl), 1e-7), f"doc {d['doc']} ppl")
            check(close(d["min_k"], min_k(lp, kpct), 1e-6), f"doc {d['doc']} min-k {kpct}",
                  f"{d['min_k']} vs {min_k(lp, kpct)}")
            zl = len(zlib.compress(text.encode()))
            check(d["zlib_bytes"] == zl, f"doc {d['doc']} zlib bytes", f"{d['zlib_bytes']} vs {zl}")
            check(close(d["zlib"], log_ppl / zl, 1e-7), f"doc {d['doc']} zlib ratio")
            _, lps_low, _ = logits(target, text.lower())
            lower = log_ppl / (-sum(lps_low) / len(lps_low))
            check(close(d["lower"], lower, 1e-5), f"doc {d['doc']} lowercase ratio", f"{d['lower']} vs {lower}")
            _, lps_ref, _ = logits(ref, text)
            llr = sum(lp) - sum(lps_ref)
            check(close(d["llr"], llr, 1e-5), f"doc {d['doc']} llr", f"{d['llr']} vs {llr}")
            match = [a == t for a, t in zip(top, ids[1:])]
            best = run_ = 0
            for m in match:
                run_ = run_ + 1 if m else 0
                best = max(best, run_)
            check(d["longest_match"] == best, f"doc {d['doc']} longest match", f"{d['longest_match']} vs {best}")
            for k in (4, 10, 30):
                want = None if len(match) < k + 8 else all(match[k:k + 8])
                check(d["extractable"][str(k)] == want, f"doc {d['doc']} {k}-extractable")
        # extraction fractions with Wilson intervals
        for e in out["extract"]:
            which = [d for d in docs if d["corpus"] == e["corpus"] and d["extractable"][str(e["k"])] is not None]
            k = sum(1 for d in which if d["extractable"][str(e["k"])])
            p, lo, hi = wilson(k, len(which))
            check(e["n"] == len(which) and close(e["fraction"], p, 1e-6) and close(e["lo"], lo, 1e-5)
                  and close(e["hi"], hi, 1e-5), f"extract {e['corpus']} K={e['k']}", f"{e} vs {k}/{len(which)}")
        # AUC of each score, oriented so that higher = seen
        orient = {"ppl": lambda d: -d["log_ppl"], "zlib": lambda d: -d["zlib"], "min_k": lambda d: d["min_k"],
                  "lower": lambda d: -d["lower"], "llr": lambda d: d["llr"]}
        for name, f in orient.items():
            pos = [f(d) for d in docs if d["corpus"] == c1]
            neg = [f(d) for d in docs if d["corpus"] == c2]
            auc, lo, hi = delong(pos, neg)
            got = out["auc"].get(name)
            check(got is not None and close(got["auc"], auc, 1e-6) and close(got["lo"], lo, 1e-5)
                  and close(got["hi"], hi, 1e-5) and got["n"] == len(pos) + len(neg), f"AUC of {name}",
                  f"{got} vs {auc, lo, hi}")

    # CSV: the same numbers
    r = run("probe", "score", "-m", target, "-f", c1, "--csv", "--no-lower", "--sort", "ppl", "-t", "1")
    check(r.returncode == 0, "probe score --csv runs", r.stderr)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    check(len(rows) == len(SEEN) and [row["text"] for row in rows if row["doc"] == "4"] == [SEEN[3]],
          "CSV rows and quoting")
    ppls = [float(row["ppl"]) for row in rows]
    check(ppls == sorted(ppls), "CSV sorted by ppl")

    # canary: exact enumeration against brute force over all 64 candidates
    secret = "312"
    r = run("probe", "canary", "-m", target, "--format", "pin {secret} ok", "--alphabet", "0123", "--length", "3",
            "--secret", secret, "--json", "-t", "1")
    check(r.returncode == 0, "probe canary runs", r.stderr)
    if r.returncode == 0:
        out = json.loads(r.stdout)
        ll = {}
        for i in range(64):
            cand = "".join("0123"[(i >> s) & 3] for s in (4, 2, 0))
            _, lps, _ = logits(target, f"pin {cand} ok")
            ll[cand] = sum(lps)
        rank = 1 + sum(1 for c, v in ll.items() if c != secret and v > ll[secret])
        check(out["exact"] and out["n_scored"] == 63, "canary enumerated")
        check(out["rank"] == rank, "canary rank = brute force", f"{out['rank']} vs {rank}")
        check(close(out["exposure"], 6 - math.log2(rank), 1e-5), "canary exposure", f"{out['exposure']} vs rank {rank}")
        # the secret's lp is the full sentence's minus the shared part, which
        # is the same for every candidate: differences must agree
        lps_sorted = sorted(out["lp"], reverse=True)
        brute_sorted = sorted((v - ll[secret] for c, v in ll.items() if c != secret), reverse=True)
        worst = max(abs((a - out["secret_lp"]) - b) for a, b in zip(lps_sorted, brute_sorted))
        check(worst < 1e-4, "canary candidate likelihoods = brute force", f"worst {worst}")

    # usage errors exit 2, failures 1, with a message
    r = run("probe", "score", "-m", target)
    check(r.returncode == 2 and "give -m MODEL" in r.stderr, "no corpus: exit 2")
    r = run("probe", "score", "-m", target, "-f", c1, "--sort", "nope")
    check(r.returncode == 2 and "--sort" in r.stderr, "bad --sort: exit 2")
    r = run("probe", "extract", "-m", target, "-f", os.path.join(tmp, "missing.txt"))
    check(r.returncode == 1 and "cannot open" in r.stderr, "missing corpus: exit 1")
    r = run("probe", "canary", "-m", target, "--format", "no placeholder")
    check(r.returncode == 1 and "{secret}" in r.stderr, "format without {secret}: exit 1")
    r = run("probe", "frobnicate")
    check(r.returncode == 2, "unknown subcommand: exit 2")
    for sub in ("extract", "score", "report", "canary", "generate"):
        r = run("probe", sub, "--help")
        check(r.returncode == 0 and "usage: tinglado probe" in r.stdout, f"probe {sub} --help")
    # generate: runs, deduplicates, ranks
    r = run("probe", "generate", "-m", target, "-n", "6", "--tokens", "12", "--top", "4", "--json", "-t", "1")
    check(r.returncode == 0, "probe generate runs", r.stderr)
    if r.returncode == 0:
        out = json.loads(r.stdout)
        texts = [d["text"] for d in out["documents"]]
        check(1 <= len(texts) <= 4 and len(set(texts)) == len(texts), "generate: at most --top, no duplicates")
    # report: Markdown and SVG
    md = os.path.join(tmp, "r.md")
    r = run("probe", "report", "-m", target, "-f", c1, "-f", c2, "--prefix", "4,10", "--suffix", "8", "--report", md,
            "-t", "1")
    check(r.returncode == 0 and os.path.exists(md) and os.path.exists(os.path.join(tmp, "r.svg")), "report written",
          r.stderr)
    if r.returncode == 0:
        text = open(md).read()
        check("| corpus | K | extractable | 95% interval | n |" in text and "DeLong" in text, "report tables")
        check(open(os.path.join(tmp, "r.svg")).read().startswith("<svg"), "report plot is SVG")
    page = os.path.join(tmp, "r.html")
    r = run("probe", "report", "-m", target, "-f", c1, "-f", c2, "--prefix", "4,10", "--suffix", "8", "--report",
            page, "-t", "1")
    check(r.returncode == 0 and os.path.exists(page), "HTML report written", r.stderr)
    if r.returncode == 0:
        text = open(page).read()
        check(text.startswith("<!DOCTYPE html>") and "<svg" in text and "<table>" in text and "<th>AUC</th>" in text,
              "HTML report: tables and the plot inlined")
        check("<script" not in text.lower(), "HTML report: no script")
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print(f"test_probe_scores: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
