#!/usr/bin/env python3
"""parity.py - measure tinglado against llama.cpp on the same GGUF file.

Three measurements (docs/parity.md has the method and the acceptance bars):

  teacher   teacher-forced next-token distributions over the corpus
            (tools/parity_corpus/*.txt, documents of <= --max-tokens tokens):
            top-1 agreement, KL(llama.cpp || tinglado) in nats from the full
            float64 log-softmax, |delta logit|, and every top-1 disagreement
            with the top-2 margin there (near-tie or not).
  greedy    5 fixed prompts (tools/parity_corpus/prompts.json), 128 greedy
            tokens each: the first position where the two differ and the
            llama.cpp top-2 margin at that step.
  ppl       perplexity of a >= 10k-token text, computed the way llama.cpp's
            `perplexity` tool does, vs `tinglado perplexity`.

  all       the three in a row.
  make-ppl-text   write the perplexity text (see below).

tinglado is run through command templates, so the CLI can evolve without
editing this file.  Placeholders: {bin} (the --tinglado value, may be several
words), {model}, {tokens} (a JSON file {"tokens":[...]} with the exact ids,
BOS included), {out}, {threads}, {ctx}, {prompt}, {n}, {file}.
Defaults:
  logits      {bin} logits -m {model} --tokens {tokens} --dump-logits {out} -t {threads} --ctx {ctx}
              ({out} receives n_tokens x n_vocab little-endian float32, row i =
              the logits after token i)
  run         {bin} run -m {model} -p {prompt} -n {n} --temp 0 --raw -t {threads}
              (stdout is the generated text; if the template contains {out} the
              generated ids are read from that JSON file {"tokens":[...]} instead,
              and {tokens} is the prompt's ids)
  perplexity  {bin} perplexity -m {model} -f {file} --ctx {ctx} -t {threads}
              (the value is the last match of --ppl-regex in stdout, else in stderr)

To test the tool itself: --tinglado "PY tools/llama_ref.py fake-tinglado"
answers with llama.cpp, and must give KL = 0, identical tokens, same ppl.

The perplexity text: there is no public-domain corpus offline and repeating
text makes perplexity meaningless, so `make-ppl-text` composes one from the
docstrings of a fixed list of Python standard-library modules (varied
technical English, present on every machine with Python), cleaned and
de-duplicated, until it has --min-tokens tokens under the given model's
tokenizer.  The text depends on the Python version, so the report records the
version and the text's sha256; both implementations always read the same file.

Python is allowed in tools/ only.
"""
import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_ref  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tools" / "parity_corpus"
DEFAULT_MODEL = Path(os.environ.get("TINGLADO_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinglado")) / "models" / "gemma-3-270m-q4_k_m.gguf"

LOGITS_CMD = "{bin} logits -m {model} --tokens {tokens} --dump-logits {out} -t {threads} --ctx {ctx}"
RUN_CMD = "{bin} run -m {model} -p {prompt} -n {n} --temp 0 --raw -t {threads}"
PPL_CMD = "{bin} perplexity -m {model} -f {file} --ctx {ctx} -t {threads}"
PPL_REGEX = r"(?i)\b(?:ppl|perplexity)\b\s*[=:]?\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"


# ---------------------------------------------------------------------------
# running tinglado
# ---------------------------------------------------------------------------
def expand(template, binary, **kw):
    """shlex-split the template, then substitute each word; a word that is
    exactly {bin} expands to the (possibly several) words of `binary`."""
    argv = []
    for word in shlex.split(template):
        if word == "{bin}":
            argv.extend(shlex.split(binary))
        else:
            argv.append(word.format(bin=binary, **kw))
    return argv


def run_cmd(argv, timeout):
    t0 = time.time()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    dt = time.time() - t0
    if p.returncode != 0:
        raise RuntimeError(f"command failed (exit {p.returncode}): {shlex.join(argv)}\n"
                           + p.stderr.decode("utf-8", "replace")[-2000:])
    return p.stdout, p.stderr, dt


# ---------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------
def corpus_docs(pattern=None):
    files = sorted(CORPUS.glob("*.txt"))
    if pattern:
        rx = re.compile(pattern)
        files = [f for f in files if rx.search(f.name)]
    return [(f.stem, f.read_bytes()) for f in files]


def split_tokens(tokens, max_tokens, bos):
    """Documents longer than max_tokens are cut into windows; every window
    after the first starts with BOS again (a fresh sequence)."""
    if len(tokens) <= max_tokens:
        return [tokens]
    out = [tokens[:max_tokens]]
    rest = tokens[max_tokens:]
    step = max_tokens - 1
    while rest:
        out.append([bos] + rest[:step])
        rest = rest[step:]
    return out


def documents(llm, max_tokens, pattern=None, max_positions=None, max_doc_tokens=None):
    """[(name, tokens)] for the corpus under this model's tokenizer."""
    docs = []
    total = 0
    bos = llama_ref.bos_id(llm)
    for name, text in corpus_docs(pattern):
        toks = llama_ref.tokenize(llm, text, add_bos=True)
        if max_doc_tokens:
            toks = toks[:max_doc_tokens]
        parts = split_tokens(toks, max_tokens, bos)
        for k, part in enumerate(parts):
            if max_positions and total >= max_positions:
                return docs
            if max_positions and total + len(part) > max_positions:
                part = part[:max_positions - total]
            docs.append((name if len(parts) == 1 else f"{name}#{k}", part))
            total += len(part)
    return docs


# ---------------------------------------------------------------------------
# teacher-forced comparison
# ---------------------------------------------------------------------------
class Stats:
    """Accumulates per-position comparisons of reference vs candidate logits."""

    def __init__(self, near_tie):
        self.near_tie = near_tie
        self.n = 0
        self.agree = 0
        self.kl_sum = 0.0
        self.kl_max = 0.0
        self.kl_argmax = None
        self.dl_sum = 0.0        # sum over positions of mean |dlogit| over the vocab
        self.dl_max = 0.0
        self.dlp_max = 0.0       # max |dlogprob| over the reference top-16
        self.nonfinite = 0
        self.ref_top1p = 0.0
        self.ref_entropy = 0.0
        self.disagreements = []
        self.kl_values = []
        self.per_doc = {}        # doc -> {"kl": [...], "max_abs_dlogit": [...]} (for --per-position)

    def add(self, doc, ref, cand, block=64):
        n = ref.shape[0]
        for s in range(0, n, block):
            r = ref[s:s + block].astype(np.float64)
            c = cand[s:s + block].astype(np.float64)
            bad = ~np.isfinite(c).all(axis=1)
            lr, _ = llama_ref.log_softmax64(r)
            pr = np.exp(lr)
            with np.errstate(invalid="ignore", over="ignore"):
                lc, _ = llama_ref.log_softmax64(np.where(np.isfinite(c), c, -np.inf))
                kl = (pr * (lr - lc)).sum(axis=1)
            kl[bad] = np.inf
            dl = np.abs(r - c)
            top_r = r.argmax(axis=1)
            top_c = np.where(bad, -1, np.nan_to_num(c, nan=-np.inf).argmax(axis=1))
            self.ref_top1p += float(pr.max(axis=1).sum())
            self.ref_entropy += float((-(pr * lr)).sum(axis=1).sum())
            for i in range(r.shape[0]):
                pos = s + i
                self.n += 1
                if bad[i]:
                    self.nonfinite += 1
                self.kl_values.append(float(kl[i]))
                pd = self.per_doc.setdefault(doc, {"kl": [], "max_abs_dlogit": []})
                pd["kl"].append(float(kl[i]))
                pd["max_abs_dlogit"].append(float(dl[i].max()) if not bad[i] else float("inf"))
                self.kl_sum += float(kl[i])
                if kl[i] > self.kl_max or self.kl_argmax is None:
                    self.kl_max = float(kl[i])
                    self.kl_argmax = (doc, pos)
                dmean = float(dl[i].mean()) if not bad[i] else float("inf")
                dmax = float(dl[i].max()) if not bad[i] else float("inf")
                self.dl_sum += dmean
                self.dl_max = max(self.dl_max, dmax)
                t16 = np.argpartition(-r[i], 16)[:16]
                self.dlp_max = max(self.dlp_max, float(np.abs(lr[i, t16] - lc[i, t16]).max()))
                if top_r[i] == top_c[i]:
                    self.agree += 1
                else:
                    srt = np.sort(r[i])
                    margin = float(srt[-1] - srt[-2])
                    cand_margin = float(r[i, top_r[i]] - r[i, top_c[i]]) if top_c[i] >= 0 else float("inf")
                    self.disagreements.append(dict(
                        doc=doc, pos=pos, ref_top1=int(top_r[i]), tg_top1=int(top_c[i]),
                        ref_margin_top2=margin, ref_margin_to_tg_choice=cand_margin,
                        max_abs_dlogit=dmax, near_tie=cand_margin < self.near_tie))

    def summary(self):
        n = max(self.n, 1)
        kl = np.array(self.kl_values) if self.kl_values else np.zeros(1)
        return dict(
            positions=self.n,
            top1_agreement_pct=100.0 * self.agree / n,
            top1_disagreements=self.n - self.agree,
            kl_mean=self.kl_sum / n,
            kl_median=float(np.median(kl)),
            kl_p99=float(np.quantile(kl, 0.99)),
            kl_max=self.kl_max,
            kl_max_at=self.kl_argmax,
            abs_dlogit_mean=self.dl_sum / n,
            abs_dlogit_max=self.dl_max,
            abs_dlogprob_top16_max=self.dlp_max,
            nonfinite_rows=self.nonfinite,
            ref_top1_prob_mean=self.ref_top1p / n,
            ref_entropy_mean=self.ref_entropy / n,
            near_tie_threshold=self.near_tie,
            disagreements=self.disagreements,
        )


def teacher(a, model, llm=None):
    llm = llm or llama_ref.load(model, n_ctx=a.max_tokens, n_threads=a.threads, n_ubatch=a.ref_ubatch)
    docs = documents(llm, a.max_tokens, a.docs, a.max_positions)
    st = Stats(a.near_tie)
    nv = llama_ref.n_vocab(llm)
    t_ref = t_tg = 0.0
    with tempfile.TemporaryDirectory(prefix="tg-parity-") as tmp:
        for name, toks in docs:
            t0 = time.time()
            ref = llama_ref.teacher_forced_logits(llm, toks)
            t_ref += time.time() - t0
            tok_path = os.path.join(tmp, "tokens.json")
            out_path = os.path.join(tmp, "logits.f32")
            with open(tok_path, "w") as f:
                json.dump({"tokens": [int(t) for t in toks]}, f)
            if os.path.exists(out_path):
                os.unlink(out_path)
            argv = expand(a.logits_cmd, a.tinglado, model=model, tokens=tok_path, out=out_path,
                          threads=a.threads, ctx=a.max_tokens, n=len(toks), prompt="", file="")
            _, _, dt = run_cmd(argv, a.timeout)
            t_tg += dt
            got = np.fromfile(out_path, dtype="<f4")
            if got.size != len(toks) * nv:
                raise RuntimeError(f"{name}: tinglado wrote {got.size} floats, expected "
                                   f"{len(toks)} x {nv} = {len(toks) * nv}")
            st.add(name, ref, got.reshape(len(toks), nv))
            del ref, got
            if a.verbose:
                print(f"  {name}: {len(toks)} positions", file=sys.stderr)
    r = st.summary()
    r.update(documents=len(docs), seconds_llama=t_ref, seconds_tinglado=t_tg)
    if a.per_position:
        r["per_position"] = st.per_doc
    return r


def print_teacher(model, r, show=10):
    print(f"teacher-forced parity: {model}")
    print(f"  positions {r['positions']} in {r['documents']} documents")
    print(f"  top-1 agreement {r['top1_agreement_pct']:.3f}%  ({r['top1_disagreements']} differ)")
    print(f"  KL(llama.cpp||tinglado) mean {r['kl_mean']:.3e}  median {r['kl_median']:.3e}  "
          f"p99 {r['kl_p99']:.3e}  max {r['kl_max']:.3e} at {r['kl_max_at']}")
    print(f"  |dlogit| mean {r['abs_dlogit_mean']:.3e}  max {r['abs_dlogit_max']:.3e};  "
          f"|dlogprob| over ref top-16 max {r['abs_dlogprob_top16_max']:.3e}")
    print(f"  reference distribution: mean top-1 prob {r['ref_top1_prob_mean']:.3f}, "
          f"mean entropy {r['ref_entropy_mean']:.3f} nats")
    nt = sum(1 for d in r["disagreements"] if d["near_tie"])
    if r["disagreements"]:
        print(f"  disagreements: {nt} near-ties (llama.cpp margin < {r['near_tie_threshold']}), "
              f"{len(r['disagreements']) - nt} not")
    if r["nonfinite_rows"]:
        print(f"  NON-FINITE rows from tinglado: {r['nonfinite_rows']}")
    for d in r["disagreements"][:show]:
        print(f"    {d['doc']}@{d['pos']}: llama {d['ref_top1']} vs tinglado {d['tg_top1']}, "
              f"llama margin to tinglado's pick {d['ref_margin_to_tg_choice']:.4f} "
              f"(top-2 {d['ref_margin_top2']:.4f}), max|dlogit| {d['max_abs_dlogit']:.2e}"
              f"{'  near-tie' if d['near_tie'] else '  NOT a near-tie'}")
    if len(r["disagreements"]) > show:
        print(f"    ... {len(r['disagreements']) - show} more in the JSON report")


# ---------------------------------------------------------------------------
# greedy generation
# ---------------------------------------------------------------------------
def prefix_chars(llm, toks):
    """Character length of the detokenized prefixes toks[:k] for k = 0..len."""
    return [len(llama_ref.detokenize(llm, toks[:k])) for k in range(len(toks) + 1)]


def greedy_cmp(a, model, llm=None):
    llm = llm or llama_ref.load(model, n_ctx=max(1024, a.max_tokens), n_threads=a.threads)
    prompts = json.loads((CORPUS / "prompts.json").read_text())["prompts"]
    results = []
    with tempfile.TemporaryDirectory(prefix="tg-greedy-") as tmp:
        for pi, prompt in enumerate(prompts):
            ptoks = llama_ref.tokenize(llm, prompt, add_bos=True)
            ref, margins = llama_ref.greedy(llm, ptoks, a.n_predict)
            ref_text = llama_ref.detokenize(llm, ref)
            tok_path = os.path.join(tmp, "prompt.json")
            out_path = os.path.join(tmp, "gen.json")
            with open(tok_path, "w") as f:
                json.dump({"tokens": [int(t) for t in ptoks]}, f)
            if os.path.exists(out_path):
                os.unlink(out_path)
            argv = expand(a.run_cmd, a.tinglado, model=model, prompt=prompt, tokens=tok_path, out=out_path,
                          n=a.n_predict, threads=a.threads, ctx=max(1024, a.max_tokens), file="")
            stdout, _, dt = run_cmd(argv, a.timeout)
            res = dict(prompt=prompt, n_ref=len(ref), seconds_tinglado=dt)
            if "{out}" in a.run_cmd:
                got = [int(t) for t in json.load(open(out_path))["tokens"]]
                first = next((k for k in range(min(len(ref), len(got))) if ref[k] != got[k]), None)
                if first is None and len(ref) != len(got):
                    first = min(len(ref), len(got))
                res.update(mode="tokens", n_tinglado=len(got))
            else:
                got_text = stdout.decode("utf-8", "replace")
                if a.strip_prompt and got_text.startswith(prompt):
                    got_text = got_text[len(prompt):]
                if got_text.endswith("\n") and not ref_text.endswith("\n"):
                    got_text = got_text[:-1]  # a final newline printed by the CLI
                c = next((k for k in range(min(len(ref_text), len(got_text))) if ref_text[k] != got_text[k]), None)
                if c is None and len(ref_text) != len(got_text):
                    c = min(len(ref_text), len(got_text))
                first = None
                if c is not None:
                    pc = prefix_chars(llm, ref)
                    first = next((k for k in range(len(ref)) if pc[k + 1] > c), len(ref))
                res.update(mode="text", first_char_diff=c, tinglado_text=got_text[:400], llama_text=ref_text[:400])
            res["first_diff_token"] = first
            if first is not None and first < len(margins):
                res["llama_margin_at_diff"] = margins[first]
                res["near_tie"] = margins[first] < a.near_tie
            res["min_llama_margin"] = min(margins) if margins else None
            results.append(res)
    return results


def print_greedy(model, res):
    print(f"greedy generation ({len(res)} prompts): {model}")
    for r in res:
        p = r["prompt"].replace("\n", "\\n")[:40]
        if r["first_diff_token"] is None:
            print(f"  '{p}': identical for {r['n_ref']} tokens (smallest llama top-2 margin {r['min_llama_margin']:.4f})")
        else:
            m = r.get("llama_margin_at_diff")
            ms = f"llama top-2 margin there {m:.4f}{' (near-tie)' if r.get('near_tie') else ''}" if m is not None else "length differs"
            print(f"  '{p}': first difference at generated token {r['first_diff_token']} of {r['n_ref']}; {ms}")


# ---------------------------------------------------------------------------
# perplexity
# ---------------------------------------------------------------------------
PPL_MODULES = [
    "argparse", "collections", "json", "re", "string", "textwrap", "functools", "itertools", "pathlib",
    "subprocess", "threading", "socket", "datetime", "calendar", "decimal", "fractions", "statistics",
    "random", "heapq", "bisect", "shutil", "tempfile", "logging", "unittest", "doctest", "pickle", "csv",
    "sqlite3", "zipfile", "tarfile", "gzip", "hashlib", "hmac", "secrets", "uuid", "enum", "dataclasses",
    "typing", "inspect", "ast", "tokenize", "codecs", "locale", "gettext", "sched", "queue", "contextlib",
    "abc", "copy", "pprint", "difflib", "shlex", "configparser", "email.message", "http.client",
    "urllib.parse", "urllib.request", "xml.dom.minidom", "html.parser", "ftplib", "smtplib", "imaplib",
    "mailbox", "mimetypes", "base64", "binascii", "struct", "array", "weakref", "types", "operator",
    "numbers", "cmath", "math", "os", "io", "time", "signal", "select", "selectors", "asyncio.events",
    "concurrent.futures", "multiprocessing.pool", "optparse", "getopt", "fnmatch", "glob", "filecmp",
    "stat", "platform", "errno", "warnings", "traceback", "timeit", "trace", "cProfile", "pstats",
]


def ppl_text(min_chars):
    """Docstrings of PPL_MODULES, module by module (module doc, then its public
    classes and functions in name order), cleaned and de-duplicated."""
    import importlib
    import inspect

    seen = set()
    parts = []
    size = 0
    for modname in PPL_MODULES:
        try:
            mod = importlib.import_module(modname)
        except Exception:
            continue
        docs = [inspect.getdoc(mod)]
        for name in sorted(dir(mod)):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name, None)
            if (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)) and \
                    getattr(obj, "__module__", None) == mod.__name__:
                docs.append(inspect.getdoc(obj))
                if inspect.isclass(obj):
                    for mname in sorted(vars(obj)):
                        if mname.startswith("_"):
                            continue
                        docs.append(inspect.getdoc(getattr(obj, mname, None)) if callable(getattr(obj, mname, None)) else None)
        for d in docs:
            if not d or len(d) < 80:
                continue
            d = d.strip()
            if d in seen:
                continue
            seen.add(d)
            parts.append(d)
            size += len(d) + 2
        if size >= min_chars:
            break
    return "\n\n".join(parts) + "\n"


def make_ppl_text(path, model, min_tokens):
    llm = llama_ref.load_vocab(model)
    chars = min_tokens * 4
    while True:
        text = ppl_text(chars)
        n = len(llama_ref.tokenize(llm, text, add_bos=True))
        if n >= min_tokens or chars > 50 * min_tokens:
            break
        chars = int(chars * 1.3)
    Path(path).write_text(text, encoding="utf-8")
    return n


def ppl_cmp(a, model):
    text_path = a.text
    if not text_path:
        text_path = os.path.join(tempfile.gettempdir(), f"tinglado-ppl-text-py{sys.version_info[0]}{sys.version_info[1]}.txt")
        if not os.path.exists(text_path):
            make_ppl_text(text_path, model, a.min_tokens)
    llm = llama_ref.load(model, n_ctx=a.ppl_ctx, n_threads=a.threads)
    toks = llama_ref.tokenize(llm, Path(text_path).read_bytes(), add_bos=True)
    t0 = time.time()
    ref = llama_ref.perplexity(llm, toks, a.ppl_ctx)
    t_ref = time.time() - t0
    del llm
    argv = expand(a.ppl_cmd, a.tinglado, model=model, file=text_path, ctx=a.ppl_ctx, threads=a.threads,
                  tokens="", out="", prompt="", n=0)
    stdout, stderr, dt = run_cmd(argv, a.timeout)
    # the last match in stdout; stderr (progress lines) only if stdout has none
    m = re.findall(a.ppl_regex, stdout.decode("utf-8", "replace")) or \
        re.findall(a.ppl_regex, stderr.decode("utf-8", "replace"))
    tg = float(m[-1]) if m else None
    return dict(text=text_path, text_sha256=llama_ref.file_sha256(text_path), python=sys.version.split()[0],
                tokens=len(toks), n_ctx=a.ppl_ctx, n_chunk=ref["n_chunk"], scored=ref["count"],
                ppl_llama=ref["ppl"], ppl_llama_err=ref["ppl_err"], ppl_tinglado=tg,
                rel_diff_pct=(100.0 * (tg - ref["ppl"]) / ref["ppl"]) if tg is not None else None,
                seconds_llama=t_ref, seconds_tinglado=dt)


def print_ppl(model, r):
    print(f"perplexity: {model}")
    print(f"  text {r['text']} ({r['tokens']} tokens, sha256 {r['text_sha256'][:16]}, python {r['python']}), "
          f"ctx {r['n_ctx']}, {r['n_chunk']} chunks, {r['scored']} scored")
    print(f"  llama.cpp {r['ppl_llama']:.4f} +/- {r['ppl_llama_err']:.4f}   tinglado "
          + (f"{r['ppl_tinglado']:.4f}   diff {r['rel_diff_pct']:+.4f}%" if r["ppl_tinglado"] is not None
             else "(no match for --ppl-regex in its output)"))


# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("what", choices=["teacher", "greedy", "ppl", "all", "make-ppl-text"])
    ap.add_argument("-m", "--model", action="append", help="GGUF file (repeatable; default: the default model)")
    ap.add_argument("--tinglado", default=str(REPO / "build" / "rel" / "tinglado"),
                    help="the tinglado binary, or a command prefix (default build/rel/tinglado)")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=512, help="document length cap (= n_ctx for teacher forcing)")
    ap.add_argument("--max-positions", type=int, help="stop after this many positions")
    ap.add_argument("--docs", help="regex over corpus file names")
    ap.add_argument("--ref-ubatch", type=int,
                    help="llama.cpp ubatch for the reference (default: the whole document; 1 = its decode path)")
    ap.add_argument("--near-tie", type=float, default=0.05,
                    help="a disagreement is a near-tie if llama.cpp's logit margin is below this (nats)")
    ap.add_argument("--logits-cmd", default=LOGITS_CMD)
    ap.add_argument("--run-cmd", default=RUN_CMD)
    ap.add_argument("--strip-prompt", action="store_true", help="run's stdout echoes the prompt: strip it")
    ap.add_argument("-n", "--n-predict", type=int, default=128)
    ap.add_argument("--ppl-cmd", default=PPL_CMD)
    ap.add_argument("--ppl-regex", default=PPL_REGEX)
    ap.add_argument("--ppl-ctx", type=int, default=512)
    ap.add_argument("--text", help="perplexity text (default: make-ppl-text's output in $TMPDIR)")
    ap.add_argument("--min-tokens", type=int, default=12000, help="make-ppl-text: at least this many tokens")
    ap.add_argument("--out", help="make-ppl-text: output file")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--json", help="write the full report as JSON here")
    ap.add_argument("--show", type=int, default=10, help="teacher: print this many disagreements")
    ap.add_argument("--per-position", action="store_true",
                    help="teacher: put each position's KL and max |dlogit| in the JSON (where does it diverge?)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    models = a.model or [str(DEFAULT_MODEL)]

    if a.what == "make-ppl-text":
        out = a.out or "ppl-text.txt"
        n = make_ppl_text(out, models[0], a.min_tokens)
        print(f"{out}: {n} tokens under {models[0]}, python {sys.version.split()[0]}, "
              f"sha256 {llama_ref.file_sha256(out)}")
        return 0

    report = dict(llama_cpp_python=llama_ref.version(), threads=a.threads, models={})
    status = 0
    for model in models:
        rep = {}
        try:
            if a.what in ("teacher", "all"):
                rep["teacher"] = teacher(a, model)
                print_teacher(model, rep["teacher"], a.show)
            if a.what in ("greedy", "all"):
                rep["greedy"] = greedy_cmp(a, model)
                print_greedy(model, rep["greedy"])
            if a.what in ("ppl", "all"):
                rep["ppl"] = ppl_cmp(a, model)
                print_ppl(model, rep["ppl"])
        except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError, ValueError) as e:
            print(f"parity: {model}: {e}", file=sys.stderr)
            rep["error"] = str(e)
            status = 1
        report["models"][model] = rep
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1, default=float)
    return status


if __name__ == "__main__":
    sys.exit(main())
