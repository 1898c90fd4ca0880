/*
 * probe.h — what the files of `tinglado probe` share: corpora read into
 * documents, one teacher-forced evaluation of them that extraction and
 * every membership score are read from, the progress line, and the report.
 * Only the public API underneath; nothing here is library code.
 */
#ifndef TG_CLI_PROBE_H
#define TG_CLI_PROBE_H

#include "cli/cli.h"

#include <stdio.h>

#define PROBE_MAX_CORPORA 8
#define PROBE_MAX_KS 16
#define PROBE_N_SCORES 5

/* The membership scores, each oriented so that higher = more likely seen
 * in training (the AUC's direction). */
typedef enum probe_score {
    PS_PPL,   /* −ln ppl                               */
    PS_ZLIB,  /* −ln ppl / zlib bytes                  */
    PS_MINK,  /* Min-K% Prob                           */
    PS_LOWER, /* −ln ppl / ln ppl(lowercased)          */
    PS_LLR,   /* LL(model) − LL(ref), nats             */
} probe_score;
extern const char *const probe_score_names[PROBE_N_SCORES];

typedef struct probe_doc {
    char *text;
    size_t len;
    int corpus;
    tg_token *toks;    /* scored tokens (after BOS), n of them */
    size_t n, n_full;  /* n_full: before --max-tokens cut       */
    float *lp;
    tg_token *argmax;
    bool *match;
    size_t longest, longest_at;
    double log_ppl, min_k, log_ppl_lower, ll_ref;
    size_t zlib_len;
    double score[PROBE_N_SCORES]; /* NAN where not computed */
} probe_doc;

typedef struct probe_run {
    const char *model_arg, *ref_arg;
    const char *corpus_path[PROBE_MAX_CORPORA];
    int n_corpora;
    probe_doc *docs;
    size_t n_docs;
    long ks[PROBE_MAX_KS];
    int n_ks;
    long m;
    double k_percent;
    bool lower, do_scores, tokens_json;
    long max_tokens, threads;
    long batch; /* tokens per forward pass (0: the prober's default) */
    /* measured */
    double seconds;      /* teacher-forced passes over the corpora (the model's) */
    tg_estimate pass_rate; /* tokens/s per forward pass: median, bootstrap CI, n passes */
    uint64_t n_tokens;   /* tokens those passes scored */
    tg_estimate extract[PROBE_MAX_CORPORA][PROBE_MAX_KS]; /* Wilson; n = documents long enough */
    tg_estimate auc[PROBE_N_SCORES]; /* corpus 0 (seen) vs corpus 1 (unseen) */
} probe_run;

/* Reads corpora (documents are runs of non-empty lines; lines starting
 * with '#' are notes and skipped) and evaluates them.  Returns 0 or 1
 * after printing the error. */
int probe_run_corpora(probe_run *r);
/* Adds a document by hand (a copy of text); then evaluate r's documents. */
bool probe_run_add(probe_run *r, const char *text, size_t len, int corpus);
int probe_run_evaluate(probe_run *r);
void probe_run_free(probe_run *r);
void probe_print_extract(const probe_run *r, FILE *f);
void probe_print_scores(const probe_run *r, FILE *f, int sort, bool json, bool csv);

/* A progress line on stderr, drawn only when stderr is a terminal. */
typedef struct probe_progress {
    const char *label;
    double t0, t_last;
    uint64_t done_last;
    bool tty;
    double *rates; /* tokens/s of each forward pass, for the throughput figure */
    size_t n_rates, cap_rates;
} probe_progress;
void probe_progress_init(probe_progress *p, const char *label);
void probe_progress_cb(void *user, uint64_t done, uint64_t total);
void probe_progress_end(probe_progress *p); /* also frees the rates */
double probe_now(void);

/* The text of tokens as UTF-8, NUL-terminated (free()); NULL on failure. */
char *probe_detok(const tg_vocab *v, const tg_token *t, size_t n);
/* Writes s as a JSON string (quotes included). */
void probe_json_str(FILE *f, const char *s, size_t n);

/* probe_report.c: the Markdown report and its SVG plot (written beside it,
 * same name with .svg). */
typedef struct probe_canary_report {
    const char *format, *secret, *alphabet;
    int32_t length;
    tg_canary_result res;
} probe_canary_report;
/* A path ending in .html (or .htm) gets one self-contained page, the plot
 * inlined (probe_html.c); anything else Markdown. */
int probe_write_report(const char *path, const probe_run *r, const probe_canary_report *canaries, size_t n_canaries);
int probe_md_to_html(const char *md, size_t len, const char *svg_path, FILE *f);

int probe_cmd_canary(int argc, char **argv);
int probe_cmd_generate(int argc, char **argv);

#endif
