/*
 * generate.c — the generation loop shared by `run` and `chat`: evaluate
 * the prompt as one batch, then sample, stream and evaluate one token at a
 * time until an end-of-generation token, a stop string, the token budget,
 * a full context or an interrupt.  Text is streamed through the UTF-8-safe
 * detokenizer and the stop-string holdback, so a multi-byte character or a
 * stop string is never printed in part.
 */
#include "cli/generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool text_append(tg_cli_gen *g, const char *s, size_t n) {
    if (g->text_len + n + 1 > g->text_cap) {
        size_t cap = g->text_cap ? g->text_cap : 1024;
        while (cap < g->text_len + n + 1)
            cap *= 2;
        char *t = realloc(g->text, cap);
        if (!t)
            return false;
        g->text = t;
        g->text_cap = cap;
    }
    memcpy(g->text + g->text_len, s, n);
    g->text_len += n;
    g->text[g->text_len] = '\0';
    return true;
}

/* Shows text that is safe to show (past the stop-string holdback). */
static bool emit(tg_cli_gen *g, const char *s, size_t n) {
    if (n == 0)
        return true;
    if (g->out) {
        fwrite(s, 1, n, g->out);
        fflush(g->out);
    }
    return text_append(g, s, n);
}

void tg_cli_gen_reset_text(tg_cli_gen *g) {
    g->text_len = 0;
    if (g->text)
        g->text[0] = '\0';
}

void tg_cli_gen_free(tg_cli_gen *g) {
    free(g->text);
    g->text = NULL;
    g->text_len = g->text_cap = 0;
}

int tg_cli_generate(tg_cli_gen *g, const tg_token *prompt, size_t n_prompt) {
    const tg_vocab *v = tg_model_vocab(g->model);
    const int32_t n_ctx = tg_ctx_n_ctx(g->ctx);
    g->n_prompt = (int32_t)n_prompt;
    g->n_gen = 0;
    g->stop_reason = TG_CLI_STOP_BUDGET;
    tg_cli_gen_reset_text(g);

    int32_t pos = tg_ctx_seq_len(g->ctx, 0);
    if (n_prompt == 0) {
        fputs("tinglado: empty prompt\n", stderr);
        return 1;
    }
    if ((size_t)pos + n_prompt >= (size_t)n_ctx) {
        fprintf(stderr, "tinglado: the prompt needs %zu tokens after %d in the context, but the context holds %d; "
                        "use a larger --ctx (or /reset in chat)\n",
                n_prompt, pos, n_ctx);
        return 1;
    }
    for (size_t i = 0; i < n_prompt; i++)
        if (tg_sampler_accept(g->sampler, prompt[i]) != TG_OK)
            return tg_cli_fail("generate");

    double t0 = now_s();
    tg_batch b = {.n = (int32_t)n_prompt, .token = prompt};
    if (tg_ctx_decode(g->ctx, &b) != TG_OK)
        return tg_cli_fail("generate");
    double t1 = now_s();
    g->t_prompt = t1 - t0;

    tg_detok dt;
    tg_detok_init(&dt, v, false);
    if (g->stop)
        tg_stop_reset(g->stop);
    /* room for the longest token text a vocabulary may hold (64 KiB) plus a
     * held-back partial character */
    enum { PIECE_CAP = 64 * 1024 + 64 };
    char *piece = malloc(PIECE_CAP);
    if (!piece) {
        fputs("tinglado: out of memory\n", stderr);
        return 1;
    }
    int rc = 1;
    pos += (int32_t)n_prompt;
    for (;;) {
        if (g->interrupt && *g->interrupt) {
            g->stop_reason = TG_CLI_STOP_INTERRUPT;
            break;
        }
        if (g->n_predict >= 0 && g->n_gen >= g->n_predict) {
            g->stop_reason = TG_CLI_STOP_BUDGET;
            break;
        }
        if (pos >= n_ctx) {
            g->stop_reason = TG_CLI_STOP_CONTEXT;
            break;
        }
        const float *logits = tg_ctx_logits(g->ctx, 0);
        tg_token t = tg_sampler_sample(g->sampler, logits, NULL);
        if (t < 0 || tg_sampler_accept(g->sampler, t) != TG_OK) {
            tg_cli_fail("sample");
            goto out;
        }
        g->n_gen++;
        if (g->on_token)
            g->on_token(g->on_token_user, t);
        if (tg_vocab_is_eog(v, t)) {
            g->stop_reason = TG_CLI_STOP_EOG;
            break;
        }
        size_t n = tg_detok_push(&dt, t, piece, PIECE_CAP);
        bool stopped = false;
        if (n > PIECE_CAP) {
            fputs("tinglado: a token's text is longer than 64 KiB\n", stderr);
            goto out;
        }
        if (g->stop) {
            tg_str shown;
            if (tg_stop_feed(g->stop, piece, n, &shown, &stopped) != TG_OK || !emit(g, shown.ptr, shown.len)) {
                tg_cli_fail("generate");
                goto out;
            }
        } else if (!emit(g, piece, n)) {
            tg_cli_fail("generate");
            goto out;
        }
        if (stopped) {
            g->stop_reason = TG_CLI_STOP_STRING;
            break;
        }
        if (pos + 1 >= n_ctx) { /* the next token would not fit */
            g->stop_reason = TG_CLI_STOP_CONTEXT;
            break;
        }
        tg_batch nb = {.n = 1, .token = &t};
        if (tg_ctx_decode(g->ctx, &nb) != TG_OK) {
            tg_cli_fail("generate");
            goto out;
        }
        pos++;
    }
    if (g->stop_reason != TG_CLI_STOP_STRING) {
        size_t n = tg_detok_flush(&dt, piece, PIECE_CAP);
        if (n > PIECE_CAP)
            n = 0;
        bool ok = true;
        if (g->stop) {
            tg_str shown;
            bool stopped = false;
            ok = tg_stop_feed(g->stop, piece, n, &shown, &stopped) == TG_OK && emit(g, shown.ptr, shown.len);
            if (ok && !stopped) {
                tg_str rest = tg_stop_flush(g->stop);
                ok = emit(g, rest.ptr, rest.len);
            }
        } else {
            ok = emit(g, piece, n);
        }
        if (!ok) {
            tg_cli_fail("generate");
            goto out;
        }
    }
    g->t_gen = now_s() - t1;
    rc = 0;
out:
    free(piece);
    return rc;
}

void tg_cli_gen_print_speed(const tg_cli_gen *g) {
    static const char *const why[] = {
        [TG_CLI_STOP_EOG] = "end of turn", [TG_CLI_STOP_STRING] = "stop string",
        [TG_CLI_STOP_BUDGET] = "token limit", [TG_CLI_STOP_CONTEXT] = "context full",
        [TG_CLI_STOP_INTERRUPT] = "interrupted",
    };
    fprintf(stderr, "\n[prompt %d tokens, %.2f s, %.1f tokens/s | generated %d tokens, %.2f s, %.1f tokens/s | %s]\n",
            g->n_prompt, g->t_prompt, g->t_prompt > 0 ? g->n_prompt / g->t_prompt : 0.0, g->n_gen, g->t_gen,
            g->t_gen > 0 ? g->n_gen / g->t_gen : 0.0, why[g->stop_reason]);
}

void tg_cli_print_moe_stats(const tg_model *m, const tg_ctx *ctx) {
    const uint64_t *counts = tg_ctx_moe_counts(ctx);
    int32_t ne = tg_model_n_expert(m);
    if (!counts || ne <= 0) {
        fputs("moe-stats: this model has no experts\n", stderr);
        return;
    }
    fprintf(stderr, "moe-stats: tokens routed to each expert, per layer (%d experts)\n", ne);
    fprintf(stderr, "%6s", "layer");
    for (int e = 0; e < ne; e++)
        fprintf(stderr, " %7d", e);
    fputc('\n', stderr);
    for (int il = 0; il < tg_model_n_layer(m); il++) {
        uint64_t total = 0;
        for (int e = 0; e < ne; e++)
            total += counts[(size_t)il * ne + e];
        fprintf(stderr, "%6d", il);
        for (int e = 0; e < ne; e++) {
            uint64_t k = counts[(size_t)il * ne + e];
            fprintf(stderr, " %6.1f%%", total ? 100.0 * (double)k / (double)total : 0.0);
        }
        fprintf(stderr, "  (n=%llu)\n", (unsigned long long)total);
    }
}

/* ---- flags shared by run and chat ------------------------------------------ */

const char tg_cli_gen_flags_help[] =
    "  sampling (llama.cpp's defaults):\n"
    "      --temp T              temperature (0.8; 0 = greedy)\n"
    "      --top-k K             keep the K most likely tokens (40; 0 = off)\n"
    "      --top-p P             nucleus sampling (0.95; 1 = off)\n"
    "      --min-p P             drop tokens below P × the best (0.05; 0 = off)\n"
    "      --repeat-penalty R    penalise recent tokens (1.0 = off)\n"
    "      --repeat-last-n N     how far back penalties look (64; -1 = all)\n"
    "      --presence-penalty X  (0.0)\n"
    "      --frequency-penalty X (0.0)\n"
    "      --seed N              random seed (default: random; printed with --verbose)\n"
    "  model and prompt:\n"
    "      --ctx N               context size in tokens (default: min(4096, trained))\n"
    "      --kv-type f16|f32     KV cache precision (f16)\n"
    "      --chat-template NAME  override the template detected from the model\n"
    "      --system TEXT         a system message\n"
    "      --stop TEXT           stop when TEXT is generated (repeatable)\n"
    "      --moe-stats           print how often each expert fired, per layer\n";

void tg_cli_gen_flags_init(tg_cli_gen_flags *f) {
    memset(f, 0, sizeof *f);
    f->sp = tg_sampler_defaults();
    f->kv_type = TG_TYPE_F16;
}

int tg_cli_gen_flag(tg_cli_gen_flags *f, int opt, const char *arg) {
    double d;
    long l;
    switch (opt) {
    case TG_OPT_TEMP:
        if (!tg_cli_parse_float("--temp", arg, 0.0, 100.0, &d))
            return -1;
        f->sp.temperature = (float)d;
        return 1;
    case TG_OPT_TOP_K:
        if (!tg_cli_parse_int("--top-k", arg, 0, 1 << 30, &l))
            return -1;
        f->sp.top_k = (int32_t)l;
        return 1;
    case TG_OPT_TOP_P:
        if (!tg_cli_parse_float("--top-p", arg, 0.0, 1.0, &d))
            return -1;
        f->sp.top_p = (float)d;
        return 1;
    case TG_OPT_MIN_P:
        if (!tg_cli_parse_float("--min-p", arg, 0.0, 1.0, &d))
            return -1;
        f->sp.min_p = (float)d;
        return 1;
    case TG_OPT_REPEAT_PENALTY:
        if (!tg_cli_parse_float("--repeat-penalty", arg, 0.01, 100.0, &d))
            return -1;
        f->sp.repeat_penalty = (float)d;
        return 1;
    case TG_OPT_REPEAT_LAST_N:
        if (!tg_cli_parse_int("--repeat-last-n", arg, -1, 1 << 24, &l))
            return -1;
        f->sp.repeat_last_n = (int32_t)l;
        return 1;
    case TG_OPT_PRESENCE:
        if (!tg_cli_parse_float("--presence-penalty", arg, -100.0, 100.0, &d))
            return -1;
        f->sp.presence_penalty = (float)d;
        return 1;
    case TG_OPT_FREQUENCY:
        if (!tg_cli_parse_float("--frequency-penalty", arg, -100.0, 100.0, &d))
            return -1;
        f->sp.frequency_penalty = (float)d;
        return 1;
    case TG_OPT_SEED: {
        char *end;
        unsigned long long s = strtoull(arg, &end, 10);
        if (!*arg || *end || arg[0] == '-') {
            fprintf(stderr, "tinglado: --seed expects a non-negative integer, not '%s'\n", arg);
            return -1;
        }
        f->sp.seed = (uint64_t)s;
        return 1;
    }
    case TG_OPT_CTX:
        if (!tg_cli_parse_int("--ctx", arg, 8, 1 << 24, &f->n_ctx))
            return -1;
        return 1;
    case TG_OPT_KV_TYPE: return tg_cli_parse_kv_type(arg, &f->kv_type) ? 1 : -1;
    case TG_OPT_CHAT_TEMPLATE: f->chat_template = arg; return 1;
    case TG_OPT_SYSTEM: f->system = arg; return 1;
    case TG_OPT_STOP:
        if (f->n_stops == TG_CLI_MAX_STOPS) {
            fprintf(stderr, "tinglado: at most %d --stop strings\n", TG_CLI_MAX_STOPS);
            return -1;
        }
        f->stops[f->n_stops++] = arg;
        return 1;
    case TG_OPT_MOE_STATS: f->moe_stats = true; return 1;
    default: return 0;
    }
}

int tg_cli_open_model(const char *arg, const tg_cli_gen_flags *f, int threads, tg_model **m, tg_ctx **ctx) {
    char path[4096];
    *m = NULL;
    *ctx = NULL;
    if (tg_cli_resolve_model(arg, path, sizeof path) != TG_OK)
        return tg_cli_fail("model");
    if (!(*m = tg_model_load(path)))
        return tg_cli_fail("model");
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = (int32_t)f->n_ctx;
    cp.n_threads = threads;
    cp.kv_type = f->kv_type;
    if (!(*ctx = tg_ctx_new(*m, &cp))) {
        tg_model_free(*m);
        *m = NULL;
        return tg_cli_fail("context");
    }
    return 0;
}

int tg_cli_pick_template(const tg_model *m, const tg_cli_gen_flags *f, tg_chat_template *out) {
    tg_status s = f->chat_template ? tg_chat_template_from_name(f->chat_template, out)
                                   : tg_chat_template_detect_gguf(tg_model_gguf(m), out);
    return s == TG_OK ? 0 : tg_cli_fail("chat template");
}

tg_stop *tg_cli_make_stop(const tg_cli_gen_flags *f, const tg_chat_template *t) {
    const char *all[TG_CLI_MAX_STOPS + 16];
    size_t n = 0;
    if (t)
        for (const char *const *p = tg_chat_stop_strings(*t); p && *p && n < 16; p++)
            all[n++] = *p;
    for (size_t i = 0; i < f->n_stops; i++)
        all[n++] = f->stops[i];
    tg_stop *s = tg_stop_new(all, n);
    if (!s)
        tg_cli_fail("stop strings");
    return s;
}
