"""Where the shared real-page fixtures (Mozilla Readability's test pages) are.

$TG_READABILITY_FIXTURES if set; else ../shared/fixtures/readability next
to the checkout (the project's layout); else /work/shared/… (where CI runs
a clean clone somewhere else on the same machine).  The tests fail, never
skip, when none exists."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readability_dir():
    env = os.environ.get("TG_READABILITY_FIXTURES")
    if env:
        return env
    for base in (os.path.join(ROOT, "..", "shared"), "/work/shared"):
        d = os.path.join(base, "fixtures", "readability")
        if os.path.isdir(d):
            return d
    return os.path.join(ROOT, "..", "shared", "fixtures", "readability")


def page_source(name):
    """The bytes of fixture page `name` (a folder of the suite), or None when
    there is no such page (names are checked: no path tricks)."""
    import re
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name) or name.startswith("."):
        return None
    path = os.path.join(readability_dir(), name, "source.html")
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def quiet_server(handler):
    """A threading HTTP server on a free loopback port, serving `handler` in a
    daemon thread; connection errors from killed clients are not printed.
    Returns the server (server_address[1] is the port; shutdown() stops it)."""
    import http.server
    import threading

    class Quiet(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # killed clients reset connections: expected in these tests

    srv = Quiet(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
