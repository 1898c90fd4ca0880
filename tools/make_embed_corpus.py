#!/usr/bin/env python3
"""make_embed_corpus.py — the deterministic sentence corpus of the embedding
goldens and of `tinglado superpose`.

Made with:
    python3 tools/make_embed_corpus.py > tests/golden/embed/sentences.txt

One text per line (UTF-8, no tabs or newlines inside).  Sources, all read
here and sampled with a fixed seed so the same command gives the same bytes:
  - sentences of the article texts in the project's readability fixtures
    (/work/shared/fixtures/readability/*/expected.html, or
    $TINGLADO_FIXTURES): news, blogs and documentation in English, French,
    Spanish, German, Czech, Japanese, Chinese, Russian …;
  - sentences of the project's Spanish seed page (/work/shared/seed/…);
  - hand-written edge cases: an empty line, whitespace, numbers, code, emoji,
    accents and case, CJK, punctuation runs, a repeated word.
Every line stays well under 512 WordPiece tokens, so llama.cpp and tinglado
see the same tokens (their truncation rules differ; tests cover it apart).
Python standard library only.
"""
import html.parser
import os
import random
import re
import sys

FIXTURES = os.environ.get("TINGLADO_FIXTURES", "/work/shared/fixtures/readability")
SEED_TEXT = os.environ.get("TINGLADO_SEED_TEXT", "/work/shared/seed/000_1f0952ef27efa98d.txt")
PER_ARTICLE = 7


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "br", "li", "h1", "h2", "h3", "div", "td"):
            self.parts.append("\n")


def sentences(text):
    out = []
    for block in text.split("\n"):
        block = re.sub(r"\s+", " ", block).strip()
        for s in re.split(r"(?<=[.!?。！？])\s+|(?<=[。！？])", block):
            s = s.strip()
            if 25 <= len(s) <= 280:
                out.append(s)
    return out


EDGE = [
    "",
    " ",
    "Hello",
    "hello",
    "HELLO WORLD!!!",
    "The quick brown fox jumps over the lazy dog.",
    "the quick brown fox jumps over the lazy dog",
    "A dog.",
    "A cat.",
    "3.14159 2.71828 1.41421 and 42",
    "Call +34 600 123 456 before 18:30 on 2024-05-17.",
    "def f(x): return x ** 2  # squares",
    "for (int i = 0; i < n; i++) { sum += a[i]; }",
    "SELECT name, COUNT(*) FROM users GROUP BY name;",
    "https://example.com/path?q=embeddings&lang=es",
    "café naïve résumé coöperate façade",
    "CAFÉ NAÏVE RÉSUMÉ",
    "Ça va? Ñandú, pingüino y cigüeña.",
    "I love 🍕 and 🎉 parties 👩‍👩‍👧",
    "日本語のテキストです。",
    "我爱自然语言处理。",
    "한국어 문장입니다.",
    "Привет, как дела?",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "...!!!???---",
    "(((nested [brackets] {everywhere})))",
    "tab\tseparated\twords",
    "antidisestablishmentarianism",
    "supercalifragilisticexpialidocious",
    "word " * 40,
    "Embeddings map text to vectors; similar texts land near each other.",
    "La suma de dos vectores de embedding, ¿codifica a los dos?",
    "En una dimensión no; en muchas dimensiones, casi sí.",
]


def main():
    rng = random.Random(20241117)
    lines = []
    if os.path.isdir(FIXTURES):
        for name in sorted(os.listdir(FIXTURES)):
            path = os.path.join(FIXTURES, name, "expected.html")
            if not os.path.isfile(path):
                continue
            p = Text()
            with open(path, encoding="utf-8", errors="replace") as f:
                p.feed(f.read())
            ss = sentences("".join(p.parts))
            rng.shuffle(ss)
            lines.extend(ss[:PER_ARTICLE])
    if os.path.isfile(SEED_TEXT):
        with open(SEED_TEXT, encoding="utf-8") as f:
            seed = sentences(f.read())
        lines.extend(seed[:80])
    lines.extend(e.strip() if e.strip() else e for e in EDGE)
    seen, out = set(), []
    for s in lines:
        s = s.replace("\t", " ") if "tab" not in s else s
        s = s.replace("\n", " ").replace("\r", " ")
        if s in seen:
            continue
        seen.add(s)
        out.append(s)
    sys.stdout.write("\n".join(out) + "\n")
    print(f"{len(out)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
