#!/usr/bin/env python3
"""test_read_enrich.py — `tinglado read enrich` against a stand-in
OpenAI-compatible endpoint (a test double that answers from the request
itself), after a real import + sync of four Readability pages from a local
server.

Checks what goes out (model, temperature 0, a strict JSON Schema asking for
a summary and 3-7 tags, the library's tags offered for reuse, the bearer
key, long articles cut) and what comes back (summaries and tags stored,
state enriched; a reply that is not the JSON asked for, or has the wrong
number of tags, or an HTTP error, is reported and leaves the item extracted).
"""
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import shutil

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.tinglado_bin()
failures = 0
requests = []


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("  FAIL:", what)


class FakeLLM(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        requests.append((self.path, dict(self.headers), req))
        if self.headers.get("Authorization") != "Bearer sekrit":
            return self.reply(401, {"error": {"message": "invalid api key"}})
        system, user = req["messages"][0]["content"], req["messages"][1]["content"]
        title = user.split("\n", 1)[0]
        known = "Prefer these existing tags" in system
        if "Verizon" in title:
            content = "Sure! Here is a summary: Yahoo was sold."  # not the JSON asked for
        elif "LWN" in title:  # schema-valid junk, as a base model writes under a grammar
            content = json.dumps({"summary": "1", "tags": ["1", "2", "3"]})
        elif "Attack" in title:
            content = json.dumps({"summary": "An attack.", "tags": ["security", "africa"]})  # 2 tags
        else:
            tags = ["Reading List", "test"] + (["reused"] if known else ["fresh"])
            content = json.dumps({"summary": "Summary of " + title[7:], "tags": tags})
        self.reply(200, {"id": "x", "object": "chat.completion", "model": req["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}]})


def run(*args, rc=0, env=None):
    e = dict(os.environ, TINGLADO_HOST_DELAY="0")
    e.pop("TINGLADO_LLM_KEY", None)
    e.update(env or {})
    r = subprocess.run([BIN, "read", *args], capture_output=True, text=True, timeout=300, env=e)
    check(r.returncode == rc, f"{args[:2]}: exit {r.returncode}, want {rc}: {r.stderr[-400:]}")
    return r


def main():
    pages, llm = read_helpers.start(), read_helpers.start(FakeLLM)
    tmp = tempfile.mkdtemp(prefix="tg_read_enrich_")
    try:
        db = os.path.join(tmp, "lib.db")
        base = f"http://127.0.0.1:{pages.server_address[1]}"
        with open(os.path.join(tmp, "u.txt"), "w") as f:
            f.write("".join(f"{base}/{n}/\n" for n in ("aclu", "bbc-1", "nytimes-2", "wapo-1", "lwn-1")))
        run("import", os.path.join(tmp, "u.txt"), "--db", db)
        run("sync", "--no-llm", "--db", db)
        url = f"http://127.0.0.1:{llm.server_address[1]}/v1"
        # a wrong key: every request fails with the server's message, nothing changes
        r = run("enrich", "--llm-url", url, "--llm-key", "wrong", "-n", "1", "--db", db, rc=1)
        check("HTTP 401: invalid api key" in r.stderr and "sekrit" not in r.stderr + r.stdout, f"401: {r.stderr}")
        requests.clear()
        r = run("enrich", "--llm-url", url, "--llm-model", "tiny-llm", "--db", db, rc=1,
                env={"TINGLADO_LLM_KEY": "sekrit"})
        print("  " + r.stdout.strip().replace("\n", "\n  "))
        check("enrich: 5 articles: 2 enriched, 3 failed" in r.stdout, f"summary line: {r.stdout}")
        check("is not {\"summary\", \"tags\"} JSON" in r.stderr and "2 tags in the reply (want 3 to 7)" in r.stderr
              and "not a usable summary" in r.stderr, f"errors: {r.stderr}")
        check(len(requests) == 5, f"{len(requests)} requests")
        path, headers, req = requests[0]
        check(path == "/v1/chat/completions" and req["model"] == "tiny-llm" and req["temperature"] == 0, f"{path} {req['model']}")
        rf = req["response_format"]
        sch = rf["json_schema"]["schema"]
        check(rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True and sch["required"] == ["summary", "tags"]
              and sch["properties"]["tags"]["minItems"] == 3 and sch["properties"]["tags"]["maxItems"] == 7
              and sch["additionalProperties"] is False, f"schema: {rf}")
        # no tags to reuse until the first success; after it, requests offer the tags stored so far
        systems = [q["messages"][0]["content"] for _, _, q in requests]
        first_ok = next(i for i, (_, _, q) in enumerate(requests) if "Obama" in q["messages"][1]["content"][:200])
        check(all("Prefer these existing tags" not in x for x in systems[:first_ok + 1]), "no tags offered before any")
        check(first_ok + 1 < len(systems) and all("Prefer these existing tags when they fit: fresh, reading list, test." in x
                                                  for x in systems[first_ok + 1:]), f"stored tags offered: {systems[-1]}")
        # long articles are cut
        longest = max(len(q["messages"][1]["content"].encode()) for _, _, q in requests)
        check(longest <= 6000 + 300, f"longest user message {longest} bytes")
        check(any("[… the rest of the article is cut]" in q["messages"][1]["content"] for _, _, q in requests), "cut marker")
        c = sqlite3.connect(db)
        rows = c.execute("SELECT i.url, i.state, c.summary FROM items i JOIN contents c ON c.item = i.id").fetchall()
        st = {u.rsplit("/", 2)[-2]: (s, summ) for u, s, summ in rows}
        for n in ("aclu", "bbc-1"):
            check(st[n][0] == 3 and st[n][1] and st[n][1].startswith("Summary of "), f"{n}: {st[n]}")
        for n in ("nytimes-2", "wapo-1", "lwn-1"):
            check(st[n] == (2, None), f"{n} stays extracted without summary: {st[n]}")
        tags = dict(c.execute("SELECT t.name, count(*) FROM tags t JOIN item_tags x ON x.tag = t.id GROUP BY t.id"))
        check(tags.get("reading list") == 2 and tags.get("fresh") == 1 and tags.get("reused") == 1 and "1" not in tags,
              f"tags: {tags}")
        c.close()
        j = json.loads(run("show", "2", "--json", "--db", db).stdout)
        check(j["state"] == "enriched" and j["summary"].startswith("Summary of"), f"show: {j['state']}")
        # only the failed ones are tried again
        requests.clear()
        run("enrich", "--llm-url", url, "--db", db, rc=1, env={"TINGLADO_LLM_KEY": "sekrit"})
        check(len(requests) == 3, f"retry sends {len(requests)} requests")
        run("enrich", "--no-llm", "--db", db, rc=2)
        r = run("enrich", "--help")
        check(r.stdout.startswith("usage: tinglado read enrich"), "enrich --help")
        r = run("enrich", "--llm-url", "http://127.0.0.1:1/v1", "--db", db, rc=1, env={"TINGLADO_LLM_KEY": "sekrit"})
        check("127.0.0.1:1" in r.stderr, f"unreachable endpoint: {r.stderr}")
    finally:
        pages.shutdown()
        llm.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_read_enrich:", "ok" if not failures else f"{failures} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
