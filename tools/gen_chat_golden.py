#!/usr/bin/env python3
"""gen_chat_golden.py — chat-template goldens from llama.cpp (via llama-cpp-python).

Made with:
    ~/.cache/tinglado/llama-venv/bin/python tools/gen_chat_golden.py \
        --templates ~/.cache/tinglado/llama.cpp-templates \
        --vocabs ~/.cache/tinglado/llama.cpp-vocab

Writes two files under tests/golden/chat/ (read by tests/gen/test_chat.c):

  render.txt  a set of conversations rendered by llama.cpp's built-in template
              engine (llama_chat_apply_template with a template *name*, no
              model) for every template tinglado implements, with and without
              the generation prompt;
  detect.txt  for each real Jinja chat template (llama.cpp's
              models/templates/*.jinja, and the tokenizer.chat_template of its
              test vocabularies that carry one), the name llama.cpp's detector
              gives it.  llama.cpp does not expose the detected name, so it is
              found by rendering a probe conversation with the Jinja text as the
              template and comparing with the output of every built-in name
              (several names when they render the probe identically; "unknown"
              when llama.cpp rejects the template).  Only the file name, its size
              and the derived name are written, never the template text.  A
              few small made-up texts (SYNTHETIC below) cover the branches no
              real template here reaches.

Format: UTF-8 text, one record per line, fields separated by one space, every
free-form string in lowercase hex (so any byte, newline or space survives):
  conv <name>                      starts a conversation
  msg <role> <hex content>         its messages, in order (zero or more)
  want <template> <0|1> <hex>      llama.cpp's rendering (1: add_generation_prompt)
  detect <kind> <file> <bytes> <names>
                                   kind "template" (a .jinja file), "vocab"
                                   (a GGUF's tokenizer.chat_template) or
                                   "synthetic" (then <file> is the text itself,
                                   hex); names joined by "|", or "unknown"
Lines starting with "#" are comments.
"""
import argparse
import ctypes
import os
import sys

import llama_cpp as L

# The templates tinglado renders (tg_chat_template); keep in step with chat.c.
TEMPLATES = [
    "gemma", "chatml", "llama3",
    "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip",
    "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken",
]

# Conversations chosen to exercise what differs between templates: system
# messages (folded, marked, concatenated, dropped), whitespace that some
# templates trim, tool messages, turns ending on either side, empty and
# non-ASCII content.
CONVERSATIONS = [
    ("empty", []),
    ("single-user", [("user", "Hello!")]),
    ("system-user", [("system", "You are a helpful assistant."), ("user", "What is 2+2?")]),
    ("multi-turn", [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello! How can I help?"),
        ("user", "Tell me a joke."),
    ]),
    ("no-system-ends-assistant", [
        ("user", "One"),
        ("assistant", "Two"),
        ("user", "Three"),
        ("assistant", "Four"),
    ]),
    ("tool", [
        ("system", "You can call tools."),
        ("user", "Weather in Lisbon?"),
        ("assistant", "{\"name\": \"weather\", \"arguments\": {\"city\": \"Lisbon\"}}"),
        ("tool", "{\"temp_c\": 21}"),
        ("user", "Thanks"),
    ]),
    ("unicode", [
        ("system", "Responde en español. 日本語も。"),
        ("user", "¿Qué tal? 🦙 naïve café — “quotes” Ω≈ç√"),
        ("assistant", "¡Bien! 👍"),
        ("user", "Привет, мир"),
    ]),
    ("empty-content", [("system", ""), ("user", ""), ("assistant", ""), ("user", "")]),
    ("whitespace", [
        ("system", "  \n padded system \t\n"),
        ("user", "\t  padded user\r\n  "),
        ("assistant", "\n\n padded answer \n\n"),
        ("user", " \v\f last "),
    ]),
    ("two-systems", [
        ("system", "First rule."),
        ("system", " Second rule. "),
        ("user", "Go"),
    ]),
    ("system-only", [("system", "Nobody will read this.")]),
    ("starts-with-assistant", [("assistant", "I speak first."), ("user", "OK")]),
    ("system-after-model", [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("system", "Late system."),
        ("assistant", "A2"),
        ("user", "Q2"),
    ]),
    ("markup-in-content", [
        ("user", "Is <start_of_turn> or [INST] or <|im_end|> special?\nLine two."),
        ("assistant", "They are plain text here."),
    ]),
]

# Small made-up template texts (ours, not taken from any model) that reach each
# branch of llama.cpp's detector, and pit markers of two families against each
# other to pin down which check comes first.
SYNTHETIC = [
    "gemma", "chatml", "llama3", "mistral-v7", "phi3", "mistral",
    "{{ '[INST] ' + content }}",
    "<<SYS>>\n[INST]",
    "{{ bos_token + '[INST] ' }}<<SYS>>",
    "[INST] {{ content.strip() }} <<SYS>>",
    "{{ ' [INST] ' + system_message }}",
    "{{ '[INST] ' + system_message }}",
    "[AVAILABLE_TOOLS][INST]",
    "[AVAILABLE_TOOLS]{{ \"[INST]\" }}",
    "[SYSTEM_PROMPT][INST]",
    "<|im_start|><|im_sep|>",
    "<|im_start|><end_of_utterance>",
    "<|im_start|>[INST]",
    "<start_of_turn>[INST]",
    "<|assistant|><|end|><start_of_turn>",
    "[gMASK]<sop>",
    "<|assistant|><|user|></s>",
    "<|assistant|><|user|>",
    "<|user|><|endoftext|><start_of_turn>",
    "bos_token + message['role'] <start_of_turn>",
    "<start_of_turn><|start_header_id|><|end_header_id|>",
    "{{ '\\n\\nAssistant: ' + eos_token }}",
    "GPT4 Correct ",
    "USER: ASSISTANT: <|start_header_id|><|end_header_id|>",
    "SYSTEM: USER: ASSISTANT: ",
    "### Instruction:<|EOT|>",
    "<|START_OF_TURN_TOKEN|><|USER_TOKEN|><|start_header_id|><|end_header_id|>",
    "<|start_header_id|><|end_header_id|>",
    "<|start_header_id|>",
    "hello world",
]

# The probe for detection: system + a multi-turn exchange with padded contents,
# which tells apart every template family and the whitespace variants.
PROBE = [("system", " sys "), ("user", " hi \n"), ("assistant", " yo "), ("user", "q")]


def builtin_names():
    n = L.llama_chat_builtin_templates(None, 0)
    arr = (ctypes.c_char_p * n)()
    L.llama_chat_builtin_templates(arr, n)
    return [arr[i].decode() for i in range(n)]


def render(tmpl: bytes, msgs, add_ass: bool):
    """llama_chat_apply_template; None when llama.cpp rejects the template."""
    arr = (L.llama_chat_message * max(1, len(msgs)))()
    keep = []  # the encoded strings must outlive the call
    for i, (role, content) in enumerate(msgs):
        r, c = role.encode(), content.encode()
        keep += [r, c]
        arr[i].role = r
        arr[i].content = c
    n = L.llama_chat_apply_template(tmpl, arr, len(msgs), add_ass, None, 0)
    if n < 0:
        return None
    buf = ctypes.create_string_buffer(n + 1)
    n2 = L.llama_chat_apply_template(tmpl, arr, len(msgs), add_ass, buf, n + 1)
    assert n2 == n
    return buf.raw[:n]


def gguf_template(path):
    import gguf
    r = gguf.GGUFReader(path)
    f = r.fields.get("tokenizer.chat_template")
    if f is None:
        return None
    return bytes(f.parts[f.data[0]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--templates", required=True, help="folder of llama.cpp's models/templates/*.jinja")
    ap.add_argument("--vocabs", required=True, help="folder of llama.cpp's ggml-vocab-*.gguf")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "chat"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    header = "# made by tools/gen_chat_golden.py with llama-cpp-python %s; see its docstring\n" % L.__version__

    names = builtin_names()
    for t in TEMPLATES:
        if t not in names:
            sys.exit("llama.cpp has no built-in template %r" % t)

    with open(os.path.join(a.out, "render.txt"), "w") as f:
        f.write(header)
        for name, msgs in CONVERSATIONS:
            f.write("conv %s\n" % name)
            for role, content in msgs:
                f.write("msg %s %s\n" % (role, content.encode().hex()))
            for t in TEMPLATES:
                for add in (0, 1):
                    out = render(t.encode(), msgs, bool(add))
                    if out is None:
                        sys.exit("llama.cpp failed to render %s with %s" % (name, t))
                    f.write("want %s %d %s\n" % (t, add, out.hex()))

    probes = {nm: render(nm.encode(), PROBE, True) for nm in names}
    sources = []
    for fn in sorted(os.listdir(a.templates)):
        if fn.endswith(".jinja"):
            with open(os.path.join(a.templates, fn), "rb") as fh:
                sources.append(("template", fn, fh.read()))
    for fn in sorted(os.listdir(a.vocabs)):
        if fn.endswith(".gguf"):
            t = gguf_template(os.path.join(a.vocabs, fn))
            if t is not None:
                sources.append(("vocab", fn, t))
    for text in SYNTHETIC:
        sources.append(("synthetic", text.encode().hex(), text.encode()))
    if len(sources) < 10:
        sys.exit("only %d templates found: wrong folders?" % len(sources))
    with open(os.path.join(a.out, "detect.txt"), "w") as f:
        f.write(header)
        for kind, fn, text in sources:
            out = render(text, PROBE, True)
            match = [nm for nm in names if out is not None and probes[nm] == out]
            if out is not None and not match:
                sys.exit("%s renders like no built-in template" % fn)
            f.write("detect %s %s %d %s\n" % (kind, fn, len(text), "|".join(match) if match else "unknown"))
    print("wrote %d conversations x %d templates, %d detections to %s"
          % (len(CONVERSATIONS), len(TEMPLATES), len(sources), a.out))


if __name__ == "__main__":
    main()
