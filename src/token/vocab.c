/*
 * vocab.c — a tokenizer vocabulary from GGUF metadata, and tg_tokenize().
 *
 * Loading follows llama.cpp (src/llama-vocab.cpp) step by step, because the
 * ids a prompt becomes depend on every one of its fix-ups: per-kind default
 * special ids and flags, the GGUF overrides, the tokens it promotes to
 * CONTROL by their text, the list of tokens matched inside text, the
 * end-of-generation set.  Unlike llama.cpp, a malformed vocabulary is an
 * error with a message (duplicate texts, short arrays, wrong value types,
 * out-of-range ids that matter), never an assertion.
 *
 * Tokenizing = split the text around special-token matches (the "partition"),
 * then hand each raw fragment to the SPM or BPE tokenizer, adding BOS/EOS.
 * The vocabulary owns copies of everything; the tg_gguf may be closed after.
 */
#include "token/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No real vocabulary has a token anywhere near this long; a longer one is a
 * corrupt file, and the bound keeps every later length computation small. */
#define TG__MAX_TOKEN_LEN (64u * 1024u)

/* ------------------------------------------------------------------ */
/* Token lists and the text → id index                                 */
/* ------------------------------------------------------------------ */

bool tg__tokens_push(tg_tokens *t, tg_token id) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64, bytes;
        if (cap < t->cap || !tg__mul_size(cap, sizeof *t->ids, &bytes)) {
            tg__fail(TG_ERR_RANGE, "token list too long");
            return false;
        }
        tg_token *ids = tg__realloc(t->ids, bytes);
        if (!ids)
            return false;
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return true;
}

void tg_tokens_free(tg_tokens *t) {
    if (!t)
        return;
    free(t->ids);
    t->ids = NULL;
    t->n = t->cap = 0;
}

tg_token tg__vocab_lookup(const tg_vocab *v, const char *text, size_t len) {
    if (!v->index || len > v->max_token_len)
        return -1;
    size_t mask = v->index_cap - 1;
    for (size_t i = (size_t)tg__hash(text, len) & mask;; i = (i + 1) & mask) {
        int32_t id = v->index[i];
        if (id < 0)
            return -1;
        if (tg__str_eq(v->text[id], text, len))
            return id;
    }
}

/* Open addressing with linear probing at load factor ≤ 1/2.  A text seen
 * twice is an error: llama.cpp asserts on it, and which id a lookup would
 * return would be arbitrary. */
static tg_status index_build(tg_vocab *v, const char *path) {
    size_t cap = 16;
    while (cap < (size_t)v->n_tokens * 2)
        cap *= 2;
    v->index = tg__malloc(cap * sizeof *v->index);
    if (!v->index)
        return TG_ERR_NOMEM;
    memset(v->index, 0xff, cap * sizeof *v->index);
    v->index_cap = cap;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        tg_str s = v->text[id];
        size_t i = (size_t)tg__hash(s.ptr, s.len) & (cap - 1);
        while (v->index[i] >= 0) {
            if (tg__str_eq(v->text[v->index[i]], s.ptr, s.len))
                return tg__fail(TG_ERR_FORMAT,
                                "%s: tokenizer.ggml.tokens: tokens %d and %d have the same text "
                                "'%.*s'",
                                path, v->index[i], id, (int)TG_MIN(s.len, 64), s.ptr);
            i = (i + 1) & (cap - 1);
        }
        v->index[i] = id;
    }
    return TG_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

static void copy_name(char *dst, size_t cap, tg_str s) {
    size_t n = TG_MIN(s.len, cap - 1);
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static bool name_is(const char *name, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(name, *list))
            return true;
    return false;
}

/* tokenizer.ggml.model → kind and llama.cpp's per-kind defaults. */
static tg_status load_kind(tg_vocab *v, const tg_gguf *g, const char *path) {
    tg_str model = {0}, pre = {0};
    tg_status s = tg_gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (s == TG_ERR_NOT_FOUND)
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no tokenizer (key tokenizer.ggml.model is absent)",
                        path);
    if (s)
        return tg__fail_prefix(s, "%s: tokenizer.ggml.model", path);
    s = tg_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    if (s && s != TG_ERR_NOT_FOUND)
        return tg__fail_prefix(s, "%s: tokenizer.ggml.pre", path);
    if (model.len >= sizeof v->model_name || pre.len >= sizeof v->pre_name)
        return tg__fail(TG_ERR_FORMAT, "%s: tokenizer model/pre-tokenizer name is too long", path);
    copy_name(v->model_name, sizeof v->model_name, model);
    copy_name(v->pre_name, sizeof v->pre_name, pre);

    v->eot = v->eom = v->sep = v->pad = v->mask = -1;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = -1;
    v->escape_whitespaces = true;
    if (!strcmp(v->model_name, "llama")) {
        v->kind = TG_VOCAB_SPM;
        v->bos = 1, v->eos = 2, v->unk = 0;
        v->add_space_prefix = true;
        v->add_bos = true;
        v->clean_spaces = false;
        return TG_OK;
    }
    if (!strcmp(v->model_name, "gpt2") || !strcmp(v->model_name, "gemma4")) {
        v->kind = TG_VOCAB_BPE;
        v->bos = v->eos = 11, v->unk = -1;
        if (!strcmp(v->model_name, "gemma4")) {
            /* llama.cpp: byte-level-free BPE over ▁-escaped text, pre forced */
            v->bos = v->eos = -1;
            snprintf(v->pre_name, sizeof v->pre_name, "gemma4");
        }
        v->add_space_prefix = false;
        v->escape_whitespaces = false;
        v->clean_spaces = true;
        return TG_OK;
    }
    if (!strcmp(v->model_name, "bert")) {
        /* WordPiece (wordpiece.c); llama.cpp's defaults.  escape_whitespaces
         * only tells the detokenizer to render "▁" as a space: tg_tokenize
         * hands WordPiece the raw text. */
        v->kind = TG_VOCAB_WPM;
        v->bos = 101, v->eos = -1, v->unk = 100, v->sep = 102, v->pad = 0, v->mask = 103;
        v->add_bos = true, v->add_eos = false, v->add_sep = true;
        v->add_space_prefix = false;
        v->clean_spaces = true;
        return TG_OK;
    }
    if (!strcmp(v->model_name, "t5")) {
        /* SentencePiece Unigram (ugm.c); llama.cpp's defaults.  As for
         * WordPiece, tg_tokenize hands the raw text over (ugm.c escapes) */
        v->kind = TG_VOCAB_UGM;
        v->bos = -1, v->eos = 1, v->unk = 2, v->pad = 0;
        v->add_bos = false, v->add_eos = true;
        v->add_space_prefix = false;
        v->clean_spaces = false;
        return TG_OK;
    }
    static const char *const known[] = {"rwkv", "plamo2", "none", "no_vocab",
                                        "hybriddna", "whitespace", "test", NULL};
    if (name_is(v->model_name, known))
        return tg__fail(TG_ERR_UNSUPPORTED,
                        "%s: tokenizer model '%s' is not supported (tinglado handles 'llama' "
                        "(SentencePiece), 'gpt2' (byte-level BPE), 'bert' (WordPiece) and 't5' (Unigram))",
                        path, v->model_name);
    return tg__fail(TG_ERR_UNSUPPORTED, "%s: unknown tokenizer model '%s'", path, v->model_name);
}

/* An array key of one of the given element types, or NULL (TG_OK) if absent. */
static tg_status get_array(const tg_gguf *g, const char *path, const char *key, tg_gguf_type t1,
                           tg_gguf_type t2, const tg_gguf_value **out) {
    *out = NULL;
    tg_status s = tg_gguf_get_array(g, key, out);
    if (s == TG_ERR_NOT_FOUND) {
        *out = NULL;
        return TG_OK;
    }
    if (s)
        return tg__fail_prefix(s, "%s", path);
    tg_gguf_type et = (*out)->v.arr.type;
    if (et != t1 && et != t2)
        return tg__fail(TG_ERR_TYPE, "%s: %s is an array of %s, expected %s", path, key,
                        tg_gguf_type_name(et), tg_gguf_type_name(t1));
    return TG_OK;
}

/* Token strings, scores and types, copied out of the file. */
static tg_status load_tokens(tg_vocab *v, const tg_gguf *g, const char *path) {
    const tg_gguf_value *toks, *scores, *types;
    tg_status s = get_array(g, path, "tokenizer.ggml.tokens", TG_GGUF_STRING, TG_GGUF_STRING, &toks);
    if (!s && !toks)
        s = tg__fail(TG_ERR_NOT_FOUND, "%s: no token list (tokenizer.ggml.tokens)", path);
    if (!s)
        s = get_array(g, path, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, TG_GGUF_INT32, &scores);
    if (!s)
        s = get_array(g, path, "tokenizer.ggml.token_type", TG_GGUF_INT32, TG_GGUF_INT32, &types);
    if (s)
        return s;
    uint64_t n = toks->v.arr.n;
    if (n == 0 || n >= INT32_MAX)
        return tg__fail(TG_ERR_RANGE, "%s: tokenizer.ggml.tokens has %llu tokens", path,
                        (unsigned long long)n);
    if (scores && scores->v.arr.n != n)
        return tg__fail(TG_ERR_FORMAT, "%s: %llu scores for %llu tokens", path,
                        (unsigned long long)scores->v.arr.n, (unsigned long long)n);
    if (types && types->v.arr.n != n)
        return tg__fail(TG_ERR_FORMAT, "%s: %llu token types for %llu tokens", path,
                        (unsigned long long)types->v.arr.n, (unsigned long long)n);
    v->n_tokens = (int32_t)n;

    /* First pass: sizes, so all strings go into one allocation. */
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        tg_gguf_value e;
        if ((s = tg_gguf_array_get(toks, i, &e)))
            return tg__fail_prefix(s, "%s: token %llu", path, (unsigned long long)i);
        if (e.v.str.len > TG__MAX_TOKEN_LEN)
            return tg__fail(TG_ERR_RANGE, "%s: token %llu is %zu bytes long (limit %u)", path,
                            (unsigned long long)i, e.v.str.len, TG__MAX_TOKEN_LEN);
        /* llama.cpp renames an empty token "[EMPTY_<id>]" (≤ 18 bytes) */
        size_t len = e.v.str.len ? e.v.str.len : 20;
        if (!tg__add_size(total, len + 1, &total))
            return tg__fail(TG_ERR_RANGE, "%s: token strings too large", path);
    }
    v->text = tg__calloc(n, sizeof *v->text);
    v->strings = tg__malloc(total);
    v->types = tg__calloc(n, 1);
    v->attrs = tg__calloc(n, sizeof *v->attrs);
    v->scores = scores ? tg__calloc(n, sizeof *v->scores) : NULL;
    if (!v->text || !v->strings || !v->types || !v->attrs || (scores && !v->scores))
        return TG_ERR_NOMEM;

    char *p = v->strings;
    for (uint64_t i = 0; i < n; i++) {
        tg_gguf_value e;
        tg_gguf_array_get(toks, i, &e); /* succeeded above */
        size_t len = e.v.str.len;
        if (len)
            memcpy(p, e.v.str.ptr, len);
        else
            len = (size_t)snprintf(p, 21, "[EMPTY_%llu]", (unsigned long long)i);
        p[len] = '\0';
        v->text[i] = (tg_str){p, len};
        v->max_token_len = TG_MAX(v->max_token_len, len);
        p += len + 1;

        if (scores) {
            if ((s = tg_gguf_array_get(scores, i, &e)))
                return tg__fail_prefix(s, "%s: score %llu", path, (unsigned long long)i);
            v->scores[i] = e.type == TG_GGUF_INT32 ? (float)e.v.i64 : (float)e.v.f64;
        }
        int64_t type = TG_TOKEN_NORMAL;
        if (types) {
            if ((s = tg_gguf_array_get(types, i, &e)))
                return tg__fail_prefix(s, "%s: token type %llu", path, (unsigned long long)i);
            type = e.v.i64;
        }
        /* Unknown type values mean "undefined", as in llama.cpp. */
        static const uint16_t attr_of_type[7] = {
            0, TG__ATTR_NORMAL, TG__ATTR_UNKNOWN, TG__ATTR_CONTROL, TG__ATTR_USER_DEFINED,
            TG__ATTR_UNUSED, TG__ATTR_BYTE};
        if (type < 0 || type > TG_TOKEN_BYTE)
            type = TG_TOKEN_UNDEFINED;
        v->types[i] = (uint8_t)type;
        v->attrs[i] = attr_of_type[type];
    }
    return index_build(v, path);
}

/* A boolean flag: left as is if absent, an error if of another type. */
static tg_status get_flag(const tg_gguf *g, const char *path, const char *key, bool *dst) {
    tg_status s = tg_gguf_get_bool(g, key, dst);
    if (s == TG_ERR_NOT_FOUND)
        return TG_OK;
    return s ? tg__fail_prefix(s, "%s", path) : TG_OK;
}

/* The special ids of the GGUF override the defaults.  Ids that drive
 * tokenization or stop generation must be in range; for the others llama.cpp
 * keeps the default, and so do we. */
static tg_status load_special_ids(tg_vocab *v, const tg_gguf *g, const char *path) {
    struct {
        const char *key;
        tg_token *id;
        bool must_be_valid;
    } ids[] = {
        {"tokenizer.ggml.bos_token_id", &v->bos, true},
        {"tokenizer.ggml.eos_token_id", &v->eos, true},
        {"tokenizer.ggml.eot_token_id", &v->eot, true},
        {"tokenizer.ggml.eom_token_id", &v->eom, true},
        {"tokenizer.ggml.unknown_token_id", &v->unk, true},
        {"tokenizer.ggml.seperator_token_id", &v->sep, false},
        {"tokenizer.ggml.padding_token_id", &v->pad, false},
        {"tokenizer.ggml.mask_token_id", &v->mask, false},
        {"tokenizer.ggml.fim_pre_token_id", &v->fim_pre, false},
        {"tokenizer.ggml.fim_suf_token_id", &v->fim_suf, false},
        {"tokenizer.ggml.fim_mid_token_id", &v->fim_mid, false},
        {"tokenizer.ggml.fim_pad_token_id", &v->fim_pad, false},
        {"tokenizer.ggml.fim_rep_token_id", &v->fim_rep, false},
        {"tokenizer.ggml.fim_sep_token_id", &v->fim_sep, false},
        /* older names of the FIM ids, read last as in llama.cpp */
        {"tokenizer.ggml.prefix_token_id", &v->fim_pre, false},
        {"tokenizer.ggml.suffix_token_id", &v->fim_suf, false},
        {"tokenizer.ggml.middle_token_id", &v->fim_mid, false},
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(ids); i++) {
        tg_token *id = ids[i].id;
        if (*id >= v->n_tokens) /* a per-kind default the vocabulary is too small for */
            *id = -1;
        int64_t val;
        tg_status s = tg_gguf_get_int(g, ids[i].key, &val);
        if (s == TG_ERR_NOT_FOUND)
            continue;
        if (s)
            return tg__fail_prefix(s, "%s", path);
        if (val >= 0 && val < v->n_tokens)
            *id = (tg_token)val;
        else if (ids[i].must_be_valid)
            return tg__fail(TG_ERR_RANGE, "%s: %s = %lld is outside the vocabulary (0..%d)", path,
                            ids[i].key, (long long)val, v->n_tokens - 1);
    }
    return TG_OK;
}

/* Marks a token CONTROL (and keeps the public type in step). */
static void force_control(tg_vocab *v, tg_token id) {
    v->attrs[id] |= TG__ATTR_CONTROL;
    v->types[id] = TG_TOKEN_CONTROL;
}

/* llama.cpp finds EOT/EOM/FIM tokens by their text when the file does not
 * name them, and forces them to CONTROL (which changes how they are matched
 * in text and rendered).  Where several texts match, llama.cpp takes the first
 * its hash map yields, an order no API defines; on every vocabulary of its
 * test suite (phi-3, qwen2, llama-bpe have two candidates) that is the first
 * name of these lists, which are ordered most specific first, so we take the
 * list order. */
static void detect_by_text(tg_vocab *v) {
    static const char *const eot[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                      "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
                                      "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>", NULL};
    static const char *const eom[] = {"<|eom_id|>", NULL};
    static const char *const pre[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                                      "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
                                      "<|prefix|>", NULL};
    static const char *const suf[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                      "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
                                      "<|suffix|>", NULL};
    static const char *const mid[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                      "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
                                      "<|middle|>", NULL};
    static const char *const pad[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
                                      NULL};
    static const char *const rep[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                      "<reponame>", NULL};
    static const char *const sep[] = {"<|file_sep|>", NULL};
    struct {
        const char *const *names;
        tg_token *id;
    } kinds[] = {{eot, &v->eot},     {eom, &v->eom},     {pre, &v->fim_pre}, {suf, &v->fim_suf},
                 {mid, &v->fim_mid}, {pad, &v->fim_pad}, {rep, &v->fim_rep}, {sep, &v->fim_sep}};
    for (size_t k = 0; k < TG_ARRAY_LEN(kinds); k++) {
        if (*kinds[k].id >= 0)
            continue;
        for (const char *const *n = kinds[k].names; *n && *kinds[k].id < 0; n++)
            *kinds[k].id = tg__vocab_lookup(v, *n, strlen(*n));
        if (*kinds[k].id >= 0)
            force_control(v, *kinds[k].id);
    }
    /* control tokens named "unused…" are unused ones */
    for (int32_t id = 0; id < v->n_tokens; id++)
        if ((v->attrs[id] & TG__ATTR_CONTROL) && strstr(v->text[id].ptr, "unused"))
            v->attrs[id] |= TG__ATTR_UNUSED;
}

static int cmp_token(const void *a, const void *b) {
    tg_token x = *(const tg_token *)a, y = *(const tg_token *)b;
    return (x > y) - (x < y);
}

/* Exact comparison with a token's text (which may hold NUL bytes). */
static bool text_is(const tg_vocab *v, tg_token id, const char *lit) {
    return tg__str_eq(v->text[id], lit, strlen(lit));
}

static bool eog_has(const tg_vocab *v, tg_token id) {
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id)
            return true;
    return false;
}

static void eog_remove(tg_vocab *v, tg_token id) {
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) {
            v->eog[i] = v->eog[--v->n_eog];
            return;
        }
}

static tg_status eog_add(tg_vocab *v, tg_token id, size_t cap) {
    if (id < 0 || eog_has(v, id))
        return TG_OK;
    if (v->n_eog == cap)
        return tg__fail(TG_ERR_RANGE, "too many end-of-generation tokens");
    v->eog[v->n_eog++] = id;
    return TG_OK;
}

/* The end-of-generation set, by id and by text as llama.cpp builds it. */
static tg_status build_eog(tg_vocab *v) {
    static const char *const names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
        "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[", NULL};
    size_t cap = TG_ARRAY_LEN(names) + 8;
    v->eog = tg__calloc(cap, sizeof *v->eog);
    if (!v->eog)
        return TG_ERR_NOMEM;
    tg_status s = eog_add(v, v->fim_pad, cap);
    if (!s)
        s = eog_add(v, v->fim_rep, cap);
    if (!s)
        s = eog_add(v, v->fim_sep, cap);
    for (const char *const *n = names; !s && *n; n++) {
        tg_token id = tg__vocab_lookup(v, *n, strlen(*n));
        if (id >= 0) {
            s = eog_add(v, id, cap);
            force_control(v, id);
        }
    }
    /* gpt-oss: these must always be rendered, so they become plain text tokens */
    static const char *const shown[] = {"<|channel|>", "<|message|>", "<|start|>",
                                        "<|constrain|>", NULL};
    for (const char *const *n = shown; *n; n++) {
        tg_token id = tg__vocab_lookup(v, *n, strlen(*n));
        if (id >= 0) {
            v->attrs[id] = TG__ATTR_USER_DEFINED;
            v->types[id] = TG_TOKEN_USER_DEFINED;
        }
    }
    if (!s)
        s = eog_add(v, v->eos, cap);
    if (!s)
        s = eog_add(v, v->eot, cap);
    if (!s)
        s = eog_add(v, v->eom, cap);
    if (s)
        return s;

    /* o200k_harmony / solar-open: "<|end|>" ends a message, not generation */
    tg_token end = -1;
    bool has_return = false, has_call = false, has_flush = false;
    tg_token s_id = -1;
    bool normal_s = false;
    for (size_t i = 0; i < v->n_eog; i++) {
        tg_token t = v->eog[i];
        has_return |= text_is(v, t, "<|return|>");
        has_call |= text_is(v, t, "<|call|>") || text_is(v, t, "<|calls|>");
        has_flush |= text_is(v, t, "<|flush|>");
        if (text_is(v, t, "<|end|>"))
            end = t;
        normal_s |= text_is(v, t, "<|tool_response>") || text_is(v, t, "<|plamo:eos|>");
        if (text_is(v, t, "</s>"))
            s_id = t;
    }
    if (end >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
        eog_remove(v, end);
        v->attrs[end] = TG__ATTR_USER_DEFINED;
        v->types[end] = TG_TOKEN_USER_DEFINED;
    }
    /* gemma4 / plamo2: "</s>" is ordinary text there */
    if (normal_s && s_id >= 0) {
        eog_remove(v, s_id);
        v->attrs[s_id] = TG__ATTR_NORMAL;
        v->types[s_id] = TG_TOKEN_NORMAL;
    }
    qsort(v->eog, v->n_eog, sizeof *v->eog, cmp_token);
    return TG_OK;
}

/* Tokens matched inside text: longest first, ties by id.  (llama.cpp uses an
 * unstable sort; the order among equal lengths only matters when two such
 * tokens can overlap, which none of the vocabularies we test has.) */
typedef struct special_key {
    size_t len;
    tg_token id;
} special_key;

static int cmp_special(const void *a, const void *b) {
    const special_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static tg_status build_special_list(tg_vocab *v) {
    const uint16_t matched = TG__ATTR_CONTROL | TG__ATTR_USER_DEFINED | TG__ATTR_UNKNOWN;
    size_t n = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        n += (v->attrs[id] & matched) != 0;
    special_key *keys = tg__calloc(n, sizeof *keys);
    v->special = tg__calloc(n, sizeof *v->special);
    if (!keys || !v->special) {
        free(keys);
        return TG_ERR_NOMEM;
    }
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->attrs[id] & matched)
            keys[v->n_special++] = (special_key){v->text[id].len, id};
    qsort(keys, v->n_special, sizeof *keys, cmp_special);
    for (size_t i = 0; i < v->n_special; i++)
        v->special[i] = keys[i].id;
    free(keys);
    return TG_OK;
}

static bool contains(const char *hay, const char *needle) {
    return strstr(hay, needle) != NULL;
}

static void set_attr(tg_vocab *v, const char *text, uint16_t bit, bool on) {
    tg_token id = tg__vocab_lookup(v, text, strlen(text));
    if (id < 0)
        return; /* llama.cpp throws here; a missing token simply has nothing to set */
    v->attrs[id] = on ? (uint16_t)(v->attrs[id] | bit) : (uint16_t)(v->attrs[id] & ~bit);
}

/* Per-model lstrip/rstrip attributes, chosen by llama.cpp from the model
 * name, pre-tokenizer and architecture (they are not stored in GGUF files). */
static void model_attrs(tg_vocab *v, const tg_gguf *g) {
    char name[256] = "", arch[64] = "";
    tg_str s;
    if (!tg_gguf_get_str(g, "general.name", &s))
        copy_name(name, sizeof name, s);
    if (!tg_gguf_get_str(g, "general.architecture", &s))
        copy_name(arch, sizeof arch, s);
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *pre = v->pre_name;
    if (contains(pre, "jina-v2-de") || contains(pre, "jina-v2-es") ||
        contains(pre, "jina-v2-code") || contains(arch, "nomic-bert-moe") ||
        contains(arch, "jina-bert-v3")) {
        set_attr(v, "<mask>", TG__ATTR_LSTRIP, true);
    } else if (contains(name, "phi-3") || contains(name, "phi3")) {
        for (size_t i = 0; i < v->n_special; i++)
            v->attrs[v->special[i]] |= TG__ATTR_RSTRIP;
        set_attr(v, "</s>", TG__ATTR_RSTRIP, true);
        set_attr(v, "<unk>", TG__ATTR_RSTRIP, false);
        set_attr(v, "<s>", TG__ATTR_RSTRIP, false);
        set_attr(v, "<|endoftext|>", TG__ATTR_RSTRIP, false);
    } else if (contains(name, "modern-bert")) {
        set_attr(v, "[MASK]", TG__ATTR_LSTRIP, true);
    }
}

tg_vocab *tg_vocab_load(const tg_gguf *g) {
    tg_vocab *v = NULL;
    return tg__vocab_load(g, &v) == TG_OK ? v : NULL;
}

tg_status tg__vocab_load(const tg_gguf *g, tg_vocab **out) {
    *out = NULL;
    if (!g)
        return tg__fail(TG_ERR_ARG, "tg_vocab_load: no GGUF file");
    const char *path = tg_gguf_path(g);
    if (!path)
        path = "(gguf)";
    tg_vocab *v = tg__calloc(1, sizeof *v);
    if (!v)
        return TG_ERR_NOMEM;
    tg_status s = load_kind(v, g, path);
    if (!s)
        s = get_flag(g, path, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix);
    if (!s)
        s = get_flag(g, path, "tokenizer.ggml.remove_extra_whitespaces",
                     &v->remove_extra_whitespaces);
    if (!s)
        s = load_tokens(v, g, path);
    if (!s)
        s = v->kind == TG_VOCAB_SPM ? tg__spm_init(v, g)
            : v->kind == TG_VOCAB_WPM ? tg__wpm_init(v, g)
            : v->kind == TG_VOCAB_UGM ? tg__ugm_init(v, g)
                                      : tg__bpe_init(v, g);
    if (!s)
        s = load_special_ids(v, g, path);
    if (!s)
        s = get_flag(g, path, "tokenizer.ggml.add_bos_token", &v->add_bos);
    if (!s)
        s = get_flag(g, path, "tokenizer.ggml.add_eos_token", &v->add_eos);
    if (!s)
        s = get_flag(g, path, "tokenizer.ggml.add_sep_token", &v->add_sep);
    if (s) {
        tg_vocab_free(v);
        return s;
    }
    /* Gemma 4 files say add_bos = false but the model needs it (llama.cpp) */
    if (!strcmp(v->pre_name, "gemma4") || !strcmp(v->pre_name, "granite-embed-multi-311m"))
        v->add_bos = true;

    detect_by_text(v);
    s = build_eog(v);
    if (!s)
        s = build_special_list(v);
    if (s) {
        tg_vocab_free(v);
        return s;
    }
    model_attrs(v, g);

    /* The newline token: SPM's byte token, else what "\n" tokenizes to. */
    v->nl = -1;
    if (v->kind == TG_VOCAB_SPM) {
        v->nl = tg__vocab_lookup(v, "<0x0A>", 6);
        if (v->nl < 0)
            v->nl = tg__vocab_lookup(v, "\n", 1);
    } else {
        tg_tokens t = {0};
        if (!tg_tokenize(v, "\n", 1, (tg_tokenize_opts){false, false}, &t) && t.n)
            v->nl = t.ids[0];
        tg_tokens_free(&t);
        tg__clear_error();
    }
    if (v->nl < 0)
        v->nl = v->pad;
    *out = v;
    return TG_OK;
}

void tg_vocab_free(tg_vocab *v) {
    if (!v)
        return;
    if (v->spm)
        tg__spm_free(v);
    if (v->bpe)
        tg__bpe_free(v);
    if (v->wpm)
        tg__wpm_free(v);
    if (v->ugm)
        tg__ugm_free(v);
    free(v->text);
    free(v->strings);
    free(v->scores);
    free(v->types);
    free(v->attrs);
    free(v->index);
    free(v->special);
    free(v->eog);
    free(v);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

tg_vocab_kind tg_vocab_kind_of(const tg_vocab *v) { return v->kind; }
int32_t tg_vocab_n_tokens(const tg_vocab *v) { return v->n_tokens; }
const char *tg_vocab_model_name(const tg_vocab *v) { return v->model_name; }
const char *tg_vocab_pre_name(const tg_vocab *v) { return v->pre_name; }
tg_token tg_vocab_bos(const tg_vocab *v) { return v->bos; }
tg_token tg_vocab_eos(const tg_vocab *v) { return v->eos; }
tg_token tg_vocab_eot(const tg_vocab *v) { return v->eot; }
bool tg_vocab_add_bos(const tg_vocab *v) { return v->add_bos; }
bool tg_vocab_add_eos(const tg_vocab *v) { return v->add_eos; }

tg_token_type tg_vocab_token_type(const tg_vocab *v, tg_token t) {
    if (t < 0 || t >= v->n_tokens)
        return TG_TOKEN_UNDEFINED;
    return (tg_token_type)v->types[t];
}

tg_str tg_vocab_token_text(const tg_vocab *v, tg_token t) {
    if (t < 0 || t >= v->n_tokens)
        return (tg_str){NULL, 0};
    return v->text[t];
}

tg_token tg_vocab_find(const tg_vocab *v, const char *text, size_t len) {
    return text ? tg__vocab_lookup(v, text, len) : -1;
}

bool tg_vocab_is_eog(const tg_vocab *v, tg_token t) {
    return t >= 0 && bsearch(&t, v->eog, v->n_eog, sizeof *v->eog, cmp_token) != NULL;
}

/* ------------------------------------------------------------------ */
/* Tokenizing                                                          */
/* ------------------------------------------------------------------ */

/* A piece of the input: raw text [off, off+len) or one special token. */
typedef struct fragment {
    size_t off, len;
    tg_token id; /* -1 for raw text */
} fragment;

typedef struct frag_list {
    fragment *f;
    size_t n, cap;
} frag_list;

static bool frag_push(frag_list *l, size_t off, size_t len, tg_token id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16, bytes;
        if (!tg__mul_size(cap, sizeof *l->f, &bytes)) {
            tg__fail(TG_ERR_RANGE, "too many text fragments");
            return false;
        }
        fragment *f = tg__realloc(l->f, bytes);
        if (!f)
            return false;
        l->f = f;
        l->cap = cap;
    }
    l->f[l->n++] = (fragment){off, len, id};
    return true;
}

/* C-locale isspace, which llama.cpp's lstrip/rstrip use. */
static bool is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Splits text around the special tokens it contains, as llama.cpp does: one
 * token at a time, longest first, each cutting every raw fragment left so far
 * at its leftmost non-overlapping occurrences.  Without parse_special only
 * USER_DEFINED tokens are matched (control/unknown text stays text).
 * A bitmap of the byte pairs present in the text skips, in O(1), the
 * thousands of special tokens that cannot occur (Gemma has 6,400). */
static tg_status partition(const tg_vocab *v, const char *text, size_t len, bool parse_special,
                           frag_list *out) {
    frag_list cur = {0}, next = {0};
    uint8_t *pairs = NULL;
    uint8_t singles[32] = {0};
    tg_status s = TG_ERR_NOMEM;
    if (!frag_push(&cur, 0, len, -1))
        goto done;
    pairs = tg__calloc(65536 / 8, 1);
    if (!pairs)
        goto done;
    const uint8_t *u = (const uint8_t *)text;
    for (size_t i = 0; i < len; i++) {
        singles[u[i] >> 3] |= (uint8_t)(1u << (u[i] & 7));
        if (i + 1 < len) {
            unsigned p = (unsigned)u[i] << 8 | u[i + 1];
            pairs[p >> 3] |= (uint8_t)(1u << (p & 7));
        }
    }
    for (size_t k = 0; k < v->n_special; k++) {
        tg_token id = v->special[k];
        uint16_t attr = v->attrs[id];
        if (!parse_special && (attr & (TG__ATTR_CONTROL | TG__ATTR_UNKNOWN)))
            continue;
        tg_str t = v->text[id];
        const uint8_t *tu = (const uint8_t *)t.ptr;
        if (t.len > len || !(singles[tu[0] >> 3] & (1u << (tu[0] & 7))))
            continue;
        if (t.len >= 2) {
            unsigned p0 = (unsigned)tu[0] << 8 | tu[1];
            unsigned p1 = (unsigned)tu[t.len - 2] << 8 | tu[t.len - 1];
            if (!(pairs[p0 >> 3] & (1u << (p0 & 7))) || !(pairs[p1 >> 3] & (1u << (p1 & 7))))
                continue;
        }
        bool split = false;
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            fragment f = cur.f[i];
            if (f.id >= 0) {
                if (!frag_push(&next, f.off, f.len, f.id))
                    goto done;
                continue;
            }
            size_t pos = f.off, end = f.off + f.len;
            const char *m;
            while (pos < end && (m = memmem(text + pos, end - pos, t.ptr, t.len)) != NULL) {
                size_t at = (size_t)(m - text), left_end = at;
                if (attr & TG__ATTR_LSTRIP)
                    while (left_end > pos && is_space(u[left_end - 1]))
                        left_end--;
                if (left_end > pos && !frag_push(&next, pos, left_end - pos, -1))
                    goto done;
                if (!frag_push(&next, 0, 0, id))
                    goto done;
                pos = at + t.len;
                if (attr & TG__ATTR_RSTRIP)
                    while (pos < end && is_space(u[pos]))
                        pos++;
                split = true;
            }
            if (pos < end && !frag_push(&next, pos, end - pos, -1))
                goto done;
        }
        if (split) {
            frag_list tmp = cur;
            cur = next;
            next = tmp;
        }
    }
    *out = cur;
    cur.f = NULL;
    s = TG_OK;
done:
    free(cur.f);
    free(next.f);
    free(pairs);
    return s;
}

/* Copies a raw fragment into buf for the tokenizer: an optional leading
 * space, then ' ' → U+2581 when the vocabulary escapes whitespace. */
static bool prepare(const tg_vocab *v, tg__buf *buf, const char *p, size_t n, bool space) {
    buf->len = 0;
    if (space && !tg__buf_append(buf, v->escape_whitespaces ? "\xe2\x96\x81" : " ",
                                 v->escape_whitespaces ? 3 : 1))
        return false;
    if (!v->escape_whitespaces)
        return tg__buf_append(buf, p, n);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != ' ')
            continue;
        if (!tg__buf_append(buf, p + start, i - start))
            return false;
        if (i < n && !tg__buf_append(buf, "\xe2\x96\x81", 3))
            return false;
        start = i + 1;
    }
    return true;
}

tg_status tg_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokenize_opts opts,
                      tg_tokens *out) {
    if (!v || !out || (!text && len))
        return tg__fail(TG_ERR_ARG, "tg_tokenize: missing vocabulary, text or output");
    /* WordPiece always frames the text as [CLS] … [SEP] and ignores the
     * add_bos/add_eos flags (llama.cpp) */
    const bool wpm = v->kind == TG_VOCAB_WPM;
    if (opts.add_special && !wpm && ((v->add_bos && v->bos < 0) || (v->add_eos && v->eos < 0)))
        return tg__fail(TG_ERR_FORMAT, "the vocabulary asks for a %s token but has none",
                        v->add_bos && v->bos < 0 ? "BOS" : "EOS");
    if (opts.add_special && wpm && (v->bos < 0 || v->sep < 0))
        return tg__fail(TG_ERR_FORMAT, "the WordPiece vocabulary has no %s token",
                        v->bos < 0 ? "[CLS] (BOS)" : "[SEP]");
    size_t n0 = out->n;
    frag_list frags = {0};
    tg__buf buf = {0};
    tg_status s = TG_OK;
    if (len && (s = partition(v, text, len, opts.parse_special, &frags)))
        goto fail;

    /* SentencePiece puts a space before text that starts the input or
     * follows a special token (when add_space_prefix is set). */
    bool prev_special = true;
    if (opts.add_special && (v->add_bos || wpm) && !tg__tokens_push(out, v->bos))
        goto nomem;
    for (size_t i = 0; i < frags.n; i++) {
        fragment f = frags.f[i];
        if (f.id >= 0) {
            if (!tg__tokens_push(out, f.id))
                goto nomem;
            prev_special = true;
            continue;
        }
        if (wpm || v->kind == TG_VOCAB_UGM) {
            if ((s = wpm ? tg__wpm_tokenize(v, text + f.off, f.len, out)
                         : tg__ugm_tokenize(v, text + f.off, f.len, out)))
                goto fail;
            continue;
        }
        bool space = v->kind == TG_VOCAB_SPM && v->add_space_prefix && prev_special;
        if (!prepare(v, &buf, text + f.off, f.len, space))
            goto nomem;
        s = v->kind == TG_VOCAB_SPM ? tg__spm_tokenize(v, (const char *)buf.data, buf.len, out)
                                    : tg__bpe_tokenize(v, (const char *)buf.data, buf.len, out);
        if (s)
            goto fail;
        prev_special = false;
    }
    if (opts.add_special && v->add_eos && !wpm && !tg__tokens_push(out, v->eos))
        goto nomem;
    if (opts.add_special && wpm && !tg__tokens_push(out, v->sep))
        goto nomem;
    free(frags.f);
    tg__buf_free(&buf);
    return TG_OK;
nomem:
    s = TG_ERR_NOMEM;
fail:
    free(frags.f);
    tg__buf_free(&buf);
    out->n = n0; /* nothing half-appended */
    return s;
}
