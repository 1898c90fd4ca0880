/*
 * model.h — the internal layout of a loaded model and of an inference
 * context, shared by the files of src/model/:
 *
 *   model.c     open the GGUF, read hyperparameters, bind weight tensors
 *               (views into the mapping: nothing is copied), validate shapes
 *   arch.c      the architecture registry: which GGUF architectures map to
 *               which forward pass, and their per-architecture defaults
 *   context.c   tg_ctx: KV cache, scratch memory, tg_ctx_decode()
 *   forward.c   the transformer forward pass for one micro-batch, reading
 *               top to bottom like the math (embed → blocks → norm → logits)
 *   attention.c causal (and sliding-window) grouped-query attention over the
 *               f16 KV cache
 *   moe.c       mixture-of-experts routing and expert FFNs
 */
#ifndef TG_MODEL_H
#define TG_MODEL_H

#include "base/base.h"
#include "base/pool.h"
#include "tensor/matmul.h"

typedef enum tg__arch {
    TG_ARCH_LLAMA,  /* llama 2/3, mistral, smollm, mixtral (MoE)   */
    TG_ARCH_QWEN2,  /* llama + q/k/v biases, NEOX rope               */
    TG_ARCH_QWEN3,  /* llama + QK-norm, NEOX rope                    */
    TG_ARCH_GEMMA3, /* pre+post norms, GeGLU, sliding-window layers  */
} tg__arch;

typedef enum tg__ffn_act { TG_FFN_SILU, TG_FFN_GELU } tg__ffn_act;

/* Hyperparameters, after defaults and per-architecture rules are applied. */
typedef struct tg__hparams {
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim_k; /* key length per head   */
    int32_t head_dim_v; /* value length per head */
    int32_t n_ff;
    int32_t n_rot;      /* rotated dimensions per head */
    bool rope_neox;     /* NEOX pairing (x[i], x[i+n_rot/2]) vs NORM (x[2i], x[2i+1]) */
    float rope_base;
    float rope_scale;   /* freq_scale = 1 / linear scaling factor */
    float rope_base_swa, rope_scale_swa;
    float norm_eps;
    int32_t n_swa;      /* sliding window (0 = none) */
    int32_t n_expert, n_expert_used;
    float expert_weights_scale; /* 0 = none */
    float embd_scale;   /* multiply token embeddings by this (gemma: sqrt(n_embd)); 1 = none */
    float attn_q_scale; /* multiply Q after RoPE (gemma); 1 = none */
    float kq_scale;     /* softmax scale of K·Q */
    float final_softcap; /* 0 = none */
    tg__ffn_act ffn_act;
} tg__hparams;

/* Weights of one layer.  A missing optional tensor has data == NULL. */
typedef struct tg__layer {
    const float *attn_norm;       /* (n_embd)                      */
    tg__mat wq, wk, wv, wo;       /* (n_embd → n_head·hd) etc.      */
    const float *bq, *bk, *bv, *bo; /* biases (qwen2), or NULL      */
    const float *q_norm, *k_norm; /* (head_dim) QK-norm, or NULL     */
    const float *post_attn_norm;  /* (n_embd) gemma                  */
    const float *ffn_norm;        /* (n_embd)                        */
    tg__mat ffn_gate, ffn_up, ffn_down; /* dense FFN                 */
    const float *ffn_gate_b, *ffn_up_b, *ffn_down_b; /* optional biases */
    const float *post_ffn_norm;   /* (n_embd) gemma                  */
    tg__mat ffn_router;           /* (n_embd → n_expert), MoE only   */
    tg__mat gate_exps, up_exps, down_exps; /* (n_expert stacked)     */
    bool is_swa;                  /* sliding-window layer            */
    float rope_base, rope_scale;  /* this layer's RoPE               */
} tg__layer;

struct tg_model {
    tg_gguf *gguf;
    tg_vocab *vocab;
    char arch_name[64];
    tg__arch arch;
    tg__hparams hp;
    tg__mat token_embd;           /* (n_embd × n_vocab): rows are embeddings */
    const float *output_norm;     /* (n_embd) */
    tg__mat output;               /* (n_embd → n_vocab); token_embd when tied */
    const float *rope_freqs;      /* (n_rot/2) or NULL */
    tg__layer *layers;
};

/* The KV cache of one context: per layer, per sequence, n_ctx cells of
 * n_head_kv·head_dim values (f16, or f32 when asked); cell = position. */
typedef struct tg__kv {
    int32_t n_ctx, n_seq;
    tg_type type;         /* TG_TYPE_F16 (llama.cpp's default) or TG_TYPE_F32 */
    size_t k_row, v_row;  /* elements per cell */
    void *k, *v;          /* [layer][seq][cell][row] */
    int32_t *len;         /* per sequence: cells filled (next position) */
} tg__kv;

struct tg_ctx {
    const tg_model *model;
    tg_pool *pool;
    tg__kv kv;
    int32_t n_ubatch;     /* tokens per forward micro-batch */
    int32_t n_outputs_max;

    /* scratch, sized for n_ubatch tokens (one allocation) */
    void *arena;
    float *x;             /* (n_ubatch, n_embd) residual stream   */
    float *xb;            /* (n_ubatch, n_embd) normed input      */
    float *xb2;           /* (n_ubatch, n_embd) block output      */
    float *q;             /* (n_ubatch, n_head·hd_k)               */
    float *k;             /* (n_ubatch, n_head_kv·hd_k)            */
    float *v;             /* (n_ubatch, n_head_kv·hd_v)            */
    float *att;           /* (n_ubatch, n_head·hd_v)               */
    float *hb, *hb2;      /* (n_ubatch, n_ff)                      */
    void *act;            /* converted activations for matmuls     */
    float *att_scratch;   /* per thread: n_ctx scores + hd acc      */
    size_t att_scratch_stride;
    /* MoE */
    float *router;        /* (n_ubatch, n_expert)                  */
    int32_t *sel;         /* (n_ubatch, n_expert_used) chosen experts */
    float *sel_w;         /* (n_ubatch, n_expert_used) their weights  */
    int32_t *rows;        /* (n_ubatch·n_expert_used) gather list     */
    float *gx;            /* (n_ubatch, n_embd) gathered inputs       */
    float *moe_out;       /* (n_ubatch, n_expert_used, n_embd) expert outputs by slot */
    uint64_t *moe_counts; /* (n_layer, n_expert) tokens routed        */

    /* per-decode bookkeeping for batches of up to n_ubatch tokens */
    int32_t *b_pos, *b_seq, *b_out; /* (n_ubatch) */
    int32_t *saved_len;   /* (n_seq) cache lengths before the decode */
    int32_t *next_pos;    /* (n_seq) scratch of the batch validation */

    /* outputs of the last decode */
    float *logits;        /* (n_outputs_max, n_vocab) */
    int32_t n_outputs;
};

/* A micro-batch as the forward pass sees it. */
typedef struct tg__ubatch {
    int32_t n;
    const tg_token *token;
    const int32_t *pos;
    const int32_t *seq;
    const int32_t *out_rows; /* indices (into the ubatch) of rows that need logits */
    int32_t n_out;
    float *logits;           /* n_out × n_vocab, written by the forward pass */
} tg__ubatch;

/* forward.c */
tg_status tg__forward(tg_ctx *c, const tg__ubatch *ub);
/* g[i] = act(g[i]) * u[i] for n values, split over the pool. */
void tg__ffn_gate_act(tg_ctx *c, float *g, const float *u, int64_t n, tg__ffn_act act);
/* attention.c: attention of the ubatch's q against the cache of layer il;
 * writes c->att. */
void tg__attention(tg_ctx *c, int il, const tg__ubatch *ub);
/* moe.c: MoE FFN of layer il on the n rows of c->xb, result in c->xb2. */
void tg__moe_ffn(tg_ctx *c, int il, int32_t n);
/* arch.c */
tg_status tg__arch_lookup(const char *name, tg__arch *out);
const char *tg__arch_supported_list(void);

#endif /* TG_MODEL_H */
