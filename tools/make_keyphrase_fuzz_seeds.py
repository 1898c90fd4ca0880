#!/usr/bin/env python3
"""Seeds for fuzz/fuzz_keyphrase.c, written into OUT (tests/fuzz/keyphrase).

Each seed is the target's input: byte 0 max, byte 1 how much of the text is
shown (of 255), byte 2 the number of known tags (| 8: no title), then
title NUL tag... NUL text.  The texts are the first 3 KB of twelve
Readability pages' expected output with the tags stripped (so the corpus
stays small), and hand-written CJK, ill-formed UTF-8, case, NUL and
huge-word cases.

Usage: tools/make_keyphrase_fuzz_seeds.py OUT
"""
import html
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "read"))
from shared_fixtures import readability_dir  # noqa: E402

FX = readability_dir()

# page: known tags (some the page mentions, some it does not)
PAGES = {"bbc-1": ["health", "science"], "lemonde-1": ["politique", "France"], "pixnet": [],
         "aktualne": ["Praha"], "nytimes-3": ["music", "New York"], "guardian-1": ["media"],
         "rtl-1": [], "lwn-1": ["linux", "kernel"], "hukumusume": [], "la-nacion": ["Argentina"],
         "medium-1": ["writing"], "gmw": []}


def as_bytes(s):
    return s.encode() if isinstance(s, str) else s


def seed(out, name, mx, shown, title, tags, text, no_title=False):
    body = b"\0".join([as_bytes(title)] + [as_bytes(t) for t in tags]) + b"\0" + as_bytes(text)
    hdr = bytes([mx, shown, len(tags) | (8 if no_title else 0)])
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(hdr + body)


def plain(page, maxb):
    """The first maxb bytes of a page's expected article, tags stripped."""
    with open(os.path.join(FX, page, "expected.html"), encoding="utf-8") as f:
        t = html.unescape(re.sub(r"<[^>]+>", " ", f.read()))
    t = re.sub(r"[ \t]+", " ", t)
    t = re.sub(r"\n\s*\n+", "\n\n", t).strip()
    return t.encode()[:maxb].decode("utf-8", "ignore")


def meta_title(page):
    try:
        with open(os.path.join(FX, page, "expected-metadata.json"), encoding="utf-8") as f:
            return json.load(f).get("title") or ""
    except (OSError, ValueError):
        return ""


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for p, tags in PAGES.items():
        seed(out, p, 40, 255, meta_title(p), tags, plain(p, 3000))
    seed(out, "cjk-zh", 40, 255, "北京的天气", ["北京", "天气预报"],
         "北京的天气。北京很大。天气很好，北京的天气预报说明天下雨。")
    seed(out, "cjk-ja-ko", 20, 255, "東京 서울", ["東京"],
         "ひらがなとカタカナ。東京は大きい。서울은 한국의 수도입니다. 서울 서울 한국")
    seed(out, "cjk-overlong", 40, 255, "", [], b"\xf0\x84\x80\x80\xf0\x84\x80\x80 \xe4\xb8\x80\xe4\xb8\x80")
    seed(out, "invalid-utf8", 40, 255, b"\xc3", [b"\xff\xfe", b"caf\xc3"],
         b"caf\xc3\xa9 \xff\xfe caf\xc3 \xed\xa0\x80 abc\xc0\xaf " * 5)
    seed(out, "empty", 40, 255, "", [], "")
    seed(out, "empty-no-title", 0, 0, "", [], "", no_title=True)
    seed(out, "huge-words", 63, 255, "x" * 100, ["y" * 31, "y" * 30],
         ("z" * 400 + " ") * 3 + ("ab " * 20) + "é" * 200)
    seed(out, "case", 40, 255, "École Rust", ["École", "école", "rust", "Rust", "rust"],
         "École école ÉCOLE rust Rust RUST. ǅemal ǅemal İstanbul İstanbul ΣΊΣΥΦΟΣ σίσυφος")
    seed(out, "half-shown", 10, 128, "Peanut allergy", ["children"],
         "Peanut allergy is on the rise. Children who ate peanut early had less peanut allergy. "
         "The study followed 600 children.")
    seed(out, "nuls-in-text", 40, 255, "a", [],
         b"alpha\0beta alpha\0beta gamma-delta gamma-delta don\xe2\x80\x99t stop")


if __name__ == "__main__":
    main()
