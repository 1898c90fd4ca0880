#!/usr/bin/env python3
"""Load test for `tinglado serve`: N concurrent streaming clients on loopback.

For each concurrency level (default 1, 2, 4, 8, 16) the clients loop for
--seconds, each streaming chat completions (greedy, --max-tokens) over a fixed
set of prompts.  It reports, per level:

  - aggregate generation throughput (completion tokens per second over the
    whole server): the median of per-window rates (--window seconds each) with
    a 95% bootstrap interval and the number of windows;
  - time to first token, p50 and p99, each with a 95% bootstrap interval, and
    the number of requests;
  - failed and corrupted responses: a response is corrupted when its stream is
    not well-formed (every chunk JSON with the same id, one finish_reason, a
    usage chunk, [DONE]) or when its text differs from the text the same
    prompt gives alone (greedy decoding is deterministic and batching must not
    change a sequence's result);
  - server RSS (from /proc) at the start and end of the level and its maximum.

The ratio of the 8-client throughput to the 1-client one is printed with an
interval (bootstrap over the windows of both levels).

  python3 bench/serve_load.py --bin build/rel/tinglado [--seconds 60] [--levels 1,2,4,8,16]

The server is started by the script (--parallel = the largest level) on a
free port and stopped at the end.  Only the standard library is used.
"""
import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle works.",
    "List some facts about the moon.",
    "Describe a walk in the forest in autumn.",
    "What is the history of bread?",
    "Tell me about the ocean.",
    "How do plants grow?",
    "Write a poem about the city at night.",
]


def boot_ci(xs, stat, n_boot=2000, seed=1):
    """95% percentile-bootstrap interval of stat(xs)."""
    if len(xs) < 2:
        v = stat(xs) if xs else float("nan")
        return v, v
    rng = random.Random(seed)
    vals = sorted(stat([rng.choice(xs) for _ in xs]) for _ in range(n_boot))
    return vals[int(0.025 * n_boot)], vals[int(0.975 * n_boot) - 1]


def pct(q):
    def f(xs):
        s = sorted(xs)
        if not s:
            return float("nan")
        k = (len(s) - 1) * q
        lo = int(k)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (k - lo)
    return f


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    def __init__(self, binary, model, parallel, ctx, threads, log):
        cmd = [binary, "serve", "-m", model, "--port", "0", "--parallel", str(parallel), "--ctx", str(ctx),
               "--queue", "64", "--access-log", log]
        if threads:
            cmd += ["-t", str(threads)]
        self.err_path = log + ".stderr"
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None
        for _ in range(1200):
            self.err.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.err.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not self.port:
            self.err.seek(0)
            raise SystemExit("server did not start: " + self.err.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def stream_chat(port, prompt, max_tokens):
    """One streamed request.  Returns (ok, why, text, n_tokens, ttft, t_end, t_start)."""
    body = json.dumps({"model": "x", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            return False, f"HTTP {r.status}: {r.read()[:200]!r}", "", 0, 0, time.monotonic(), t0
        ids, finishes, text, usage, done, ttft = set(), [], [], None, False, None
        buf = b""
        while True:
            chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1024)
            if not chunk:
                break
            buf += chunk
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                if not event.startswith(b"data: "):
                    return False, f"bad event {event[:80]!r}", "", 0, 0, time.monotonic(), t0
                data = event[6:]
                if data == b"[DONE]":
                    done = True
                    continue
                o = json.loads(data)
                ids.add(o["id"])
                if o.get("usage"):
                    usage = o["usage"]
                for ch in o["choices"]:
                    c = ch["delta"].get("content")
                    if c:
                        if ttft is None:
                            ttft = time.monotonic() - t0
                        text.append(c)
                    if ch.get("finish_reason"):
                        finishes.append(ch["finish_reason"])
        t_end = time.monotonic()
        if not done or len(ids) != 1 or len(finishes) != 1 or usage is None:
            return False, f"malformed stream: done={done} ids={len(ids)} finishes={finishes} usage={usage}", \
                "", 0, 0, t_end, t0
        return True, "", "".join(text), usage["completion_tokens"], ttft if ttft is not None else t_end - t0, \
            t_end, t0
    except Exception as e:  # noqa: BLE001 - a failure of any kind counts
        return False, f"{type(e).__name__}: {e}", "", 0, 0, time.monotonic(), t0
    finally:
        conn.close()


def run_level(port, n_clients, seconds, max_tokens, expected, pid):
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    results = []  # (ok, why, text, n, ttft, t_end, t_start, prompt)
    rss = [rss_kib(pid)]

    def client(k):
        i = k
        while time.monotonic() < stop_at:
            p = PROMPTS[i % len(PROMPTS)]
            res = stream_chat(port, p, max_tokens)
            with lock:
                results.append(res + (p,))
            i += n_clients

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
    t_begin = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        rss.append(rss_kib(pid))
    t_stop = time.monotonic()
    failed = [r for r in results if not r[0]]
    corrupted = [r for r in results if r[0] and r[2] != expected[r[7]]]
    return results, failed, corrupted, rss, t_begin, t_stop


def window_rates(results, t_begin, t_stop, window):
    n_win = max(1, int((t_stop - t_begin) // window))
    tok = [0.0] * n_win
    for ok, _, _, n, ttft, t_end, t_start, _ in results:
        if not ok or n == 0:
            continue
        a, b = t_start + ttft, t_end
        if b <= a:
            b = a + 1e-6
        rate = n / (b - a)
        for w in range(n_win):
            lo, hi = t_begin + w * window, t_begin + (w + 1) * window
            overlap = min(hi, b) - max(lo, a)
            if overlap > 0:
                tok[w] += rate * overlap
    return [t / window for t in tok]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/rel/tinglado")
    ap.add_argument("--model", default="gemma-3-270m-q4_k_m")
    ap.add_argument("--levels", default="1,2,4,8,16")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--window", type=float, default=5)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    log = f"/tmp/tg_serve_load_{os.getpid()}.log"
    srv = Server(args.bin, args.model, max(levels), args.ctx, args.threads, log)
    print(f"server pid {srv.proc.pid} on port {srv.port}, {max(levels)} slots, model {args.model}", file=sys.stderr)
    try:
        # the reference text of every prompt, each alone (greedy)
        expected = {}
        for p in PROMPTS:
            ok, why, text, n, *_ = stream_chat(srv.port, p, args.max_tokens)
            if not ok:
                raise SystemExit(f"reference request failed: {why}")
            expected[p] = text
        out = {"levels": [], "seconds": args.seconds, "max_tokens": args.max_tokens, "window": args.window}
        rates_by_level = {}
        print(f"{'clients':>7} {'tok/s (median, 95% CI, n windows)':>36} {'TTFT p50 s (95% CI)':>22} "
              f"{'TTFT p99 s (95% CI)':>22} {'requests':>8} {'failed':>6} {'corrupt':>7} {'RSS MiB start/end/max':>22}")
        for n in levels:
            results, failed, corrupted, rss, tb, ts = run_level(srv.port, n, args.seconds, args.max_tokens, expected,
                                                               srv.proc.pid)
            rates = window_rates(results, tb, ts, args.window)
            rates_by_level[n] = rates
            med = statistics.median(rates)
            lo, hi = boot_ci(rates, statistics.median)
            ttfts = [r[4] for r in results if r[0]]
            p50, p99 = pct(0.5)(ttfts), pct(0.99)(ttfts)
            p50ci, p99ci = boot_ci(ttfts, pct(0.5)), boot_ci(ttfts, pct(0.99))
            print(f"{n:>7} {med:>10.2f} [{lo:6.2f}, {hi:6.2f}] n={len(rates):<4} "
                  f"{p50:>7.3f} [{p50ci[0]:.3f}, {p50ci[1]:.3f}] {p99:>7.3f} [{p99ci[0]:.3f}, {p99ci[1]:.3f}] "
                  f"{len(results):>8} {len(failed):>6} {len(corrupted):>7} "
                  f"{rss[0] / 1024:>7.1f}/{rss[-1] / 1024:.1f}/{max(rss) / 1024:.1f}", flush=True)
            for r in failed[:3]:
                print(f"   failed: {r[1]}", file=sys.stderr)
            for r in corrupted[:3]:
                print(f"   corrupted: {r[7]!r}: {r[2]!r} != {expected[r[7]]!r}", file=sys.stderr)
            out["levels"].append({"clients": n, "tok_s": med, "tok_s_ci": [lo, hi], "windows": len(rates),
                                  "ttft_p50": p50, "ttft_p50_ci": list(p50ci), "ttft_p99": p99,
                                  "ttft_p99_ci": list(p99ci), "requests": len(results), "failed": len(failed),
                                  "corrupted": len(corrupted), "rss_kib": [rss[0], rss[-1], max(rss)]})
        if 1 in rates_by_level and 8 in rates_by_level:
            a, b = rates_by_level[1], rates_by_level[8]
            ratio = statistics.median(b) / statistics.median(a)
            rng = random.Random(2)
            boots = sorted(statistics.median([rng.choice(b) for _ in b]) /
                           max(1e-9, statistics.median([rng.choice(a) for _ in a])) for _ in range(2000))
            print(f"8 clients / 1 client throughput: {ratio:.2f}x [{boots[50]:.2f}, {boots[1949]:.2f}] "
                  f"(n = {len(b)} and {len(a)} windows)")
            out["ratio_8_1"] = [ratio, boots[50], boots[1949]]
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    finally:
        srv.stop()
    with open(log) as f:
        lines = f.read().splitlines()
    print(f"access log: {len(lines)} lines ({log})", file=sys.stderr)


if __name__ == "__main__":
    main()
