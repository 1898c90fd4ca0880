"""Helpers the reading-library tests share: the binary under test, a
loopback server for the Readability fixture pages, and all-MiniLM-L6-v2
converted from the model cache."""
import http.server
import os
import subprocess
import threading

import shared_fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
PAGES = shared_fixtures.readability_dir()


def tinglado_bin():
    """$TINGLADO_REL_BIN (optimised, as make check sets it), else $TINGLADO_BIN, else build/rel."""
    return (os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN")
            or os.path.join(ROOT, "build", "rel", "tinglado"))


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
    """A threaded server on an ephemeral loopback port (shutdown() it)."""
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


def cache_dir():
    return os.environ.get("TINGLADO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinglado")


def convert_minilm(binary, out):
    """Converts the cached all-MiniLM-L6-v2 (scripts/setup.sh fetches it) to
    GGUF at out; returns the CompletedProcess."""
    return subprocess.run([binary, "convert", os.path.join(cache_dir(), "models", "all-MiniLM-L6-v2"), "-o", out],
                          capture_output=True, text=True)
