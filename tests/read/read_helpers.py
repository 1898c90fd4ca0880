"""Helpers the reading-library tests share: the binary under test, failed
checks counted, `tinglado read` runs, a loopback server (for the
Readability fixture pages or a test's own handler), and all-MiniLM-L6-v2
converted from the model cache."""
import http.server
import os
import subprocess

import shared_fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
PAGES = shared_fixtures.readability_dir()


def tinglado_bin():
    """$TINGLADO_REL_BIN (optimised, as make check sets it), else $TINGLADO_BIN, else build/rel."""
    return (os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN")
            or os.path.join(ROOT, "build", "rel", "tinglado"))


def sanitized_bin():
    """$TINGLADO_BIN (the sanitizer build under make check), else build/rel:
    for tests whose input is hostile bytes (PDFs, redirects)."""
    return os.environ.get("TINGLADO_BIN") or os.path.join(ROOT, "build", "rel", "tinglado")


class Checks:
    """check(cond, what) prints each failed check and counts it in .failures."""

    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        if not cond:
            self.failures += 1
            print("  FAIL:", what)
        return cond

    def finish(self, name):
        """Prints the test's verdict; returns its exit code."""
        print(f"{name}:", "ok" if not self.failures else f"{self.failures} FAILED")
        return 1 if self.failures else 0


def runner(binary, check, rc=0, timeout=900):
    """A function run(*args, db=None, rc=rc, env=None, timeout=timeout) that
    runs `binary read args [--db db]` with a fixed clock (TINGLADO_NOW) and
    no per-host delay (loopback needs no politeness), env added on top, and
    checks the exit code unless rc is None; returns the CompletedProcess."""
    default_rc, default_timeout = rc, timeout

    def run(*args, db=None, rc=default_rc, env=None, timeout=default_timeout):
        e = dict(os.environ, TINGLADO_NOW="1750000000", TINGLADO_HOST_DELAY="0")
        e.update(env or {})
        cmd = [binary, "read", *args] + (["--db", db] if db else [])
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
        if rc is not None:
            check(r.returncode == rc, f"read {' '.join(args[:3])}: exit {r.returncode}, want {rc}: {r.stderr[-500:]}")
        return r
    return run


class Pages(http.server.BaseHTTPRequestHandler):
    """GET /<fixture>/ answers the fixture's source.html; anything else 404."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.strip("/")
        path = os.path.join(PAGES, name, "source.html")
        if "/" in name or ".." in name or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start(handler=Pages):
    """A threaded server on an ephemeral loopback port, connection errors of
    killed clients not printed (shutdown() it; server_address[1] is the port)."""
    return shared_fixtures.quiet_server(handler)


def cache_dir():
    return os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinglado")


def convert_minilm(binary, out):
    """Converts the cached all-MiniLM-L6-v2 (scripts/setup.sh fetches it) to
    GGUF at out; returns the CompletedProcess."""
    return subprocess.run([binary, "convert", os.path.join(cache_dir(), "models", "all-MiniLM-L6-v2"), "-o", out],
                          capture_output=True, text=True)
