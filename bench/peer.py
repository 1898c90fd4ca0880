#!/usr/bin/env python3
"""bench/peer.py - tinglado against llama.cpp on the same model files, the
same machine and the same thread count, in one interleaved run.

For each model and each repetition r = 1..R, in turn:
  llama.cpp  pp: one batch of P random tokens from an empty cache
             tg: N tokens decoded one at a time from an empty cache
  tinglado   `tinglado bench -p P -n N -r 1 --json --no-roofline` (same method)
so slow drifts of a shared host (other tenants, thermal) hit both alike.
Reported per model and test: each side's median tokens/s with a 95%
bootstrap interval, and the ratio tinglado / llama.cpp with a 95% bootstrap
interval (both samples resampled independently, ratio of medians).  The decode
roofline comes from `tinglado bench` (measured read bandwidth).

llama.cpp is the one vendored by llama-cpp-python (built for this machine when
the venv was made: scripts/llama-venv.sh), driven through its C API with its
default context parameters (flash attention AUTO, F16 KV cache), warm-up runs
first, the model mmapped.

Usage:
  bench/peer.py -m MODEL [-m MODEL ...] [-p 512] [-n 128] [-t 2] [-r 5]
                [--tinglado build/rel/tinglado] [--json OUT.json] [--markdown OUT.md]
Python (this script and the venv) is a tool: tinglado never runs it.
"""
import argparse
import ctypes
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time


def percentile_interval(sorted_values):
    """The 2.5th and 97.5th percentiles, as tg_stats_median_boot takes them."""
    k = len(sorted_values) - 1
    return sorted_values[math.floor(0.025 * k)], sorted_values[math.ceil(0.975 * k)]


def median_ci(xs, seed, resamples=2000):
    """Median with a 95% percentile-bootstrap interval."""
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(resamples))
    return (statistics.median(xs), *percentile_interval(meds))


def ratio_ci(num, den, seed, resamples=2000):
    """Ratio of medians with a 95% bootstrap interval (both resampled)."""
    rng = random.Random(seed)
    rs = sorted(statistics.median(rng.choices(num, k=len(num))) / statistics.median(rng.choices(den, k=len(den)))
                for _ in range(resamples))
    return (statistics.median(num) / statistics.median(den), *percentile_interval(rs))


class LlamaCpp:
    """llama.cpp through its C API: load once, time pp and tg runs."""

    def __init__(self, path, n_ctx, n_batch, threads):
        import llama_cpp as L
        self.L = L

        @L.llama_log_callback
        def quiet(level, text, user):  # noqa: ARG001
            if level == 4:
                sys.stderr.write(text.decode("utf-8", "replace"))
        L.llama_log_set(quiet, ctypes.c_void_p(0))
        self._quiet = quiet
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama.cpp cannot load {path}")
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = n_batch
        cp.n_ubatch = n_batch
        cp.n_threads = threads
        cp.n_threads_batch = threads
        self.flash_attn = cp.flash_attn_type
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise RuntimeError("llama.cpp cannot create a context")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.batch = L.llama_batch_init(n_batch, 0, 1)

    def _clear(self):
        L = self.L
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def _decode(self, toks, pos0, last_logits):
        L, b = self.L, self.batch
        b.n_tokens = len(toks)
        for i, t in enumerate(toks):
            b.token[i] = t
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if (last_logits and i == len(toks) - 1) else 0
        if L.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")

    def pp(self, toks):
        self._clear()
        t0 = time.perf_counter()
        self._decode(toks, 0, True)
        self.L.llama_synchronize(self.ctx)
        return len(toks) / (time.perf_counter() - t0)

    def tg(self, toks):
        self._clear()
        t0 = time.perf_counter()
        for i, t in enumerate(toks):
            self._decode([t], i, True)
        self.L.llama_synchronize(self.ctx)
        return len(toks) / (time.perf_counter() - t0)

    def close(self):
        L = self.L
        L.llama_batch_free(self.batch)
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)


def tinglado_once(binary, model, p, n, threads):
    out = subprocess.run([binary, "bench", "-m", model, "-p", str(p), "-n", str(n), "-t", str(threads), "-r", "1",
                          "--json", "--no-roofline"], capture_output=True, text=True, check=True)
    j = json.loads(out.stdout)
    return j["pp"]["samples"][0] if p else None, j["tg"]["samples"][0] if n else None, j


def bench_model(args, model):
    rng = random.Random(12345)
    llama = LlamaCpp(model, max(args.p, args.n) + 16, max(args.p, 1), args.threads)
    toks = [rng.randrange(llama.n_vocab) for _ in range(max(args.p, args.n))]
    # warm-up, both sides
    if args.p:
        llama.pp(toks[: args.p])
    if args.n:
        llama.tg(toks[: min(args.n, 16)])
    tinglado_once(args.tinglado, model, min(args.p, 64), min(args.n, 8), args.threads)
    res = {"llama_pp": [], "llama_tg": [], "tg_pp": [], "tg_tg": []}
    for r in range(args.reps):
        if args.p:
            res["llama_pp"].append(llama.pp(toks[: args.p]))
        if args.n:
            res["llama_tg"].append(llama.tg(toks[: args.n]))
        pp, tg, info = tinglado_once(args.tinglado, model, args.p, args.n, args.threads)
        if args.p:
            res["tg_pp"].append(pp)
        if args.n:
            res["tg_tg"].append(tg)
        print(f"  rep {r + 1}/{args.reps}: llama.cpp pp {res['llama_pp'][-1] if args.p else 0:.1f} "
              f"tg {res['llama_tg'][-1] if args.n else 0:.2f} | tinglado pp {pp or 0:.1f} tg {tg or 0:.2f}",
              file=sys.stderr, flush=True)
    fa = llama.flash_attn
    llama.close()
    roof = None
    if args.n and not args.no_roofline:
        out = subprocess.run([args.tinglado, "bench", "-m", model, "-p", "0", "-n", str(args.n), "-t",
                              str(args.threads), "-r", "3", "--json"], capture_output=True, text=True, check=True)
        roof = json.loads(out.stdout)
    summary = {"model": model, "threads": args.threads, "reps": args.reps, "llama_flash_attn_type": fa,
               "cpu_level": info.get("cpu_level"), "samples": res}
    for test, n_tok in (("pp", args.p), ("tg", args.n)):
        if not n_tok:
            continue
        a, b = res[f"tg_{test}"], res[f"llama_{test}"]
        summary[test] = {
            "tokens": n_tok,
            "tinglado": median_ci(a, 1),
            "llama.cpp": median_ci(b, 2),
            "ratio": ratio_ci(a, b, 3),
        }
    if roof and "roofline_tps" in roof:
        summary["roofline"] = {"read_bandwidth_gbs": roof["read_bandwidth_gbs"],
                               "weight_bytes_per_token": roof["weight_bytes_per_token"],
                               "roofline_tps": roof["roofline_tps"],
                               "tinglado_fraction": summary["tg"]["tinglado"][0] / roof["roofline_tps"],
                               "llama_fraction": summary["tg"]["llama.cpp"][0] / roof["roofline_tps"]}
    return summary


def markdown(results):
    lines = ["| model | test | tinglado tok/s [95% CI] | llama.cpp tok/s [95% CI] | ratio [95% CI] | n |",
             "|---|---|---|---|---|---|"]
    for s in results:
        name = os.path.basename(s["model"])
        for test in ("pp", "tg"):
            if test not in s:
                continue
            t, l, r = s[test]["tinglado"], s[test]["llama.cpp"], s[test]["ratio"]
            lines.append(f"| {name} | {test}{s[test]['tokens']} | {t[0]:.1f} [{t[1]:.1f}, {t[2]:.1f}] | "
                         f"{l[0]:.1f} [{l[1]:.1f}, {l[2]:.1f}] | **{r[0]:.2f}×** [{r[1]:.2f}, {r[2]:.2f}] | {s['reps']} |")
    roofs = [s for s in results if "roofline" in s]
    if roofs:
        lines += ["", "| model | weights/token | read bandwidth GB/s [95% CI] | roofline tok/s | tinglado | llama.cpp |",
                  "|---|---|---|---|---|---|"]
        for s in roofs:
            r = s["roofline"]
            bw = r["read_bandwidth_gbs"]
            lines.append(f"| {os.path.basename(s['model'])} | {r['weight_bytes_per_token'] / 1e6:.1f} MB | "
                         f"{bw['median']:.1f} [{bw['lo']:.1f}, {bw['hi']:.1f}] | {r['roofline_tps']:.1f} | "
                         f"{100 * r['tinglado_fraction']:.0f}% | {100 * r['llama_fraction']:.0f}% |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", action="append", required=True)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("--tinglado", default="build/rel/tinglado")
    ap.add_argument("--no-roofline", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    results = []
    for m in args.model:
        print(f"{m}:", file=sys.stderr, flush=True)
        results.append(bench_model(args, m))
    md = markdown(results)
    print(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)


if __name__ == "__main__":
    main()
