#!/usr/bin/env python3
"""tinglado bench --energy and tinglado cost end to end.

bench --energy on the estimate path (no powercap tree) must say
"estimated" in the text and the JSON, with every figure a median inside its
interval and n = reps; on a fake powercap tree whose package counter a
thread advances at a known 25 W (wrapping around its range), the measured
decode J/token x tokens/s must come back near 25 W, and near 0 once the
same 25 W is measured as the idle baseline and subtracted.  tinglado cost
must reproduce the hand calculations of docs/energy-and-cost.md and refuse
bad input with exit code 2."""
import json, os, subprocess, sys, tempfile, threading, time

BIN = os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN", "build/asan/tinglado")
MODEL = "gemma-3-270m-q4_k_m"
passed = failed = 0

def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)

def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=900, env=e)

BENCH = ["bench", "-m", MODEL, "-p", "16", "-n", "8", "-r", "4", "-t", "1", "--no-roofline", "--energy"]

def figures(energy):
    return {k: v for k, v in energy.items() if isinstance(v, dict) and "median" in v}

def test_estimate_path():
    r = run(*BENCH, "--idle-seconds", "0.2", env={"TINGLADO_POWERCAP_ROOT": "/nonexistent/powercap"})
    check(r.returncode == 0, f"bench --energy failed: {r.stderr}")
    check("energy (estimated): CPU estimated:" in r.stdout, f"no estimate label: {r.stdout}")
    check("/nonexistent/powercap" in r.stdout, "the label does not say why RAPL was not used")
    rows = [l for l in r.stdout.splitlines() if "J/token" in l or "Wh/" in l]
    check(len(rows) == 5 and all(l.rstrip().endswith("4  estimated") for l in rows), f"rows: {rows}")
    check("0.24 Wh" in r.stdout and "0.3 Wh" in r.stdout, "reference points missing")
    r = run(*BENCH, "--json", "--watts", "64", "--idle-seconds", "0",
            env={"TINGLADO_POWERCAP_ROOT": "/nonexistent/powercap"})
    check(r.returncode == 0, f"bench --energy --json failed: {r.stderr}")
    j = json.loads(r.stdout)
    e = j["energy"]
    check(e["source"] == "estimated" and "64 W (--watts)" in e["label"], f"label: {e['label']}")
    f = figures(e)
    check(set(f) == {"prefill_j_per_token", "prefill_wh_per_1k_tokens", "decode_j_per_token",
                     "decode_wh_per_1k_tokens", "request_wh"}, f"figures: {list(f)}")
    for k, v in f.items():
        check(v["n"] == 4 and len(v["samples"]) == 4 and v["lo"] <= v["median"] <= v["hi"] and v["median"] > 0,
              f"{k}: {v}")
    # Wh/1000 = J/token / 3.6, sample by sample; the request pairs the phases.
    for a, b in (("prefill_j_per_token", "prefill_wh_per_1k_tokens"), ("decode_j_per_token", "decode_wh_per_1k_tokens")):
        check(all(abs(x / 3.6 - y) <= 1e-5 * x + 1e-9 for x, y in zip(f[a]["samples"], f[b]["samples"])), f"{a} vs {b}")
    req = [(500 * p + 200 * d) / 3600 for p, d in zip(f["prefill_j_per_token"]["samples"], f["decode_j_per_token"]["samples"])]
    check(all(abs(x - y) <= 1e-4 * y for x, y in zip(req, f["request_wh"]["samples"])), "request_wh is not 500 pp + 200 tg")
    # The estimate at 64 W for the visible CPUs cannot exceed 64 W of wall time per token (one thread busy).
    ncpu = os.cpu_count() or 1
    w = [jt * tps for jt, tps in zip(f["decode_j_per_token"]["samples"], j["tg"]["samples"])]
    check(all(0 < x <= 64.0 / ncpu * 1.3 for x in w), f"estimated decode watts {w} vs 64 W / {ncpu} CPUs")

class FakeRapl:
    """A powercap tree whose package-0 counter gains `watts` in real time,
    wrapping at a small range so a run crosses several wraps."""
    def __init__(self, root, watts, max_uj=100_000_000):
        self.root, self.watts, self.max = root, watts, max_uj
        self.dir = os.path.join(root, "intel-rapl:0")
        os.makedirs(self.dir)
        for name, text in (("name", "package-0\n"), ("max_energy_range_uj", f"{max_uj}\n"), ("energy_uj", "0\n")):
            with open(os.path.join(self.dir, name), "w") as fh:
                fh.write(text)
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()
    def loop(self):
        t0 = time.monotonic()
        while not self.stop:
            uj = int((time.monotonic() - t0) * self.watts * 1e6) % (self.max + 1)
            tmp = os.path.join(self.dir, ".e")
            with open(tmp, "w") as fh:
                fh.write(f"{uj}\n")
            os.replace(tmp, os.path.join(self.dir, "energy_uj"))
            time.sleep(0.002)
    def close(self):
        self.stop = True
        self.t.join()

def test_fake_rapl():
    with tempfile.TemporaryDirectory() as d:
        fake = FakeRapl(d, 25.0)  # 25 W: the 100 J range wraps every 4 s
        try:
            env = {"TINGLADO_POWERCAP_ROOT": d}
            r = run(*BENCH, "--json", "--idle-seconds", "0", env=env)
            check(r.returncode == 0, f"bench on fake RAPL failed: {r.stderr}")
            j = json.loads(r.stdout)
            e = j["energy"]
            check(e["source"] == "measured" and "CPU measured: RAPL (package-0" in e["label"], f"label {e['label']}")
            w = sorted(jt * tps for jt, tps in zip(figures(e)["decode_j_per_token"]["samples"], j["tg"]["samples"]))
            med = 0.5 * (w[1] + w[2])
            check(20.0 < med < 30.0, f"measured decode power {w} W, want about 25 W")
            r = run(*BENCH, "--json", "--idle-seconds", "1", env=env)
            check(r.returncode == 0, f"bench with idle baseline failed: {r.stderr}")
            e = json.loads(r.stdout)["energy"]
            check(22.0 < e["idle_watts"] < 28.0, f"idle baseline {e['idle_watts']} W, want about 25")
            dec = figures(e)["decode_j_per_token"]
            tps = json.loads(r.stdout)["tg"]["median"]
            check(dec["median"] * tps < 5.0, f"after idle subtraction {dec['median'] * tps:.2f} W remain of 25 W")
        finally:
            fake.close()

def test_bench_usage():
    r = run("bench", "-m", MODEL, "--energy", "--request", "500")
    check(r.returncode == 2 and "IN,OUT" in r.stderr, f"--request 500: {r.returncode} {r.stderr}")
    r = run("bench", "-m", MODEL, "--energy", "--watts", "hot")
    check(r.returncode == 2 and "--watts" in r.stderr, f"--watts hot: {r.stderr}")
    # an energy option alone turns the energy report on
    r = run("bench", "-m", MODEL, "-p", "4", "-n", "2", "-r", "2", "-t", "1", "--no-roofline", "--json",
            "--estimate", "--idle-seconds", "0")
    check(r.returncode == 0 and json.loads(r.stdout)["energy"]["source"] == "estimated", f"--estimate alone: {r.stderr}")
    r = run("bench", "--help")
    check(r.returncode == 0 and "--energy" in r.stdout and "--request IN,OUT" in r.stdout, "bench --help")

GPU_HOUR = ["cost", "gpu-hour", "--capex", "30000", "--years", "4", "--utilisation", "0.6", "--watts", "700",
            "--pue", "1.2", "--price-kwh", "0.15"]

def test_cost():
    # docs/energy-and-cost.md, worked example 1: 30000/21024 + 0.7 x 1.2 x 0.15 = 1.4269 + 0.1260 = 1.5529
    r = run(*GPU_HOUR)
    check(r.returncode == 0, f"cost gpu-hour: {r.stderr}")
    check("1.4269 EUR/h" in r.stdout and "0.1260 EUR/h" in r.stdout and "1.5529 EUR/h" in r.stdout, r.stdout)
    check("not measured" in r.stdout, "a calculation must not look like a measurement")
    j = json.loads(run(*GPU_HOUR, "--json", "--currency", "USD").stdout)
    check(abs(j["total_per_hour"] - (30000 / 21024 + 0.126)) < 1e-6 and j["currency"] == "USD", f"{j}")
    # worked example 2: the home server, 0.9259 per million tokens
    r = run("cost", "--joules-per-token", "0.5", "--tokens-per-second", "20", "--price-kwh", "0.30",
            "--capex", "1000", "--years", "5", "--utilisation", "0.5", "--idle-watts", "30", "--json")
    j = json.loads(r.stdout)
    check(abs(j["energy_per_mtok"] - 0.30 * 3.5e6 / 3.6e6) < 1e-6 and abs(j["total_per_mtok"] - 0.925863) < 1e-6,
          f"home server: {j}")
    # a rented hour includes its power
    j = json.loads(run("cost", "--joules-per-token", "2", "--tokens-per-second", "1000",
                       "--gpu-hour-price", "2", "--json").stdout)
    check(j["energy_per_mtok"] == 0 and abs(j["hardware_per_mtok"] - 2000 / 3600) < 1e-6, f"rent: {j}")
    # from a bench file: one cost per repetition, median and interval
    with tempfile.TemporaryDirectory() as d:
        bench = {"tg": {"samples": [10.0, 20.0, 40.0]}, "pp": {"samples": [100.0, 100.0, 100.0]},
                 "energy": {"source": "estimated", "label": "CPU estimated: test",
                            "decode_j_per_token": {"samples": [1.0, 0.5, 0.25]},
                            "prefill_j_per_token": {"samples": [0.1, 0.1, 0.1]}}}
        path = os.path.join(d, "b.json")
        with open(path, "w") as fh:
            json.dump(bench, fh)
        r = run("cost", "--bench", path, "--price-kwh", "0.36", "--json")
        check(r.returncode == 0, f"cost --bench: {r.stderr}")
        j = json.loads(r.stdout)
        e = j["per_mtok"]["energy"]
        # 0.5 J/token -> 1e6 x 0.5 / 3.6e6 kWh x 0.36 = 0.05; samples 0.1, 0.05, 0.025
        check(abs(e["median"] - 0.05) < 1e-9 and e["n"] == 3 and e["lo"] <= 0.05 <= e["hi"], f"{e}")
        check(j["energy_source"] == "estimated", "the bench file's estimate label was dropped")
        r = run("cost", "--bench", path, "--price-kwh", "0.36")
        check("energy estimated: CPU estimated: test" in r.stdout, r.stdout)
        r = run("cost", "--bench", path, "--price-kwh", "0.36", "--phase", "prefill", "--capex", "100",
                "--years", "1", "--json")
        j = json.loads(r.stdout)
        h = 100 / 8760 * 1e6 / 100 / 3600
        check(abs(j["per_mtok"]["hardware"]["median"] - h) < 1e-5 * h, f"prefill hardware {j}")
        with open(path, "w") as fh:
            fh.write('{"energy": {}}')
        r = run("cost", "--bench", path, "--price-kwh", "1")
        check(r.returncode == 1 and "bench --energy" in r.stderr, f"bad bench file: {r.stderr}")

def test_cost_errors():
    for args, want in ((["--pue", "0.5"], "--pue"), (["--utilisation", "1.5"], "--utilisation"),
                       (["--price-kwh", "cheap"], "--price-kwh"), (["--phase", "lunch"], "--phase")):
        r = run("cost", "--joules-per-token", "1", "--price-kwh", "0.2", *args)
        check(r.returncode == 2 and want in r.stderr, f"{args}: {r.returncode} {r.stderr}")
    r = run("cost", "--price-kwh", "0.2")
    check(r.returncode == 2, "cost without an energy figure is a usage error")
    r = run("cost", "gpu-hour", "--watts", "700", "--price-kwh", "0.2")
    check(r.returncode == 2 and "--capex" in r.stderr, f"gpu-hour without capex: {r.stderr}")
    r = run("cost", "--joules-per-token", "1", "--price-kwh", "0.2", "--capex", "10", "--years", "1")
    check(r.returncode == 1 and "tokens per second" in r.stderr, f"capex without speed: {r.stderr}")
    r = run("cost", "--joules-per-token", "1", "--price-kwh", "0.2", "--capex", "10", "--years", "1",
            "--gpu-hour-price", "2", "--tokens-per-second", "5")
    check(r.returncode == 1 and "not both" in r.stderr, f"capex and rent: {r.stderr}")
    r = run("cost", "--help")
    check(r.returncode == 0 and "gpu-hour" in r.stdout and "docs/energy-and-cost.md" in r.stdout, "cost --help")

def main():
    for t in (test_cost, test_cost_errors, test_bench_usage, test_estimate_path, test_fake_rapl):
        n0 = failed
        t()
        print(f"  {t.__name__:48s} {'ok' if failed == n0 else 'FAIL'}", file=sys.stderr)
    print(f"test_energy_cli: {passed} checks, {failed} failed", file=sys.stderr)
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
