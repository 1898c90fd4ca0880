#!/usr/bin/env python3
"""POST /v1/embeddings with an embedding model beside the generative one
(`tinglado serve --embedding-model`), driven by the official `openai`
package (which asks for base64 by default) and by raw HTTP (float lists).

all-MiniLM-L6-v2 (from setup's PyPI package) is converted to a temporary
GGUF; every vector the server returns must equal what `tinglado embed` gives
for the same text (cosine >= 0.999999 and unit norm), in request order, with
usage counting the tokens; token-id inputs give the same vector as their
text; errors (empty input, mixed input, bad ids, bad encoding_format, wrong
dimensions) answer 400 with an OpenAI error body; without --embedding-model
the endpoint still answers 400 model_not_supported.
"""
import http.client
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import openai

BIN = os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN", "build/rel/tinglado")
MODEL = "gemma-3-270m-q4_k_m"
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def cache():
    return os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinglado")


class Server:
    def __init__(self, *args):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([BIN, "serve", "-m", MODEL, "--port", "0", "-P", "1", "--ctx", "512", *args],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None
        deadline = time.time() + 300
        while time.time() < deadline and self.port is None and self.proc.poll() is None:
            time.sleep(0.2)
            self.err.seek(0)
            m = re.search(rb"listening on http://[^:]+:(\d+)", self.err.read())
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.err.seek(0)
            raise RuntimeError("server did not start: " + self.err.read().decode(errors="replace")[-2000:])

    def post(self, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request("POST", "/v1/embeddings", body=json.dumps(body) if not isinstance(body, bytes) else body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def main():
    src = os.path.join(cache(), "models", "all-MiniLM-L6-v2")
    if not os.path.isdir(src):
        print(f"FAIL: {src} is missing; run scripts/setup.sh")
        return 1
    tmp = tempfile.mkdtemp(prefix="tg-serve-embed-")
    gguf = os.path.join(tmp, "minilm.gguf")
    subprocess.run([BIN, "convert", src, "-o", gguf], check=True, capture_output=True)
    texts = ["The cat sat on the mat.", "", "Ünïcödé text — with accents and emoji 🙂",
             "A sentence about the stock market and interest rates.", "word " * 700]
    tf = os.path.join(tmp, "texts.txt")
    with open(tf, "w") as f:
        f.write("\n".join(texts) + "\n")
    out = subprocess.run([BIN, "embed", "-m", gguf, "-f", tf, "--json"], capture_output=True, text=True, check=True)
    ref = json.loads(out.stdout)["data"]
    check(len(ref) == len(texts), "tinglado embed gives one vector per line")

    s = Server("--embedding-model", gguf, "--embedding-model-id", "minilm")
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key="none")
        r = c.embeddings.create(model="minilm", input=texts)  # base64 on the wire
        check(len(r.data) == len(texts), f"one vector per input ({len(r.data)})")
        for i, d in enumerate(r.data):
            check(d.index == i, f"index {d.index} at {i}")
            v = d.embedding
            check(len(v) == 384, f"dimension {len(v)}")
            check(cos(v, ref[i]["embedding"]) >= 0.999999, f"text {i}: cosine to tinglado embed {cos(v, ref[i]['embedding'])}")
            check(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5, f"text {i}: unit norm")
        check(r.model == "minilm", f"model id {r.model}")
        check(r.usage.prompt_tokens == sum(x["n_tokens"] for x in ref) == r.usage.total_tokens,
              f"usage {r.usage} vs {sum(x['n_tokens'] for x in ref)}")
        one = c.embeddings.create(model="x", input=texts[0], encoding_format="float")
        check(len(one.data) == 1 and cos(one.data[0].embedding, ref[0]["embedding"]) >= 0.999999, "a single string")

        st, body = s.post({"model": "x", "input": ["b", "a"], "encoding_format": "float"})
        check(st == 200 and [d["index"] for d in body["data"]] == [0, 1] and body["object"] == "list" and
              all(d["object"] == "embedding" and isinstance(d["embedding"], list) for d in body["data"]),
              f"raw float reply shape {st}")
        # token ids: the same vector as the text (ids from tinglado tokenize)
        tk = subprocess.run([BIN, "tokenize", "-m", gguf, "-p", texts[0], "--json"], capture_output=True, text=True,
                            check=True)
        ids = json.loads(tk.stdout)
        ids = ids["tokens"] if isinstance(ids, dict) else ids
        st, body = s.post({"model": "x", "input": ids, "encoding_format": "float"})
        check(st == 200 and cos(body["data"][0]["embedding"], ref[0]["embedding"]) >= 0.999999,
              f"token-id input gives the text's vector ({st})")
        st2, body2 = s.post({"model": "x", "input": [ids, ids[:3]]})
        check(st2 == 200 and len(body2["data"]) == 2, f"two token-id inputs ({st2})")

        for bad, what in [({"model": "x", "input": []}, "empty input list"),
                          ({"model": "x"}, "no input"),
                          ({"model": "x", "input": ["a", 3]}, "mixed input"),
                          ({"model": "x", "input": [[1, 2], "a"]}, "ids then text"),
                          ({"model": "x", "input": [1, 10 ** 9]}, "id out of range"),
                          ({"model": "x", "input": [-1]}, "negative id"),
                          ({"model": "x", "input": "a", "encoding_format": "hex"}, "bad encoding_format"),
                          ({"model": "x", "input": "a", "dimensions": 12}, "dimensions"),
                          ({"model": "x", "input": ["a"] * 3000}, "too many inputs"),
                          (b"{not json", "malformed JSON"),
                          (b"[1,2]", "not an object")]:
            st, body = s.post(bad)
            check(st == 400 and "error" in body and body["error"]["type"] == "invalid_request_error",
                  f"{what}: {st} {body}")
        # the generative model still answers
        ch = c.chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
        check(ch.choices[0].finish_reason in ("stop", "length"), "chat still works beside embeddings")
    finally:
        s.stop()

    s = Server()
    try:
        st, body = s.post({"model": "x", "input": "a"})
        check(st == 400 and body["error"]["code"] == "model_not_supported", f"no embedding model: {st} {body}")
    finally:
        s.stop()
    r = subprocess.run([BIN, "serve", "-m", MODEL, "--embedding-model", "/nonexistent.gguf", "--port", "0"],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 1 and "embedding model" in r.stderr, f"a missing embedding model: {r.returncode} {r.stderr}")
    print(f"test_serve_embed: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
