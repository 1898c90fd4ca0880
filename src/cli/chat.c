/*
 * chat.c — `tinglado chat`: an interactive, multi-turn conversation.
 *
 * Each turn renders the whole conversation with the chat template and
 * evaluates only what the KV cache does not already hold (the longest
 * common prefix of tokens is kept), so a long conversation costs one
 * turn's worth of prompt processing per turn.  /reset starts over, /quit
 * (or Ctrl-D) leaves, Ctrl-C stops the reply being written.
 */
#include "cli/generate.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fputs("usage: tinglado chat -m MODEL [options]\n"
          "\n"
          "An interactive conversation.  Type a message and press Enter.\n"
          "Commands: /reset (forget the conversation), /quit (or Ctrl-D).  Ctrl-C stops a reply.\n"
          "\n"
          "  -m, --model NAME      a GGUF path, or a cached model name (see tinglado pull)\n"
          "  -n, --n-predict N     at most N tokens per reply (default -1: until the model stops)\n"
          "  -t, --threads N       threads (default: all CPUs)\n"
          "  -h, --help            this text\n",
          f);
    fputs(tg_cli_gen_flags_help, f);
}

typedef struct history {
    tg_chat_msg *msgs;
    size_t n, cap;
} history;

static bool history_add(history *h, const char *role, const char *content) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        tg_chat_msg *nm = realloc(h->msgs, cap * sizeof *nm);
        if (!nm)
            return false;
        h->msgs = nm;
        h->cap = cap;
    }
    char *c = strdup(content);
    if (!c)
        return false;
    h->msgs[h->n++] = (tg_chat_msg){role, c};
    return true;
}

static void history_clear(history *h, size_t keep) {
    while (h->n > keep)
        free((char *)h->msgs[--h->n].content);
}

static void collect_token(void *user, tg_token t) {
    tg_cli_tokens_push((tg_tokens *)user, t);
}

/* Reads one line from stdin (without the newline); NULL at end of input. */
static char *read_line(void) {
    size_t cap = 0;
    char *line = NULL;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

int tg_cli_chat(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"n-predict", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        TG_CLI_GEN_OPTIONS, {0},
    };
    const char *model_arg = NULL;
    long n_predict = -1, threads = 0;
    tg_cli_gen_flags flags;
    tg_cli_gen_flags_init(&flags);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:n:t:h", opts, NULL)) != -1) {
        int r = tg_cli_gen_flag(&flags, c, optarg);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'n':
            if (!tg_cli_parse_int("--n-predict", optarg, -1, 1 << 24, &n_predict))
                return 2;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &threads))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_arg || optind != argc) {
        fputs("tinglado chat: give -m MODEL\n", stderr);
        usage(stderr);
        return 2;
    }

    int rc = 1;
    tg_model *m = NULL;
    tg_ctx *ctx = NULL;
    tg_sampler *smp = NULL;
    tg_stop *stop = NULL;
    history h = {0};
    tg_tokens toks = {0}, cached = {0}, generated = {0};
    tg_cli_gen g = {0};
    char *rendered = NULL;

    if (tg_cli_open_model(model_arg, &flags, (int)threads, &m, &ctx))
        goto out;
    tg_chat_template tmpl;
    if (tg_cli_pick_template(m, &flags, &tmpl))
        goto out;
    tg_sampler_params sp = flags.sp;
    if (!(smp = tg_sampler_new(&sp, tg_model_n_vocab(m)))) {
        tg_cli_fail("sampler");
        goto out;
    }
    if (!(stop = tg_cli_make_stop(&flags, &tmpl)))
        goto out;
    const tg_vocab *v = tg_model_vocab(m);
    size_t n_fixed = 0;
    if (flags.system) {
        if (!history_add(&h, "system", flags.system))
            goto oom;
        n_fixed = 1;
    }
    const bool tty = isatty(STDIN_FILENO);
    fprintf(stderr, "chatting with %s (%s template, context %d tokens). /reset, /quit, Ctrl-C stops a reply.\n",
            model_arg, tg_chat_template_name(tmpl), tg_ctx_n_ctx(ctx));

    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    g = (tg_cli_gen){.model = m, .ctx = ctx, .sampler = smp, .stop = stop, .n_predict = (int32_t)n_predict,
                     .interrupt = &interrupted, .out = stdout, .on_token = collect_token,
                     .on_token_user = &generated};
    for (;;) {
        if (tty)
            fputs("\n> ", stdout);
        fflush(stdout);
        signal(SIGINT, SIG_DFL); /* at the prompt Ctrl-C leaves */
        char *line = read_line();
        if (!line)
            break;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) {
            free(line);
            break;
        }
        if (!strcmp(line, "/reset")) {
            free(line);
            history_clear(&h, n_fixed);
            tg_ctx_seq_truncate(ctx, 0, 0);
            cached.n = 0;
            tg_sampler_reset(smp);
            fputs("(conversation cleared)\n", stderr);
            continue;
        }
        if (!*line) {
            free(line);
            continue;
        }
        bool added = history_add(&h, "user", line);
        free(line);
        if (!added)
            goto oom;

        free(rendered);
        rendered = NULL;
        toks.n = 0;
        if (tg_chat_render(tmpl, h.msgs, h.n, true, &rendered) != TG_OK ||
            tg_tokenize(v, rendered, strlen(rendered), (tg_tokenize_opts){.add_special = true, .parse_special = true},
                        &toks) != TG_OK) {
            tg_cli_fail("chat");
            goto out;
        }
        if (toks.n >= 2 && toks.ids[0] == tg_vocab_bos(v) && toks.ids[1] == toks.ids[0]) {
            memmove(toks.ids, toks.ids + 1, (toks.n - 1) * sizeof *toks.ids);
            toks.n--;
        }
        /* keep the cached prefix the new prompt shares (minus one token, so
         * there is always something to evaluate for fresh logits) */
        size_t keep = 0;
        while (keep < cached.n && keep + 1 < toks.n && cached.ids[keep] == toks.ids[keep])
            keep++;
        if ((int32_t)toks.n >= tg_ctx_n_ctx(ctx)) {
            fprintf(stderr, "tinglado: the conversation (%zu tokens) no longer fits the context of %d; "
                            "/reset to start over or use a larger --ctx\n",
                    toks.n, tg_ctx_n_ctx(ctx));
            history_clear(&h, h.n - 1);
            continue;
        }
        tg_ctx_seq_truncate(ctx, 0, (int32_t)keep);
        tg_sampler_reset(smp);
        for (size_t i = 0; i < keep; i++)
            tg_sampler_accept(smp, toks.ids[i]);

        interrupted = 0;
        generated.n = 0;
        sigaction(SIGINT, &sa, NULL);
        if (tg_cli_generate(&g, toks.ids + keep, toks.n - keep))
            goto out;
        signal(SIGINT, SIG_DFL);
        if (g.text_len == 0 || g.text[g.text_len - 1] != '\n')
            putchar('\n');
        if (g.stop_reason == TG_CLI_STOP_INTERRUPT)
            fputs("(stopped)\n", stderr);
        if (!history_add(&h, "assistant", g.text))
            goto oom;
        /* what the cache now holds: the prompt and the generated tokens that
         * were evaluated (the last one, which ended the turn, was not) */
        cached.n = 0;
        for (size_t i = 0; i < toks.n; i++)
            if (!tg_cli_tokens_push(&cached, toks.ids[i]))
                goto out;
        for (size_t i = 0; i < generated.n; i++)
            if (!tg_cli_tokens_push(&cached, generated.ids[i]))
                goto out;
        if (cached.n > (size_t)tg_ctx_seq_len(ctx, 0))
            cached.n = (size_t)tg_ctx_seq_len(ctx, 0);
        if (flags.moe_stats)
            tg_cli_print_moe_stats(m, ctx);
    }
    rc = 0;
    goto out;
oom:
    fputs("tinglado: out of memory\n", stderr);
out:
    signal(SIGINT, SIG_DFL);
    history_clear(&h, 0);
    free(h.msgs);
    free(rendered);
    tg_tokens_free(&toks);
    tg_tokens_free(&cached);
    tg_tokens_free(&generated);
    tg_cli_gen_free(&g);
    tg_stop_free(stop);
    tg_sampler_free(smp);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}
