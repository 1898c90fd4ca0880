#!/usr/bin/env python3
"""test_read_digest.py — `tinglado read digest`: the window filter (saved in
it, or enriched in it though saved earlier), grouping by tag (an item under
each of its tags, untagged last), the fields of each entry (title, link,
site, reading time, summary), escaping of hostile stored strings in HTML
and Markdown, and the usage errors.

Items come from a Pocket CSV import (saved dates from time_added, tags);
extracted text, site and summary are written into the database directly:
this test is about the digest, not the pipeline that fills them.
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.tinglado_bin()
NOW = 1750000000
DAY = 86400
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("  FAIL:", what)
    return cond


def run(*args, rc=0):
    e = dict(os.environ, TINGLADO_NOW=str(NOW))
    r = subprocess.run([BIN, "read", *args], capture_output=True, text=True, timeout=60, env=e)
    check(r.returncode == rc, f"read {' '.join(args[:3])}: exit {r.returncode}, want {rc}: {r.stderr[-300:]}")
    return r


def main():
    tmp = tempfile.mkdtemp(prefix="tg_read_digest_")
    try:
        db = os.path.join(tmp, "lib.db")
        rows = [  # title, url, saved, tags
            ("Fresh rust news", "https://example.org/rust", NOW - 1 * DAY, "rust|programming"),
            ("<script>alert(1)</script> Evil title", "https://evil.example/x?a=1&b=2", NOW - 2 * DAY, "security"),
            ("Untagged but recent", "https://example.org/plain", NOW - 3 * DAY, ""),
            ("Old but enriched this week", "https://example.org/old-enriched", NOW - 40 * DAY, "programming"),
            ("Old and untouched", "https://example.org/old", NOW - 20 * DAY, "rust"),
        ]
        with open(os.path.join(tmp, "pocket.csv"), "w") as f:
            f.write("title,url,time_added,cursor,tags,status\n")
            for t, u, s, tags in rows:
                f.write('"%s",%s,%d,,%s,unread\n' % (t.replace('"', '""'), u, s, tags))
        run("import", os.path.join(tmp, "pocket.csv"), "--db", db)
        c = sqlite3.connect(db)
        ids = {u: i for i, u in c.execute("SELECT id, url FROM items")}
        contents = {  # url: (words, summary, site)
            "https://example.org/rust": (460, "Rust 2.0 ships a faster borrow checker.", "Example News"),
            "https://evil.example/x?a=1&b=2": (230, "<img src=x onerror=alert(2)> *not* [a](javascript:alert(3))",
                                               "<b>Evil</b> site"),
            "https://example.org/old-enriched": (1000, "An old piece about compilers, summarised today.", None),
            "https://example.org/old": (100, "Never shown this week.", None),
        }
        for u, (words, summary, site) in contents.items():
            c.execute("INSERT INTO contents(item, text, html, words, summary) VALUES (?, 'text', NULL, ?, ?)",
                      (ids[u], words, summary))
            c.execute("UPDATE items SET site = ?, state = 3, updated = ? WHERE id = ?",
                      (site, NOW - (1 if "old-enriched" in u else 30) * DAY if "old" in u else NOW, ids[u]))
        c.commit()
        c.close()

        md = run("digest", "--db", db).stdout
        print("  " + md.replace("\n", "\n  ")[:1500])
        check(md.startswith("# Reading digest since 2025-06-08"), "md title names the window start")
        check("Old and untouched" not in md, "an item saved and enriched before the window is left out")
        check("Old but enriched this week" in md, "an item enriched in the window is in")
        check("4 items saved or enriched" in md, "item count")
        heads = re.findall(r"^## (.+)$", md, re.M)
        check(heads == ["programming (2)", "rust (1)", "security (1)", "untagged (1)"], f"groups: {heads}")
        check(md.count("Fresh rust news") == 2, "an item is listed under each of its tags")
        check("(<https://example.org/plain>) · saved 2025-06-12\n" in md, "no reading time without a text")
        check("[Fresh rust news](<https://example.org/rust>) — Example News · 2 min · saved 2025-06-14" in md,
              "md entry: title, link, site, reading time (460 words / 230 a minute), date")
        check("  Rust 2.0 ships a faster borrow checker." in md, "md summary")
        check("\\<script\\>" in md and "<script>" not in md, "md escapes markup in titles")
        check("\\[a\\](javascript:alert(3))" in md, "md escapes link syntax in summaries")
        check(md.index("## untagged") > md.index("## security"), "untagged last")

        html = run("digest", "--format", "html", "--db", db).stdout
        check(html.startswith("<!DOCTYPE html>"), "html document")
        check("<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Evil title" in html, "title escaped")
        check("<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html, "summary escaped")
        check("<b>" not in html and "&lt;b&gt;Evil&lt;/b&gt; site" in html, "site escaped")
        check('href="https://evil.example/x?a=1&amp;b=2"' in html, "href escaped")
        hrefs = re.findall(r'href="([^"]*)"', html)
        check(hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), f"only http(s) links: {hrefs}")
        check("<h2>programming (2)</h2>" in html and "5 min · saved 2025-05-06" in html, "html groups and reading time")

        wide = run("digest", "--since", "30d", "--db", db).stdout
        check("Old and untouched" in wide and "5 items" in wide, "--since 30d takes the older item in")
        d = run("digest", "--since", "2025-06-13", "--db", db).stdout
        check("Fresh rust news" in d and "Untagged but recent" not in d, f"--since DATE: {d[:300]}")
        empty = run("digest", "--since", "2025-06-16", "--db", db).stdout
        check("0 items" in empty and "##" not in empty, "an empty window")
        out = os.path.join(tmp, "d.html")
        run("digest", "--format", "html", "-o", out, "--db", db)
        check(open(out).read() == html, "-o writes the same document")
        run("digest", "--since", "7x", "--db", db, rc=2)
        run("digest", "--format", "pdf", "--db", db, rc=2)
        run("digest", "extra", "--db", db, rc=2)
        check(run("digest", "--help").stdout.startswith("usage: tinglado read digest"), "--help")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_read_digest:", "ok" if not failures else f"{failures} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
