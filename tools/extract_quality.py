#!/usr/bin/env python3
"""extract_quality.py — how close `tinglado read extract` comes to Mozilla
Readability on the real pages in ../shared/fixtures/readability/.

For each folder (source.html, expected.html, expected-metadata.json) it runs
`tinglado read extract source.html --json`, turns both texts into tokens
(lower-case words; CJK characters one token each) and scores the multiset
overlap: precision, recall, F1.  Titles match when equal after NFKC,
whitespace collapsing, lower-casing and unifying quotes and dashes.

Prints a table (worst pages first), the mean F1, the share of pages with
F1 >= 0.80 and the title match rate.  With --min-mean / --min-frac /
--min-title it exits 1 when a number falls below its threshold (the test
suite runs it that way, so a regression fails).

    tools/extract_quality.py --bin build/rel/tinglado [--fixtures DIR] [--json OUT]
"""
import argparse
import collections
import html.parser
import json
import os
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor


class _Text(html.parser.HTMLParser):
    """Text of an HTML fragment, blocks separated, script/style dropped."""

    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "pre",
              "blockquote", "section", "article", "figure", "figcaption", "ul", "ol", "dl", "dt", "dd", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(fragment):
    p = _Text()
    p.feed(fragment)
    p.close()
    return " ".join("".join(p.parts).split())


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text):
    out = []
    for w in _WORD.findall(text.lower()):
        if _CJK.search(w):  # Chinese/Japanese/Korean: one token per character
            out.extend(ch for ch in w)
        else:
            out.append(w)
    return out


def prf(got, want):
    g, w = collections.Counter(got), collections.Counter(want)
    overlap = sum((g & w).values())
    if not got and not want:
        return 1.0, 1.0, 1.0
    p = overlap / len(got) if got else 0.0
    r = overlap / len(want) if want else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def norm_title(t):
    t = unicodedata.normalize("NFKC", t or "")
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"),
                 ("\u2014", "-"), ("\u2012", "-"), ("\u2212", "-"), ("\u00ab", '"'), ("\u00bb", '"')):
        t = t.replace(a, b)
    return " ".join(t.split()).lower()


def score_page(binary, folder):
    name = os.path.basename(folder)
    src = os.path.join(folder, "source.html")
    with open(os.path.join(folder, "expected.html"), encoding="utf-8") as f:
        want_text = html_text(f.read())
    with open(os.path.join(folder, "expected-metadata.json"), encoding="utf-8") as f:
        meta = json.load(f)
    r = subprocess.run([binary, "read", "extract", src, "--url", "http://fakehost/test/page.html", "--json"],
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        return {"page": name, "p": 0.0, "r": 0.0, "f1": 0.0, "title_ok": False, "error": r.stderr.decode()[-300:]}
    got = json.loads(r.stdout)
    p, rr, f = prf(tokens(got.get("text") or ""), tokens(want_text))
    want_title = meta.get("title")
    title_ok = None if not want_title else norm_title(got.get("title")) == norm_title(want_title)
    return {"page": name, "p": p, "r": rr, "f1": f, "title_ok": title_ok, "title": got.get("title"),
            "want_title": want_title}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("TINGLADO_REL_BIN") or os.path.join(here, "..", "build", "rel", "tinglado"))
    ap.add_argument("--fixtures", default=os.path.join(here, "..", "..", "shared", "fixtures", "readability"))
    ap.add_argument("--json", help="write per-page results here")
    ap.add_argument("--min-mean", type=float, default=0.0)
    ap.add_argument("--min-frac", type=float, default=0.0)
    ap.add_argument("--min-title", type=float, default=0.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quiet", action="store_true", help="only the summary lines")
    a = ap.parse_args()
    folders = sorted(os.path.join(a.fixtures, d) for d in os.listdir(a.fixtures)
                     if os.path.isfile(os.path.join(a.fixtures, d, "source.html")))
    if not folders:
        print(f"no pages under {a.fixtures}", file=sys.stderr)
        return 1
    with ThreadPoolExecutor(a.jobs) as ex:
        res = list(ex.map(lambda d: score_page(a.bin, d), folders))
    res.sort(key=lambda x: x["f1"])
    if not a.quiet:
        print(f"{'page':44s} {'P':>6s} {'R':>6s} {'F1':>6s}  title")
        for x in res:
            t = "-" if x["title_ok"] is None else ("ok" if x["title_ok"] else f"{x.get('title')!r} != {x.get('want_title')!r}")
            print(f"{x['page'][:44]:44s} {x['p']:6.3f} {x['r']:6.3f} {x['f1']:6.3f}  {t[:120]}"
                  + (f"  ERROR {x['error']}" if "error" in x else ""))
    n = len(res)
    mean = sum(x["f1"] for x in res) / n
    frac = sum(x["f1"] >= 0.80 for x in res) / n
    titled = [x for x in res if x["title_ok"] is not None]
    title = sum(bool(x["title_ok"]) for x in titled) / len(titled) if titled else 1.0
    print(f"pages {n}  mean F1 {mean:.4f}  F1>=0.80 on {frac:.1%} of pages  title match {title:.1%} "
          f"({sum(bool(x['title_ok']) for x in titled)}/{len(titled)})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"mean_f1": mean, "frac_ge_080": frac, "title_match": title, "pages": res}, f, indent=1)
    bad = []
    if mean < a.min_mean:
        bad.append(f"mean F1 {mean:.4f} < {a.min_mean}")
    if frac < a.min_frac:
        bad.append(f"share >= 0.80 {frac:.3f} < {a.min_frac}")
    if title < a.min_title:
        bad.append(f"title match {title:.3f} < {a.min_title}")
    if bad:
        print("REGRESSION: " + "; ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
