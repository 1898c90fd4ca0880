#!/usr/bin/env python3
"""test_pull.py — `tinglado pull` end to end against a local stand-in for the
Hugging Face hub (Python's http.server in a thread, on 127.0.0.1 only).

The server mimics the hub's URLs: GET /api/models/{org}/{repo}/tree/main
(a JSON listing with each LFS file's sha256, paged with a Link header),
/api/models/{org}/{repo}?blobs=true, and /{org}/{repo}/resolve/main/{file},
which answers 302 to a "CDN" path with X-Linked-Etag, as the hub does; the
CDN serves bytes with Range support.  Per-repository quirks: a connection
dropped halfway, a CDN that ignores Range, a slow trickle (for Ctrl-C),
a wrong hash, a token requirement, the hub's error codes, a redirect loop,
broken JSON.  It drives the real binary ($TINGLADO_BIN, default
build/asan/tinglado) with HF_ENDPOINT pointing at the server and a scratch
TINGLADO_CACHE, and checks files, exit codes, messages and the requests the
server saw.  Exits 1 if any check failed; prints "N passed, N failed".
"""
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = os.environ.get("TINGLADO_BIN", "build/asan/tinglado")
TOKEN = "hf_test_secret"

passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"  CHECK failed: {what}" + (f"\n    {detail}" if detail else ""), file=sys.stderr)


# ---- model files ----------------------------------------------------------

def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def make_gguf(name, n_floats, seed):
    """A small valid GGUF v3: two metadata keys and one f32 tensor of random
    values, so each file has distinct bytes and a size worth resuming."""
    kv = gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama")
    kv += gguf_string("general.name") + struct.pack("<I", 8) + gguf_string(name)
    ti = gguf_string("pad") + struct.pack("<I", 1) + struct.pack("<q", n_floats)
    ti += struct.pack("<I", 0) + struct.pack("<Q", 0)  # type f32, offset 0
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kv + ti
    head += b"\0" * (-len(head) % 32)
    rnd = random.Random(seed)
    data = struct.pack(f"<{n_floats}f", *(rnd.uniform(-1, 1) for _ in range(n_floats)))
    return head + data


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- the fake hub ------------------------------------------------------------

class Repo:
    def __init__(self, files, **quirks):
        self.files = files  # path -> bytes
        self.quirks = quirks
        self.wrong_hash = set(quirks.get("wrong_hash", ()))


REPOS = {}
STATE = {"drop_left": 0, "slow": False}
LOG = []  # (method, path, headers) of every request
LOG_LOCK = threading.Lock()


def setup_repos():
    small = 64 * 1024  # floats: 256 KiB files
    tiny = {
        "README.md": b"# tiny\n",
        "tiny-Q4_K_M.gguf": make_gguf("tiny-Q4_K_M", small, 1),
        "tiny-Q8_0.gguf": make_gguf("tiny-Q8_0", small, 2),
        "tiny-F16.gguf": make_gguf("tiny-F16", small, 3),
        "mmproj-tiny-F16.gguf": make_gguf("mmproj", 64, 4),
        "Q2_K/big-Q2_K-00001-of-00002.gguf": b"shard1",
        "Q2_K/big-Q2_K-00002-of-00002.gguf": b"shard2",
    }
    REPOS["test-org/tiny-GGUF"] = Repo(tiny)
    REPOS["test-org/flaky-GGUF"] = Repo({"flaky-Q4_K_M.gguf": make_gguf("flaky", small, 5)},
                                        drop=True)
    REPOS["test-org/norange-GGUF"] = Repo({"nr-Q4_K_M.gguf": make_gguf("norange", small, 6)},
                                          drop=True, ignore_range=True)
    REPOS["test-org/slow-GGUF"] = Repo({"slow-Q4_K_M.gguf": make_gguf("slow", small, 7)},
                                       slow=True)
    REPOS["test-org/badhash-GGUF"] = Repo({"bh-Q4_K_M.gguf": make_gguf("badhash", small, 8)},
                                          wrong_hash=["bh-Q4_K_M.gguf"])
    REPOS["test-org/private-GGUF"] = Repo({"p-Q4_K_M.gguf": make_gguf("private", 1024, 9)},
                                          token=True)
    REPOS["test-org/gated-GGUF"] = Repo({"g-Q4_K_M.gguf": b"x"}, gated=True)
    REPOS["test-org/paged-GGUF"] = Repo({"a.txt": b"a", "b.txt": b"b",
                                         "paged-Q4_K_M.gguf": make_gguf("paged", 1024, 10)},
                                        page_size=2)
    REPOS["test-org/loop-GGUF"] = Repo({"loop-Q4_K_M.gguf": b"x"}, loop=True)
    REPOS["test-org/badjson-GGUF"] = Repo({}, badjson=True)
    REPOS["test-org/mirror-GGUF"] = Repo({"m-Q4_K_M.gguf": make_gguf("mirror", 1024, 11)},
                                         no_tree=True)
    REPOS["test-org/evil-GGUF"] = Repo({"../../evil-Q4_K_M.gguf": b"x"})


DIRECT = {}  # /files/<name> -> (bytes, linked etag or None)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def hub_error(self, code, error_code=None, message=None):
        h = []
        if error_code:
            h.append(("X-Error-Code", error_code))
        if message:
            h.append(("X-Error-Message", message))
        self.send(code, json.dumps({"error": message or "error"}).encode(),
                  h + [("Content-Type", "application/json")])

    def authorized(self, repo):
        if not repo.quirks.get("token"):
            return True
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def do_GET(self):
        with LOG_LOCK:
            LOG.append((self.command, self.path, dict(self.headers)))
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query)
        parts = path.strip("/").split("/")
        try:
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                return self.api(parts, query)
            if len(parts) >= 5 and parts[2] == "resolve" and parts[3] == "main":
                return self.resolve("/".join(parts[:2]), "/".join(parts[4:]))
            if parts[0] == "cdn":
                return self.cdn("/".join(parts[1:3]), "/".join(parts[3:]))
            if parts[0] == "files" and path[len("/files/"):] in DIRECT:
                body, etag = DIRECT[path[len("/files/"):]]
                return self.serve_bytes(body, Repo({}), [("X-Linked-Etag", f'"{etag}"')] if etag else [])
        except (BrokenPipeError, ConnectionResetError):
            return
        self.send(404, b"not found")

    do_HEAD = do_GET

    def api(self, parts, query):
        name = "/".join(parts[2:4])
        repo = REPOS.get(name)
        if name == "ghost/repo":  # what the real hub answers for a missing repo
            return self.hub_error(401, "RepoNotFound", "Repository not found")
        if repo is None:
            return self.send(404, b"Not Found")
        if repo.quirks.get("gated"):
            return self.hub_error(403, "GatedRepo", "Access to this model is restricted")
        if not self.authorized(repo):
            return self.send(401, b"Unauthorized")
        if repo.quirks.get("badjson"):
            return self.send(200, b'[{"type": "file", "path": ', [("Content-Type", "application/json")])
        entries = []
        for p, b in sorted(repo.files.items()):
            e = {"type": "file", "oid": hashlib.sha1(b).hexdigest(), "size": len(b), "path": p}
            if p.endswith(".gguf"):
                h = sha(b) if p not in repo.wrong_hash else sha(b"something else")
                e["lfs"] = {"oid": h, "size": len(b), "pointerSize": 134}
            entries.append(e)
        if len(parts) >= 6 and parts[4] == "tree" and parts[5] == "main":
            if repo.quirks.get("no_tree"):
                return self.send(404, b"Not Found")
            # Pages of page_size entries with a Link header, as the hub pages.
            size = repo.quirks.get("page_size", 1000)
            start = int(query.get("cursor", ["0"])[0])
            page = entries[start:start + size]
            headers = [("Content-Type", "application/json")]
            if start + size < len(entries):
                nxt = (f"http://127.0.0.1:{PORT}/api/models/{name}/tree/main"
                       f"?recursive=true&cursor={start + size}")
                headers.append(("Link", f'<{nxt}>; rel="next"'))
            return self.send(200, json.dumps(page).encode(), headers)
        if len(parts) == 4:
            sib = []
            for e in entries:
                s = {"rfilename": e["path"], "size": e["size"]}
                if "lfs" in e:
                    s["lfs"] = {"sha256": e["lfs"]["oid"], "size": e["size"], "pointerSize": 134}
                sib.append(s)
            return self.send(200, json.dumps({"id": name, "siblings": sib}).encode(),
                             [("Content-Type", "application/json")])
        return self.send(404, b"Not Found")

    def resolve(self, name, file):
        repo = REPOS.get(name)
        if repo is None:
            return self.hub_error(404, "RepoNotFound", "Repository not found")
        if not self.authorized(repo):
            return self.send(401, b"Unauthorized")
        if repo.quirks.get("loop"):
            return self.send(302, b"", [("Location", self.path)])
        if file not in repo.files:
            return self.hub_error(404, "EntryNotFound", "Entry not found")
        b = repo.files[file]
        etag = sha(b) if file not in repo.wrong_hash else sha(b"something else")
        loc = f"http://127.0.0.1:{PORT}/cdn/{name}/{urllib.parse.quote(file)}"
        self.send(302, b"Found. Redirecting", [
            ("Location", loc), ("X-Linked-Etag", f'"{etag}"'), ("X-Linked-Size", str(len(b))),
            ("ETag", f'"{etag}"'), ("X-Repo-Commit", "0" * 40)])

    def cdn(self, name, file):
        repo = REPOS.get(name)
        if repo is None or file not in repo.files:
            return self.send(404, b"no such object")
        self.serve_bytes(repo.files[file], repo, [])

    def serve_bytes(self, body, repo, extra):
        start = 0
        rng = self.headers.get("Range")
        if rng and not repo.quirks.get("ignore_range"):
            if not rng.startswith("bytes=") or not rng.endswith("-"):
                return self.send(400, b"only open ranges here")
            start = int(rng[6:-1])
            if start >= len(body):
                return self.send(416, b"", [("Content-Range", f"bytes */{len(body)}")])
        chunk = body[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if repo.quirks.get("drop") and STATE["drop_left"] > 0:
            STATE["drop_left"] -= 1
            self.wfile.write(chunk[:len(chunk) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if repo.quirks.get("slow") and STATE["slow"]:
            for i in range(0, len(chunk), 4096):
                if not STATE["slow"]:
                    self.wfile.write(chunk[i:])
                    break
                self.wfile.write(chunk[i:i + 4096])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(chunk)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---- driving the binary --------------------------------------------------------

TMP = tempfile.mkdtemp(prefix="tg_test_pull.")
CACHE = os.path.join(TMP, "cache")
MODELS = os.path.join(CACHE, "models")
PORT = 0


def env(**extra):
    e = dict(os.environ)
    for k in ("HF_TOKEN", "XDG_CACHE_HOME"):
        e.pop(k, None)
    e["TINGLADO_CACHE"] = CACHE
    e["HF_ENDPOINT"] = f"http://127.0.0.1:{PORT}"
    e.update(extra)
    return e


def run(*args, timeout=120, **extra):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                       env=env(**extra))
    if os.environ.get("VERBOSE"):  # VERBOSE=1 shows every command and its output
        print(f"$ tinglado {' '.join(args)}  → {p.returncode}\n{p.stdout}{p.stderr}", file=sys.stderr)
    return p.returncode, p.stdout, p.stderr


def requests_since(n, prefix=""):
    with LOG_LOCK:
        return [r for r in LOG[n:] if r[1].startswith(prefix)]


def hf_path(repo, file):
    return os.path.join(MODELS, "hf", *repo.split("/"), file)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def exists(path):
    return os.path.exists(path)


# ---- the checks ----------------------------------------------------------------

def test_default_quant():
    n = len(LOG)
    rc, out, err = run("pull", "test-org/tiny-GGUF")
    dest = hf_path("test-org/tiny-GGUF", "tiny-Q4_K_M.gguf")
    check(rc == 0, "pull test-org/tiny-GGUF succeeds", err)
    check(out.strip() == dest, "prints the cached path on stdout", out)
    check(exists(dest) and read(dest) == REPOS["test-org/tiny-GGUF"].files["tiny-Q4_K_M.gguf"],
          "Q4_K_M (the default) lands in the cache with the right bytes")
    check("verified (from the hub's file listing)" in err, "reports the hash verified", err)
    check(not exists(dest + ".part"), "no .part left")
    paths = [r[1] for r in requests_since(n)]
    check(any(p.startswith("/api/models/test-org/tiny-GGUF/tree/main") for p in paths),
          "asked the tree API (HF_ENDPOINT honoured)", str(paths))
    check("/test-org/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf" in paths, "downloaded via resolve/main",
          str(paths))
    check(any(p.startswith("/cdn/") for p in paths), "followed the redirect to the CDN", str(paths))
    check(all("Authorization" not in r[2] for r in requests_since(n)), "no token sent without HF_TOKEN")
    check("100%" in err and "ETA" in err and "\r" not in err, "progress lines on a non-TTY stderr", err)

    # Again: nothing to download, the hash of the file is checked.
    n = len(LOG)
    rc, out, err = run("pull", "test-org/tiny-GGUF")
    check(rc == 0 and "up to date" in err, "second pull: already up to date", err)
    check(not requests_since(n, "/cdn/"), "second pull downloads nothing")


def test_quant_selection():
    rc, out, err = run("pull", "hf.co/test-org/tiny-GGUF:q8_0", "-q")
    dest = hf_path("test-org/tiny-GGUF", "tiny-Q8_0.gguf")
    check(rc == 0 and out.strip() == dest, "lower-case q8_0 picks tiny-Q8_0.gguf", err + out)
    check(exists(dest) and read(dest) == REPOS["test-org/tiny-GGUF"].files["tiny-Q8_0.gguf"],
          "Q8_0 bytes right")
    check(err == "", "-q prints nothing on stderr", err)

    rc, out, err = run("pull", "test-org/tiny-GGUF:Q5_K_M")
    check(rc == 1, "missing quant: exit 1", err)
    check("no Q5_K_M file" in err and "Q4_K_M" in err and "Q8_0" in err and "F16" in err,
          "missing quant: lists the available ones", err)
    check("mmproj" not in err, "the vision projector is not offered as a quant", err)
    check(out == "", "nothing on stdout on failure", out)

    rc, out, err = run("pull", "test-org/tiny-GGUF:Q2_K")
    check(rc == 1 and "split into 2 files" in err, "split-only quant: clear error", err)

    rc, out, err = run("pull", "test-org/tiny-GGUF:F16", "-o", os.path.join(TMP, "out", "sub"))
    dest = os.path.join(TMP, "out", "sub", "tiny-F16.gguf")
    check(rc == 0 and out.strip() == dest and exists(dest), "-o DIR puts the file there", err)
    check(not exists(hf_path("test-org/tiny-GGUF", "tiny-F16.gguf")), "-o leaves the cache alone")


def test_errors():
    rc, out, err = run("pull", "nobody/missing")
    check(rc == 1 and "no such repository or file" in err, "plain 404: clear message", err)
    rc, out, err = run("pull", "ghost/repo")
    check(rc == 1 and "no such repository" in err and "Repository not found" in err,
          "the hub's 401 RepoNotFound: clear message", err)
    rc, out, err = run("pull", "test-org/gated-GGUF")
    check(rc == 1 and "gated" in err and "HF_TOKEN" in err, "gated repository: says what to do", err)
    rc, out, err = run("pull", "test-org/badjson-GGUF")
    check(rc == 1 and "not valid JSON" in err, "broken listing JSON: clear error", err)
    rc, out, err = run("pull", "test-org/evil-GGUF")
    check(rc == 1 and "unsafe" in err, "a listing path with '..' is refused", err)
    check(not exists(os.path.join(CACHE, "evil-Q4_K_M.gguf")), "nothing written outside the cache")
    rc, out, err = run("pull", "test-org/loop-GGUF", "--retries", "0")
    check(rc == 1 and "redirects" in err, "redirect loop: bounded, clear error", err)
    check(not exists(hf_path("test-org/loop-GGUF", "loop-Q4_K_M.gguf.part")), "no empty .part left")
    rc, out, err = run("pull", "not a name")
    check(rc == 2 and "ORG/REPO" in err, "a bad SOURCE is a usage error", err)
    rc, out, err = run("pull")
    check(rc == 2, "no SOURCE: usage error")
    rc, out, err = run("pull", "x/y", "--sha256", "1234")
    check(rc == 2 and "64 hex" in err, "a bad --sha256 is a usage error", err)
    rc, out, err = run("pull", "test-org/tiny-GGUF", HF_ENDPOINT="http://127.0.0.1:1")
    check(rc == 1 and "127.0.0.1:1" in err, "HF_ENDPOINT is where the listing goes", err)


def test_token():
    rc, out, err = run("pull", "test-org/private-GGUF")
    check(rc == 1 and "needs a token (HF_TOKEN)" in err, "private repo without a token: 401 message", err)
    n = len(LOG)
    rc, out, err = run("pull", "test-org/private-GGUF", HF_TOKEN=TOKEN)
    dest = hf_path("test-org/private-GGUF", "p-Q4_K_M.gguf")
    check(rc == 0 and exists(dest), "private repo with HF_TOKEN works", err)
    auth = [r[2].get("Authorization") for r in requests_since(n) if not r[1].startswith("/cdn/")]
    check(auth and all(a == f"Bearer {TOKEN}" for a in auth), "HF_TOKEN sent as a bearer token", str(auth))


def test_wrong_hash():
    rc, out, err = run("pull", "test-org/badhash-GGUF")
    dest = hf_path("test-org/badhash-GGUF", "bh-Q4_K_M.gguf")
    check(rc == 1 and "sha256 mismatch" in err, "wrong hash: error", err)
    check(not exists(dest), "wrong hash: nothing under the final name")
    check(not exists(dest + ".part"), "wrong hash: the .part is deleted")


def test_resume_in_process():
    STATE["drop_left"] = 1
    n = len(LOG)
    rc, out, err = run("pull", "test-org/flaky-GGUF")
    body = REPOS["test-org/flaky-GGUF"].files["flaky-Q4_K_M.gguf"]
    dest = hf_path("test-org/flaky-GGUF", "flaky-Q4_K_M.gguf")
    check(rc == 0 and exists(dest) and read(dest) == body, "dropped connection: retried to the end", err)
    ranges = [r[2].get("Range") for r in requests_since(n, "/cdn/")]
    check(ranges == [None, f"bytes={len(body) // 2}-"], "the retry asked for the rest with Range",
          str(ranges))
    check("retrying" in err, "says it retries", err)


def test_resume_across_runs():
    STATE["drop_left"] = 1
    body = REPOS["test-org/flaky-GGUF"].files["flaky-Q4_K_M.gguf"]
    dest = hf_path("test-org/flaky-GGUF", "flaky-Q4_K_M.gguf")
    os.remove(dest)
    rc, out, err = run("pull", "test-org/flaky-GGUF", "--retries", "0")
    check(rc == 1 and "giving up" in err and "resume" in err, "no retries: fails, says how to resume", err)
    check(not exists(dest), "interrupted: no final file")
    check(exists(dest + ".part") and read(dest + ".part") == body[:len(body) // 2],
          "interrupted: the .part holds the first half")
    n = len(LOG)
    rc, out, err = run("pull", "test-org/flaky-GGUF", "--retries", "0")
    check(rc == 0 and read(dest) == body, "second run completes the file", err)
    ranges = [r[2].get("Range") for r in requests_since(n, "/cdn/")]
    check(ranges == [f"bytes={len(body) // 2}-"], "second run resumed with Range", str(ranges))
    check("resuming at byte" in err and "verified" in err, "resume reported, hash verified", err)
    check(not exists(dest + ".part"), "no .part after the resume")


def test_server_ignores_range():
    STATE["drop_left"] = 1
    body = REPOS["test-org/norange-GGUF"].files["nr-Q4_K_M.gguf"]
    dest = hf_path("test-org/norange-GGUF", "nr-Q4_K_M.gguf")
    rc, out, err = run("pull", "test-org/norange-GGUF", "--retries", "0")
    check(rc == 1 and exists(dest + ".part"), "norange: first run leaves a .part", err)
    n = len(LOG)
    rc, out, err = run("pull", "test-org/norange-GGUF", "--retries", "0")
    check(rc == 0 and read(dest) == body, "a 200 to a Range request starts over, right bytes", err)
    ranges = [r[2].get("Range") for r in requests_since(n, "/cdn/")]
    check(ranges == [f"bytes={len(body) // 2}-"], "it did ask for a range", str(ranges))
    check("starting over" in err, "says it starts over", err)


def test_ctrl_c():
    STATE["slow"] = True
    body = REPOS["test-org/slow-GGUF"].files["slow-Q4_K_M.gguf"]
    dest = hf_path("test-org/slow-GGUF", "slow-Q4_K_M.gguf")
    p = subprocess.Popen([BIN, "pull", "test-org/slow-GGUF"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env())
    deadline = time.time() + 30
    while time.time() < deadline and not (exists(dest + ".part") and
                                          os.path.getsize(dest + ".part") > 16384):
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    STATE["slow"] = False
    check(p.returncode == 130, f"Ctrl-C: exit 130 (got {p.returncode})", err)
    check("interrupted" in err and "again to resume" in err, "Ctrl-C: says how to resume", err)
    check(not exists(dest), "Ctrl-C: no final file")
    kept = os.path.getsize(dest + ".part") if exists(dest + ".part") else 0
    check(0 < kept < len(body), f"Ctrl-C: the .part is kept ({kept} bytes)")
    n = len(LOG)
    rc, out, err = run("pull", "test-org/slow-GGUF")
    check(rc == 0 and read(dest) == body, "after Ctrl-C the next run completes it", err)
    ranges = [r[2].get("Range") for r in requests_since(n, "/cdn/")]
    check(ranges == [f"bytes={kept}-"], "and resumed where Ctrl-C stopped", str(ranges))


def test_paging_and_mirror():
    rc, out, err = run("pull", "test-org/paged-GGUF")
    check(rc == 0 and exists(hf_path("test-org/paged-GGUF", "paged-Q4_K_M.gguf")),
          "a listing paged with Link: rel=next is followed", err)
    rc, out, err = run("pull", "test-org/mirror-GGUF")
    check(rc == 0 and exists(hf_path("test-org/mirror-GGUF", "m-Q4_K_M.gguf")),
          "without the tree API, the model-info listing (siblings) is used", err)


def test_url():
    body = make_gguf("direct", 4096, 12)
    DIRECT["direct.gguf"] = (body, sha(body))
    DIRECT["plain%20name.gguf"] = (body, None)
    DIRECT["plain name.gguf"] = (body, None)
    url = f"http://127.0.0.1:{PORT}/files/direct.gguf"
    rc, out, err = run("pull", url)
    dest = os.path.join(MODELS, "direct.gguf")
    check(rc == 0 and out.strip() == dest and read(dest) == body, "a URL lands in models/", err)
    check("verified (from the server's X-Linked-Etag)" in err, "X-Linked-Etag used as the hash", err)

    url = f"http://127.0.0.1:{PORT}/files/plain%20name.gguf?download=true"
    rc, out, err = run("pull", url, "-o", os.path.join(TMP, "urls"))
    dest = os.path.join(TMP, "urls", "plain name.gguf")
    check(rc == 0 and read(dest) == body, "URL file name is percent-decoded, query dropped", err)
    check(sha(body) in err and "not verified" in err, "no known hash: reports the computed one", err)

    rc, out, err = run("pull", url, "-o", os.path.join(TMP, "urls2"), "--sha256", "ab" * 32)
    dest = os.path.join(TMP, "urls2", "plain name.gguf")
    check(rc == 1 and "sha256 mismatch" in err, "--sha256 mismatch: error", err)
    check(not exists(dest) and not exists(dest + ".part"), "--sha256 mismatch: nothing left")
    rc, out, err = run("pull", url, "-o", os.path.join(TMP, "urls2"), "--sha256", sha(body).upper())
    check(rc == 0 and read(dest) == body and "verified" in err, "--sha256 match (any case)", err)

    rc, out, err = run("pull", f"http://127.0.0.1:{PORT}/files/nothing.gguf")
    check(rc == 1 and "no such repository or file" in err, "URL 404: clear message", err)
    rc, out, err = run("pull", f"http://127.0.0.1:{PORT}/")
    check(rc == 1 and "file name" in err, "URL without a file name: clear error", err)


def test_resolution():
    rc, out, err = run("info", "-m", "test-org/tiny-GGUF:Q8_0")
    check(rc == 0 and "tiny-Q8_0" in out, "info -m org/repo:Q8_0 reads the cached file", err + out)
    check(out.startswith(hf_path("test-org/tiny-GGUF", "tiny-Q8_0.gguf") + "\n"),
          "info names the resolved file", out)
    rc, out, err = run("info", "-m", "test-org/tiny-GGUF")
    check(rc == 0 and "tiny-Q4_K_M" in out, "info -m org/repo takes the default quant", err + out)
    rc, out, err = run("info", "-m", "TINY-q8_0")
    check(rc == 0 and "tiny-Q8_0" in out, "info -m <file stem> (any case)", err + out)
    rc, out, err = run("info", "-m", "direct")
    check(rc == 0 and "direct" in out, "info -m <stem of a URL download>", err + out)
    rc, out, err = run("info", "-m", "someone/unknown:Q4_0")
    check(rc == 1 and "tinglado pull someone/unknown:Q4_0" in err, "unknown name suggests pull", err)
    rc, out, err = run("pull", "--list")
    for name in ("test-org/tiny-GGUF:Q4_K_M", "test-org/tiny-GGUF:Q8_0", "direct",
                 "test-org/flaky-GGUF:Q4_K_M"):
        check(name in out, f"pull --list shows {name}", out)
    check(rc == 0 and "KiB" in out and "files" in err, "pull --list gives sizes and a total", out + err)


def main():
    global PORT
    if not os.access(BIN, os.X_OK):
        print(f"test_pull: {BIN} is not an executable (set TINGLADO_BIN)", file=sys.stderr)
        return 1
    setup_repos()
    srv = Server(("127.0.0.1", 0), Handler)
    PORT = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tests = [test_default_quant, test_quant_selection, test_errors, test_token, test_wrong_hash,
             test_resume_in_process, test_resume_across_runs, test_server_ignores_range,
             test_ctrl_c, test_paging_and_mirror, test_url, test_resolution]
    try:
        for t in tests:
            before = failed
            try:
                t()
            except Exception as e:  # a crash of the test itself is a failure, never a skip
                check(False, f"{t.__name__} raised {type(e).__name__}: {e}")
            print(f"  {t.__name__:<48} {'ok' if failed == before else 'FAIL'}", file=sys.stderr)
    finally:
        srv.shutdown()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"test_pull: {passed + failed} checks, {failed} failed", file=sys.stderr, flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
