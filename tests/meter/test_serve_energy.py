#!/usr/bin/env python3
"""tinglado serve's energy fields end to end (docs/API.md, "usage").

Estimate path (no powercap tree): every finished response's usage carries
energy_joules > 0 with energy_source "estimated", and energy_cost =
price x PUE x joules / 3.6e6 with its currency; the streaming usage chunk
too; the Prometheus counter tinglado_energy_joules_total equals the sum of
the responses' joules (every step's energy goes to the requests in it);
--no-energy omits the fields and the counter.  On a fake RAPL tree advancing
at 25 W, a response's measured joules lie between 0 and 25 W x its wall time.
Uses $TINGLADO_REL_BIN when set (generation under the sanitizers is slow)."""
import concurrent.futures as cf
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN", "build/rel/tinglado")
MODEL = "gemma-3-270m-q4_k_m"
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr, flush=True)


class Server:
    def __init__(self, *args, env=None):
        self.dir = tempfile.mkdtemp(prefix="tg_serve_energy_")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        e = dict(os.environ)
        e.update(env or {})
        cmd = [BIN, "serve", "-m", MODEL, "--port", "0", "-t", "1", "--access-log", os.path.join(self.dir, "log"),
               *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err, env=e)
        self.port = None
        deadline = time.time() + 120
        while time.time() < deadline and self.port is None and self.proc.poll() is None:
            self.err.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.err.read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.1)
        if self.port is None:
            self.err.seek(0)
            raise RuntimeError("server did not start: " + self.err.read())

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def post(self, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        return text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def counter(text):
    m = re.search(r'^tinglado_energy_joules_total\{source="(\w+)"\} (\S+)$', text, re.M)
    return (m.group(1), float(m.group(2))) if m else (None, None)


def completion(s, prompt, n, **extra):
    st, data = s.post("/v1/completions", {"model": MODEL, "prompt": prompt, "max_tokens": n, "temperature": 0,
                                          **extra})
    check(st == 200, f"status {st}: {data[:200]}")
    return json.loads(data) if st == 200 else {}


def test_estimate():
    s = Server("--price-kwh", "0.30", "--pue", "1.2", "--currency", "USD",
               env={"TINGLADO_POWERCAP_ROOT": "/nonexistent/powercap"})
    try:
        check("energy: CPU estimated" in s.stderr(), f"start-up line lacks the meter's label: {s.stderr()}")
        prompts = ["Once upon a time", "The capital of France is", "1, 2, 3, 4,"]
        with cf.ThreadPoolExecutor(3) as ex:
            rs = list(ex.map(lambda p: completion(s, p, 12), prompts))
        total = 0.0
        for r in rs:
            u = r.get("usage", {})
            j = u.get("energy_joules")
            check(isinstance(j, float) and j > 0 and u.get("energy_source") == "estimated", f"usage {u}")
            if isinstance(j, float):
                total += j
                check(abs(u.get("energy_cost", -1) - 0.30 * 1.2 * j / 3.6e6) <= 1e-9 * max(1.0, j)
                      and u.get("energy_cost_currency") == "USD", f"cost in {u}")
        src, c = counter(s.metrics())
        check(src == "estimated" and c is not None and abs(c - total) <= 1e-6 * max(total, 1e-9) + 1e-9,
              f"counter {src} {c} vs the responses' sum {total}")
        # the streaming usage chunk carries the fields too
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=600)
        c.request("POST", "/v1/chat/completions", body=json.dumps({
            "model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "stream": True,
            "stream_options": {"include_usage": True}}), headers={"Content-Type": "application/json"})
        body = c.getresponse().read().decode()
        c.close()
        usage = [json.loads(l[6:])["usage"] for l in body.splitlines()
                 if l.startswith("data: {") and json.loads(l[6:]).get("usage")]
        check(len(usage) == 1 and usage[0].get("energy_joules", 0) > 0 and usage[0].get("energy_source") == "estimated",
              f"stream usage {usage}")
    finally:
        check(s.stop() == 0, "server did not stop cleanly")


def test_no_energy():
    s = Server("--no-energy")
    try:
        u = completion(s, "Hello", 4).get("usage", {})
        check(u.get("prompt_tokens", 0) > 0 and not any(k.startswith("energy") for k in u), f"usage {u}")
        check(counter(s.metrics())[0] is None, "--no-energy still exports the counter")
    finally:
        s.stop()


def test_fake_rapl():
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "intel-rapl:0")
        os.makedirs(z)
        for name, text in (("name", "package-0\n"), ("max_energy_range_uj", "100000000000\n"), ("energy_uj", "0\n")):
            with open(os.path.join(z, name), "w") as fh:
                fh.write(text)
        stop = []

        def advance():
            t0 = time.monotonic()
            while not stop:
                with open(os.path.join(z, ".e"), "w") as fh:
                    fh.write(f"{int((time.monotonic() - t0) * 25e6)}\n")
                os.replace(os.path.join(z, ".e"), os.path.join(z, "energy_uj"))
                time.sleep(0.002)

        t = threading.Thread(target=advance, daemon=True)
        t.start()
        s = Server("--energy-idle-seconds", "0", env={"TINGLADO_POWERCAP_ROOT": d})
        try:
            check("energy: CPU measured: RAPL (package-0" in s.stderr(), f"label: {s.stderr()}")
            t0 = time.monotonic()
            u = completion(s, "Once upon a time", 16).get("usage", {})
            wall = time.monotonic() - t0
            j = u.get("energy_joules", -1)
            check(u.get("energy_source") == "measured" and 0 < j <= 25.0 * wall * 1.05,
                  f"measured {j} J in {wall:.2f} s at 25 W")
            check("energy_cost" not in u, "no price given, yet a cost")
        finally:
            s.stop()
            stop.append(1)
            t.join()


def test_flags():
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--price-kwh" in r.stdout and "--no-energy" in r.stdout, "serve --help")
    r = subprocess.run([BIN, "serve", "-m", MODEL, "--pue", "0.5"], capture_output=True, text=True)
    check(r.returncode == 2 and "--pue" in r.stderr, f"--pue 0.5: {r.returncode} {r.stderr}")


def main():
    for t in (test_flags, test_estimate, test_no_energy, test_fake_rapl):
        n0 = failed
        t()
        print(f"  {t.__name__:48s} {'ok' if failed == n0 else 'FAIL'}", file=sys.stderr)
    print(f"test_serve_energy: {passed} checks, {failed} failed", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
