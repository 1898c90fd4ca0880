/*
 * tokenize.c — `tinglado tokenize`: text to token ids with a model's
 * tokenizer (the ids llama.cpp's llama_tokenize gives for the same file).
 *
 * Reads only the GGUF metadata (works on vocabulary-only files; no weights
 * are touched); -m takes whatever `tinglado info` takes (a path or a cached
 * model name).  Prints `{"tokens":[…]}` with --json, otherwise one line per
 * token: its id and its piece, quoted and escaped so that spaces, control
 * bytes and partial UTF-8 characters are visible.  Exit codes: 0 ok, 1 the
 * input could not be read or tokenized, 2 the command line is wrong.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado tokenize -m MODEL (-p TEXT | -f FILE) [--no-bos] [--special] [--json]\n"
          "\n"
          "Turn text into token ids with the tokenizer of a GGUF model.\n"
          "\n"
          "  -m, --model MODEL   a GGUF file (a vocabulary-only one is enough), or the\n"
          "                      name of a model in the cache (see tinglado pull)\n"
          "  -p, --prompt TEXT   the text to tokenize\n"
          "  -f, --file FILE     read the text from FILE, byte for byte (\"-\" = stdin)\n"
          "      --no-bos        do not add the BOS/EOS tokens the vocabulary asks for\n"
          "      --special       recognise special-token text such as <start_of_turn>\n"
          "                      (without it, such text is tokenized as plain text)\n"
          "      --json          print only {\"tokens\":[ids…]}\n"
          "  -h, --help          this text\n"
          "\n"
          "Without --json, each line shows a token id and its text, quoted: \\n, \\t,\n"
          "\\\\, \\\" and \\xNN (other control bytes, bytes of an incomplete UTF-8\n"
          "character) are escaped; control tokens show their own text (<bos>).\n",
          f);
}

/* Reads a whole file ("-" = stdin) into a malloc'd buffer. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "tinglado tokenize: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *b = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "tinglado tokenize: cannot read '%s': %s\n", path,
                buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Prints bytes quoted: valid UTF-8 as is, the rest escaped. */
static void print_quoted(const unsigned char *p, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (!ok) {
            printf("\\x%02X", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", stdout), i++;
        } else if (c == '\t') {
            fputs("\\t", stdout), i++;
        } else if (c == '\\' || c == '"') {
            printf("\\%c", c), i++;
        } else if (c < 0x20 || c == 0x7F) {
            printf("\\x%02X", c), i++;
        } else {
            fwrite(p + i, 1, len, stdout);
            i += len;
        }
    }
    putchar('"');
}

int tg_cli_tokenize(int argc, char **argv) {
    enum { OPT_NO_BOS = 256, OPT_SPECIAL, OPT_JSON };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"prompt", required_argument, NULL, 'p'},
        {"file", required_argument, NULL, 'f'},    {"no-bos", no_argument, NULL, OPT_NO_BOS},
        {"special", no_argument, NULL, OPT_SPECIAL}, {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool no_bos = false, special = false, json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:p:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case OPT_NO_BOS: no_bos = true; break;
        case OPT_SPECIAL: special = true; break;
        case OPT_JSON: json = true; break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, "tinglado tokenize: %s needs a value (see tinglado tokenize --help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "tinglado tokenize: unknown option '%s' (see tinglado tokenize --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tinglado tokenize: unexpected argument '%s' (give the text with -p)\n",
                argv[optind]);
        return 2;
    }
    if (!model) {
        fputs("tinglado tokenize: no model: give it with -m MODEL (a GGUF path or a cached "
              "model name)\n", stderr);
        return 2;
    }
    if (!prompt == !file) {
        fputs("tinglado tokenize: give the text with exactly one of -p TEXT or -f FILE\n", stderr);
        return 2;
    }

    size_t len = 0;
    char *text = NULL;
    if (file) {
        text = read_all(file, &len);
        if (!text)
            return 1;
    }
    char path[4096];
    tg_gguf *g = tg_cli_resolve_model(model, path, sizeof path) == TG_OK ? tg_gguf_open(path) : NULL;
    if (!g) {
        free(text);
        return tg_cli_fail("tokenize");
    }
    tg_vocab *v = tg_vocab_load(g);
    if (!v) {
        tg_gguf_close(g);
        free(text);
        return tg_cli_fail("tokenize: loading the tokenizer");
    }
    tg_tokens toks = {0};
    tg_tokenize_opts o = {.add_special = !no_bos, .parse_special = special};
    tg_status s = tg_tokenize(v, file ? text : prompt, file ? len : strlen(prompt), o, &toks);
    int rc = 0;
    if (s) {
        rc = tg_cli_fail("tokenize");
    } else if (json) {
        fputs("{\"tokens\":[", stdout);
        for (size_t i = 0; i < toks.n; i++)
            printf(i ? ",%d" : "%d", toks.ids[i]);
        fputs("]}\n", stdout);
    } else {
        char piece[256];
        for (size_t i = 0; i < toks.n; i++) {
            size_t n = tg_token_to_piece(v, toks.ids[i], true, piece, sizeof piece);
            printf("%8d  ", toks.ids[i]);
            print_quoted((const unsigned char *)piece, n < sizeof piece ? n : sizeof piece);
            fputs(n > sizeof piece ? "…\n" : "\n", stdout);
        }
        printf("%zu tokens\n", toks.n);
    }
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "tinglado tokenize: cannot write the output: %s\n", strerror(errno));
        rc = 1;
    }
    tg_tokens_free(&toks);
    tg_vocab_free(v);
    tg_gguf_close(g);
    free(text);
    return rc;
}
