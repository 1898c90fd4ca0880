#!/usr/bin/env python3
"""make_read_fuzz_seeds.py — seed inputs for the reading pipeline's fuzz
targets (fuzz/fuzz_extract.c, fuzz_import.c, fuzz_feed.c, fuzz_embed_req.c).

    tools/make_read_fuzz_seeds.py OUT_DIR [--pages N]

writes OUT_DIR/{extract,import,feed,embed_req}/seed-*.  The seeds are the
small hand-written import fixtures of tests/read/fixtures (one copy per
format byte: detected and explicit), hand-written feeds, pages with every
sanitiser payload we know of, request bodies of every input shape — and,
with --pages N, the first 4 KB of N of the shared Readability pages so the
fuzzer starts from real markup (those go only into the working corpus, not
into the repository: `fuzz -merge=1` keeps what adds coverage).
"""
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "read"))


def write(d: Path, name: str, data: bytes) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


EXTRACT = [
    ("https://example.com/news/story.html",
     "<html lang=en><head><title>A title - Site</title><meta property='og:site_name' content='Site'>"
     "<meta name=author content='Ann Writer'><meta property='article:published_time' content='2024-03-01T10:00:00Z'>"
     "<script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":\"A title\","
     "\"author\":{\"name\":\"Ann\"},\"datePublished\":\"2024-03-01\"}</script></head>"
     "<body><nav><a href=/>Home</a></nav><article><h1>A title</h1><p>First paragraph, with commas, "
     "and enough words to score as the article body of this page.</p><p>Second <a href='../x?y=1#z'>link</a> "
     "<img src=pic.png alt=pic> <img data-src=/lazy.jpg src='data:image/gif;base64,R0lGOD'></p>"
     "<table><tr><th colspan=2>h</th></tr><tr><td rowspan=1>a</td><td>b</td></tr></table>"
     "<ol start=3><li>three</li></ol><pre>  code\n  kept</pre></article>"
     "<div class=comments><p>A comment, a comment, a comment.</p></div></body></html>"),
    ("https://example.com/",
     "<article><p>Payloads, inert: <script>alert(1)</script><img src=x onerror=alert(1)>"
     "<a href='javascript:alert(1)'>js</a><a href=' JaVaScRiPt:alert(1)'>js2</a>"
     "<a href='java&#9;script:alert(1)'>tab</a><a href='&#x6A;avascript:alert(1)'>ent</a>"
     "<a href='data:text/html,<script>alert(1)</script>'>data</a><a href='vbscript:x'>vb</a>"
     "<a href='mailto:a@b.c'>mail</a><a href='#top'>top</a><a href='//evil.example/x'>proto</a>"
     "<iframe src='https://evil.example'></iframe><style>p{}</style><svg onload=alert(1)><a href=x>svg</a></svg>"
     "<math><mi xlink:href='javascript:alert(1)'>m</mi></math><object data=x></object>"
     "<form action='javascript:x'><input onfocus=alert(1) autofocus></form>"
     "<p style='background:url(javascript:alert(1))' onclick='x'>styled, with commas, and words.</p></p></article>"),
    ("", "<html><body><div id=content><p>No base URL at all, so relative <a href=rel/x>links</a> stay "
         "relative, and this sentence, with commas, is the text.</p></div></body></html>"),
    ("javascript:alert(1)//", "<p><a href=x>a base that is not http</a>, with a relative link, and text.</p>"),
    ("https://example.com/a", "<div>" * 50 + "<p>deep, deep, deep text of the page.</p>" + "</div>" * 50),
    ("https://example.com/a", "<html><head><meta charset=iso-8859-1><title>caf\xe9</title></head>"
                              "<body><p>caf\xe9 cr\xe8me, br\xfbl\xe9e, and other words.</p></body></html>"),
    ("https://example.com/a", "<body><div class='post-body entry-content'><h2>Sub</h2><p>text, text.</p>"
                              "<ul><li><a href=/1>1</a></li><li><a href=/2>2</a></li></ul>"
                              "<div class=share>Share on <a href=x>X</a></div><p>More, text.</p>"
                              "<figure><img src=a.png><figcaption>cap</figcaption></figure></div></body>"),
]

FEEDS = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<channel><title>A Blog</title><link>https://blog.example/</link>'
    '<item><title>First &amp; best</title><link>https://blog.example/first?utm_source=rss</link>'
    '<description><![CDATA[<p>Some <b>html</b></p>]]></description>'
    '<pubDate>Fri, 01 Mar 2024 10:20:30 GMT</pubDate><guid>https://blog.example/first</guid></item>'
    '<item><title>Relative</title><link>/second</link><dc:date>2024-03-02T00:00:00Z</dc:date></item>'
    '<item><title>Only a guid</title><guid isPermaLink="true">https://blog.example/third</guid></item>'
    '<item><title>No link</title></item></channel></rss>',
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom news</title>'
    '<link href="https://news.example/"/><entry><title type="html">Entry one</title>'
    '<link rel="self" href="https://news.example/api/1"/>'
    '<link rel="alternate" type="text/html" href="https://news.example/one"/><id>tag:news.example,2024:1</id>'
    '<updated>2024-04-02T00:00:00Z</updated><published>2024-04-01T00:00:00Z</published></entry>'
    '<entry><title>Entry two</title><link href="two.html"/><updated>2024-04-03T00:00:00+02:00</updated></entry>'
    '<entry><link href="two.html#frag"/></entry></feed>',
    '<rss><channel><item><link> https://a.example/x </link><guid isPermaLink="false">123</guid>'
    '<pubDate>not a date</pubDate></item><item><link>mailto:x@y</link></item>'
    '<item><link>../up/../../x</link><pubDate>Tue, 10 Jun 2003 04:00:00 +0100</pubDate></item></channel></rss>',
]

EMBED = [
    {"input": "The food was delicious and the waiter was friendly.", "model": "m"},
    {"input": ["first text", "second text", ""], "model": "m", "encoding_format": "base64"},
    {"input": [101, 7592, 2088, 102], "encoding_format": "float"},
    {"input": [[101, 102], [101, 2023, 102]], "dimensions": 384},
    {"input": ["a", [1, 2]]},
    {"input": [[1, 2], "a"]},
    {"input": [], "model": "m"},
    {"input": [[]]},
    {"input": [[-1]]},
    {"input": "x", "dimensions": 12},
    {"input": "x", "encoding_format": "hex"},
    {"input": "x", "user": "u", "unknown": [1, {"a": None}]},
]


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if args else 2)
    out = Path(args[0])
    pages = int(args[args.index("--pages") + 1]) if "--pages" in args else 0

    d = out / "extract"
    for i, (base, html) in enumerate(EXTRACT):
        write(d, f"seed-{i:02d}", base.encode() + b"\n" + html.encode("latin-1" if "\xe9" in html else "utf-8"))
    if pages:
        from shared_fixtures import readability_dir  # noqa: E402
        for k, page in enumerate(sorted(Path(readability_dir()).iterdir())[:pages]):
            src = page / "source.html"
            if src.is_file():
                write(d, f"page-{k:02d}", b"http://fakehost/test/page.html\n" + src.read_bytes()[:4096])

    d = out / "import"
    fixtures = ROOT / "tests" / "read" / "fixtures"
    fmt_of = {"pocket.csv": 1, "pocket.html": 2, "instapaper.csv": 3, "wallabag.json": 4, "bookmarks.html": 5,
              "feeds.opml": 6, "urls.txt": 7}
    for name, fmt in fmt_of.items():
        data = (fixtures / name).read_bytes()
        write(d, f"seed-{name}-auto", b"\x00" + data)
        write(d, f"seed-{name}-{fmt}", bytes([fmt]) + data)
    write(d, "seed-json", b"\x08" + json.dumps({"items": [
        {"url": "https://a.example/x?utm_source=y", "title": "T", "tags": ["a", "b"], "saved": "2024-01-01T00:00:00Z",
         "read_at": None, "archived": True, "favorite": False, "state": "pending"}]}).encode())
    write(d, "seed-csv", b"\x09url,title,tags,saved,read_at,archived,favorite,state\n"
                         b"https://a.example/x,\"T, quoted \"\"x\"\"\",a|b,2024-01-01T00:00:00Z,,1,0,pending\n")

    d = out / "feed"
    for i, f in enumerate(FEEDS):
        write(d, f"seed-{i:02d}", bytes([i]) + f.encode())

    d = out / "embed_req"
    for i, body in enumerate(EMBED):
        write(d, f"seed-{i:02d}", bytes([i * 37 % 256]) + json.dumps(body).encode())


if __name__ == "__main__":
    main()
