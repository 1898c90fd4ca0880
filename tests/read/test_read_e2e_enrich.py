#!/usr/bin/env python3
"""test_read_e2e_enrich.py — the end-to-end run with enrichment: a Pocket
CSV of every Readability page (97) served on loopback, imported, then
`read sync` with the embedded engine (default model), and every extracted
item checked as enriched:

  - pipeline state `enriched`;
  - a summary the model wrote: at least 6 words (CJK characters count one
    each), longer than the article's first four words the reply is started
    with, and its words drawn from the article — or, for an article of
    fewer than 6 words, the article's whole text (no shorter summary exists);
  - 3 to 7 tags, at least one of them the model's own choice (item_tags.origin
    1, not 2: the candidates and title words enrich.c fills in with);
  - a reading time (`read show`: "N words, M min read", M >= 1).

It fails if any extracted item lacks one of them, and prints each failure
with the reason sync gave.  Also reports the wall time, the per-item mean
and the engine's token counts (the summary line sync prints on stderr).

Opt-in: it takes about 4 minutes on the 2-core development host, too long
for `make test`; run it with TINGLADO_E2E_ENRICH=1 (docs/reading.md).
TINGLADO_E2E_PAGES=a,b,c runs only those pages (to iterate on a few; it
is not the acceptance run); TINGLADO_E2E_VERBOSE=1 prints every item's
tags and summary.
Without that it says so and exits 0: the fetch/extract half of the same
run is tests/read/test_read_e2e.py, which make test runs.
"""
import csv
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.tinglado_bin()
check = read_helpers.Checks()
run = read_helpers.runner(BIN, check, rc=None, timeout=7200)  # sync exits 1 when an article fails


CJK = r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"


def words(s):
    """Words as enrich.c counts them for a summary, with each CJK character one word."""
    return len(re.findall(r"\S+", re.sub(CJK, " ", s))) + len(re.findall(CJK, s))


def word_list(s):
    """Words for the drawn-from check: runs of letters and digits, each CJK character one word (a CJK
    sentence has no spaces: whole runs would compare clauses, not words)."""
    return re.findall(CJK + r"|[^\W_]+?(?=" + CJK + r"|[\W_]|$)", s)


def main():
    if os.environ.get("TINGLADO_E2E_ENRICH") != "1":
        print("test_read_e2e_enrich: not run — set TINGLADO_E2E_ENRICH=1 (about 4 minutes: 97 pages through the "
              "embedded engine)")
        return 0
    pages = read_helpers.PAGES
    names = sorted(d for d in os.listdir(pages) if os.path.isfile(os.path.join(pages, d, "source.html")))
    only = [x for x in os.environ.get("TINGLADO_E2E_PAGES", "").split(",") if x]
    if only:  # a subset to iterate on; the acceptance run is all of them
        missing = sorted(set(only) - set(names))
        check(not missing, f"no such pages: {missing}")
        names = [n for n in names if n in only]
    else:
        check(len(names) >= 90, f"only {len(names)} pages in {pages}")
    srv = read_helpers.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    tmp = tempfile.mkdtemp(prefix="tg_read_e2e_enrich_")
    try:
        db = os.path.join(tmp, "lib.db")
        csv_path = os.path.join(tmp, "pocket.csv")
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["title", "url", "time_added", "cursor", "tags", "status"])
            for i, n in enumerate(names):
                w.writerow(["", f"{base}/{n}/?utm_source=pocket", 1700000000 + i, 1, "", "unread"])
        r = run("import", csv_path, db=db)
        check(f"{len(names)} added" in r.stdout, f"import: {r.stdout} {r.stderr}")

        t0 = time.time()
        r = run("sync", "--jobs", "4", db=db)
        secs = time.time() - t0
        print(f"  {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else '(no output)'}")
        engine = [ln for ln in r.stderr.splitlines() if ln.startswith("enrich: engine:")]
        print(f"  {engine[0] if engine else '(no engine line)'}")
        for ln in r.stderr.splitlines():  # how many summaries the grounding cut (none: no line)
            if ln.startswith("enrich: ") and "summaries cut" in ln:
                print(f"  {ln}")
        reasons = {}
        for ln in r.stderr.splitlines():
            m = re.match(r"tinglado: enrich: item (\d+): (.*)", ln)
            if m:
                reasons[int(m.group(1))] = m.group(2)

        c = sqlite3.connect(db)
        rows = c.execute("SELECT i.id, i.url, i.title, i.state, c.text, c.summary, c.words FROM items i "
                         "LEFT JOIN contents c ON c.item = i.id ORDER BY i.id").fetchall()
        tags, chosen = {}, {}
        for iid, name, origin in c.execute("SELECT x.item, t.name, x.origin FROM item_tags x "
                                           "JOIN tags t ON t.id = x.tag"):
            tags.setdefault(iid, []).append(name)
            check(origin in (1, 2), f"item {iid}: tag {name!r} of origin {origin} (the import gave no tags)")
            if origin == 1:
                chosen.setdefault(iid, []).append(name)
        c.close()
        extracted = [row for row in rows if row[4]]
        enriched = 0
        bad = []
        for iid, url, title, state, text, summary, nwords in extracted:
            why = []
            if state != 3:
                why.append(f"state {state}: {reasons.get(iid, 'no reason printed')}")
            else:
                s = summary or ""
                lead = " ".join(text.split()[:4])
                whole = " ".join(text.split())
                if words(whole) < 6:  # shorter than any summary: the text is its own
                    if s != whole:
                        why.append(f"summary of a {words(whole)}-word article is not its text: {s[:60]!r}")
                elif words(s) < 6:
                    why.append(f"summary of {words(s)} words: {s[:60]!r}")
                elif len(s.split()) <= 4 and s.strip() == lead:
                    why.append("the summary is only the prefix it was started with")
                art = set(word_list(text.lower()))
                sw = word_list(s.lower())
                if sw and sum(x in art for x in sw) / len(sw) < 0.5:
                    why.append(f"summary not drawn from the article: {s[:80]!r}")
                t = tags.get(iid, [])
                if not 3 <= len(t) <= 7:
                    why.append(f"{len(t)} tags: {t}")
                if t and not chosen.get(iid):
                    why.append(f"no tag chosen by the model, only filled in: {t}")
                show = run("show", str(iid), db=db)
                m = re.search(r"(\d+) words, (\d+) min read", show.stdout)
                if not m or int(m.group(2)) < 1:
                    why.append(f"no reading time: {show.stdout[:200]!r}")
            if os.environ.get("TINGLADO_E2E_VERBOSE") == "1":  # what the model wrote, to read it
                print(f"    {url.replace(base, '')} tags={tags.get(iid, [])} chosen={chosen.get(iid, [])} summary={(summary or '')[:160]!r}")
            if why:
                bad.append((url.replace(base, ""), why))
            else:
                enriched += 1
        n = len(names)
        print(f"  {n} items, {len(extracted)} extracted, {enriched} enriched and checked, {len(bad)} not;"
              f" wall {secs:.0f} s, {secs / max(1, len(extracted)):.1f} s per item")
        for url, why in bad:
            print(f"    {url}: {'; '.join(why)}")
        check(len(extracted) == n, f"{n - len(extracted)} pages not extracted")
        check(not bad, f"{len(bad)} of {len(extracted)} extracted items are not enriched as they should be")
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.finish("test_read_e2e_enrich")


if __name__ == "__main__":
    sys.exit(main())
