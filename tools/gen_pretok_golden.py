#!/usr/bin/env python3
"""gen_pretok_golden.py — pre-tokenizer goldens from llama.cpp itself.

Made with (the venv of scripts/setup.sh; g++ compiles tools/pretok_ref.cpp
against the libllama.so that llama-cpp-python installed):
    ~/.cache/tinglado/llama-venv/bin/python tools/gen_pretok_golden.py \
        > tests/golden/tokenizer/pretok.jsonl

What it does, all from the reference and nothing from tinglado:
  1. reads llama.cpp's llama-vocab.cpp (from the llama-cpp-python source
     package of the installed version, fetched with pip, or --llama-src):
     every tokenizer.ggml.pre name with the pre-tokenizer type and settings
     llama_vocab::load gives it, and every type's regex list
     (llm_tokenizer_bpe);
  2. runs llama.cpp's unicode_regex_split (exported by libllama.so) with each
     distinct regex list on a set of test strings: hand-picked tricky ones
     (code points whose class changed between Unicode 14 and 15.1,
     whitespace oddities, invalid UTF-8, contractions, digit runs, long
     whitespace runs), seeded random mixtures, and every 4th corpus string.
Output (JSON lines, "t" tells them apart):
  name   {"name", "type", "ignore_merges", "add_bos", "no_bos", "add_sep",
          "clean_spaces", "escape_whitespaces", "byte_encode"}
  texts  {"hex": [...]} the test strings, once
  split  {"type", "same": [other types with the same regexes], "lens": [...]}
         one entry per text: the byte lengths of the pieces (of llama.cpp's
         re-encoded text), or null where llama.cpp throws.
"""
import argparse
import glob
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile

import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "tests", "golden", "tokenizer", "corpus.jsonl")


def c_literals(s):
    """The C string literals in s, decoded to bytes (// comments skipped)."""
    out, i, n = [], 0, len(s)
    esc = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'"}
    while i < n:
        if s.startswith("//", i):
            j = s.find("\n", i)
            i = n if j < 0 else j
        elif s[i] == '"':
            i += 1
            buf = bytearray()
            while s[i] != '"':
                if s[i] == "\\":
                    buf += esc[s[i + 1]]
                    i += 2
                else:
                    buf += s[i].encode("utf-8")
                    i += 1
            out.append(bytes(buf))
            i += 1
        else:
            i += 1
    return out


def parse_types(src):
    """type name -> {"regexes": [bytes], "byte_encode": bool} (llm_tokenizer_bpe)."""
    a = src.index("struct llm_tokenizer_bpe : llm_tokenizer {")
    body = src[a:src.index("std::vector<std::string> regex_exprs;", a)]
    types, cur = {}, []
    pat = r"case LLAMA_VOCAB_PRE_TYPE_(\w+):|default:|regex_exprs = \{(.*?)\n\s*\};|byte_encode = false;|break;"
    for m in re.finditer(pat, body, re.S):
        t = m.group(0)
        if t.startswith("case"):
            cur.append(m.group(1))
        elif t.startswith("default"):
            cur.append("DEFAULT")
        elif t.startswith("regex_exprs"):
            for c in cur:
                types[c] = {"regexes": c_literals(m.group(2)), "byte_encode": True}
        elif t.startswith("byte_encode"):
            for c in cur:
                types[c]["byte_encode"] = False
        else:
            cur = []
    return types


def parse_names(src, types):
    """tokenizer.ggml.pre names with their type and settings (llama_vocab::impl::load)."""
    a = src.index("if (tokenizer_pre.empty()) {")
    b = src.index("} else if (type == LLAMA_VOCAB_TYPE_SPM) {", a)
    names = []
    for block in src[a:b].split("} else if (")[1:]:
        ns = re.findall(r'tokenizer_pre == "([^"]+)"', block)
        t = re.search(r"pre_type = LLAMA_VOCAB_PRE_TYPE_(\w+);", block)
        if not ns or not t:
            continue
        typ = t.group(1)
        for n in ns:
            names.append({
                "name": n, "type": typ,
                "ignore_merges": "ignore_merges = true;" in block,
                "add_bos": "add_bos = true;" in block,
                "no_bos": "special_bos_id = LLAMA_TOKEN_NULL;" in block,
                "add_sep": "add_sep = true;" in block,
                "clean_spaces": "clean_spaces = false;" not in block,
                "escape_whitespaces": "escape_whitespaces = true;" in block,
                "byte_encode": types.get(typ, {}).get("byte_encode", True),
            })
    return names


def llama_src(args):
    if args.llama_src:
        return open(os.path.join(args.llama_src, "llama-vocab.cpp"), encoding="utf-8").read()
    ver = llama_cpp.__version__
    tmp = tempfile.mkdtemp()
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
           "--dest", tmp, f"llama-cpp-python=={ver}"]
    # like scripts/fetch-llama-vocabs.sh: without build isolation pip needs
    # the package's build backend installed, so fall back to isolation
    if subprocess.run(cmd[:-3] + ["--no-build-isolation"] + cmd[-3:],
                      stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(cmd, check=True)
    with tarfile.open(glob.glob(os.path.join(tmp, "*.tar.gz"))[0]) as tf:
        m = tf.getmember(f"llama_cpp_python-{ver}/vendor/llama.cpp/src/llama-vocab.cpp")
        return tf.extractfile(m).read().decode("utf-8")


def build_ref():
    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    exe = os.path.join(tempfile.mkdtemp(), "pretok_ref")
    subprocess.run(["g++", "-O1", "-std=c++17", os.path.join(HERE, "pretok_ref.cpp"), "-o", exe,
                    "-L" + libdir, "-lllama", "-Wl,-rpath," + libdir], check=True)
    return exe


def tricky_texts():
    """Hand-picked strings where pre-tokenizers tend to differ."""
    cps = [
        0x1123F, 0x11240, 0x11F02, 0x31350, 0x2EBF0,  # letters new in Unicode 15/15.1
        0x11F50, 0x1D2C0,  # numbers new in 15.0
        0x11B00, 0x11F43,  # punctuation new in 15.0
        0x0CF3, 0x0ECE, 0x11F00,  # marks new in 15.0
        0x2FFC, 0x31EF, 0x1F6DC,  # symbols new in 15.0/15.1
        0x1CC00, 0x10D40, 0x1FAE9,  # unassigned in 15.1
        0x180E, 0x200B, 0x1C, 0x1F, 0x85, 0xA0, 0x1680, 0x2000, 0x2028, 0x202F, 0x3000,
        0xB2, 0xBD, 0x2167, 0x660, 0xFF11, 0x300, 0x301, 0x20DD, 0x5BF, 0xAD, 0xE000, 0xFFFD,
        0x1FD3, 0x390, 0x2126, 0x212A, 0xB5, 0xFF21, 0x10400, 0x4E00, 0x3042, 0x30A2, 0xAC00,
        0x3131, 0x3105, 0xFF01, 0x2026, 0x3002, 0xFF0C, 0x964, 0x6D4, 0x60C, 0x201C,
    ]
    out = []
    for c in cps:
        ch = chr(c)
        for t in (ch, "a" + ch + "b", " " + ch, ch + ch + " x", "1" + ch + "2", "'s" + ch,
                  "\n" + ch + "\n", "A" + ch + "bc" + ch + "DE"):
            out.append(t.encode("utf-8"))
    words = [
        "Hello world", " Hello World!", "I'm here, you're there; it'S OK'LL 'Ve 'd",
        "don't DON'T 'x '", "1234567 12 345 6789012", "a1b22c333d4444", "٣٤٥ ¹²³ ½ Ⅻ",
        "\r\n\r\n  \r\n\t x", "   \n\n   a", "a \t\u00a0\u2000b", "x" + " " * 600 + "y",
        " " * 1030, "\n" * 5 + "a", "tab\tsep\t\tx", "<sentinel:12> IMGIMGABCZ ok",
        "    code  (x) == y;", "c++ a+b=c $5 ~x ^y |z `w`", "ἀλφα βῆτα ΐ ώ", "Привет, мир!",
        "中文字符和日本語のテキスト、한국어 텍스트。", "ﬁ ﬀ Ａｂｃ １２３", "e\u0301 a\u0308o",
        "नमस्ते दुनिया", "مرحبا بالعالم", "🦙🦙 emoji 👍🏽 ok", "line1\rline2\r\n", "  \u00a0 ",
        "x/y/z\n/\n", "3.14159 -2e10 0x1F", "@user #tag http://a.b/c?d=e&f",
    ]
    out += [w.encode("utf-8") for w in words]
    bad = [b"\xff", b"a\x80b", b"\xc0\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80x",
           b"\xf0\x9f\xa6", b"\xf8\x88\x80\x80\x80", b"ab\xfe\xffcd", b" \xc3\x28 x",
           b"\xe0\x80\x80 \xc1\xbf", b"'\xe2\x80\x99s", b"1\xd9\xa32"]
    out += bad
    return out


def random_texts(n, seed=7):
    rng = random.Random(seed)
    pools = [
        "abcxyzABCXYZ", "0123456789", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", " ", "\t\n\r\v\f",
        "éßñøÆΩЖжאבعربی", "一二三あいうアイウ가나다", "²³½٣०", "\u0300\u0301\u0308\u064b",
        "€£¥©®°±×÷", "\u00a0\u2000\u3000\u0085\u180e\u200b", "'sS'tTrReEvVmMlLdD",
        "".join(map(chr, [0x1123F, 0x11F50, 0x11B00, 0x0CF3, 0x2FFC, 0x1CC00])),
    ]
    out = []
    for _ in range(n):
        k = rng.randint(1, 40)
        s = "".join(rng.choice(rng.choice(pools)) for _ in range(k))
        out.append(s.encode("utf-8", "surrogatepass"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-src", help="llama.cpp's src/ directory (default: from the sdist)")
    ap.add_argument("--corpus-every", type=int, default=4)
    ap.add_argument("--random", type=int, default=400)
    args = ap.parse_args()
    src = llama_src(args)
    types = parse_types(src)
    names = parse_names(src, types)
    texts = tricky_texts() + random_texts(args.random)
    corpus = [json.loads(line) for line in open(CORPUS)]
    texts += [bytes.fromhex(r["hex"]) for r in corpus[::args.corpus_every]]
    exe = build_ref()
    out = sys.stdout
    for n in names:
        out.write(json.dumps(dict(t="name", **n)) + "\n")
    out.write(json.dumps({"t": "texts", "hex": [t.hex() for t in texts]}) + "\n")
    groups = {}
    for typ in sorted(types):
        key = (tuple(types[typ]["regexes"]), types[typ]["byte_encode"])
        groups.setdefault(key, []).append(typ)
    for (regexes, _), typs in groups.items():
        p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        req = ["R %d %s" % (len(regexes), " ".join(r.hex() for r in regexes))]
        req += ["T " + t.hex() for t in texts]
        res, _ = p.communicate(("\n".join(req) + "\n").encode())
        lines = res.decode().split("\n")
        if p.returncode != 0 or len(lines) < len(texts):
            # a regex llama.cpp cannot run (it would fail to load such a vocabulary)
            print(f"{typs[0]}: reference failed (rc {p.returncode})", file=sys.stderr)
            continue
        lens = []
        for line in lines[:len(texts)]:
            if line.strip() == "!":
                lens.append(None)
            else:
                lens.append([len(x) // 2 for x in line.split(" ") if x])
        out.write(json.dumps({"t": "split", "type": typs[0], "same": typs[1:], "lens": lens},
                             separators=(",", ":")) + "\n")
        print(f"{typs[0]} (+{len(typs) - 1}): {sum(len(x or []) for x in lens)} pieces, "
              f"{lens.count(None)} throws", file=sys.stderr)


if __name__ == "__main__":
    main()
