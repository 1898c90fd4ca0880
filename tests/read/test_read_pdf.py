#!/usr/bin/env python3
"""test_read_pdf.py — PDFs through `read sync` and `read extract`, against a
loopback HTTP server serving PDFs this test writes by hand (PDF 1.4: a
catalog, pages with Helvetica text, an xref table, optional /Info).

  - a PDF served as application/pdf with /Title and /Author: extracted, the
    title and byline from the metadata, the text of every page in order
    (pages as paragraphs), marked as a PDF in `read list`/`show`/--json,
    found by `read search`;
  - a PDF without metadata served as application/octet-stream (sniffed by
    its %PDF- header): the title is its first line of text;
  - a PDF whose pages are drawings only: failed, "PDF has no text layer";
  - a damaged PDF: failed, "not a readable PDF";
  - HTML served as application/pdf: failed, "not a PDF";
  - an image: still failed as "not HTML (image/png)";
  - `read extract FILE.pdf --json` without a database; a truncated PDF
    (every prefix length of a small file, cut in steps) never crashes the
    extractor: it either extracts or fails with a message.

Uses $TINGLADO_BIN (the sanitizer build under make check).
"""
import http.server
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.sanitized_bin()
check = read_helpers.Checks()
run = read_helpers.runner(BIN, check, rc=None, timeout=300)


def pdf(pages, info=None):
    """A PDF 1.4 file: pages is a list of pages, each a list of text lines
    (None: a page with a filled rectangle and no text); info the /Info
    dictionary's strings."""
    objs = []

    def add(body):
        objs.append(body)
        return len(objs)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_id = add(None)  # filled in once the kids are known
    kids = []
    for lines in pages:
        if lines is None:
            content = b"0 0 1 rg 100 100 200 200 re f"
        else:
            ops = [b"BT /F1 12 Tf 72 720 Td 14 TL"]
            for line in lines:
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + esc.encode("latin-1") + b") Tj T*")
            ops.append(b"ET")
            content = b"\n".join(ops)
        c = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, c, font)))
    objs[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    cat = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    inf = add(b"<< " + b" ".join(b"/%s (%s)" % (k.encode(), v.encode("latin-1")) for k, v in info.items())
              + b" >>") if info else None
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, cat, b" /Info %d 0 R" % inf if inf else b"", xref)
    return bytes(out)


REPORT = pdf([["Annual report on the river bicycle lanes", "The council built twelve kilometres of lanes",
               "along the river in the spring."],
              ["Page two: ridership doubled by October,", "and accidents fell by a third."],
              ["Page three closes with the budget for next year."]],
             {"Title": "River Lanes (2024)", "Author": "Jo Cartwright", "CreationDate": "D:20240301102030Z"})
PLAIN = pdf([["Notes on sourdough starters", "Feed the starter twice a day with equal weights of flour and water."]])
SCAN = pdf([None, None, None])
DAMAGED = REPORT[:40] + b"garbage where the objects were" + REPORT[-60:]
FILES = {
    "/report.pdf": (REPORT, "application/pdf"),
    "/download?id=7": (PLAIN, "application/octet-stream"),
    "/scan.pdf": (SCAN, "application/pdf"),
    "/damaged.pdf": (DAMAGED, "application/pdf"),
    "/fake.pdf": (b"<html><body><p>An error page</p></body></html>", "application/pdf"),
    "/image.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body, ctype = FILES.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in FILES else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    srv = read_helpers.start(Handler)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    tmp = tempfile.mkdtemp(prefix="tg_read_pdf_")
    try:
        db = os.path.join(tmp, "lib.db")
        for p in FILES:
            r = run("add", base + p, db=db)
            check(r.returncode == 0, f"add {p}: {r.stderr}")
        r = run("sync", "--no-llm", "--jobs", "2", "--retries", "1", db=db)
        print("  " + r.stdout.strip())
        check(re.search(r"sync: 6 items: 2 extracted, 4 failed", r.stdout), f"sync summary: {r.stdout!r} {r.stderr!r}")

        items = {i["url"][len(base):]: i for i in json.loads(run("list", "--json", db=db).stdout)}
        rep = items.get("/report.pdf", {})
        check(rep.get("state") == "extracted", f"report state: {rep}")
        check(rep.get("pdf") is True and rep.get("content_type") == "application/pdf", f"report marked PDF: {rep}")
        check(rep.get("title") == "River Lanes (2024)", f"title from /Info: {rep.get('title')}")
        check(rep.get("byline") == "Jo Cartwright", f"byline from /Author: {rep.get('byline')}")
        check((rep.get("published") or "").startswith("2024-03-01"), f"published from /CreationDate: {rep.get('published')}")
        show = json.loads(run("show", str(rep.get("id")), "--json", db=db).stdout)
        text = show.get("text") or ""
        paras = text.split("\n\n")
        check(len(paras) == 3, f"one paragraph per page: {paras}")
        check(paras[0] == "Annual report on the river bicycle lanes The council built twelve kilometres of lanes "
                          "along the river in the spring.", f"page 1 text: {paras[0]!r}")
        check(text.index("ridership doubled") < text.index("budget for next year"), "pages in order")
        check(show.get("html", "").count("<p>") == 3 and "<script" not in show.get("html", ""), f"html: {show.get('html')}")
        human = run("show", str(rep.get("id")), db=db).stdout
        check(", PDF" in human, f"read show marks the PDF: {human}")
        listing = run("list", db=db).stdout
        check("[PDF] River Lanes (2024)" in listing, f"read list marks the PDF: {listing}")
        hits = run("search", "ridership doubled", "--json", db=db)
        hit_ids = [h.get("id") for h in json.loads(hits.stdout or "[]")] if hits.returncode == 0 else []
        check(hit_ids[:1] == [rep.get("id")], f"search finds the PDF's text: {hits.stdout} {hits.stderr}")

        plain = items.get("/download?id=7", {})
        check(plain.get("state") == "extracted" and plain.get("pdf") is True, f"sniffed PDF: {plain}")
        check(plain.get("title") == "Notes on sourdough starters", f"title = first line: {plain.get('title')}")

        want = {"/scan.pdf": "PDF has no text layer", "/damaged.pdf": "not a readable PDF",
                "/fake.pdf": "not a PDF", "/image.png": "not HTML (image/png)"}
        for p, needle in want.items():
            it = items.get(p, {})
            check(it.get("state") == "failed" and needle in (it.get("error") or ""), f"{p}: {it.get('state')} {it.get('error')!r}, want {needle!r}")
        check("3 pages" in (items.get("/scan.pdf", {}).get("error") or ""), "the no-text error counts the pages")

        # ---- read extract on files, and truncated files
        f = os.path.join(tmp, "report.pdf")
        with open(f, "wb") as fh:
            fh.write(REPORT)
        r = run("extract", f, "--json")
        check(r.returncode == 0 and json.loads(r.stdout).get("title") == "River Lanes (2024)", f"read extract FILE.pdf: {r.stdout} {r.stderr}")
        crashes = []
        ok = failed = 0
        for cut in range(5, len(REPORT), 23):
            with open(f, "wb") as fh:
                fh.write(REPORT[:cut])
            r = run("extract", f, "--json")
            if r.returncode == 0:
                ok += 1
            elif r.returncode == 1 and "PDF" in r.stderr:
                failed += 1
            else:
                crashes.append((cut, r.returncode, r.stderr[-300:]))
        print(f"  truncated PDFs: {ok} extracted, {failed} refused, {len(crashes)} other")
        check(not crashes, f"truncated PDFs: {crashes[:3]}")
        check(failed > 0, "some truncated PDFs are refused")
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.finish("test_read_pdf")


if __name__ == "__main__":
    sys.exit(main())
