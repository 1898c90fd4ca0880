#!/usr/bin/env python3
"""test_embed_cli.py — `tinglado convert`, `tinglado embed` and `tinglado
superpose` end to end with the real binary ($TINGLADO_BIN, default
build/asan/tinglado) on all-MiniLM-L6-v2 from the cache (scripts/setup.sh):

- convert writes a GGUF (twice: the same bytes), refuses a bad --type and a
  directory that is not a model, with exit codes 2 and 1;
- embed: -p gives one line of 384 unit-norm floats; -f gives one line per
  line of the file (empty lines and invalid UTF-8 included, "\\r\\n" endings
  as "\\n"); --json has index, n_tokens, truncated, embedding; the vector of
  -p TEXT equals its line in -f; a text over 512 tokens is truncated and
  named on stderr; usage errors exit 2;
- superpose without a model (Gaussian baseline only, small) prints the table
  and writes an SVG; with -m and a corpus it reports the model row.
Standard library only.  Exits 1 if any check failed; prints "N passed, N failed".
"""
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile

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


def cache():
    return os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinglado")


def run(args, stdin=None, timeout=600):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def vectors(out):
    return [[float(x) for x in line.split()] for line in out.strip("\n").split("\n")]


def main():
    src = os.path.join(cache(), "models", "all-MiniLM-L6-v2")
    if not os.path.isdir(src):
        print(f"test_embed_cli: {src} is missing; run scripts/setup.sh", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="tg-embed-cli-")
    gguf = os.path.join(tmp, "minilm.gguf")

    # ---- convert
    rc, _, err = run(["convert", src, "-o", gguf])
    check(rc == 0 and os.path.exists(gguf), "convert writes the file", err)
    rc, _, _ = run(["convert", src, "-o", gguf + ".2"])
    same = rc == 0 and hashlib.sha256(open(gguf, "rb").read()).digest() == \
        hashlib.sha256(open(gguf + ".2", "rb").read()).digest()
    check(same, "convert is deterministic")
    os.unlink(gguf + ".2")
    rc, _, err = run(["convert", src, "-o", gguf + ".3", "--type", "q4_k"])
    check(rc == 2 and "--type" in err, "convert --type q4_k is a usage error", err)
    rc, _, err = run(["convert", tmp, "-o", gguf + ".4"])
    check(rc == 1 and "config.json" in err, "convert of a directory without a model fails", err)
    rc, _, _ = run(["convert"])
    check(rc == 2, "convert without arguments is a usage error")

    # ---- embed
    rc, out, err = run(["embed", "-m", gguf, "-p", "The quick brown fox", "-t", "2"])
    v = vectors(out) if rc == 0 else [[]]
    check(rc == 0 and len(v) == 1 and len(v[0]) == 384, "embed -p prints one vector of 384", err)
    if rc == 0:
        check(abs(math.sqrt(sum(x * x for x in v[0])) - 1) < 1e-5, "the vector is L2-normalised")
    body = b"first line\r\n\r\nThe quick brown fox\ncaf\xff\xfee\n" + b"word. " * 400 + b"\n"
    path = os.path.join(tmp, "texts.txt")
    open(path, "wb").write(body)
    rc, out, err = run(["embed", "-m", gguf, "-f", path, "-t", "2"])
    w = vectors(out) if rc == 0 else []
    check(rc == 0 and len(w) == 5 and all(len(x) == 384 for x in w), "embed -f: one vector per line", err)
    if len(w) == 5 and v[0]:
        check(max(abs(a - b) for a, b in zip(v[0], w[2])) < 1e-6, "-p and -f give the same vector")
    check("text 4 truncated: 512 of its 802 tokens kept" in err, "truncation is named on stderr", err)
    rc, out, err = run(["embed", "-m", gguf, "-f", path, "--json", "-t", "2"])
    try:
        j = json.loads(out)
        d = j["data"]
        ok = j["dim"] == 384 and len(d) == 5 and [x["index"] for x in d] == list(range(5))
        ok = ok and d[1]["n_tokens"] == 2 and d[4]["truncated"] and not d[0]["truncated"]
        ok = ok and d[4]["n_tokens"] == 512 and len(d[0]["embedding"]) == 384
        check(ok, "--json fields", out[:300])
        if len(w) == 5:
            check(max(abs(a - b) for a, b in zip(d[3]["embedding"], w[3])) < 1e-6, "--json and plain agree")
    except (ValueError, KeyError, TypeError) as e:
        check(False, "--json parses", f"{e}: {out[:200]}")
    rc, _, _ = run(["embed", "-m", gguf])
    check(rc == 2, "embed without -p/-f is a usage error")
    rc, _, _ = run(["embed", "-m", gguf, "-p", "x", "-f", path])
    check(rc == 2, "embed with both -p and -f is a usage error")
    rc, _, err = run(["embed", "-m", os.path.join(tmp, "none.gguf"), "-p", "x"])
    check(rc == 1, "embed with a missing model fails", err)
    rc, _, err = run(["embed", "-m", gguf, "-p", "x", "--max-tokens", "600"])
    check(rc == 1 and "max_tokens" in err, "--max-tokens beyond the model fails", err)

    # ---- superpose
    svg = os.path.join(tmp, "g.svg")
    rc, out, err = run(["superpose", "-n", "100", "--trials", "5", "--svg", svg])
    check(rc == 0 and "gaussian d=4096" in out and os.path.exists(svg), "superpose: Gaussian baseline", err)
    if os.path.exists(svg):
        check(open(svg).read().count("<polyline") == 12, "the SVG has one line per dimension")
    corpus = os.path.join(tmp, "corpus.txt")
    with open("tests/golden/embed/sentences.txt", encoding="utf-8") as f:
        open(corpus, "w", encoding="utf-8").write("\n".join(f.read().split("\n")[:80]) + "\n")
    rc, out, err = run(["superpose", "-m", gguf, "-f", corpus, "--trials", "3", "--svg", svg, "-t", "2"])
    check(rc == 0 and "\nmodel " in out and "recall [95% Wilson]" in out, "superpose with a model", err[-300:])
    rc, _, _ = run(["superpose", "-m", gguf])
    check(rc == 2, "superpose -m without -f is a usage error")

    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
