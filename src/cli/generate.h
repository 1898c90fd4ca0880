/*
 * generate.h — the token generation loop of the interactive subcommands
 * (`run`, `chat`), with its stop conditions and timing.
 */
#ifndef TG_CLI_GENERATE_H
#define TG_CLI_GENERATE_H

#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>

typedef enum tg_cli_stop_reason {
    TG_CLI_STOP_EOG,       /* the model ended its turn          */
    TG_CLI_STOP_STRING,    /* a stop string matched              */
    TG_CLI_STOP_BUDGET,    /* -n tokens generated               */
    TG_CLI_STOP_CONTEXT,   /* the context is full               */
    TG_CLI_STOP_INTERRUPT, /* Ctrl-C                             */
} tg_cli_stop_reason;

typedef struct tg_cli_gen {
    /* set by the caller */
    const tg_model *model;
    tg_ctx *ctx;              /* sequence 0 receives the prompt at its end */
    tg_sampler *sampler;
    tg_stop *stop;            /* may be NULL */
    int32_t n_predict;        /* < 0: until the model stops or the context is full */
    volatile sig_atomic_t *interrupt; /* may be NULL */
    FILE *out;                /* where text streams (may be NULL) */
    void (*on_token)(void *user, tg_token t); /* each generated token (may be NULL) */
    void *on_token_user;
    /* results of the last call */
    int32_t n_prompt, n_gen;
    double t_prompt, t_gen;   /* seconds */
    tg_cli_stop_reason stop_reason;
    char *text;               /* the text shown, NUL-terminated */
    size_t text_len, text_cap;
} tg_cli_gen;

/* Appends the prompt to sequence 0 of g->ctx and generates.  Returns 0, or
 * 1 after printing an error. */
int tg_cli_generate(tg_cli_gen *g, const tg_token *prompt, size_t n_prompt);
void tg_cli_gen_reset_text(tg_cli_gen *g);
void tg_cli_gen_free(tg_cli_gen *g);
void tg_cli_gen_print_speed(const tg_cli_gen *g);
void tg_cli_print_moe_stats(const tg_model *m, const tg_ctx *ctx);


/* Sampling and model flags shared by `run` and `chat`: option entries for
 * getopt_long (codes ≥ 300) and their handler, which returns 1 if it took
 * the option, 0 if the option is not one of these, -1 on a bad value. */
enum {
    TG_OPT_TEMP = 300, TG_OPT_TOP_K, TG_OPT_TOP_P, TG_OPT_MIN_P, TG_OPT_REPEAT_PENALTY,
    TG_OPT_REPEAT_LAST_N, TG_OPT_PRESENCE, TG_OPT_FREQUENCY, TG_OPT_SEED, TG_OPT_CTX,
    TG_OPT_KV_TYPE, TG_OPT_CHAT_TEMPLATE, TG_OPT_SYSTEM, TG_OPT_STOP, TG_OPT_MOE_STATS,
};
#define TG_CLI_GEN_OPTIONS                                                                       \
    {"temp", required_argument, NULL, TG_OPT_TEMP},                                              \
    {"top-k", required_argument, NULL, TG_OPT_TOP_K},                                            \
    {"top-p", required_argument, NULL, TG_OPT_TOP_P},                                            \
    {"min-p", required_argument, NULL, TG_OPT_MIN_P},                                            \
    {"repeat-penalty", required_argument, NULL, TG_OPT_REPEAT_PENALTY},                          \
    {"repeat-last-n", required_argument, NULL, TG_OPT_REPEAT_LAST_N},                            \
    {"presence-penalty", required_argument, NULL, TG_OPT_PRESENCE},                              \
    {"frequency-penalty", required_argument, NULL, TG_OPT_FREQUENCY},                            \
    {"seed", required_argument, NULL, TG_OPT_SEED},                                              \
    {"ctx", required_argument, NULL, TG_OPT_CTX},                                                \
    {"kv-type", required_argument, NULL, TG_OPT_KV_TYPE},                                        \
    {"chat-template", required_argument, NULL, TG_OPT_CHAT_TEMPLATE},                            \
    {"system", required_argument, NULL, TG_OPT_SYSTEM},                                          \
    {"stop", required_argument, NULL, TG_OPT_STOP},                                              \
    {"moe-stats", no_argument, NULL, TG_OPT_MOE_STATS}

#define TG_CLI_MAX_STOPS 16

typedef struct tg_cli_gen_flags {
    tg_sampler_params sp;
    long n_ctx;                  /* 0: default */
    tg_type kv_type;
    const char *chat_template;   /* NULL: detect */
    const char *system;          /* system prompt or NULL */
    const char *stops[TG_CLI_MAX_STOPS];
    size_t n_stops;
    bool moe_stats;
} tg_cli_gen_flags;

void tg_cli_gen_flags_init(tg_cli_gen_flags *f);
int tg_cli_gen_flag(tg_cli_gen_flags *f, int opt, const char *arg);
/* The help text of those flags. */
extern const char tg_cli_gen_flags_help[];

/* Loads the model (path or cached name) and makes a context for it with the
 * flags' context size and KV type; prints errors. */
int tg_cli_open_model(const char *arg, const tg_cli_gen_flags *f, int threads, tg_model **m, tg_ctx **ctx);
/* The chat template to use: the flag's, or detected from the model. */
int tg_cli_pick_template(const tg_model *m, const tg_cli_gen_flags *f, tg_chat_template *out);
/* A stop-string object for the template's stops plus the user's --stop. */
tg_stop *tg_cli_make_stop(const tg_cli_gen_flags *f, const tg_chat_template *t);

#endif
