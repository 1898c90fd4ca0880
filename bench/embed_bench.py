#!/usr/bin/env python3
"""embed_bench.py — embedding throughput, tinglado vs llama.cpp, side by side
on the same GGUF: sentences per second at a batch of 32 texts, 2 threads.

    ~/.cache/tinglado/llama-venv/bin/python bench/embed_bench.py \
        --bin build/rel/tinglado --gguf MODEL.gguf [--prefix "passage: "] \
        [--sentences tests/golden/embed/sentences.txt] [--reps 15] [--batch 32]

Each repetition takes the next 32 sentences of the corpus (the same batch
for both), then runs llama.cpp (llama-cpp-python, Llama.embed with
n_seq_max = batch, n_threads = n_threads_batch = 2, one ubatch holding the
whole batch) and tinglado (`tinglado embed -f BATCH -t 2`, whose own timer
covers tokenization + forward + pooling, not the model load; llama.cpp's
model is loaded once, outside the timing), in alternating order so drift in
the machine's load hits both alike.  Reports per side the median rate with a
95% percentile-bootstrap interval, and the median of the per-repetition
ratios (tinglado / llama.cpp) with its interval, n = reps.  One warm-up
repetition of each is discarded.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def boot_median(x, n=2000, seed=1):
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    meds = np.median(rng.choice(x, (n, len(x)), replace=True), axis=1)
    return float(np.median(x)), float(np.percentile(meds, 2.5)), float(np.percentile(meds, 97.5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--sentences", default="tests/golden/embed/sentences.txt")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import llama_cpp

    with open(a.sentences, encoding="utf-8") as f:
        texts = [a.prefix + t for t in f.read().split("\n") if t.strip()]
    m = llama_cpp.Llama(a.gguf, embedding=True, verbose=False, n_ctx=8192, n_batch=8192, n_ubatch=8192,
                        n_threads=a.threads, n_threads_batch=a.threads, n_seq_max=a.batch)
    tg_rates, ll_rates, ratios = [], [], []
    tmp = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
    tmp.close()
    for rep in range(a.reps + 1):
        start = (rep * a.batch) % max(1, len(texts) - a.batch)
        batch = texts[start:start + a.batch]
        with open(tmp.name, "w", encoding="utf-8") as f:
            f.write("\n".join(batch) + "\n")

        def run_tg():
            out = subprocess.run([a.bin, "embed", "-m", a.gguf, "-f", tmp.name, "-t", str(a.threads)],
                                 capture_output=True, text=True, check=True)
            secs = float(re.search(r"tokens in ([0-9.]+) s", out.stderr).group(1))
            return len(batch) / secs

        def run_ll():
            t0 = time.perf_counter()
            m.embed(batch, normalize=True)
            return len(batch) / (time.perf_counter() - t0)

        if rep % 2:
            tg, ll = run_tg(), run_ll()
        else:
            ll, tg = run_ll(), run_tg()
        if rep == 0:
            continue  # warm-up
        tg_rates.append(tg)
        ll_rates.append(ll)
        ratios.append(tg / ll)
        print(f"rep {rep:2d}: tinglado {tg:7.1f}/s  llama.cpp {ll:7.1f}/s  ratio {tg / ll:5.2f}", file=sys.stderr)
    os.unlink(tmp.name)
    n = len(ratios)
    t, l, r = boot_median(tg_rates), boot_median(ll_rates), boot_median(ratios)
    print(f"model {os.path.basename(a.gguf)}, batch {a.batch}, {a.threads} threads, n = {n} repetitions")
    print(f"tinglado   {t[0]:8.1f} sentences/s  [{t[1]:.1f}, {t[2]:.1f}]")
    print(f"llama.cpp  {l[0]:8.1f} sentences/s  [{l[1]:.1f}, {l[2]:.1f}]")
    print(f"ratio      {r[0]:8.2f} x            [{r[1]:.2f}, {r[2]:.2f}]  (median of per-repetition ratios, "
          f"95% bootstrap)")


if __name__ == "__main__":
    main()
