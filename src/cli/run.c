/*
 * run.c — `tinglado run`: answer one prompt and stream the reply.
 * The prompt goes through the model's chat template unless --raw; the speed
 * of prompt processing and generation is printed on stderr at the end.
 */
#include "cli/generate.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fputs("usage: tinglado run -m MODEL (-p PROMPT | -f FILE | --tokens FILE.json) [options]\n"
          "\n"
          "Answer one prompt, streaming the reply to stdout; speed goes to stderr.\n"
          "\n"
          "  -m, --model NAME      a GGUF path, or a cached model name (see tinglado pull)\n"
          "  -p, --prompt TEXT     the prompt\n"
          "  -f, --file PATH       read the prompt from a file (- for stdin)\n"
          "      --tokens PATH     exact prompt token ids {\"tokens\":[…]} (implies --raw)\n"
          "  -n, --n-predict N     generate at most N tokens (default 512; -1 = until done)\n"
          "      --raw             no chat template: the prompt is the model's input as is\n"
          "      --special         with --raw, read <special> token text in the prompt as tokens\n"
          "  -t, --threads N       threads (default: all CPUs)\n"
          "  -h, --help            this text\n",
          f);
    fputs(tg_cli_gen_flags_help, f);
}

/* Tokenizes a rendered chat prompt; drops a doubled BOS when the template
 * text already starts with it. */
static tg_status tokenize_chat(const tg_vocab *v, const char *text, tg_tokens *out) {
    tg_status s = tg_tokenize(v, text, strlen(text), (tg_tokenize_opts){.add_special = true, .parse_special = true}, out);
    if (s == TG_OK && out->n >= 2 && out->ids[0] == tg_vocab_bos(v) && out->ids[1] == out->ids[0]) {
        memmove(out->ids, out->ids + 1, (out->n - 1) * sizeof *out->ids);
        out->n--;
    }
    return s;
}

int tg_cli_run(int argc, char **argv) {
    enum { OPT_RAW = 256, OPT_SPECIAL, OPT_TOKENS };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"prompt", required_argument, NULL, 'p'},
        {"file", required_argument, NULL, 'f'}, {"tokens", required_argument, NULL, OPT_TOKENS},
        {"n-predict", required_argument, NULL, 'n'}, {"raw", no_argument, NULL, OPT_RAW},
        {"special", no_argument, NULL, OPT_SPECIAL}, {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'}, TG_CLI_GEN_OPTIONS, {0},
    };
    const char *model_arg = NULL, *prompt = NULL, *file = NULL, *tokens_file = NULL;
    long n_predict = 512, threads = 0;
    bool raw = false, special = false;
    tg_cli_gen_flags flags;
    tg_cli_gen_flags_init(&flags);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:f:n:t:h", opts, NULL)) != -1) {
        int r = tg_cli_gen_flag(&flags, c, optarg);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case OPT_TOKENS: tokens_file = optarg; break;
        case OPT_RAW: raw = true; break;
        case OPT_SPECIAL: special = true; break;
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
    if (!model_arg || optind != argc || (!!prompt + !!file + !!tokens_file) != 1) {
        fputs("tinglado run: give -m MODEL and exactly one of -p, -f, --tokens\n", stderr);
        usage(stderr);
        return 2;
    }
    if (tokens_file)
        raw = true;

    int rc = 1;
    tg_model *m = NULL;
    tg_ctx *ctx = NULL;
    tg_sampler *smp = NULL;
    tg_stop *stop = NULL;
    tg_tokens toks = {0};
    char *text = NULL, *rendered = NULL;
    tg_cli_gen g = {0};

    if (file) {
        size_t len;
        if (!(text = tg_cli_read_file(file, &len)))
            goto out;
        prompt = text;
    }
    if (tg_cli_open_model(model_arg, &flags, (int)threads, &m, &ctx))
        goto out;
    const tg_vocab *v = tg_model_vocab(m);
    tg_chat_template tmpl;
    bool have_tmpl = false;
    if (tokens_file) {
        size_t len;
        if (!(text = tg_cli_read_file(tokens_file, &len)) || !tg_cli_parse_token_list(text, len, &toks))
            goto out;
    } else if (raw) {
        tg_tokenize_opts to = {.add_special = true, .parse_special = special};
        if (tg_tokenize(v, prompt, strlen(prompt), to, &toks) != TG_OK) {
            tg_cli_fail("tokenize");
            goto out;
        }
    } else {
        if (tg_cli_pick_template(m, &flags, &tmpl))
            goto out;
        have_tmpl = true;
        tg_chat_msg msgs[2];
        size_t n = 0;
        if (flags.system)
            msgs[n++] = (tg_chat_msg){"system", flags.system};
        msgs[n++] = (tg_chat_msg){"user", prompt};
        if (tg_chat_render(tmpl, msgs, n, true, &rendered) != TG_OK || tokenize_chat(v, rendered, &toks) != TG_OK) {
            tg_cli_fail("chat template");
            goto out;
        }
    }
    tg_sampler_params sp = flags.sp;
    if (!(smp = tg_sampler_new(&sp, tg_model_n_vocab(m)))) {
        tg_cli_fail("sampler");
        goto out;
    }
    if (!(stop = tg_cli_make_stop(&flags, have_tmpl ? &tmpl : NULL)))
        goto out;

    signal(SIGINT, on_sigint);
    g = (tg_cli_gen){.model = m, .ctx = ctx, .sampler = smp, .stop = stop, .n_predict = (int32_t)n_predict,
                     .interrupt = &interrupted, .out = stdout};
    if (tg_cli_generate(&g, toks.ids, toks.n))
        goto out;
    if (g.text_len && g.text[g.text_len - 1] != '\n')
        putchar('\n');
    fflush(stdout);
    tg_cli_gen_print_speed(&g);
    if (flags.moe_stats)
        tg_cli_print_moe_stats(m, ctx);
    rc = g.stop_reason == TG_CLI_STOP_INTERRUPT ? 130 : 0;
out:
    signal(SIGINT, SIG_DFL);
    tg_cli_gen_free(&g);
    free(text);
    free(rendered);
    tg_tokens_free(&toks);
    tg_stop_free(stop);
    tg_sampler_free(smp);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}
