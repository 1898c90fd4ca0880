#!/usr/bin/env python3
"""tinglado run / logits / perplexity end to end on the default model:
same seed -> byte-identical text across runs and thread counts 1 and 2;
clear errors and exit codes for a context the model does not allow, an
unknown model name and bad flags; logits --json has the documented shape."""
import json, os, subprocess, sys, tempfile

BIN = os.environ.get("TINGLADO_BIN", "build/asan/tinglado")
MODEL = "gemma-3-270m-q4_k_m"
passed = failed = 0

def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)

def run(*args, stdin=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, input=stdin, timeout=900)

def test_seed_determinism():
    base = ["run", "-m", MODEL, "--raw", "-p", "Once upon a time", "-n", "12",
            "--temp", "0.9", "--top-k", "50", "--seed", "1234"]
    a = run(*base, "-t", "1")
    b = run(*base, "-t", "2")
    c = run(*base, "-t", "2")
    check(a.returncode == 0, f"run -t 1 failed: {a.stderr}")
    check(a.stdout == b.stdout == c.stdout and a.stdout.strip() != "",
          f"same seed gave different text: {a.stdout!r} / {b.stdout!r} / {c.stdout!r}")
    d = run(*base[:-1], "999", "-t", "2")
    check(d.returncode == 0 and d.stdout != a.stdout, "a different seed gave the same text")
    check("generated 12 tokens" in a.stderr and "tokens/s" in a.stderr, f"no speed line: {a.stderr!r}")

def test_errors():
    r = run("run", "-m", MODEL, "--raw", "-p", "hi", "--ctx", "100000")
    check(r.returncode == 1 and "trained for" in r.stderr, f"--ctx 100000: {r.returncode} {r.stderr!r}")
    r = run("run", "-m", "no-such-model", "-p", "hi")
    check(r.returncode == 1 and "tinglado pull" in r.stderr, f"unknown model: {r.returncode} {r.stderr!r}")
    r = run("run", "-m", MODEL, "-p", "hi", "--temp", "hot")
    check(r.returncode == 2 and "--temp" in r.stderr, f"bad --temp: {r.returncode} {r.stderr!r}")
    r = run("run", "-p", "hi")
    check(r.returncode == 2, "missing -m should be a usage error")
    r = run("run", "-m", MODEL, "-p", "hi", "--chat-template", "nonsense")
    check(r.returncode == 1 and "gemma" in r.stderr, f"bad template name: {r.stderr!r}")
    r = run("chat", "-m", MODEL, "--raw")
    check(r.returncode == 2, "chat --raw is not an option")

def test_logits_json():
    r = run("logits", "-m", MODEL, "-p", "Hola mundo", "--json", "--top", "3")
    check(r.returncode == 0, f"logits failed: {r.stderr}")
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    check(len(lines) >= 3, "too few positions")
    for i, l in enumerate(lines):
        check(l["pos"] == i and isinstance(l["token"], int) and len(l["top"]) == 3, f"bad line {l}")
        check(all(t[1] <= 0 for t in l["top"]) and l["top"][0][1] >= l["top"][1][1], f"top not sorted {l}")
    check(lines[-1]["logprob"] is None and all(isinstance(l["logprob"], float) for l in lines[:-1]),
          "logprob must be null only at the last position")

def test_chat_script():
    # two turns and a reset through stdin, then /quit
    r = run("chat", "-m", MODEL, "-n", "6", "--temp", "0", stdin="Hello\n/reset\nHi again\n/quit\n")
    check(r.returncode == 0, f"chat failed: {r.stderr}")
    check("conversation cleared" in r.stderr, "no /reset acknowledgement")

def test_perplexity_needs_tokens():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("short text")
    r = run("perplexity", "-m", MODEL, "-f", f.name, "--ctx", "64")
    os.unlink(f.name)
    check(r.returncode == 1 and "at least" in r.stderr, f"perplexity on a short text: {r.stderr!r}")

for t in (test_seed_determinism, test_errors, test_logits_json, test_chat_script, test_perplexity_needs_tokens):
    before = failed
    t()
    print(f"  {t.__name__:48s} {'ok' if failed == before else 'FAIL'}", file=sys.stderr)
print(f"test_run: {passed} passed, {failed} failed", file=sys.stderr)
sys.exit(1 if failed else 0)
