#!/usr/bin/env python3
"""bench_search.py — search latency over a 10,000-item library (synthetic).

Builds the library the way a user would: 10,000 synthetic articles (300
Zipf-distributed words from a 20,000-word vocabulary, seeded) served from
eight loopback addresses (127.0.0.1-8, so sync's one-request-per-host rule
still lets four jobs run), imported as a URL list and synced.  Then runs
`tinglado read search` for 200 random two- and three-word queries and
reports the median and 90th percentile wall time per search, process start
included (so an upper bound on the query itself).

    tests/read/bench_search.py --bin build/rel/tinglado [--items 10000] [--keep DB]

Not part of `make test` (it takes minutes); the numbers go to docs/reading.md.
"""
import argparse
import http.server
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def vocab(n, rnd):
    cons, vow = "bcdfghjklmnprstvwz", "aeiou"
    words = set()
    while len(words) < n:
        words.add("".join(rnd.choice(cons) + rnd.choice(vow) for _ in range(rnd.randint(2, 4))))
    return sorted(words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("TINGLADO_REL_BIN", "build/rel/tinglado"))
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--keep", help="keep the library at this path")
    a = ap.parse_args()
    rnd = random.Random(1234)
    words = vocab(20000, rnd)
    weights = [1.0 / (i + 1) for i in range(len(words))]  # Zipf

    def page(i):
        r = random.Random(i)
        title = " ".join(r.choices(words, weights, k=6)).capitalize()
        paras = []
        for _ in range(6):
            paras.append("<p>" + " ".join(r.choices(words, weights, k=50)).capitalize() + ".</p>")
        return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
                f"<article><h1>{title}</h1>{''.join(paras)}</article></body></html>").encode()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *x):
            pass

        def do_GET(self):
            body = page(int(self.path.strip("/").split("/")[-1]))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    servers = []
    for k in range(1, 9):
        s = http.server.ThreadingHTTPServer((f"127.0.0.{k}", 0), H)
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
    tmp = tempfile.mkdtemp(prefix="tg_bench_search_")
    db = a.keep or os.path.join(tmp, "lib.db")
    urls = os.path.join(tmp, "urls.txt")
    with open(urls, "w") as f:
        for i in range(a.items):
            s = servers[i % 8]
            f.write(f"http://{s.server_address[0]}:{s.server_address[1]}/a/{i}\n")
    env = dict(os.environ, TINGLADO_HOST_DELAY="0")
    subprocess.run([a.bin, "read", "import", urls, "--db", db], check=True, env=env)
    t0 = time.time()
    r = subprocess.run([a.bin, "read", "sync", "--no-llm", "--jobs", "4", "--db", db], capture_output=True, text=True, env=env)
    print(r.stdout.strip(), f"(wall {time.time() - t0:.1f} s)")
    for s in servers:
        s.shutdown()
    times, n_hits = [], []
    for q in range(a.queries):
        k = rnd.choice((2, 3))
        query = " ".join(rnd.choices(words[50:3000], k=k))  # neither stop-words nor hapaxes
        t = time.perf_counter()
        out = subprocess.run([a.bin, "read", "search", query, "-n", "10", "--db", db], capture_output=True, text=True)
        times.append(1000 * (time.perf_counter() - t))
        n_hits.append(out.stdout.count("\n") // 2)
    times.sort()
    print(f"{a.items} items, {a.queries} queries: search p50 {statistics.median(times):.1f} ms, "
          f"p90 {times[int(0.9 * len(times))]:.1f} ms, max {times[-1]:.1f} ms "
          f"(process start included; mean {statistics.mean(n_hits):.1f} hits shown of at most 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
