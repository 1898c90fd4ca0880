#!/usr/bin/env python3
"""test_read_enrich_engine.py — enrichment through the embedded engine:
`read sync` (which enriches by default) on three real Readability pages
from a loopback server, with the default model (the pretrained Gemma 3
270M), few-shot prompts and greedy decoding under the schema's grammar.

Checks, per article: state enriched; summary and tags validate against the
enrichment schema (jsonschema); 3-7 tags, none of them the worked example's
unless the article says it; the summary is drawn from the article (at least
60% of its content words occur in the article's text); no sentence of the
summary repeats.  Also: --no-llm leaves items extracted; a model that is not
in the cache fails with a message that names it and leaves them extracted.
"""
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time

import jsonschema

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.tinglado_bin()
PAGES = ["simplyfound-1", "buzzfeed-1", "webmd-1"]
SCHEMA = {"type": "object", "required": ["summary", "tags"], "additionalProperties": False,
          "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": 500},
                         "tags": {"type": "array", "minItems": 3, "maxItems": 7,
                                  "items": {"type": "string", "minLength": 1, "maxLength": 30}}}}
EXAMPLE_TAGS = {"transport", "electric vehicles", "cities", "lund"}
check = read_helpers.Checks()
run = read_helpers.runner(BIN, check)


def words(s):
    return re.findall(r"[a-z0-9]+", s.lower())


def main():
    srv = read_helpers.start()
    tmp = tempfile.mkdtemp(prefix="tg_read_enrich_engine_")
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        db = os.path.join(tmp, "lib.db")
        with open(os.path.join(tmp, "u.txt"), "w") as f:
            f.write("".join(f"{base}/{p}/\n" for p in PAGES))
        run("import", os.path.join(tmp, "u.txt"), "--db", db)
        # a model that is not there: the sync still fetches, enrichment fails with its name
        r = run("sync", "--llm-model", "no-such-model-q4", "--db", db, rc=1)
        check("no-such-model-q4" in r.stderr and "3 extracted" in r.stdout, f"missing model: {r.stdout} {r.stderr}")
        r = run("sync", "--no-llm", "--db", db)
        check("enrich:" not in r.stdout, f"--no-llm enriches nothing: {r.stdout}")
        c = sqlite3.connect(db)
        check(c.execute("SELECT count(*) FROM items WHERE state = 2").fetchone()[0] == len(PAGES), "all extracted")
        c.close()
        t0 = time.time()
        r = run("sync", "--db", db)
        secs = time.time() - t0
        print("  " + r.stdout.strip().replace("\n", "\n  ") + f"\n  (wall {secs:.0f} s)")
        check(f"enrich: {len(PAGES)} articles: {len(PAGES)} enriched, 0 failed" in r.stdout, f"sync: {r.stdout} {r.stderr}")
        c = sqlite3.connect(db)
        rows = c.execute("SELECT i.id, i.url, i.state, c.text, c.summary FROM items i JOIN contents c ON c.item = i.id").fetchall()
        for id_, url, state, text, summary in rows:
            tags = [t for (t,) in c.execute("SELECT t.name FROM tags t JOIN item_tags x ON x.tag = t.id WHERE x.item = ?",
                                            (id_,))]
            name = url.rstrip("/").rsplit("/", 1)[-1]
            print(f"  {name}: tags {tags}\n    summary: {summary}")
            check(state == 3, f"{name}: state {state}")
            try:
                jsonschema.validate({"summary": summary or "", "tags": tags}, SCHEMA)
            except jsonschema.ValidationError as e:
                check(False, f"{name}: schema: {e.message}")
            low = text.lower()
            check(all(t not in EXAMPLE_TAGS or t in low for t in tags), f"{name}: example tags copied: {tags}")
            content = [w for w in words(summary or "") if len(w) >= 4]
            have = set(words(text))
            share = sum(w in have for w in content) / max(1, len(content))
            check(len(content) >= 4 and share >= 0.6, f"{name}: summary shares {share:.0%} of its words with the article")
            sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", summary or "") if s.strip()]
            check(len(sentences) == len(set(sentences)), f"{name}: a repeated sentence in {summary!r}")
        c.close()
        j = json.loads(run("show", str(rows[0][0]), "--json", "--db", db).stdout)
        check(j.get("summary") == rows[0][4], "show --json carries the summary")
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.finish("test_read_enrich_engine")


if __name__ == "__main__":
    sys.exit(main())
