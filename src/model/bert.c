/*
 * bert.c — the BERT encoder (all-MiniLM, bge, e5 …) and the embedding API
 * built on it: texts → token ids → one forward pass over many texts →
 * pooled, L2-normalised vectors.  Arithmetic follows llama.cpp's bert graph
 * (src/models/bert.cpp) so that both give the same vectors on one file:
 *
 *   x = tok_embd[id] + token_types[0] + position_embd[pos]     pos = 0, 1, … per text
 *   x = layernorm(x; token_embd_norm)
 *   for each layer:
 *       q, k, v = Wq·x + bq, Wk·x + bk, Wv·x + bv
 *       a = softmax(q·kᵀ / √head_dim) · v     bidirectional, within the text only
 *       x = layernorm(Wo·a + bo + x; attn_output_norm)           (post-LN)
 *       x = layernorm(Wdown·gelu(Wup·x + bup) + bdown + x; layer_output_norm)
 *   vector = pool(x over the text's tokens) (mean / first / last), then x/‖x‖
 *
 * GELU is ggml's: the tanh approximation through an f16 table (ops.c), not
 * the erf form Hugging Face BERT uses — the reason the vectors differ from
 * the original model's in the fourth decimal.  Texts are packed back to back
 * (no padding rows are computed); the attention of a token is restricted to
 * its own text, which is what a padding mask does.  Never crashes on a
 * malformed file: every tensor is checked against the hyperparameters.
 */
#include "model/model.h"
#include "tensor/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bert_layer {
    tg__mat wq, wk, wv, wo;         /* (E → E)                    */
    const float *bq, *bk, *bv, *bo; /* (E)                        */
    const float *ln1_w, *ln1_b;     /* attn_output_norm (E)       */
    tg__mat up, down;               /* (E → FF), (FF → E)         */
    const float *bup, *bdown;       /* (FF), (E)                  */
    const float *ln2_w, *ln2_b;     /* layer_output_norm (E)      */
} bert_layer;

struct tg_embedder {
    tg_gguf *g;
    tg_vocab *vocab;
    tg_pool *pool;
    int32_t n_embd, n_layer, n_head, hd, n_ff, n_ctx;
    float eps;
    tg_pooling pooling;
    bool normalize;
    int32_t max_tokens, n_batch;
    tg__mat tok_embd;               /* (n_vocab rows of E)        */
    tg__mat pos_embd;               /* (n_ctx rows of E)          */
    const float *type0;             /* token_types row 0, or NULL */
    const float *norm_w, *norm_b;   /* token_embd_norm            */
    bert_layer *layers;

    /* scratch for n_batch tokens (one allocation) */
    void *arena;
    float *x, *xb, *q, *k, *v, *att; /* (n_batch, E)              */
    float *hb;                       /* (n_batch, FF)             */
    void *act;                       /* converted activations     */
    float *att_scratch;              /* per thread: hd·n_ctx + n_ctx */
    int32_t *seq_start, *seq_len;    /* (n_batch) per text        */
};

/* ---- loading ---------------------------------------------------------------- */

typedef struct loader {
    tg_embedder *e;
    const char *path;
} loader;

static tg_status get_i32(loader *L, const char *key, bool required, int32_t lo, int32_t hi, int32_t *out) {
    int64_t v;
    tg_status s = tg_gguf_get_int(L->e->g, key, &v);
    if (s == TG_ERR_NOT_FOUND)
        return required ? tg__fail(TG_ERR_FORMAT, "%s: missing metadata key %s", L->path, key) : TG_OK;
    if (s)
        return tg__fail_prefix(s, "%s", L->path);
    if (v < lo || v > hi)
        return tg__fail(TG_ERR_FORMAT, "%s: %s = %lld is out of range [%d, %d]", L->path, key, (long long)v, lo, hi);
    *out = (int32_t)v;
    return TG_OK;
}

static tg_status bind_mat(loader *L, tg__mat *m, const char *name, int64_t n_in, int64_t n_out, bool need_dot) {
    const tg_gguf_tensor *t = tg_gguf_find_tensor(L->e->g, name);
    memset(m, 0, sizeof *m);
    if (!t)
        return tg__fail(TG_ERR_FORMAT, "%s: missing tensor '%s' (a bert model needs it)", L->path, name);
    if (t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != 1 || t->ne[3] != 1)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has shape [%lld, %lld] but [%lld, %lld] was expected", L->path,
                        name, (long long)t->ne[0], (long long)t->ne[1], (long long)n_in, (long long)n_out);
    const tg_type_traits *tr = tg_type_get(t->type);
    bool ok = need_dot ? tr->vec_dot && tg_type_get(tr->vec_dot_type) && tg_type_get(tr->vec_dot_type)->from_float
                       : tr->to_float != NULL;
    if (!ok)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which tinglado cannot compute with yet",
                        L->path, name, tr->name);
    *m = (tg__mat){t->type, n_in, n_out, 1, tg_type_row_size(t->type, n_in), t->data};
    return TG_OK;
}

/* An f32 vector of n elements; optional ones may be absent (NULL). */
static tg_status bind_vec(loader *L, const float **out, const char *name, int64_t n, bool required) {
    const tg_gguf_tensor *t = tg_gguf_find_tensor(L->e->g, name);
    *out = NULL;
    if (!t)
        return required ? tg__fail(TG_ERR_FORMAT, "%s: missing tensor '%s' (a bert model needs it)", L->path, name)
                        : TG_OK;
    if (t->ne[0] != n || tg_gguf_tensor_nelements(t) != n)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has %lld elements, expected %lld", L->path, name,
                        (long long)tg_gguf_tensor_nelements(t), (long long)n);
    if (t->type != TG_TYPE_F32 || (uintptr_t)t->data % sizeof(float))
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' must be aligned f32", L->path, name);
    *out = t->data;
    return TG_OK;
}

static tg_status load_hparams(loader *L) {
    tg_embedder *e = L->e;
    tg_status s;
    int32_t pool = TG_POOLING_MEAN, types = 0;
    if ((s = get_i32(L, "bert.embedding_length", true, 1, 1 << 16, &e->n_embd)) ||
        (s = get_i32(L, "bert.block_count", true, 1, 1024, &e->n_layer)) ||
        (s = get_i32(L, "bert.attention.head_count", true, 1, 1024, &e->n_head)) ||
        (s = get_i32(L, "bert.feed_forward_length", true, 1, 1 << 18, &e->n_ff)) ||
        (s = get_i32(L, "bert.context_length", true, 1, 1 << 16, &e->n_ctx)) ||
        (s = get_i32(L, "bert.pooling_type", false, 0, 3, &pool)) ||
        (s = get_i32(L, "tokenizer.ggml.token_type_count", false, 0, 1 << 16, &types)))
        return s;
    if (e->n_embd % e->n_head)
        return tg__fail(TG_ERR_FORMAT, "%s: %d heads do not divide n_embd %d", L->path, e->n_head, e->n_embd);
    e->hd = e->n_embd / e->n_head;
    /* a file without a pooling type would give per-token vectors in
     * llama.cpp; a text vector needs one, and mean is sentence-transformers' default */
    e->pooling = pool == TG_POOLING_NONE ? TG_POOLING_MEAN : (tg_pooling)pool;
    double eps;
    s = tg_gguf_get_float(e->g, "bert.attention.layer_norm_epsilon", &eps);
    if (s || !(eps > 0 && eps < 1))
        return tg__fail(TG_ERR_FORMAT, "%s: bert.attention.layer_norm_epsilon is missing or out of range", L->path);
    e->eps = (float)eps;
    bool causal = false;
    if (tg_gguf_get_bool(e->g, "bert.attention.causal", &causal) == TG_OK && causal)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: a causal bert is not an encoder tinglado knows", L->path);
    return TG_OK;
}

static tg_status bind_weights(loader *L) {
    tg_embedder *e = L->e;
    const int64_t E = e->n_embd, FF = e->n_ff;
    tg_status s;
    const tg_gguf_tensor *tt = tg_gguf_find_tensor(e->g, "token_types.weight");
    if ((s = bind_mat(L, &e->tok_embd, "token_embd.weight", E, tg_vocab_n_tokens(e->vocab), false)) ||
        (s = bind_mat(L, &e->pos_embd, "position_embd.weight", E, e->n_ctx, false)) ||
        (s = bind_vec(L, &e->norm_w, "token_embd_norm.weight", E, true)) ||
        (s = bind_vec(L, &e->norm_b, "token_embd_norm.bias", E, true)))
        return s;
    if (tt) { /* only row 0 is used: every token is "sentence A", as in llama.cpp */
        if (tt->ne[0] != E || tt->type != TG_TYPE_F32 || (uintptr_t)tt->data % sizeof(float))
            return tg__fail(TG_ERR_FORMAT, "%s: token_types.weight must be f32 rows of %lld", L->path, (long long)E);
        e->type0 = tt->data;
    }
    if (!(e->layers = tg__calloc((size_t)e->n_layer, sizeof *e->layers)))
        return TG_ERR_NOMEM;
    for (int il = 0; il < e->n_layer; il++) {
        bert_layer *ly = &e->layers[il];
        char n[96];
#define NAME(fmt) (snprintf(n, sizeof n, "blk.%d." fmt, il), n)
        if ((s = bind_mat(L, &ly->wq, NAME("attn_q.weight"), E, E, true)) ||
            (s = bind_mat(L, &ly->wk, NAME("attn_k.weight"), E, E, true)) ||
            (s = bind_mat(L, &ly->wv, NAME("attn_v.weight"), E, E, true)) ||
            (s = bind_mat(L, &ly->wo, NAME("attn_output.weight"), E, E, true)) ||
            (s = bind_vec(L, &ly->bq, NAME("attn_q.bias"), E, false)) ||
            (s = bind_vec(L, &ly->bk, NAME("attn_k.bias"), E, false)) ||
            (s = bind_vec(L, &ly->bv, NAME("attn_v.bias"), E, false)) ||
            (s = bind_vec(L, &ly->bo, NAME("attn_output.bias"), E, false)) ||
            (s = bind_vec(L, &ly->ln1_w, NAME("attn_output_norm.weight"), E, true)) ||
            (s = bind_vec(L, &ly->ln1_b, NAME("attn_output_norm.bias"), E, true)) ||
            (s = bind_mat(L, &ly->up, NAME("ffn_up.weight"), E, FF, true)) ||
            (s = bind_mat(L, &ly->down, NAME("ffn_down.weight"), FF, E, true)) ||
            (s = bind_vec(L, &ly->bup, NAME("ffn_up.bias"), FF, false)) ||
            (s = bind_vec(L, &ly->bdown, NAME("ffn_down.bias"), E, false)) ||
            (s = bind_vec(L, &ly->ln2_w, NAME("layer_output_norm.weight"), E, true)) ||
            (s = bind_vec(L, &ly->ln2_b, NAME("layer_output_norm.bias"), E, true)))
            return s;
#undef NAME
    }
    return TG_OK;
}

/* One allocation for all scratch buffers, 64-byte aligned pieces. */
static tg_status alloc_scratch(tg_embedder *e) {
    const size_t T = (size_t)e->n_batch, E = (size_t)e->n_embd, FF = (size_t)e->n_ff;
    const size_t nth = (size_t)tg_pool_size(e->pool);
    const size_t width = TG_MAX(E, FF);
    const size_t att = ((size_t)e->hd + 1) * (size_t)e->n_ctx + 16;
    size_t sizes[] = {T * E * 4, T * E * 4, T * E * 4, T * E * 4, T * E * 4, T * E * 4, T * FF * 4,
                      T * (4 * width + 64), nth * att * 4, T * 4, T * 4};
    size_t total = 0;
    for (size_t i = 0; i < TG_ARRAY_LEN(sizes); i++)
        if (!tg__add_size(total, (sizes[i] + 63) & ~(size_t)63, &total))
            return tg__fail(TG_ERR_RANGE, "embedder scratch size overflows");
    uint8_t *p = e->arena = tg__malloc(total + 64);
    if (!p)
        return TG_ERR_NOMEM;
    p = (uint8_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
    void **dst[] = {(void **)&e->x, (void **)&e->xb, (void **)&e->q, (void **)&e->k, (void **)&e->v,
                    (void **)&e->att, (void **)&e->hb, &e->act, (void **)&e->att_scratch,
                    (void **)&e->seq_start, (void **)&e->seq_len};
    for (size_t i = 0; i < TG_ARRAY_LEN(sizes); i++) {
        *dst[i] = p;
        p += (sizes[i] + 63) & ~(size_t)63;
    }
    return TG_OK;
}

tg_embedder_params tg_embedder_default_params(void) {
    return (tg_embedder_params){.n_threads = 0, .max_tokens = 0, .n_batch_tokens = 0, .normalize = true};
}

tg_embedder *tg_embedder_load(const char *path, const tg_embedder_params *p) {
    tg_embedder_params P = p ? *p : tg_embedder_default_params();
    if (!path) {
        tg__fail(TG_ERR_ARG, "tg_embedder_load: no path");
        return NULL;
    }
    tg__ops_init();
    tg_embedder *e = tg__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    loader L = {e, path};
    tg_str arch;
    if (!(e->g = tg_gguf_open(path)))
        goto fail;
    if (tg_gguf_get_str(e->g, "general.architecture", &arch) != TG_OK || !tg__str_eq(arch, "bert", 4)) {
        tg__fail(TG_ERR_UNSUPPORTED, "%s: architecture '%.*s' is not an embedding model tinglado runs (bert)", path,
                 (int)arch.len, arch.ptr ? arch.ptr : "");
        goto fail;
    }
    if (!(e->vocab = tg_vocab_load(e->g)) || load_hparams(&L) || bind_weights(&L))
        goto fail;
    e->normalize = P.normalize;
    e->max_tokens = P.max_tokens > 0 ? P.max_tokens : e->n_ctx;
    if (e->max_tokens > e->n_ctx || e->max_tokens < 2 || P.max_tokens < 0 || P.n_batch_tokens < 0) {
        tg__fail(TG_ERR_ARG, "%s: max_tokens %d must be within 2..%d (the model's context) and n_batch_tokens >= 0",
                 path, P.max_tokens, e->n_ctx);
        goto fail;
    }
    e->n_batch = TG_MAX(P.n_batch_tokens > 0 ? P.n_batch_tokens : 2048, e->max_tokens);
    if (!(e->pool = tg_pool_new(P.n_threads)) || alloc_scratch(e))
        goto fail;
    return e;
fail:
    tg_embedder_free(e);
    return NULL;
}

void tg_embedder_free(tg_embedder *e) {
    if (!e)
        return;
    tg_pool_free(e->pool);
    free(e->arena);
    free(e->layers);
    tg_vocab_free(e->vocab);
    tg_gguf_close(e->g);
    free(e);
}

int32_t tg_embedder_dim(const tg_embedder *e) { return e->n_embd; }
int32_t tg_embedder_max_tokens(const tg_embedder *e) { return e->max_tokens; }
tg_pooling tg_embedder_pooling(const tg_embedder *e) { return e->pooling; }
const tg_vocab *tg_embedder_vocab(const tg_embedder *e) { return e->vocab; }

/* ---- the forward pass ------------------------------------------------------- */

typedef struct rows_job {
    tg_embedder *e;
    float *y;
    const float *res, *w, *b;
    int32_t rows;
} rows_job;

/* y[r] = layernorm(y[r] (+ res[r])) ⊙ w + b for every row. */
static void norm_worker(void *arg, int ith, int nth) {
    rows_job *j = arg;
    const int64_t E = j->e->n_embd;
    long r0, r1;
    tg_pool_split(j->rows, ith, nth, &r0, &r1);
    for (long r = r0; r < r1; r++) {
        float *y = j->y + r * E;
        if (j->res)
            for (int64_t i = 0; i < E; i++)
                y[i] = y[i] + j->res[r * E + i];
        tg__layer_norm(y, y, j->w, j->b, E, j->e->eps);
    }
}

static void add_norm(tg_embedder *e, float *y, const float *res, const float *w, const float *b, int32_t rows) {
    rows_job j = {e, y, res, w, b, rows};
    tg_pool_run(e->pool, norm_worker, &j);
}

/* y = W·x + b for `rows` rows. */
static void linear(tg_embedder *e, const tg__mat *w, const float *b, const float *x, int32_t rows, float *y) {
    tg__matmul_f32(e->pool, w, 0, x, rows, y, e->act);
    if (b)
        for (int32_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < w->n_out; o++)
                y[r * w->n_out + o] += b[o];
}

typedef struct gelu_job {
    float *x;
    int64_t n;
} gelu_job;

static void gelu_worker(void *arg, int ith, int nth) {
    gelu_job *j = arg;
    long i0, i1;
    tg_pool_split((long)j->n, ith, nth, &i0, &i1);
    tg__gelu(j->x + i0, j->x + i0, i1 - i0);
}

typedef struct att_job {
    tg_embedder *e;
    int32_t n_seq;
} att_job;

/* One (text, head) pair at a time: kᵀ of the head into scratch, then for
 * every query the scores, softmax and the weighted sum of v.  The loops run
 * across keys and across head dimensions, never as a reassociated
 * reduction, so results do not depend on vectorisation. */
static void att_worker(void *arg, int ith, int nth) {
    att_job *j = arg;
    tg_embedder *e = j->e;
    const int32_t E = e->n_embd, hd = e->hd, H = e->n_head;
    const float scale = 1.0f / sqrtf((float)hd);
    float *kt = e->att_scratch + (size_t)ith * (((size_t)hd + 1) * (size_t)e->n_ctx + 16);
    float *sc = kt + (size_t)hd * (size_t)e->n_ctx;
    long p0, p1;
    tg_pool_split((long)j->n_seq * H, ith, nth, &p0, &p1);
    for (long pr = p0; pr < p1; pr++) {
        const int32_t s = (int32_t)(pr / H), h = (int32_t)(pr % H);
        const int32_t t0 = e->seq_start[s], n = e->seq_len[s];
        for (int32_t c = 0; c < n; c++)
            for (int32_t d = 0; d < hd; d++)
                kt[(size_t)d * n + c] = e->k[(size_t)(t0 + c) * E + h * hd + d];
        for (int32_t i = 0; i < n; i++) {
            const float *q = e->q + (size_t)(t0 + i) * E + h * hd;
            for (int32_t c = 0; c < n; c++)
                sc[c] = 0.0f;
            for (int32_t d = 0; d < hd; d++) {
                const float qd = q[d], *kr = kt + (size_t)d * n;
                for (int32_t c = 0; c < n; c++)
                    sc[c] += qd * kr[c];
            }
            for (int32_t c = 0; c < n; c++)
                sc[c] *= scale;
            tg__softmax(sc, n);
            float *out = e->att + (size_t)(t0 + i) * E + h * hd;
            for (int32_t d = 0; d < hd; d++)
                out[d] = 0.0f;
            for (int32_t c = 0; c < n; c++) {
                const float pc = sc[c], *vr = e->v + (size_t)(t0 + c) * E + h * hd;
                for (int32_t d = 0; d < hd; d++)
                    out[d] += pc * vr[d];
            }
        }
    }
}

/* Runs the encoder over T packed tokens of n_seq texts (seq_start/seq_len
 * set) and writes one pooled vector per text to out. */
static void forward(tg_embedder *e, const tg_token *tok, int32_t T, int32_t n_seq, float *out) {
    const int64_t E = e->n_embd;
    const tg_type_traits *tt = tg_type_get(e->tok_embd.type), *pt = tg_type_get(e->pos_embd.type);
    float *tmp = e->xb;
    for (int32_t s = 0; s < n_seq; s++)
        for (int32_t i = 0; i < e->seq_len[s]; i++) {
            const int32_t t = e->seq_start[s] + i;
            float *x = e->x + (size_t)t * E, *p = tmp + (size_t)t * E;
            tt->to_float(e->tok_embd.data + (size_t)tok[t] * e->tok_embd.row_bytes, x, E);
            pt->to_float(e->pos_embd.data + (size_t)i * e->pos_embd.row_bytes, p, E);
            for (int64_t d = 0; d < E; d++) {
                const float a = e->type0 ? x[d] + e->type0[d] : x[d];
                x[d] = p[d] + a;
            }
        }
    add_norm(e, e->x, NULL, e->norm_w, e->norm_b, T);

    for (int il = 0; il < e->n_layer; il++) {
        const bert_layer *ly = &e->layers[il];
        /* q, k and v read the same input: convert it once when the types agree */
        tg__matmul_prepare(e->pool, ly->wq.type, e->x, E, E, T, e->act);
        tg__matmul(e->pool, &ly->wq, 0, e->act, T, e->q, E);
        if (tg_type_get(ly->wk.type)->vec_dot_type != tg_type_get(ly->wq.type)->vec_dot_type)
            tg__matmul_prepare(e->pool, ly->wk.type, e->x, E, E, T, e->act);
        tg__matmul(e->pool, &ly->wk, 0, e->act, T, e->k, E);
        if (tg_type_get(ly->wv.type)->vec_dot_type != tg_type_get(ly->wk.type)->vec_dot_type)
            tg__matmul_prepare(e->pool, ly->wv.type, e->x, E, E, T, e->act);
        tg__matmul(e->pool, &ly->wv, 0, e->act, T, e->v, E);
        for (int32_t r = 0; r < T; r++)
            for (int64_t d = 0; d < E; d++) {
                if (ly->bq)
                    e->q[r * E + d] += ly->bq[d];
                if (ly->bk)
                    e->k[r * E + d] += ly->bk[d];
                if (ly->bv)
                    e->v[r * E + d] += ly->bv[d];
            }
        att_job aj = {e, n_seq};
        tg_pool_run(e->pool, att_worker, &aj);
        linear(e, &ly->wo, ly->bo, e->att, T, e->xb);
        add_norm(e, e->xb, e->x, ly->ln1_w, ly->ln1_b, T); /* xb = LN(attn + x) */

        linear(e, &ly->up, ly->bup, e->xb, T, e->hb);
        gelu_job gj = {e->hb, (int64_t)T * e->n_ff};
        tg_pool_run(e->pool, gelu_worker, &gj);
        linear(e, &ly->down, ly->bdown, e->hb, T, e->x);
        add_norm(e, e->x, e->xb, ly->ln2_w, ly->ln2_b, T); /* x = LN(ffn + xb) */
    }

    for (int32_t s = 0; s < n_seq; s++) {
        float *o = out + (size_t)s * E;
        const float *rows = e->x + (size_t)e->seq_start[s] * E;
        const int32_t n = e->seq_len[s];
        if (e->pooling == TG_POOLING_CLS) {
            memcpy(o, rows, (size_t)E * sizeof(float));
        } else if (e->pooling == TG_POOLING_LAST) {
            memcpy(o, rows + (size_t)(n - 1) * E, (size_t)E * sizeof(float));
        } else {
            const float inv = 1.0f / (float)n;
            for (int64_t d = 0; d < E; d++) {
                float acc = 0.0f;
                for (int32_t i = 0; i < n; i++)
                    acc += rows[(size_t)i * E + d] * inv;
                o[d] = acc;
            }
        }
        if (e->normalize) {
            double ss = 0.0;
            for (int64_t d = 0; d < E; d++)
                ss += (double)o[d] * o[d];
            if (ss > 0)
                for (int64_t d = 0; d < E; d++)
                    o[d] = (float)(o[d] / sqrt(ss));
        }
    }
}

/* ---- the API ------------------------------------------------------------------ */

tg_status tg_embed_tokens(tg_embedder *e, const tg_token *const *ids, const size_t *n_ids, size_t n, float *out) {
    if (!e || (n && (!ids || !n_ids || !out)))
        return tg__fail(TG_ERR_ARG, "tg_embed_tokens: missing embedder, ids or output");
    const int32_t nv = tg_vocab_n_tokens(e->vocab);
    for (size_t i = 0; i < n; i++) {
        if (n_ids[i] < 1 || n_ids[i] > (size_t)e->max_tokens || !ids[i])
            return tg__fail(TG_ERR_ARG, "text %zu has %zu tokens (must be 1..%d)", i, n_ids[i], e->max_tokens);
        for (size_t k = 0; k < n_ids[i]; k++)
            if (ids[i][k] < 0 || ids[i][k] >= nv)
                return tg__fail(TG_ERR_ARG, "text %zu: token id %d is outside the vocabulary", i, ids[i][k]);
    }
    tg_token *tok = tg__malloc((size_t)e->n_batch * sizeof *tok);
    if (!tok)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < n;) {
        int32_t T = 0, ns = 0;
        size_t first = i;
        while (i < n && T + (int32_t)n_ids[i] <= e->n_batch) {
            e->seq_start[ns] = T;
            e->seq_len[ns] = (int32_t)n_ids[i];
            memcpy(tok + T, ids[i], n_ids[i] * sizeof *tok);
            T += (int32_t)n_ids[i];
            ns++, i++;
        }
        forward(e, tok, T, ns, out + first * (size_t)e->n_embd);
    }
    free(tok);
    return TG_OK;
}

tg_status tg_embed(tg_embedder *e, const char *const *texts, const size_t *lens, size_t n, float *out,
                   tg_embed_info *info) {
    if (!e || (n && (!texts || !out)))
        return tg__fail(TG_ERR_ARG, "tg_embed: missing embedder, texts or output");
    tg_tokens *tk = tg__calloc(n ? n : 1, sizeof *tk);
    const tg_token **ids = tg__calloc(n ? n : 1, sizeof *ids);
    size_t *cnt = tg__calloc(n ? n : 1, sizeof *cnt);
    tg_status s = TG_ERR_NOMEM;
    if (!tk || !ids || !cnt)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const char *t = texts[i] ? texts[i] : "";
        size_t len = lens ? lens[i] : strlen(t);
        if (!texts[i] && len) {
            s = tg__fail(TG_ERR_ARG, "tg_embed: text %zu is NULL", i);
            goto done;
        }
        if ((s = tg_tokenize(e->vocab, t, len, (tg_tokenize_opts){.add_special = true}, &tk[i])))
            goto done;
        if (info)
            info[i] = (tg_embed_info){(int32_t)TG_MIN(tk[i].n, (size_t)e->max_tokens),
                                      (int32_t)TG_MIN(tk[i].n, (size_t)INT32_MAX), tk[i].n > (size_t)e->max_tokens};
        if (tk[i].n > (size_t)e->max_tokens) {
            /* keep the head and close the text with its last token ([SEP]) */
            tg_token last = tk[i].ids[tk[i].n - 1];
            tk[i].n = (size_t)e->max_tokens;
            tk[i].ids[tk[i].n - 1] = last;
        }
        if (tk[i].n == 0) { /* a vocabulary that adds nothing: never hand over an empty text */
            s = tg__fail(TG_ERR_FORMAT, "tg_embed: text %zu gives no tokens", i);
            goto done;
        }
        ids[i] = tk[i].ids;
        cnt[i] = tk[i].n;
    }
    s = tg_embed_tokens(e, ids, cnt, n, out);
done:
    if (tk)
        for (size_t i = 0; i < n; i++)
            tg_tokens_free(&tk[i]);
    free(tk);
    free(ids);
    free(cnt);
    return s;
}

double tg_embed_cosine(const float *a, const float *b, int32_t dim) {
    double ab = 0, aa = 0, bb = 0;
    for (int32_t i = 0; i < dim; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}
