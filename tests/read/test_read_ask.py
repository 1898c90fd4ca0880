#!/usr/bin/env python3
"""test_read_ask.py — `tinglado read ask` end to end on real pages with the
embedded default model (the pretrained Gemma 3 270M) and all-MiniLM-L6-v2.

31 Readability test pages (21 articles the questions are about, 10 short
distractors) are imported and synced from a loopback server, their
passages embedded (--chunk-words 60), then 21 questions written from the
articles (paraphrased, not sentences of the pages) and 3 the library cannot
answer are asked in one `read ask --questions FILE --json --k 3
--passage-words 60 --max-answer-chars 80` run (sizes picked for the
test's time on two cores).

Measures and prints:
  - answerable questions whose citations include the page that holds the
    answer (the acceptance line of issue 7; fails below MIN_CITED);
  - unanswerable questions answered "no answer" (fails below MIN_NO_ANSWER);
  - the closest passage's cosine for both groups (where --min-cosine sits);
and checks the JSON (citations within 1..k and equal to the cited sources,
no sources cited when nothing is found) and the CLI's usage errors.
"""
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

import read_helpers  # tests/read/read_helpers.py

BIN = read_helpers.tinglado_bin()
K = 3
MIN_CITED = 0.90      # of the answerable questions (target 1.0; the measured value is printed)
MIN_NO_ANSWER = 0.80  # of the unanswerable ones

# (question, the fixture folder that holds the answer); None: nowhere in the library
QUESTIONS = [
    ("How much will Nintendo charge for its first Mario game on the iPhone?", "msn"),
    ("How many Raspberry Pi computers had been shipped by the foundation's fourth birthday?", "simplyfound-1"),
    ("What kind of processor does the third Raspberry Pi board have?", "simplyfound-1"),
    ("Which toxic chemical was in the diet pills that killed the 21-year-old student?", "buzzfeed-1"),
    ("Which nation came out on top in the Stanford comparison of ten wealthy countries?", "cnn"),
    ("How many Americans die every year from infections that antibiotics cannot cure?", "webmd-2"),
    ("Does feeding infants peanut snacks before their first birthday lower their allergy risk?", "webmd-1"),
    ("Which plants grow well under a glass cloche?", "ehow-1"),
    ("Who is acting as a go-between for Mugabe and the army generals?", "telegraph"),
    ("Why was a Navy veteran's newborn photo attacked on Facebook?", "yahoo-3"),
    ("Which ocean structure and hostile mobs arrived in the Bountiful Update?", "tumblr"),
    ("Where did the Russian supply ship bound for the space station fall apart?", "yahoo-2"),
    ("What did a typical graduation party cost in 2013?", "ehow-2"),
    ("Which versions of the first Star Wars trilogy might Lucasfilm put out again for the 40th anniversary?", "wikia"),
    ("How much did Facebook pay for WhatsApp?", "cnet"),
    ("Which video meeting service did Vidyard connect its platform to?", "spiceworks"),
    ("For how long would Australian telecom companies have to keep metadata?", "herald-sun-1"),
    ("What is the price of Rez Infinite for PlayStation VR?", "yahoo-1"),
    ("What did Obama say was the greatest frustration of his time as president?", "bbc-1"),
    ("Which company hosts John Gruber's website?", "daringfireball-1"),
    ("Which Firefox Developer Edition tool took the place of App Manager?", "mozilla-2"),
    ("What is the boiling point of mercury?", None),
    ("Who won the football World Cup in 1998?", None),
    ("Which programming language did Guido van Rossum create?", None),
]
# distractors: short pages (embedding is the slow part on two cores), some lorem ipsum, some in other languages
DISTRACTORS = ["data-url-image", "missing-paragraphs", "basic-tags-cleaning", "cnet-svg-classes", "liberation-1", "folha",
               "remove-extra-brs", "replace-brs", "normalize-spaces", "title-en-dash"]

check = read_helpers.Checks()
run = read_helpers.runner(BIN, check)


def main():
    srv = read_helpers.start()
    tmp = tempfile.mkdtemp(prefix="tg_read_ask_")
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        db = os.path.join(tmp, "lib.db")
        pages = sorted({p for _, p in QUESTIONS if p} | set(DISTRACTORS))
        check(len(pages) >= 30, f"{len(pages)} pages in the library")
        check(sum(1 for _, p in QUESTIONS if p) >= 20 and sum(1 for _, p in QUESTIONS if not p) >= 3, "question counts")
        with open(os.path.join(tmp, "urls.txt"), "w") as f:
            f.write("".join(f"{base}/{p}/\n" for p in pages))
        run("import", os.path.join(tmp, "urls.txt"), "--db", db)
        r = run("sync", "--no-llm", "--db", db)
        check(f"{len(pages)} extracted" in r.stdout, f"sync: {r.stdout}")
        gguf = os.path.join(tmp, "minilm.gguf")
        r = read_helpers.convert_minilm(BIN, gguf)
        check(r.returncode == 0, f"convert MiniLM: {r.stderr[-300:]}")
        t0 = time.time()
        r = run("ask", "anything", "--embed-model", gguf, "--db", db, rc=1)
        check("read embed -m MODEL" in r.stderr, f"asking before embedding says what to do: {r.stderr}")
        r = run("embed", "-m", gguf, "--chunk-words", "60", "--db", db)
        print(f"  {r.stdout.strip()} (wall {time.time() - t0:.1f} s)")

        # usage errors first (cheap)
        run("ask", "--db", db, rc=2)
        run("ask", "x", "--k", "0", "--db", db, rc=2)
        run("ask", "x", "--no-llm", "--db", db, rc=2)
        check(run("ask", "--help").stdout.startswith("usage: tinglado read ask"), "ask --help")

        qfile = os.path.join(tmp, "q.txt")
        with open(qfile, "w") as f:
            f.write("".join(q + "\n" for q, _ in QUESTIONS))
        t0 = time.time()
        r = run("ask", "--questions", qfile, "--json", "--k", str(K), "--embed-model", gguf,
                "--passage-words", "60", "--max-answer-chars", "80", "--db", db)
        secs = time.time() - t0
        answers = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        check(len(answers) == len(QUESTIONS), f"{len(answers)} answers for {len(QUESTIONS)} questions")
        cited_right, no_answer, retrieved, cos_yes, cos_no = 0, 0, 0, [], []
        for (q, page), a in zip(QUESTIONS, answers):
            check(a["question"] == q, f"answer order: {a['question']!r}")
            cites = a["citations"]
            srcs = a["sources"]
            check(all(1 <= c <= len(srcs) for c in cites) and len(srcs) <= K, f"citations in range: {a}")
            check(sorted(cites) == sorted(s["n"] for s in srcs if s["cited"]), f"cited flags: {a}")
            check(a["found"] == bool(cites), f"found iff cited: {a}")
            pages_cited = [re.sub(r".*/([^/]+)/$", r"\1", s["url"]) for s in srcs if s["cited"]]
            pages_given = [re.sub(r".*/([^/]+)/$", r"\1", s["url"]) for s in srcs]
            if page:
                retrieved += page in pages_given
                cos_yes.append(a["best_cosine"])
                ok = page in pages_cited
                cited_right += ok
                mark = "ok " if ok else "MISS"
            else:
                cos_no.append(a["best_cosine"])
                ok = not a["found"]
                no_answer += ok
                mark = "ok " if ok else "MISS"
            print(f"  {mark} [{page or '-'}] {q}\n       -> {a['answer'][:110]!r} cites {a['citations']} of "
                  f"{pages_given} (best cosine {a['best_cosine']:.2f})")
        n_yes = sum(1 for _, p in QUESTIONS if p)
        n_no = len(QUESTIONS) - n_yes
        print(f"  answerable: {cited_right}/{n_yes} cite the right page ({cited_right / n_yes:.0%}); "
              f"unanswerable: {no_answer}/{n_no} answered 'no answer'; {len(QUESTIONS)} questions in {secs:.0f} s")
        print(f"  retrieval: the right page among the {K} passages for {retrieved}/{n_yes}")
        print(f"  closest-passage cosine: answerable min {min(cos_yes):.2f} median {statistics.median(cos_yes):.2f}; "
              f"unanswerable max {max(cos_no):.2f} median {statistics.median(cos_no):.2f}")
        firsts = sum(1 for a in answers if a["citations"][:1] == [1])
        print(f"  the model cited passage [1] first in {firsts}/{sum(1 for a in answers if a['found'])} answers")
        check(cited_right / n_yes >= MIN_CITED, f"right page cited for {cited_right}/{n_yes}")
        check(no_answer / n_no >= MIN_NO_ANSWER, f"'no answer' for {no_answer}/{n_no}")
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.finish("test_read_ask")


if __name__ == "__main__":
    sys.exit(main())
