#!/usr/bin/env python3
"""test_read_dedupe.py — two saved links that lead to the same page make one
item, against a loopback HTTP server.

  1. a Wallabag import saves the canonical link of an article (tag
     "rivers", unread), a short link that redirects to it with a tracking
     parameter (earliest date, "later", archived), an AMP copy whose
     <link rel=canonical> names it ("amp", starred); plus a page whose
     rel=canonical names another host (not trusted), one that names the
     site's front page (ignored), and an unrelated page.  After `read sync`:
     one item for the article, at the canonical URL, with the earliest saved
     date, every tag, archived and favourite; the
     summary counts 2 merges; saving the short link again adds nothing.
  2. the same links without the canonical one saved: the first to be read
     survives and the other merges into it, whichever order the sync takes.
  3. crash safety: kill -9 at random moments of a sync over 12 short-link
     pairs (10 trials on copies of one library), then a full sync: the
     database passes integrity_check and its items (URL, dates, flags, tags,
     state, text) equal an uninterrupted run's.

Uses $TINGLADO_BIN (the sanitizer build under make check).
"""
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.sanitized_bin()
check = read_helpers.Checks()
run = read_helpers.runner(BIN, check, rc=None, timeout=300)


def page(title, canonical=None, words="rivers bridges lanes"):
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{title} paragraph {i}: {words}, with commas, and enough words to be an article body.</p>"
                   for i in range(6))
    return f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>{body}</article></body></html>"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    port = 0
    delay = 0.0

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a killed sync

    def do_GET(self):
        p = self.path
        time.sleep(Handler.delay)
        if p == "/s/abc":
            return self.send(301, headers=[("Location", "/articles/rivers?utm_source=short")])
        if p.startswith("/articles/rivers"):
            return self.send(200, page("Rivers of the city", "/articles/rivers").encode())
        if p == "/amp/rivers":
            return self.send(200, page("Rivers of the city (AMP)", "/articles/rivers").encode())
        if p == "/claims-other-host":
            # 'localhost' is another host than 127.0.0.1: its claim is not trusted
            return self.send(200, page("Claims", f"http://localhost:{Handler.port}/articles/rivers").encode())
        if p == "/front-canonical":
            return self.send(200, page("Front canonical", "/", "meadows").encode())
        if p == "/unrelated":
            return self.send(200, page("Unrelated", None, "mountains").encode())
        if p.startswith("/go/"):  # /go/N -> /story/N
            return self.send(302, headers=[("Location", "/story/" + p[4:] + "?fbclid=x")])
        if p.startswith("/story/"):
            n = p[7:].split("?")[0]
            return self.send(200, page(f"Story {n}", None, f"story{n} words").encode())
        return self.send(404, b"<p>no</p>")


def wallabag(entries):
    return json.dumps([{"url": u, "title": "", "created_at": d, "tags": t, "is_archived": int(a),
                        "is_starred": int(s)} for u, d, t, a, s in entries])


def items(db):
    return {i["url"]: i for i in json.loads(run("list", "--json", db=db).stdout)}


def snapshot(db):
    """Everything a merge decides, per item (ids aside)."""
    c = sqlite3.connect(db)
    rows = c.execute("SELECT i.url, i.saved, i.read_at, i.archived, i.favorite, i.state, "
                     "(SELECT group_concat(name, ',') FROM (SELECT t.name FROM item_tags x JOIN tags t ON t.id = x.tag "
                     " WHERE x.item = i.id ORDER BY t.name)), ct.text, "
                     "(SELECT group_concat(url, ' ') FROM (SELECT url FROM aliases WHERE item = i.id ORDER BY url)) "
                     "FROM items i LEFT JOIN contents ct ON ct.item = i.id ORDER BY i.url").fetchall()
    ok = c.execute("PRAGMA integrity_check").fetchone()[0]
    c.close()
    return ok, [r[:7] + (hashlib.sha1((r[7] or "").encode()).hexdigest(), r[8]) for r in rows]


def main():
    srv = read_helpers.start(Handler)  # a sync killed mid-request is expected here: errors not printed
    Handler.port = srv.server_address[1]
    base = f"http://127.0.0.1:{Handler.port}"
    tmp = tempfile.mkdtemp(prefix="tg_read_dedupe_")
    try:
        # ---- 1. canonical, short link and AMP copy -> one item
        db = os.path.join(tmp, "lib.db")
        f = os.path.join(tmp, "wallabag.json")
        with open(f, "w") as fh:
            fh.write(wallabag([
                (base + "/articles/rivers", "2024-03-01T00:00:00Z", ["rivers"], False, False),
                (base + "/s/abc", "2024-01-01T00:00:00Z", ["later"], True, False),
                (base + "/amp/rivers", "2024-02-01T00:00:00Z", ["amp"], False, True),
                (base + "/claims-other-host", "2024-04-01T00:00:00Z", [], False, False),
                (base + "/front-canonical", "2024-04-02T00:00:00Z", [], False, False),
                (base + "/unrelated", "2024-04-03T00:00:00Z", [], False, False),
            ]))
        r = run("import", f, db=db)
        check(r.returncode == 0 and "6 added" in r.stdout, f"import: {r.stdout} {r.stderr}")
        r = run("sync", "--no-llm", "--jobs", "1", db=db)
        print("  " + r.stdout.strip())
        check("sync: 6 items: 6 extracted, 0 failed, 2 merged" in r.stdout, f"summary: {r.stdout!r}")
        check(r.stderr.count("merged into it") == 2, f"merges reported: {r.stderr!r}")
        it = items(db)
        check(sorted(it) == sorted(base + p for p in ("/articles/rivers", "/claims-other-host", "/front-canonical",
                                                        "/unrelated")), f"items left: {sorted(it)}")
        a = it.get(base + "/articles/rivers", {})
        check(a.get("saved") == "2024-01-01", f"earliest saved date kept: {a.get('saved')}")
        check(a.get("tags") == ["amp", "later", "rivers"], f"union of tags: {a.get('tags')}")
        check(a.get("archived") is True and a.get("favorite") is True, f"archived and favourite OR'ed: {a}")
        check(a.get("state") == "extracted", f"state: {a.get('state')}")
        show = json.loads(run("show", str(a.get("id")), "--json", db=db).stdout or "{}")
        check("Rivers of the city paragraph 0" in (show.get("text") or ""), "the survivor has the article")
        # the short link and the AMP link are now the survivor's
        for link in ("/s/abc", "/amp/rivers?utm_medium=x"):
            r = run("add", base + link, "--tag", "again", db=db)
            check(r.returncode == 0 and len(items(db)) == 4, f"saving {link} again adds no item: {r.stdout} {r.stderr}")
        check("again" in items(db)[base + "/articles/rivers"]["tags"], "... only its tag, on the survivor")
        c = sqlite3.connect(db)
        check(c.execute("SELECT count(*) FROM pages").fetchone()[0] == 4, "no page of a merged item is left")
        check(c.execute("SELECT count(*) FROM search").fetchone()[0] == 4, "no search row of a merged item is left")
        c.close()

        # ---- 2. without the canonical link saved: either order, one item
        for order in ("short-first", "amp-first"):
            db2 = os.path.join(tmp, f"lib-{order}.db")
            # a sync takes the oldest first: the dates decide the order
            d1, d2 = ("2024-01-01", "2024-02-01") if order == "short-first" else ("2024-02-01", "2024-01-01")
            ents = [(base + "/s/abc", d1 + "T00:00:00Z", ["later"], True, False),
                    (base + "/amp/rivers", d2 + "T00:00:00Z", ["amp"], False, True)]
            survivor = base + ("/s/abc" if order == "short-first" else "/amp/rivers")
            with open(f, "w") as fh:
                fh.write(wallabag(ents))
            run("import", f, db=db2)
            r = run("sync", "--no-llm", "--jobs", "1", db=db2)
            it = list(items(db2).values())
            check(len(it) == 1 and "1 merged" in r.stdout, f"{order}: {len(it)} items, {r.stdout!r}")
            check(it and it[0]["url"] == survivor, f"{order}: the first read survives: {it and it[0]['url']}")
            if it:
                check(it[0]["saved"] == "2024-01-01" and it[0]["tags"] == ["amp", "later"] and
                      it[0]["archived"] and it[0]["favorite"], f"{order}: merged item {it[0]}")

        # ---- 3. kill -9 during syncs that merge
        src = os.path.join(tmp, "pairs.db")
        ents = []
        for n in range(12):
            ents.append((f"{base}/go/{n}", f"2024-01-{n + 1:02d}T00:00:00Z", [f"short{n % 3}"], n % 2 == 0, False))
            ents.append((f"{base}/story/{n}", f"2024-02-{n + 1:02d}T00:00:00Z", ["story"], False, n % 3 == 0))
        with open(f, "w") as fh:
            fh.write(wallabag(ents))
        run("import", f, db=src)
        Handler.delay = 0.05
        ref = os.path.join(tmp, "ref.db")
        shutil.copy(src, ref)
        t0 = time.time()
        r = run("sync", "--no-llm", "--jobs", "2", db=ref)
        full = time.time() - t0
        ok, want = snapshot(ref)
        check(ok == "ok" and len(want) == 12 and "12 merged" in r.stdout, f"uninterrupted run: {ok} {len(want)} {r.stdout!r}")
        rng = random.Random(7)
        killed = 0
        for trial in range(10):
            d = os.path.join(tmp, f"trial{trial}.db")
            shutil.copy(src, d)
            e = dict(os.environ, TINGLADO_NOW="1750000000", TINGLADO_HOST_DELAY="0")
            p = subprocess.Popen([BIN, "read", "sync", "--no-llm", "--jobs", "2", "--db", d], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=e)
            time.sleep(rng.uniform(0.05, max(0.1, full * 0.9)))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed += 1
            p.wait()
            run("sync", "--no-llm", "--jobs", "2", db=d)
            ok, got = snapshot(d)
            check(ok == "ok", f"trial {trial}: integrity_check {ok}")
            check(got == want, f"trial {trial}: content differs from an uninterrupted run:\n    {got}\n    {want}")
        print(f"  kill -9 trials: 10 ({killed} killed mid-sync; uninterrupted sync {full:.1f} s)")
        check(killed >= 5, f"most trials were killed mid-sync ({killed})")
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.finish("test_read_dedupe")


if __name__ == "__main__":
    sys.exit(main())
