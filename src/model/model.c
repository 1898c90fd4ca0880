/*
 * model.c — loading a model: open the GGUF, read the hyperparameters with
 * llama.cpp's defaults, bind every weight tensor as a view into the mapping
 * and check its shape and type, so that the forward pass can trust them.
 *
 * Never copies weights; never accepts a tensor whose shape or type the
 * forward pass would misread.
 */
#include "model/model.h"
#include "tensor/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- metadata helpers ------------------------------------------------------ */

typedef struct loader {
    tg_model *m;
    const tg_gguf *g;
    const char *path;
    const char *arch;
} loader;

/* Reads "<arch>.<suffix>" as an integer; TG_ERR_NOT_FOUND leaves *out alone. */
static tg_status arch_int(loader *L, const char *suffix, bool required, int32_t *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", L->arch, suffix);
    int64_t v;
    tg_status s = tg_gguf_get_int(L->g, key, &v);
    if (s == TG_ERR_NOT_FOUND) {
        if (required)
            return tg__fail(TG_ERR_FORMAT, "%s: missing metadata key %s", L->path, key);
        return TG_OK;
    }
    if (s)
        return s;
    if (v < 0 || v > INT32_MAX)
        return tg__fail(TG_ERR_FORMAT, "%s: %s = %lld is out of range", L->path, key, (long long)v);
    *out = (int32_t)v;
    return TG_OK;
}

static tg_status arch_float(loader *L, const char *suffix, bool required, float *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", L->arch, suffix);
    double v;
    tg_status s = tg_gguf_get_float(L->g, key, &v);
    if (s == TG_ERR_NOT_FOUND) {
        if (required)
            return tg__fail(TG_ERR_FORMAT, "%s: missing metadata key %s", L->path, key);
        return TG_OK;
    }
    if (s)
        return s;
    if (!isfinite(v))
        return tg__fail(TG_ERR_FORMAT, "%s: %s is not a finite number", L->path, key);
    *out = (float)v;
    return TG_OK;
}

static tg_status arch_str(loader *L, const char *suffix, char *out, size_t cap) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", L->arch, suffix);
    tg_str v;
    tg_status s = tg_gguf_get_str(L->g, key, &v);
    if (s == TG_ERR_NOT_FOUND)
        return TG_OK;
    if (s)
        return s;
    snprintf(out, cap, "%.*s", (int)v.len, v.ptr);
    return TG_OK;
}

/* ---- tensor binding -------------------------------------------------------- */

static const tg_gguf_tensor *find(loader *L, const char *name, bool required, tg_status *err) {
    const tg_gguf_tensor *t = tg_gguf_find_tensor(L->g, name);
    if (!t && required)
        *err = tg__fail(TG_ERR_FORMAT, "%s: missing tensor '%s' (a %s model needs it)", L->path, name,
                        L->arch);
    return t;
}

static tg_status shape_error(loader *L, const tg_gguf_tensor *t, const char *name, int64_t a, int64_t b,
                             int64_t c) {
    return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has shape [%lld, %lld, %lld] but [%lld, %lld, %lld] was expected",
                    L->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                    (long long)a, (long long)b, (long long)c);
}

/* Binds a matrix of n_out rows of n_in (× n_mat stacked, 1 for a plain
 * matrix).  Missing optional tensors leave m->data NULL. */
static tg_status bind_mat(loader *L, tg__mat *m, const char *name, int64_t n_in, int64_t n_out,
                          int64_t n_mat, bool required) {
    tg_status err = TG_OK;
    const tg_gguf_tensor *t = find(L, name, required, &err);
    memset(m, 0, sizeof *m);
    if (!t)
        return err;
    if (t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != n_mat || t->ne[3] != 1)
        return shape_error(L, t, name, n_in, n_out, n_mat);
    const tg_type_traits *tr = tg_type_get(t->type);
    if (!tr->vec_dot || !tg_type_get(tr->vec_dot_type) || !tg_type_get(tr->vec_dot_type)->from_float)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which tinglado cannot compute with yet",
                        L->path, name, tr->name);
    m->type = t->type;
    m->n_in = n_in;
    m->n_out = n_out;
    m->n_mat = n_mat;
    m->row_bytes = tg_type_row_size(t->type, n_in);
    m->data = t->data;
    return TG_OK;
}

/* Binds an f32 vector of n elements (norm weights, biases). */
static tg_status bind_vec(loader *L, const float **out, const char *name, int64_t n, bool required) {
    tg_status err = TG_OK;
    const tg_gguf_tensor *t = find(L, name, required, &err);
    *out = NULL;
    if (!t)
        return err;
    if (tg_gguf_tensor_nelements(t) != n || t->ne[0] != n)
        return shape_error(L, t, name, n, 1, 1);
    if (t->type != TG_TYPE_F32)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' is %s; tinglado expects f32 for norms and biases",
                        L->path, name, tg_type_name(t->type));
    if ((uintptr_t)t->data % sizeof(float) != 0)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' is not 4-byte aligned in the file", L->path, name);
    *out = t->data;
    return TG_OK;
}

/* ---- hyperparameters ------------------------------------------------------- */

static tg_status load_hparams(loader *L) {
    tg_model *m = L->m;
    tg__hparams *hp = &m->hp;
    tg_status s;
    memset(hp, 0, sizeof *hp);
    hp->n_vocab = tg_vocab_n_tokens(m->vocab);
    if ((s = arch_int(L, "context_length", true, &hp->n_ctx_train)) ||
        (s = arch_int(L, "embedding_length", true, &hp->n_embd)) ||
        (s = arch_int(L, "block_count", true, &hp->n_layer)) ||
        (s = arch_int(L, "feed_forward_length", true, &hp->n_ff)) ||
        (s = arch_int(L, "attention.head_count", true, &hp->n_head)))
        return s;
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_ff <= 0 || hp->n_layer > 4096 ||
        hp->n_embd > (1 << 20) || hp->n_head > 4096)
        return tg__fail(TG_ERR_FORMAT, "%s: implausible hyperparameters (n_embd %d, n_layer %d, n_head %d, n_ff %d)",
                        L->path, hp->n_embd, hp->n_layer, hp->n_head, hp->n_ff);
    hp->n_head_kv = hp->n_head;
    hp->head_dim_k = hp->n_embd / hp->n_head;
    hp->head_dim_v = hp->n_embd / hp->n_head;
    if ((s = arch_int(L, "attention.head_count_kv", false, &hp->n_head_kv)) ||
        (s = arch_int(L, "attention.key_length", false, &hp->head_dim_k)) ||
        (s = arch_int(L, "attention.value_length", false, &hp->head_dim_v)))
        return s;
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0)
        return tg__fail(TG_ERR_FORMAT, "%s: %d attention heads cannot share %d key/value heads", L->path,
                        hp->n_head, hp->n_head_kv);
    if (hp->head_dim_k <= 0 || hp->head_dim_v <= 0 || hp->head_dim_k > 4096 || hp->head_dim_v > 4096)
        return tg__fail(TG_ERR_FORMAT, "%s: implausible head size %d/%d", L->path, hp->head_dim_k, hp->head_dim_v);
    hp->n_rot = hp->head_dim_k;
    if ((s = arch_int(L, "rope.dimension_count", false, &hp->n_rot)))
        return s;
    if (hp->n_rot <= 0 || hp->n_rot > hp->head_dim_k || hp->n_rot % 2)
        return tg__fail(TG_ERR_FORMAT, "%s: rope dimension count %d does not fit a head of %d", L->path,
                        hp->n_rot, hp->head_dim_k);

    hp->rope_base = 10000.0f;
    float factor = 0.0f;
    if ((s = arch_float(L, "rope.freq_base", false, &hp->rope_base)) ||
        (s = arch_float(L, "rope.scaling.factor", false, &factor)))
        return s;
    char scaling[32] = "linear";
    if ((s = arch_str(L, "rope.scaling.type", scaling, sizeof scaling)))
        return s;
    if (strcmp(scaling, "linear") != 0 && strcmp(scaling, "none") != 0)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: RoPE scaling '%s' is not supported yet (only linear)", L->path,
                        scaling);
    if (!strcmp(scaling, "none"))
        factor = 0.0f;
    hp->rope_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
    hp->rope_base_swa = 10000.0f;
    hp->rope_scale_swa = 1.0f;
    if ((s = arch_float(L, "rope.freq_base_swa", false, &hp->rope_base_swa)))
        return s;

    if ((s = arch_int(L, "expert_count", false, &hp->n_expert)) ||
        (s = arch_int(L, "expert_used_count", false, &hp->n_expert_used)) ||
        (s = arch_float(L, "expert_weights_scale", false, &hp->expert_weights_scale)))
        return s;
    if (hp->n_expert > 0 && (hp->n_expert_used <= 0 || hp->n_expert_used > hp->n_expert || hp->n_expert > 1024))
        return tg__fail(TG_ERR_FORMAT, "%s: %d experts with %d used per token is not a valid MoE", L->path,
                        hp->n_expert, hp->n_expert_used);
    if (hp->n_expert == 0)
        hp->n_expert_used = 0;

    hp->embd_scale = 1.0f;
    hp->attn_q_scale = 1.0f;
    hp->kq_scale = 1.0f / sqrtf((float)hp->head_dim_k);
    hp->ffn_act = TG_FFN_SILU;
    hp->rope_neox = m->arch != TG_ARCH_LLAMA;

    if (m->arch == TG_ARCH_GEMMA3) {
        if ((s = arch_float(L, "attention.layer_norm_rms_epsilon", true, &hp->norm_eps)) ||
            (s = arch_int(L, "attention.sliding_window", false, &hp->n_swa)) ||
            (s = arch_float(L, "final_logit_softcapping", false, &hp->final_softcap)))
            return s;
        hp->embd_scale = sqrtf((float)hp->n_embd);
        /* llama.cpp scales Q by 1/sqrt(head_dim) (1/sqrt(n_embd/n_head) for
         * the 62-layer 27B) and then uses a K·Q scale of 1. */
        hp->attn_q_scale = hp->n_layer == 62 ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                             : 1.0f / sqrtf((float)hp->head_dim_k);
        hp->kq_scale = 1.0f;
        hp->ffn_act = TG_FFN_GELU;
        if (hp->n_expert)
            return tg__fail(TG_ERR_UNSUPPORTED, "%s: gemma3 with experts is not a known model", L->path);
    } else {
        if ((s = arch_float(L, "attention.layer_norm_rms_epsilon", true, &hp->norm_eps)))
            return s;
    }
    return TG_OK;
}

/* Sliding-window layers: gemma3 uses a pattern of 6 (five local layers, then
 * a global one) unless the file gives sliding_window_pattern. */
static tg_status load_swa_pattern(loader *L) {
    tg_model *m = L->m;
    const tg__hparams *hp = &m->hp;
    for (int il = 0; il < hp->n_layer; il++) {
        m->layers[il].is_swa = false;
        m->layers[il].rope_base = hp->rope_base;
        m->layers[il].rope_scale = hp->rope_scale;
    }
    if (m->arch != TG_ARCH_GEMMA3 || hp->n_swa <= 0)
        return TG_OK;
    int32_t pattern = 6;
    char key[160];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", L->arch);
    const tg_gguf_value *arr;
    if (tg_gguf_get_array(L->g, key, &arr) == TG_OK) {
        if (arr->v.arr.n != (uint64_t)hp->n_layer || arr->v.arr.type != TG_GGUF_BOOL)
            return tg__fail(TG_ERR_FORMAT, "%s: %s must be %d bools", L->path, key, hp->n_layer);
        for (int il = 0; il < hp->n_layer; il++) {
            tg_gguf_value e;
            tg_gguf_array_get(arr, (uint64_t)il, &e);
            m->layers[il].is_swa = e.v.b;
        }
    } else {
        tg_status s = arch_int(L, "attention.sliding_window_pattern", false, &pattern);
        if (s)
            return s;
        for (int il = 0; il < hp->n_layer; il++)
            m->layers[il].is_swa = pattern == 0 || (il % pattern < pattern - 1);
    }
    for (int il = 0; il < hp->n_layer; il++)
        if (m->layers[il].is_swa) {
            m->layers[il].rope_base = hp->rope_base_swa;
            m->layers[il].rope_scale = hp->rope_scale_swa;
        }
    return TG_OK;
}

/* ---- weights --------------------------------------------------------------- */

static tg_status bind_layer(loader *L, int il) {
    tg_model *m = L->m;
    const tg__hparams *hp = &m->hp;
    tg__layer *ly = &m->layers[il];
    const int64_t E = hp->n_embd, QD = (int64_t)hp->n_head * hp->head_dim_k;
    const int64_t KD = (int64_t)hp->n_head_kv * hp->head_dim_k, VD = (int64_t)hp->n_head_kv * hp->head_dim_v;
    const int64_t OD = (int64_t)hp->n_head * hp->head_dim_v;
    const bool gemma = m->arch == TG_ARCH_GEMMA3;
    char n[96];
    tg_status s;
#define NAME(fmt) (snprintf(n, sizeof n, "blk.%d." fmt, il), n)
    if ((s = bind_vec(L, &ly->attn_norm, NAME("attn_norm.weight"), E, true)) ||
        (s = bind_mat(L, &ly->wq, NAME("attn_q.weight"), E, QD, 1, true)) ||
        (s = bind_mat(L, &ly->wk, NAME("attn_k.weight"), E, KD, 1, true)) ||
        (s = bind_mat(L, &ly->wv, NAME("attn_v.weight"), E, VD, 1, true)) ||
        (s = bind_mat(L, &ly->wo, NAME("attn_output.weight"), OD, E, 1, true)) ||
        (s = bind_vec(L, &ly->bq, NAME("attn_q.bias"), QD, m->arch == TG_ARCH_QWEN2)) ||
        (s = bind_vec(L, &ly->bk, NAME("attn_k.bias"), KD, m->arch == TG_ARCH_QWEN2)) ||
        (s = bind_vec(L, &ly->bv, NAME("attn_v.bias"), VD, m->arch == TG_ARCH_QWEN2)) ||
        (s = bind_vec(L, &ly->bo, NAME("attn_output.bias"), E, false)) ||
        (s = bind_vec(L, &ly->q_norm, NAME("attn_q_norm.weight"), hp->head_dim_k,
                      gemma || m->arch == TG_ARCH_QWEN3)) ||
        (s = bind_vec(L, &ly->k_norm, NAME("attn_k_norm.weight"), hp->head_dim_k,
                      gemma || m->arch == TG_ARCH_QWEN3)) ||
        (s = bind_vec(L, &ly->post_attn_norm, NAME("post_attention_norm.weight"), E, gemma)) ||
        (s = bind_vec(L, &ly->ffn_norm, NAME("ffn_norm.weight"), E, true)) ||
        (s = bind_vec(L, &ly->post_ffn_norm, NAME("post_ffw_norm.weight"), E, gemma)))
        return s;
    if (hp->n_expert == 0) {
        if ((s = bind_mat(L, &ly->ffn_gate, NAME("ffn_gate.weight"), E, hp->n_ff, 1, true)) ||
            (s = bind_mat(L, &ly->ffn_up, NAME("ffn_up.weight"), E, hp->n_ff, 1, true)) ||
            (s = bind_mat(L, &ly->ffn_down, NAME("ffn_down.weight"), hp->n_ff, E, 1, true)) ||
            (s = bind_vec(L, &ly->ffn_gate_b, NAME("ffn_gate.bias"), hp->n_ff, false)) ||
            (s = bind_vec(L, &ly->ffn_up_b, NAME("ffn_up.bias"), hp->n_ff, false)) ||
            (s = bind_vec(L, &ly->ffn_down_b, NAME("ffn_down.bias"), E, false)))
            return s;
    } else {
        if ((s = bind_mat(L, &ly->ffn_router, NAME("ffn_gate_inp.weight"), E, hp->n_expert, 1, true)) ||
            (s = bind_mat(L, &ly->gate_exps, NAME("ffn_gate_exps.weight"), E, hp->n_ff, hp->n_expert, true)) ||
            (s = bind_mat(L, &ly->up_exps, NAME("ffn_up_exps.weight"), E, hp->n_ff, hp->n_expert, true)) ||
            (s = bind_mat(L, &ly->down_exps, NAME("ffn_down_exps.weight"), hp->n_ff, E, hp->n_expert, true)))
            return s;
    }
#undef NAME
    return TG_OK;
}

static tg_status bind_weights(loader *L) {
    tg_model *m = L->m;
    const tg__hparams *hp = &m->hp;
    tg_status s;
    if ((s = bind_mat(L, &m->token_embd, "token_embd.weight", hp->n_embd, hp->n_vocab, 1, true)) ||
        (s = bind_vec(L, &m->output_norm, "output_norm.weight", hp->n_embd, true)) ||
        (s = bind_mat(L, &m->output, "output.weight", hp->n_embd, hp->n_vocab, 1, false)))
        return s;
    if (!m->output.data)
        m->output = m->token_embd; /* tied embeddings */
    if (!tg_type_get(m->token_embd.type)->to_float)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: token_embd.weight has type %s, which tinglado cannot decode",
                        L->path, tg_type_name(m->token_embd.type));
    if ((s = bind_vec(L, &m->rope_freqs, "rope_freqs.weight", hp->n_rot / 2, false)))
        return s;
    m->layers = tg__calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers)
        return TG_ERR_NOMEM;
    for (int il = 0; il < hp->n_layer; il++)
        if ((s = bind_layer(L, il)))
            return s;
    return load_swa_pattern(L);
}

/* ---- public ------------------------------------------------------------------ */

tg_model *tg_model_load(const char *path) {
    tg__ops_init();
    tg_model *m = tg__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->gguf = tg_gguf_open(path);
    if (!m->gguf)
        goto fail;
    loader L = {.m = m, .g = m->gguf, .path = path};
    tg_str arch;
    if (tg_gguf_get_str(m->gguf, "general.architecture", &arch) != TG_OK) {
        tg__fail(TG_ERR_FORMAT, "%s: no general.architecture: a vocabulary-only file is not a model", path);
        goto fail;
    }
    snprintf(m->arch_name, sizeof m->arch_name, "%.*s", (int)arch.len, arch.ptr);
    L.arch = m->arch_name;
    if (tg__arch_lookup(m->arch_name, &m->arch) != TG_OK) {
        tg__fail(TG_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (supported: %s)", path,
                 m->arch_name, tg__arch_supported_list());
        goto fail;
    }
    m->vocab = tg_vocab_load(m->gguf);
    if (!m->vocab)
        goto fail;
    if (load_hparams(&L) || bind_weights(&L))
        goto fail;
    return m;
fail:
    tg_model_free(m);
    return NULL;
}

void tg_model_free(tg_model *m) {
    if (!m)
        return;
    free(m->layers);
    tg_vocab_free(m->vocab);
    tg_gguf_close(m->gguf);
    free(m);
}

const tg_vocab *tg_model_vocab(const tg_model *m) { return m->vocab; }
const tg_gguf *tg_model_gguf(const tg_model *m) { return m->gguf; }
const char *tg_model_arch(const tg_model *m) { return m->arch_name; }
int32_t tg_model_n_vocab(const tg_model *m) { return m->hp.n_vocab; }
int32_t tg_model_n_embd(const tg_model *m) { return m->hp.n_embd; }
int32_t tg_model_n_layer(const tg_model *m) { return m->hp.n_layer; }
int32_t tg_model_n_ctx_train(const tg_model *m) { return m->hp.n_ctx_train; }
int32_t tg_model_n_expert(const tg_model *m) { return m->hp.n_expert; }

static uint64_t mat_bytes(const tg__mat *w, int64_t n_used) {
    return w->data ? (uint64_t)w->row_bytes * (uint64_t)w->n_out * (uint64_t)n_used : 0;
}

uint64_t tg_model_weight_bytes(const tg_model *m) {
    const tg__hparams *hp = &m->hp;
    uint64_t b = mat_bytes(&m->output, 1) + (uint64_t)m->token_embd.row_bytes; /* one embedding row */
    for (int il = 0; il < hp->n_layer; il++) {
        const tg__layer *ly = &m->layers[il];
        b += mat_bytes(&ly->wq, 1) + mat_bytes(&ly->wk, 1) + mat_bytes(&ly->wv, 1) + mat_bytes(&ly->wo, 1);
        b += mat_bytes(&ly->ffn_gate, 1) + mat_bytes(&ly->ffn_up, 1) + mat_bytes(&ly->ffn_down, 1);
        b += mat_bytes(&ly->ffn_router, 1) + mat_bytes(&ly->gate_exps, hp->n_expert_used) +
             mat_bytes(&ly->up_exps, hp->n_expert_used) + mat_bytes(&ly->down_exps, hp->n_expert_used);
    }
    return b;
}
