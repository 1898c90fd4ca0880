#!/usr/bin/env python3
"""test_tokenize_cli.py — `tinglado tokenize` end to end: the real binary
($TINGLADO_BIN, default build/asan/tinglado) on the default model's Gemma 3
vocabulary, checked against llama.cpp's ids from the committed golden
(tests/golden/tokenizer/gemma-3.jsonl) for a sample of corpus strings, fed
both with -p and through -f (stdin, byte for byte, invalid UTF-8 included),
with and without --no-bos / --special; plus the human-readable listing,
--help, and the exit codes and messages of usage errors.
Standard library only.  The model is $TINGLADO_MODEL or the cache's default;
if missing, the test fails and says to run scripts/setup.sh.
Exits 1 if any check failed; prints "N passed, N failed".
"""
import json
import os
import subprocess
import sys

BIN = os.environ.get("TINGLADO_BIN", "build/asan/tinglado")
GOLDEN = "tests/golden/tokenizer/gemma-3.jsonl"

passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"  CHECK failed: {what}" + (f"\n    {detail}" if detail else ""), file=sys.stderr)


def model_path():
    m = os.environ.get("TINGLADO_MODEL")
    if m:
        return m
    cache = os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinglado")
    return os.path.join(cache, "models", "gemma-3-270m-q4_k_m.gguf")


def run(args, stdin=None):
    p = subprocess.run([BIN, "tokenize"] + args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def main():
    model = model_path()
    if not os.path.exists(model):
        print(f"default model {model} not found — run scripts/setup.sh (or set TINGLADO_MODEL)",
              file=sys.stderr)
        return 1
    records = []
    with open(GOLDEN) as f:
        meta = json.loads(f.readline())
        for line in f:
            r = json.loads(line)
            if r["t"] == "text":
                records.append(r)
    bos = [meta["bos"]] if meta["add_bos"] else []

    # a spread of the corpus: every 110th string (most categories appear;
    # each run loads the 262k-token vocabulary, so not all 2,317)
    for r in records[::110]:
        text = bytes.fromhex(r["hex"])
        for flags, key in (([], "tf"), (["--no-bos"], "ff"), (["--special"], "tt"),
                           (["--no-bos", "--special"], "ft")):
            want = r.get(key)
            if want is None:  # stored without BOS (see the golden README)
                want = bos + r[key.replace("t", "f", 1)]
            rc, out, err = run(["-m", model, "-f", "-", "--json"] + flags, stdin=text)
            ok = rc == 0 and out.endswith(b"\n") and json.loads(out) == {"tokens": want}
            check(ok, f"text {r['i']} ({r['kind']}) {' '.join(flags)} via stdin",
                  f"rc={rc} out={out[:200]!r} err={err[:200]}")
            if not flags and b"\x00" not in text and text and text[0:1] != b"-":
                try:
                    arg = os.fsdecode(text)
                except UnicodeDecodeError:
                    continue
                rc, out, err = run(["-m", model, "-p", arg, "--json"] + flags)
                check(rc == 0 and json.loads(out) == {"tokens": want},
                      f"text {r['i']} {' '.join(flags)} via -p", f"rc={rc} out={out[:200]!r}")

    # the listing: one line per token, then the count
    rc, out, err = run(["-m", model, "-p", "Hi\tthere\n<start_of_turn>", "--special"])
    lines = out.decode().splitlines()
    check(rc == 0 and lines[-1] == f"{len(lines) - 1} tokens", "listing ends with the count", out)
    check(any('"<bos>"' in l for l in lines) and any('"\\t"' in l or '\\t' in l for l in lines)
          and any('"<start_of_turn>"' in l for l in lines), "listing shows pieces escaped", out)
    rc, out, err = run(["-m", model, "-p", "\U0001F999", "--no-bos"])  # bytes of an emoji
    check(rc == 0 and b"\\xF0" in out, "partial UTF-8 pieces are escaped", out)

    # help and usage errors
    rc, out, err = run(["--help"])
    check(rc == 0 and b"usage: tinglado tokenize" in out, "--help", out)
    for args, needle in ((["-p", "x"], "-m MODEL"), (["-m", model], "-p TEXT or -f FILE"),
                         (["-m", model, "-p", "x", "-f", "y"], "exactly one"),
                         (["-m", model, "-p", "x", "--bogus"], "unknown option"),
                         (["-m", model, "-p"], "needs a value"),
                         (["-m", model, "-p", "x", "extra"], "unexpected argument")):
        rc, out, err = run(args)
        check(rc == 2 and needle in err, f"usage error {args[-1]!r}", f"rc={rc} err={err}")
    for args, needle in ((["-m", "/nonexistent/model.gguf", "-p", "x"], "model"),
                         (["-m", model, "-f", "/nonexistent/text"], "cannot open")):
        rc, out, err = run(args)
        check(rc == 1 and needle in err, f"failure {args}", f"rc={rc} err={err}")

    print(f"test_tokenize_cli: {passed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
