#!/usr/bin/env python3
"""llama_ref.py - drive llama.cpp (through llama-cpp-python) as the numerical
reference: load a GGUF, tokenize, teacher-forced logits at every position,
greedy generation, perplexity the way llama.cpp's `perplexity` tool computes it.

Shared by tools/parity.py, tools/gen_logits_golden.py and bench/.  It also
contains a stand-in for the tinglado CLI (`fake-tinglado`, see the bottom),
which answers `logits`, `run` and `perplexity` with llama.cpp itself, so the
parity tooling can be tested before the forward pass exists: it must report
KL = 0 and identical tokens.

The llama.cpp configuration used everywhere (and that tinglado must match to
be compared at all; docs/parity.md explains each point):
  * flash attention OFF (llama-cpp-python's Llama() passes
    LLAMA_FLASH_ATTN_TYPE_DISABLED unless flash_attn=True; llama.cpp's own
    default would be AUTO);
  * KV cache F16 for K and V (llama.cpp's default type_k/type_v);
  * n_batch = n_ubatch = n_ctx, so a document of <= n_ctx tokens is one
    llama_decode call (one ubatch) and every position outputs logits;
  * swa_full = true (llama.cpp's default): the SWA layers keep a full-size
    cache, masking does the windowing;
  * n_threads = n_threads_batch = the requested thread count (default 2);
  * weights mmapped, CPU backend with its "extra" buffer types (REPACK of
    Q4_0/Q4_K/IQ4_NL/Q8_0 into interleaved layouts when the CPU has AVX2)
    and llamafile sgemm for batched matmuls - these reorder float sums only.

Python is allowed in tools/ only; the product never imports this.
"""
import ctypes
import hashlib
import json
import math
import os
import sys

import numpy as np

DEFAULT_THREADS = 2


def _quiet_logs():
    """Silence llama.cpp's log callback (it writes to stderr otherwise)."""
    import llama_cpp

    if getattr(_quiet_logs, "done", False):
        return

    @llama_cpp.llama_log_callback
    def _cb(level, text, user_data):  # noqa: ARG001
        if level == 4:  # GGML_LOG_LEVEL_ERROR: keep errors visible
            sys.stderr.write(text.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(_cb, ctypes.c_void_p(0))
    _quiet_logs.cb = _cb  # keep a reference
    _quiet_logs.done = True


def load(model_path, n_ctx=512, n_threads=DEFAULT_THREADS, logits_all=True, verbose=False, n_ubatch=None):
    """A llama_cpp.Llama for teacher forcing: every position of one batch gets
    logits, the whole context fits one batch and one ubatch.  n_ubatch=1
    instead decodes one token per llama_decode (llama.cpp's generation path,
    whose kernels differ: see docs/parity.md)."""
    import llama_cpp

    if not verbose:
        _quiet_logs()
    if not os.path.exists(model_path):
        raise FileNotFoundError(model_path)
    return llama_cpp.Llama(
        model_path=str(model_path),
        n_ctx=n_ctx,
        n_batch=n_ubatch or n_ctx,
        n_ubatch=n_ubatch or n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        logits_all=logits_all,
        flash_attn=False,
        seed=0,
        verbose=verbose,
    )


def load_vocab(model_path):
    """Tokenizer only (no weights): for counting tokens."""
    import llama_cpp

    _quiet_logs()
    return llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)


def tokenize(llm, text, add_bos=True, special=False):
    """llama.cpp's tokenization of `text` (str or bytes)."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return list(llm.tokenize(text, add_bos=add_bos, special=special))


def detokenize(llm, tokens):
    return llm.detokenize(list(tokens)).decode("utf-8", "replace")


def n_vocab(llm):
    return llm.n_vocab()


def bos_id(llm):
    return llm.token_bos()


def is_eog(llm, tok):
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok))


def teacher_forced_logits(llm, tokens):
    """Logits after each token: float32 [len(tokens), n_vocab]; row i is the
    distribution of token i+1.  The KV cache is cleared first; the sequence
    is decoded as one batch when it fits n_batch (= n_ctx)."""
    n = len(tokens)
    if n == 0:
        return np.zeros((0, llm.n_vocab()), np.float32)
    if n > llm.n_ctx():
        raise ValueError(f"{n} tokens do not fit n_ctx={llm.n_ctx()}")
    llm.reset()
    llm.eval(list(tokens))
    return np.array(llm.scores[:n], dtype=np.float32, copy=True)


def log_softmax64(logits):
    """Row-wise log-softmax in float64 (for KL and perplexity)."""
    x = np.asarray(logits, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return x - lse, lse[..., 0]


def top2_margin(row):
    """Logit gap between the best and the second best token of one row."""
    i1, i2 = np.argpartition(-row, 1)[:2]
    a, b = float(row[i1]), float(row[i2])
    return abs(a - b)


def greedy(llm, prompt_tokens, n_predict, stop_at_eog=True):
    """Greedy decoding the way a CLI does it: the prompt in one batch, then one
    token per llama_decode.  Returns (tokens, margins) where margins[k] is the
    top-1 minus top-2 logit at the step that chose tokens[k].  Ties in argmax
    go to the lowest id (numpy's argmax)."""
    llm.reset()
    llm.eval(list(prompt_tokens))
    out, margins = [], []
    for _ in range(n_predict):
        row = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        tok = int(np.argmax(row))
        margins.append(top2_margin(row))
        out.append(tok)
        if stop_at_eog and is_eog(llm, tok):
            break
        if llm.n_tokens >= llm.n_ctx():
            break
        llm.eval([tok])
    return out, margins


def perplexity(llm, tokens, n_ctx, add_bos=True, bos=None):
    """Perplexity exactly as llama.cpp's tools/perplexity (perplexity(), no
    stride): `tokens` is the whole text tokenized with BOS; it is cut into
    len(tokens)//n_ctx non-overlapping chunks of n_ctx tokens; the first token
    of each chunk is replaced by BOS (when the vocab adds BOS); each chunk is
    evaluated from an empty cache; only positions n_ctx/2 .. n_ctx-2 are
    scored, predicting token j+1 from the logits at j.  Returns a dict with
    ppl, the +/- figure llama.cpp prints, the mean nll, the count and the
    per-chunk running ppl.  `llm` must have n_ctx >= n_ctx."""
    if len(tokens) < 2 * n_ctx:
        raise ValueError(f"need at least {2 * n_ctx} tokens for n_ctx={n_ctx}, have {len(tokens)}")
    if bos is None:
        bos = llm.token_bos()
    n_chunk = len(tokens) // n_ctx
    first = n_ctx // 2
    nll = nll2 = 0.0
    count = 0
    running = []
    for i in range(n_chunk):
        chunk = list(tokens[i * n_ctx:(i + 1) * n_ctx])
        if add_bos:
            chunk[0] = bos
        logits = teacher_forced_logits(llm, chunk)
        lp, _ = log_softmax64(logits[first:n_ctx - 1])
        tgt = np.array(chunk[first + 1:n_ctx])
        v = -lp[np.arange(len(tgt)), tgt]
        nll += float(v.sum())
        nll2 += float((v * v).sum())
        count += len(tgt)
        running.append(math.exp(nll / count))
    mean = nll / count
    var = nll2 / count - mean * mean
    err = math.sqrt(var / (count - 1)) if var > 0 else float("nan")
    ppl = math.exp(mean)
    return dict(ppl=ppl, ppl_err=err * ppl, mean_nll=mean, count=count, n_chunk=n_chunk,
                n_ctx=n_ctx, running=running)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def version():
    import llama_cpp

    return llama_cpp.__version__


def config_summary(llm):
    """The context configuration actually in effect (for reports)."""
    cp = llm.context_params
    return dict(llama_cpp_python=version(), n_ctx=llm.n_ctx(), n_batch=cp.n_batch, n_ubatch=cp.n_ubatch,
                n_threads=cp.n_threads, n_threads_batch=cp.n_threads_batch,
                flash_attn_type=int(cp.flash_attn_type), type_k=int(cp.type_k), type_v=int(cp.type_v),
                swa_full=bool(cp.swa_full))


# ---------------------------------------------------------------------------
# intermediate tensors (for finding where a forward pass diverges)
# ---------------------------------------------------------------------------
_GGML_F32, _GGML_F16, _GGML_I32 = 0, 1, 26


def _ggml_lib():
    import llama_cpp

    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    for name in ("libggml-base.so", "libggml-base.dylib"):
        p = os.path.join(libdir, name)
        if os.path.exists(p):
            lib = ctypes.CDLL(p)
            break
    else:
        raise RuntimeError(f"libggml-base not found in {libdir}")
    lib.ggml_get_name.restype = ctypes.c_char_p
    lib.ggml_get_name.argtypes = [ctypes.c_void_p]
    lib.ggml_is_contiguous.restype = ctypes.c_bool
    lib.ggml_is_contiguous.argtypes = [ctypes.c_void_p]
    lib.ggml_nbytes.restype = ctypes.c_size_t
    lib.ggml_nbytes.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_tensor_get.restype = None
    lib.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
    return lib


def dump_tensors(model_path, tokens, pattern, n_threads=DEFAULT_THREADS, n_ctx=None, n_ubatch=None):
    """Run one teacher-forced decode of `tokens` in llama.cpp and capture the
    graph's intermediate tensors whose names fully match the regex `pattern`
    (llama.cpp names them "<what>-<layer>": attn_norm-0, Qcur-0, Kcur-0,
    Vcur-0, kqv_out-0, attn_out-0, ffn_inp-0, ffn_norm-0, ffn_out-0, l_out-0,
    ffn_moe_logits-0, ffn_moe_probs-0, ffn_moe_topk-0, ffn_moe_weights-0,
    result_norm, result_output, ...).  Returns (dict name -> numpy array in
    ggml order reversed, i.e. [.., ne1, ne0], logits [n, n_vocab]).  Only
    F32/F16/I32 tensors are captured (views are read through their strides);
    a name set on several nodes gets "#1", "#2", ... in graph order.  Use one
    ubatch (the default) so each tensor covers all tokens.  With the callback
    set llama.cpp computes the same logits bit for bit (checked on the
    synthetic models)."""
    import re

    import llama_cpp

    _quiet_logs()
    lib = _ggml_lib()
    rx = re.compile(pattern)
    got = {}

    @llama_cpp.ggml_backend_sched_eval_callback
    def cb(t, ask, user_data):  # noqa: ARG001
        name = lib.ggml_get_name(t).decode("utf-8", "replace")
        if ask:
            return bool(rx.fullmatch(name))
        typ = ctypes.c_int.from_address(t).value
        ne = list((ctypes.c_int64 * 4).from_address(t + 16))
        if typ not in (_GGML_F32, _GGML_F16, _GGML_I32):
            return True
        dt = {_GGML_F32: np.float32, _GGML_F16: np.float16, _GGML_I32: np.int32}[typ]
        nb = list((ctypes.c_size_t * 4).from_address(t + 48))
        span = lib.ggml_nbytes(t)  # for a view: the bytes from the first to the last element
        raw = np.empty(span, dtype=np.uint8)
        lib.ggml_backend_tensor_get(t, raw.ctypes.data, 0, span)
        full = np.lib.stride_tricks.as_strided(raw.view(dt) if span % np.dtype(dt).itemsize == 0 else
                                               np.frombuffer(raw.tobytes() + bytes(8), dtype=dt),
                                               shape=ne[::-1], strides=nb[::-1])
        arr = np.ascontiguousarray(full)
        arr = arr.squeeze(axis=tuple(i for i in range(2) if ne[3 - i] == 1) or None)
        # the same name can be set on several nodes (Kcur-0 before and after
        # RoPE): later ones get "#1", "#2", ... in graph order
        k, i = name, 0
        while k in got:
            i += 1
            k = f"{name}#{i}"
        got[k] = arr
        return True

    n = len(tokens)
    n_ctx = n_ctx or max(n, 8)
    mparams = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(str(model_path).encode(), mparams)
    if not model:
        raise RuntimeError(f"cannot load {model_path}")
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx = n_ctx
    cparams.n_batch = n_ctx
    cparams.n_ubatch = n_ubatch or n_ctx
    cparams.n_threads = n_threads
    cparams.n_threads_batch = n_threads
    cparams.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cparams.cb_eval = cb
    cparams.cb_eval_user_data = None
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    try:
        batch = llama_cpp.llama_batch_init(n, 0, 1)
        try:
            for i, tok in enumerate(tokens):
                batch.token[i] = int(tok)
                batch.pos[i] = i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 1
            batch.n_tokens = n
            if llama_cpp.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            nv = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model))
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(ctx), shape=(n * nv,)).reshape(n, nv).copy()
        finally:
            llama_cpp.llama_batch_free(batch)
    finally:
        llama_cpp.llama_free(ctx)
        llama_cpp.llama_model_free(model)
    return got, logits


# ---------------------------------------------------------------------------
# fake-tinglado: the tinglado CLI's parity interface, answered by llama.cpp
# ---------------------------------------------------------------------------
def _fake_main(argv):
    """tinglado logits -m M --tokens F.json --dump-logits OUT.f32 [-t N] [--ctx N]
       tinglado run -m M (-p PROMPT | --tokens F.json) -n N --temp 0 [--raw] [--dump-tokens OUT.json]
       tinglado perplexity -m M -f FILE [--ctx N] [-t N]"""
    import argparse

    if not argv:
        print(_fake_main.__doc__, file=sys.stderr)
        return 1
    cmd, rest = argv[0], argv[1:]
    ap = argparse.ArgumentParser(prog=f"fake-tinglado {cmd}")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-t", "--threads", type=int, default=DEFAULT_THREADS)
    ap.add_argument("--ctx", type=int, default=0)
    if cmd == "logits":
        ap.add_argument("--tokens", required=True)
        ap.add_argument("--dump-logits", required=True)
        a = ap.parse_args(rest)
        toks = json.load(open(a.tokens))["tokens"]
        llm = load(a.model, n_ctx=max(a.ctx, len(toks), 8), n_threads=a.threads)
        teacher_forced_logits(llm, toks).astype("<f4").tofile(a.dump_logits)
        return 0
    if cmd == "run":
        ap.add_argument("-p", "--prompt")
        ap.add_argument("--tokens")
        ap.add_argument("-n", "--n-predict", type=int, default=128)
        ap.add_argument("--temp", type=float, default=0.0)
        ap.add_argument("--raw", action="store_true")
        ap.add_argument("--dump-tokens")
        a = ap.parse_args(rest)
        if a.temp != 0:
            print("fake-tinglado: only --temp 0", file=sys.stderr)
            return 1
        llm = load(a.model, n_ctx=a.ctx or 1024, n_threads=a.threads)
        prompt = json.load(open(a.tokens))["tokens"] if a.tokens else tokenize(llm, a.prompt)
        out, _ = greedy(llm, prompt, a.n_predict)
        if a.dump_tokens:
            json.dump({"tokens": out}, open(a.dump_tokens, "w"))
        sys.stdout.buffer.write(llm.detokenize(out))
        sys.stdout.flush()
        return 0
    if cmd == "perplexity":
        ap.add_argument("-f", "--file", required=True)
        a = ap.parse_args(rest)
        n_ctx = a.ctx or 512
        llm = load(a.model, n_ctx=n_ctx, n_threads=a.threads)
        toks = tokenize(llm, open(a.file, "rb").read())
        r = perplexity(llm, toks, n_ctx)
        print(f"Final estimate: PPL = {r['ppl']:.4f} +/- {r['ppl_err']:.5f}")
        return 0
    print(f"fake-tinglado: unknown command {cmd}", file=sys.stderr)
    return 1


def main(argv):
    if len(argv) >= 1 and argv[0] == "fake-tinglado":
        return _fake_main(argv[1:])
    if len(argv) >= 2 and argv[0] == "config":
        llm = load(argv[1], n_ctx=int(argv[2]) if len(argv) > 2 else 512)
        print(json.dumps(config_summary(llm), indent=1))
        return 0
    print("usage: llama_ref.py fake-tinglado {logits|run|perplexity} ...\n"
          "       llama_ref.py config MODEL [N_CTX]", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
