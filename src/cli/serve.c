/*
 * serve.c — `tinglado serve`: the OpenAI-compatible HTTP server.  Parses the
 * flags, resolves the model, installs the signal handlers (SIGTERM/SIGINT:
 * drain, a second one: cancel and stop) and runs src/serve's server.
 */
#include "cli/generate.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static tg_server *g_server;
static volatile sig_atomic_t g_signals;

static void on_signal(int sig) {
    (void)sig;
    g_signals++;
    if (g_server)
        tg_serve_stop(g_server, g_signals > 1);
}

static void usage(FILE *f) {
    fputs("usage: tinglado serve -m MODEL [options]\n"
          "       tinglado serve --library DB [-m MODEL] [--embedding-model NAME] [options]\n"
          "\n"
          "Serve a model over OpenAI's HTTP API (chat/completions, completions, models,\n"
          "tools, response_format, streaming), batching concurrent requests.  See docs/API.md.\n"
          "With --library, also serve the reading list's web page at /library/ (docs/web.md):\n"
          "a background worker fetches and extracts the URLs added there (and embeds their\n"
          "passages with --embedding-model, for hybrid search); -m is then optional.\n"
          "SIGTERM or Ctrl-C finishes the requests in flight, then exits; a second one cancels them.\n"
          "\n"
          "  -m, --model NAME        a GGUF path, or a cached model name (see tinglado pull)\n"
          "      --library DB        serve this reading library (tinglado read --db) at /library/\n"
          "      --model-id NAME     the model's name in the API (default: the file name)\n"
          "      --host ADDR         listen address (127.0.0.1); non-loopback needs --api-key or --insecure\n"
          "      --port N            port (8080; 0 = any free port, printed at start)\n"
          "      --api-key KEY       require \"Authorization: Bearer KEY\" (default: $TINGLADO_API_KEY)\n"
          "      --insecure          allow a non-loopback --host without a key\n"
          "  -P, --parallel N        slots: requests generated together in one batch (4)\n"
          "      --ctx N             context per slot in tokens (default: min(4096, trained))\n"
          "      --queue N           requests that may wait for a slot before 429 (64)\n"
          "      --max-tokens N      most tokens one request may generate (default: the context)\n"
          "      --max-body BYTES    largest request body (4194304)\n"
          "      --prefill-chunk N   prompt tokens evaluated per step while others generate (128)\n"
          "      --timeout S         close idle connections after S seconds (60)\n"
          "      --max-connections N (256)\n"
          "      --access-log PATH   one line per request (default: stderr)\n"
          "  -t, --threads N         threads (default: all CPUs)\n"
          "  -h, --help              this text\n"
          "  defaults for what a request does not set (llama.cpp's):\n"
          "      --temp T --top-k K --top-p P --min-p P --repeat-penalty R --repeat-last-n N\n"
          "      --presence-penalty X --frequency-penalty X\n"
          "  model:\n"
          "      --kv-type f16|f32   KV cache precision (f16)\n"
          "      --chat-template NAME  override the template detected from the model\n"
          "      --embedding-model NAME  also serve /v1/embeddings with this BERT-family GGUF\n"
          "      --embedding-model-id NAME  its name in replies (default: the file name)\n"
          "  energy (usage.energy_* fields and a Prometheus counter; docs/energy-and-cost.md):\n"
          "      --no-energy         do not meter\n"
          "      --watts W           CPU power at full load for the estimate (default: TDP lookup)\n"
          "      --energy-idle-seconds S  idle baseline measured at start with RAPL/NVML (1)\n"
          "      --price-kwh P       add each response's electricity cost (P per kWh)\n"
          "      --pue X             power usage effectiveness for that cost (1)\n"
          "      --currency LABEL    the label of --price-kwh (EUR)\n",
          f);
}

int tg_cli_serve(int argc, char **argv) {
    enum {
        OPT_HOST = 256, OPT_PORT, OPT_KEY, OPT_INSECURE, OPT_QUEUE, OPT_MAX_TOKENS, OPT_MAX_BODY, OPT_PREFILL,
        OPT_TIMEOUT, OPT_MAX_CONN, OPT_LOG, OPT_MODEL_ID, OPT_NO_ENERGY, OPT_WATTS, OPT_IDLE, OPT_PRICE, OPT_PUE,
        OPT_CURRENCY, OPT_EMBED, OPT_EMBED_ID, OPT_LIBRARY,
    };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"model-id", required_argument, NULL, OPT_MODEL_ID},
        {"host", required_argument, NULL, OPT_HOST}, {"port", required_argument, NULL, OPT_PORT},
        {"api-key", required_argument, NULL, OPT_KEY}, {"insecure", no_argument, NULL, OPT_INSECURE},
        {"parallel", required_argument, NULL, 'P'}, {"queue", required_argument, NULL, OPT_QUEUE},
        {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS}, {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"prefill-chunk", required_argument, NULL, OPT_PREFILL}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN}, {"access-log", required_argument, NULL, OPT_LOG},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"temp", required_argument, NULL, TG_OPT_TEMP}, {"top-k", required_argument, NULL, TG_OPT_TOP_K},
        {"top-p", required_argument, NULL, TG_OPT_TOP_P}, {"min-p", required_argument, NULL, TG_OPT_MIN_P},
        {"repeat-penalty", required_argument, NULL, TG_OPT_REPEAT_PENALTY},
        {"repeat-last-n", required_argument, NULL, TG_OPT_REPEAT_LAST_N},
        {"presence-penalty", required_argument, NULL, TG_OPT_PRESENCE},
        {"frequency-penalty", required_argument, NULL, TG_OPT_FREQUENCY},
        {"ctx", required_argument, NULL, TG_OPT_CTX}, {"kv-type", required_argument, NULL, TG_OPT_KV_TYPE},
        {"chat-template", required_argument, NULL, TG_OPT_CHAT_TEMPLATE},
        {"no-energy", no_argument, NULL, OPT_NO_ENERGY}, {"watts", required_argument, NULL, OPT_WATTS},
        {"energy-idle-seconds", required_argument, NULL, OPT_IDLE}, {"price-kwh", required_argument, NULL, OPT_PRICE},
        {"pue", required_argument, NULL, OPT_PUE}, {"currency", required_argument, NULL, OPT_CURRENCY},
        {"embedding-model", required_argument, NULL, OPT_EMBED}, {"embedding-model-id", required_argument, NULL, OPT_EMBED_ID},
        {"library", required_argument, NULL, OPT_LIBRARY},
        {0},
    };
    tg_serve_params p = tg_serve_default_params();
    tg_cli_gen_flags flags;
    tg_cli_gen_flags_init(&flags);
    const char *model_arg = NULL, *embed_arg = NULL;
    const char *env_key = getenv("TINGLADO_API_KEY");
    p.api_key = (env_key && *env_key) ? env_key : NULL;
    long l;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:P:t:h", opts, NULL)) != -1) {
        int r = tg_cli_gen_flag(&flags, c, optarg);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (c) {
        case 'm': model_arg = optarg; break;
        case OPT_MODEL_ID: p.model_id = optarg; break;
        case OPT_EMBED: embed_arg = optarg; break;
        case OPT_EMBED_ID: p.embed_model_id = optarg; break;
        case OPT_LIBRARY: p.library = optarg; break;
        case OPT_HOST: p.host = optarg; break;
        case OPT_KEY: p.api_key = optarg; break;
        case OPT_INSECURE: p.insecure = true; break;
        case OPT_LOG: p.access_log = optarg; break;
        case OPT_NO_ENERGY: p.no_energy = true; break;
        case OPT_WATTS:
            if (!tg_cli_parse_float("--watts", optarg, 0.001, 100000, &p.energy_watts))
                return 2;
            break;
        case OPT_IDLE:
            if (!tg_cli_parse_float("--energy-idle-seconds", optarg, 0, 600, &p.energy_idle_s))
                return 2;
            break;
        case OPT_PRICE:
            if (!tg_cli_parse_float("--price-kwh", optarg, 0, 1e6, &p.price_kwh))
                return 2;
            break;
        case OPT_PUE:
            if (!tg_cli_parse_float("--pue", optarg, 1, 10, &p.pue))
                return 2;
            break;
        case OPT_CURRENCY:
            if (strlen(optarg) >= 16 || strpbrk(optarg, "\"\\")) {
                fputs("tinglado serve: --currency wants a short label without quotes or backslashes\n", stderr);
                return 2;
            }
            p.currency = optarg;
            break;
        case OPT_PORT:
            if (!tg_cli_parse_int("--port", optarg, 0, 65535, &l))
                return 2;
            p.port = (int)l;
            break;
        case 'P':
            if (!tg_cli_parse_int("--parallel", optarg, 1, 256, &l))
                return 2;
            p.parallel = (int)l;
            break;
        case OPT_QUEUE:
            if (!tg_cli_parse_int("--queue", optarg, 0, 65536, &l))
                return 2;
            p.queue = (int)l;
            break;
        case OPT_MAX_TOKENS:
            if (!tg_cli_parse_int("--max-tokens", optarg, 1, 1 << 24, &l))
                return 2;
            p.max_tokens = (int32_t)l;
            break;
        case OPT_MAX_BODY:
            if (!tg_cli_parse_int("--max-body", optarg, 1024, 1L << 30, &l))
                return 2;
            p.max_body = (size_t)l;
            break;
        case OPT_PREFILL:
            if (!tg_cli_parse_int("--prefill-chunk", optarg, 1, 1 << 16, &l))
                return 2;
            p.prefill_chunk = (int32_t)l;
            break;
        case OPT_TIMEOUT:
            if (!tg_cli_parse_int("--timeout", optarg, 0, 86400, &l))
                return 2;
            p.timeout_s = (int)l;
            break;
        case OPT_MAX_CONN:
            if (!tg_cli_parse_int("--max-connections", optarg, 1, 100000, &l))
                return 2;
            p.max_connections = (int)l;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 1024, &l))
                return 2;
            p.n_threads = (int)l;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tinglado serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!model_arg && !p.library) {
        fputs("tinglado serve: -m MODEL is required (or --library DB)\n", stderr);
        usage(stderr);
        return 2;
    }
    char path[4096];
    if (model_arg) {
        if (tg_cli_resolve_model(model_arg, path, sizeof path) != TG_OK)
            return tg_cli_fail("model");
        p.model = path;
    }
    char embed_path[4096];
    if (embed_arg) {
        if (tg_cli_resolve_model(embed_arg, embed_path, sizeof embed_path) != TG_OK)
            return tg_cli_fail("embedding model");
        p.embed_model = embed_path;
    }
    p.n_ctx = (int32_t)flags.n_ctx;
    p.kv_type = flags.kv_type;
    p.chat_template = flags.chat_template;
    p.sampling = flags.sp;

    /* signals before the server exists are blocked-by-default behaviour
     * (terminate), which is right while loading */
    tg_server *s = tg_serve_new(&p);
    if (!s)
        return tg_cli_fail("serve");
    g_server = s;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    const bool v6 = strchr(p.host, ':') != NULL;
    if (p.model)
        fprintf(stderr, "tinglado serve: %s, %d slot(s) of %d tokens, listening on http://%s%s%s:%d%s\n",
                tg_serve_model_id(s), p.parallel, tg_serve_n_ctx(s), v6 ? "[" : "", p.host, v6 ? "]" : "",
                tg_serve_port(s), p.api_key ? " (API key required)" : "");
    else
        fprintf(stderr, "tinglado serve: no generative model, listening on http://%s%s%s:%d%s\n", v6 ? "[" : "",
                p.host, v6 ? "]" : "", tg_serve_port(s), p.api_key ? " (API key required)" : "");
    if (p.library)
        fprintf(stderr, "tinglado serve: library %s at http://%s%s%s:%d/library/\n", p.library, v6 ? "[" : "",
                p.host, v6 ? "]" : "", tg_serve_port(s));
    if (tg_serve_energy_label(s))
        fprintf(stderr, "tinglado serve: energy: %s\n", tg_serve_energy_label(s));
    tg_status st = tg_serve_run(s);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    g_server = NULL;
    tg_serve_free(s);
    if (st != TG_OK)
        return tg_cli_fail("serve");
    fputs("tinglado serve: stopped\n", stderr);
    return 0;
}
