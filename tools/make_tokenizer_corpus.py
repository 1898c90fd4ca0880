#!/usr/bin/env python3
"""make_tokenizer_corpus.py — the deterministic tokenizer test corpus.

Made with:
    python3 tools/make_tokenizer_corpus.py > tests/golden/tokenizer/corpus.jsonl

Writes one JSON object per line: {"i": index, "kind": category, "hex": bytes}.
Strings are stored as hex so that invalid UTF-8 survives.  Everything is
generated here from a fixed seed and word lists written for this file, plus
lines and sentences of the project's own Spanish seed text
(/work/shared/seed/000_1f0952ef27efa98d.txt, or $TINGLADO_SEED_TEXT), so the
same command always yields the same bytes.  Python standard library only.

Categories: English, Spanish (seed lines), CJK, emoji and ZWJ sequences,
whitespace runs, tabs/newlines, code, numbers, invalid UTF-8, special-token
text of several chat formats, mixed scripts and edge cases.
"""
import json
import os
import random
import sys

SEED_TEXT = os.environ.get("TINGLADO_SEED_TEXT", "/work/shared/seed/000_1f0952ef27efa98d.txt")

EN_WORDS = """the a an of to and in is it that for on with as was at by be this from or
have not are but had they his her she he we you all their one there which were been has
would will what when can more if no out so up said about into than them its some could
time these two may then do first any my now such like our over man me even most made
after also did many before must through back years where much your way well down should
because each just those people how too little state good very make world still own see
men work long get here between both life being under never day same another know while
last might us great old year off come since against go came right used take three house
light river garden window kitchen mountain engine bridge letter silver orange forest
quickly slowly quietly tomorrow yesterday tokenizer model weights server cache kernel
don't won't can't it's I'm you're we've they'll she'd y'all o'clock rock'n'roll""".split()

ES_WORDS = """el la los las un una de del que y en a por con para es son está fue ser
tiene hay como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también
me hasta donde quien desde todo nos durante todos uno les ni contra otros ese eso ante
ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho
quienes nada muchos cual poco ella estar estas algunas algo nosotros niño año señor
corazón canción pingüino acción educación último rápido máquina árbol cigüeña España
mañana pequeño ¿dónde? ¡hola! energía modelo tamaño lenguaje""".split()

# CJK: a few words of each language, plus random code points of the blocks.
ZH = ["我", "你", "他", "是", "的", "中文", "分词", "模型", "服务器", "今天", "天气", "很好", "学习",
      "语言", "人工智能", "北京", "上海", "谢谢", "再见", "数据", "计算机", "。", "，", "？", "！"]
JA = ["これは", "テスト", "です", "日本語", "ひらがな", "カタカナ", "漢字", "東京", "ありがとう",
      "トークナイザー", "モデル", "を", "に", "が", "は", "。", "、", "ー"]
KO = ["안녕하세요", "한국어", "토큰", "모델", "서버", "감사합니다", "사랑", "학교", "하늘", "은", "는", "이", "가", "."]
OTHER_SCRIPTS = ["Привет мир", "нещо на Български", "Γειά σου κόσμε", "مرحبا بالعالم", "שלום עולם",
                 "नमस्ते दुनिया", "สวัสดีชาวโลก", "ကမ္ဘာ", "ሰላም", "Xin chào thế giới", "Olá, coração!",
                 "Zürich Straße Ärger Öl", "façade naïve coöperate", "Ça va? Où êtes-vous?",
                 "İstanbul ılık ışık", "Łódź źdźbło", "ქართული", "Հայերեն", "தமிழ்", "ꦗꦮ"]
COMBINING = ["e\u0301", "n\u0303", "a\u0308", "o\u0302\u0323", "\u0915\u094d\u0937", "Z\u0351\u036b\u0343"]

EMOJI = ["😀", "😂", "🥲", "🦙", "🚀", "✅", "❤️", "👍", "🎉", "🔥", "💡", "🌍", "🐍", "🤖", "🍕",
         "☕", "⭐", "✨", "🙏", "👀", "🇪🇸", "🇯🇵", "🇺🇸", "🏳️‍🌈", "🏴‍☠️", "1️⃣", "#️⃣", "©️", "™"]
SKIN = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
ZWJ_PARTS = ["👨", "👩", "👧", "👦", "🧑", "❤️", "💋", "🔬", "💻", "🚒", "🌾", "🍳", "🎓", "⚕️"]

SPECIALS = ["<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>", "<unk>", "<mask>",
            "[multimodal]", "<start_of_image>", "<end_of_image>", "<unused0>", "<unused17>",
            "<unused99>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>",
            "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|user|>",
            "<|assistant|>", "<|system|>", "<|end|>", "<s>", "</s>", "<0x0A>", "<0x41>", "<|fim_prefix|>",
            "<fim_middle>", "<|file_sep|>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<think>",
            "</think>", "<h1>", "</h1>", "<table>", "<br>", "<b>", "</b>"]
PARTIAL_SPECIALS = ["<start_of_tur", "start_of_turn>", "<end_of_turn", "<|im_start", "|im_end|>",
                    "< s>", "<s >", "<bos", "eos>", "<unused", "<<start_of_turn>>", "<<s>>"]

CODE = [
    "int main(int argc, char **argv) {\n    return 0;\n}\n",
    "def f(x):\n\treturn x * 2  # double\n",
    "for (size_t i = 0; i < n; i++) sum += a[i] * b[i];",
    "if x == 1 and y != 2:\n        print(f\"{x=} {y!r}\")\n",
    "{\"tokens\": [1, 2, 3], \"ok\": true, \"name\": \"gemma\"}",
    "<div class=\"row\"><span id='a'>&amp; &lt;tag&gt;</span></div>",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
    "git commit -m \"fix: handle \\\"quotes\\\"\" && make -j2 test",
    "#include <stdio.h>\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n",
    "const f = async (u) => { const r = await fetch(u); return r.json(); };",
    "x <<= 2; y >>= 1; z ^= ~w; p->next = q ?: NULL;",
    "fn main() { let v: Vec<u8> = vec![0xFF; 16]; println!(\"{:?}\", v); }",
    "    \n\t\t// indented comment\n\t\t/* block */\n",
    "https://example.com/path?q=a+b&x=%20y#frag",
    "C:\\Users\\name\\Documents\\file.txt",
    "regex: ^[A-Za-z_][A-Za-z0-9_]*$ | \\d{3}-\\d{4}",
    "a_b_c __init__ __name__ == '__main__' snake_case camelCase PascalCase kebab-case",
    "$ echo $HOME; ls -la | grep '\\.c$' > out.txt 2>&1",
]
IDENT_PARTS = ["get", "set", "buf", "len", "tok", "vocab", "id", "node", "tmp", "idx", "ctx", "Parse",
               "Value", "HTTP", "json", "utf8", "x", "y", "2", "_"]


def seed_lines():
    try:
        with open(SEED_TEXT, "rb") as f:
            data = f.read()
    except OSError as e:
        sys.exit(f"cannot read the seed text {SEED_TEXT}: {e}")
    lines = [l for l in data.split(b"\n") if l.strip()]
    sentences = []
    for l in lines:
        for part in l.decode("utf-8").replace("? ", "?\x00").replace(". ", ".\x00").split("\x00"):
            if part.strip():
                sentences.append(part.encode("utf-8"))
    return lines, sentences


def main():
    rng = random.Random(20240611)
    out = []

    def add(kind, s):
        if isinstance(s, str):
            s = s.encode("utf-8")
        out.append((kind, s))

    def words(pool, n):
        return " ".join(rng.choice(pool) for _ in range(n))

    # --- edge cases
    add("edge", b"")
    for c in range(0x20, 0x7f):
        add("edge", bytes([c]))
    for s in [" ", "  ", "\n", "\t", "\r\n", "▁", "▁▁ ▁", " ▁hello", "\u00a0", "\u3000", "\ufeffBOM",
              "\u200b\u200c\u200d", "\U0010FFFF", "\uFFFD", "a" * 300, "ab" * 257, "\x00", "a\x00b"]:
        add("edge", s)

    # --- English
    for _ in range(260):
        n = rng.randint(1, 25)
        s = words(EN_WORDS, n)
        r = rng.random()
        if r < 0.3:
            s = s[:1].upper() + s[1:] + rng.choice([".", "!", "?", "...", ",", ";", ":"])
        elif r < 0.4:
            s = s.upper()
        elif r < 0.5:
            s = s.title()
        if rng.random() < 0.2:
            s = rng.choice([" ", "  ", "\n", "\t"]) + s
        if rng.random() < 0.2:
            s = s + rng.choice([" ", "  ", "\n", " \n"])
        add("english", s)

    # --- Spanish: the seed text's lines and sentences, then generated ones
    lines, sentences = seed_lines()
    for l in lines:
        add("spanish-seed-line", l)
    for s in sentences:
        add("spanish-seed-sentence", s)
    for i in range(0, len(lines) - 3, 3):
        add("spanish-seed-block", b"\n".join(lines[i:i + 3]))
    for _ in range(150):
        s = words(ES_WORDS, rng.randint(1, 20))
        if rng.random() < 0.4:
            s = "¿" + s[:1].upper() + s[1:] + "?"
        add("spanish", s)

    # --- CJK
    for _ in range(170):
        pool = rng.choice([ZH, JA, KO])
        sep = "" if pool is not KO else rng.choice([" ", ""])
        s = sep.join(rng.choice(pool) for _ in range(rng.randint(1, 15)))
        if rng.random() < 0.3:
            # random code points of the unified ideographs / kana / hangul blocks
            lo, hi = rng.choice([(0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3), (0x20000, 0x2A6DF)])
            s += "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.3:
            s = words(EN_WORDS, 2) + " " + s + " " + str(rng.randint(0, 9999))
        add("cjk", s)

    # --- emoji, skin tones, ZWJ sequences, flags, keycaps
    for _ in range(160):
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.4:
                parts.append(rng.choice(EMOJI))
            elif r < 0.6:
                parts.append(rng.choice(["👋", "👍", "🧑", "👩", "🙌"]) + rng.choice(SKIN))
            elif r < 0.85:
                parts.append("\u200d".join(rng.choice(ZWJ_PARTS) for _ in range(rng.randint(2, 4))))
            else:
                parts.append(chr(0x1F1E6 + rng.randint(0, 25)) + chr(0x1F1E6 + rng.randint(0, 25)))
        s = rng.choice(["", " ", "ok "]).join(parts)
        if rng.random() < 0.4:
            s = words(EN_WORDS, rng.randint(1, 5)) + " " + s
        add("emoji", s)

    # --- whitespace runs, tabs, newlines
    ws = [" ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u2009", "\u3000", "\v", "\f"]
    for n in list(range(1, 40)) + [63, 64, 65, 100, 127, 128, 200, 500]:
        add("whitespace-run", " " * n)
        add("whitespace-run", "\n" * n if n < 80 else "\t" * n)
    for _ in range(150):
        s = "".join(rng.choice(ws) * rng.randint(1, 12) + (rng.choice(EN_WORDS) if rng.random() < 0.6 else "")
                    for _ in range(rng.randint(1, 8)))
        add("whitespace-mixed", s)

    # --- code
    for c in CODE:
        add("code", c)
    for _ in range(170):
        lines_ = []
        for _ in range(rng.randint(1, 6)):
            ident = "".join(rng.choice(IDENT_PARTS) for _ in range(rng.randint(1, 3)))
            indent = rng.choice(["", "    ", "\t", "        ", "  "])
            stmt = rng.choice([f"{ident} = {ident}({rng.randint(0, 99)}, '{rng.choice(EN_WORDS)}');",
                               f"if ({ident} != NULL && {ident}->len > {rng.randint(0, 9)}) {{",
                               f"}} else {{ return -{rng.randint(1, 9)}; }}",
                               f"# {words(EN_WORDS, 4)}", f"// TODO({ident}): {words(EN_WORDS, 3)}",
                               f"print({ident}[{rng.randint(0, 9)}:{rng.randint(0, 9)}])",
                               f"<{ident} attr=\"{rng.randint(0, 9)}\">{rng.choice(EN_WORDS)}</{ident}>"])
            lines_.append(indent + stmt)
        add("code", rng.choice(["\n", "\r\n"]).join(lines_))

    # --- numbers
    for _ in range(160):
        r = rng.random()
        if r < 0.2:
            s = str(rng.randint(0, 10 ** rng.randint(1, 30)))
        elif r < 0.35:
            s = f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 8)}f}"
        elif r < 0.45:
            s = f"{rng.uniform(0, 1):.3e}"
        elif r < 0.55:
            s = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1900, 2100)}"
        elif r < 0.65:
            s = f"{rng.randint(0, 999):,}".replace(",", rng.choice([",", ".", " "])) + f" {rng.randint(0, 999):03d}"
        elif r < 0.75:
            s = f"+34 {rng.randint(600, 699)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        elif r < 0.85:
            s = f"v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)} 0x{rng.randint(0, 2**32):08X} {rng.randint(0, 255):#o}"
        else:
            s = words(EN_WORDS, 3) + f" {rng.randint(0, 100)}% of {rng.randint(1, 9999)} items costs €{rng.randint(0, 99)},{rng.randint(0, 99):02d}"
        add("numbers", s)

    # --- invalid UTF-8
    bad_bits = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                b"\xf5", b"\xfe", b"\xff", b"\xe2\x96", b"\xe2", b"\xf0\x9f\x98", b"\xf0\x9f", b"\xc3",
                b"\xc3\xc3", b"\xe2\x28\xa1", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]
    for b in bad_bits:
        add("invalid-utf8", b)
    for _ in range(180):
        parts = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.35:
                parts.append(rng.choice(bad_bits))
            elif r < 0.6:
                parts.append(bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 6))))
            elif r < 0.8:
                parts.append(rng.choice(EN_WORDS + ES_WORDS).encode())
            else:
                parts.append(rng.choice(EMOJI + ZH).encode()[: rng.randint(1, 3)])
        add("invalid-utf8", rng.choice([b"", b" "]).join(parts))

    # --- special-token text (chat templates, partial and adjacent forms)
    for _ in range(300):
        r = rng.random()
        if r < 0.3:
            turns = []
            for _ in range(rng.randint(1, 3)):
                role = rng.choice(["user", "model", "system"])
                turns.append(f"<start_of_turn>{role}\n{words(EN_WORDS + ES_WORDS, rng.randint(1, 10))}<end_of_turn>\n")
            s = rng.choice(["", "<bos>"]) + "".join(turns) + rng.choice(["", "<start_of_turn>model\n"])
        elif r < 0.45:
            s = "".join(f"<|im_start|>{rng.choice(['user', 'assistant', 'system'])}\n{words(EN_WORDS, rng.randint(1, 8))}<|im_end|>\n"
                        for _ in range(rng.randint(1, 3)))
        elif r < 0.55:
            s = f"<s>[INST] {words(EN_WORDS, rng.randint(1, 8))} [/INST] {words(EN_WORDS, 3)}</s>"
        elif r < 0.65:
            gap = rng.choice(["", " ", "  ", "\n"])
            s = f"<|user|>\n{words(EN_WORDS, 5)}<|end|>\n<|assistant|>{gap}{words(EN_WORDS, 3)}<|end|>"
        elif r < 0.85:
            # specials glued to text, spaces and each other
            s = "".join(rng.choice([rng.choice(SPECIALS), rng.choice(PARTIAL_SPECIALS), rng.choice(EN_WORDS),
                                    " ", "  ", "\n", "\t", " \n "]) for _ in range(rng.randint(1, 10)))
        else:
            s = rng.choice(SPECIALS) * rng.randint(1, 4) + rng.choice(["", " ", "x", "\n"]) + rng.choice(SPECIALS)
        add("special-text", s)

    # --- mixed scripts
    for _ in range(200):
        pool = [rng.choice(OTHER_SCRIPTS), rng.choice(COMBINING), rng.choice(EN_WORDS), rng.choice(ES_WORDS),
                rng.choice(ZH + JA + KO), rng.choice(EMOJI), str(rng.randint(0, 999)), rng.choice(["'s", "'ll", "n't"]),
                rng.choice([".", ",", "!", "?", "—", "…", "«", "»", "“", "”", "(", ")", "¿", "¡"])]
        s = "".join(rng.choice(pool) + rng.choice(["", " ", " ", "  ", "\n"]) for _ in range(rng.randint(2, 10)))
        add("mixed", s)

    # --- a few long documents
    for _ in range(4):
        add("long", "\n".join(words(EN_WORDS + ES_WORDS, 30) for _ in range(12)))
    add("long", b"\n\n".join(lines))

    w = sys.stdout
    for i, (kind, s) in enumerate(out):
        w.write(json.dumps({"i": i, "kind": kind, "hex": s.hex()}) + "\n")
    print(f"{len(out)} strings", file=sys.stderr)


if __name__ == "__main__":
    main()
