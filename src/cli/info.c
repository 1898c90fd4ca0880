/*
 * info.c — `tinglado info`: what a GGUF file holds, read straight from its
 * metadata and tensor table (nothing is computed, so it also works on files
 * whose architecture or tensor types tinglado cannot run).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado info -m MODEL [--tensors] [--metadata]\n"
          "\n"
          "Describe a GGUF model: architecture, hyperparameters, tensor count and\n"
          "types, tokenizer, whether a chat template is present.\n"
          "\n"
          "  -m, --model PATH   the GGUF file, or a cached model name (org/repo:QUANT)\n"
          "      --tensors      also list every tensor (name, type, shape, bytes)\n"
          "      --metadata     also dump every metadata key with its value\n"
          "  -h, --help         this text\n",
          f);
}

/* Prints a value compactly: scalars in full, strings quoted and cut at 80
 * bytes, arrays as type[n] with their first elements. */
static void print_value(const tg_gguf_value *v) {
    switch (v->type) {
    case TG_GGUF_UINT8: case TG_GGUF_UINT16: case TG_GGUF_UINT32: case TG_GGUF_UINT64:
        printf("%" PRIu64, v->v.u64);
        break;
    case TG_GGUF_INT8: case TG_GGUF_INT16: case TG_GGUF_INT32: case TG_GGUF_INT64:
        printf("%" PRId64, v->v.i64);
        break;
    case TG_GGUF_FLOAT32: case TG_GGUF_FLOAT64: printf("%g", v->v.f64); break;
    case TG_GGUF_BOOL: printf("%s", v->v.b ? "true" : "false"); break;
    case TG_GGUF_STRING: {
        size_t n = v->v.str.len < 80 ? v->v.str.len : 80;
        putchar('"');
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)v->v.str.ptr[i];
            if (ch == '\n') fputs("\\n", stdout);
            else if (ch < 0x20 || ch == 0x7f) printf("\\x%02x", ch);
            else putchar(ch);
        }
        printf("\"%s", v->v.str.len > n ? "…" : "");
        break;
    }
    case TG_GGUF_ARRAY: {
        printf("%s[%" PRIu64 "]", tg_gguf_type_name(v->v.arr.type), v->v.arr.n);
        uint64_t show = v->v.arr.n < 4 ? v->v.arr.n : 4;
        if (show == 0)
            break;
        fputs(" {", stdout);
        for (uint64_t i = 0; i < show; i++) {
            tg_gguf_value e;
            if (tg_gguf_array_get(v, i, &e) != TG_OK)
                break;
            if (i)
                fputs(", ", stdout);
            print_value(&e);
        }
        fputs(v->v.arr.n > show ? ", …}" : "}", stdout);
        break;
    }
    default: fputs("?", stdout);
    }
}

/* Prints "  label: value" for a key if present. */
static void show_key(const tg_gguf *g, const char *label, const char *key) {
    int64_t i = tg_gguf_find_key(g, key);
    if (i < 0)
        return;
    printf("  %-22s ", label);
    print_value(tg_gguf_kv_value(g, (size_t)i));
    putchar('\n');
}

static void show_arch_key(const tg_gguf *g, const char *arch, const char *label, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    show_key(g, label, key);
}

static void print_size(uint64_t bytes) {
    if (bytes >= (1ull << 30)) printf("%.2f GiB", (double)bytes / (1ull << 30));
    else if (bytes >= (1ull << 20)) printf("%.1f MiB", (double)bytes / (1ull << 20));
    else printf("%.1f KiB", (double)bytes / 1024.0);
}

int tg_cli_info(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"tensors", no_argument, NULL, 't'},
        {"metadata", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *model = NULL;
    bool list_tensors = false, dump_kv = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': list_tensors = true; break;
        case 'k': dump_kv = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model || optind != argc) {
        fputs("tinglado info: give the model with -m PATH\n", stderr);
        usage(stderr);
        return 2;
    }
    char path[4096];
    tg_gguf *g = tg_cli_resolve_model(model, path, sizeof path) == TG_OK ? tg_gguf_open(path) : NULL;
    if (!g)
        return tg_cli_fail("info");

    tg_str arch_s = {"", 0};
    char arch[64] = "";
    if (tg_gguf_get_str(g, "general.architecture", &arch_s) == TG_OK)
        snprintf(arch, sizeof arch, "%.*s", (int)arch_s.len, arch_s.ptr);

    printf("%s\n", path);
    printf("  %-22s GGUF v%u, %zu metadata keys, %zu tensors, alignment %zu, ", "file",
           tg_gguf_version(g), tg_gguf_n_kv(g), tg_gguf_n_tensors(g), tg_gguf_alignment(g));
    print_size(tg_gguf_file_size(g));
    putchar('\n');
    printf("  %-22s %s\n", "architecture", arch[0] ? arch : "(none: a vocabulary-only file?)");
    show_key(g, "name", "general.name");
    show_key(g, "file type", "general.file_type");
    if (arch[0]) {
        static const char *const hp[][2] = {
            {"context length", "context_length"},
            {"embedding length", "embedding_length"},
            {"layers", "block_count"},
            {"feed-forward length", "feed_forward_length"},
            {"attention heads", "attention.head_count"},
            {"key/value heads", "attention.head_count_kv"},
            {"key length", "attention.key_length"},
            {"value length", "attention.value_length"},
            {"rms norm epsilon", "attention.layer_norm_rms_epsilon"},
            {"norm epsilon", "attention.layer_norm_epsilon"},
            {"sliding window", "attention.sliding_window"},
            {"rope dimensions", "rope.dimension_count"},
            {"rope base", "rope.freq_base"},
            {"rope scaling", "rope.scaling.type"},
            {"rope scaling factor", "rope.scaling.factor"},
            {"experts", "expert_count"},
            {"experts used", "expert_used_count"},
            {"pooling", "pooling_type"},
        };
        for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++)
            show_arch_key(g, arch, hp[i][0], hp[i][1]);
    }

    /* Tensor types: how many tensors and bytes of each. */
    size_t count[TG_TYPE_COUNT] = {0};
    uint64_t bytes[TG_TYPE_COUNT] = {0}, total = 0;
    int64_t params = 0;
    for (size_t i = 0; i < tg_gguf_n_tensors(g); i++) {
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, i);
        count[t->type]++;
        bytes[t->type] += t->nbytes;
        total += t->nbytes;
        params += tg_gguf_tensor_nelements(t);
    }
    if (tg_gguf_n_tensors(g)) {
        printf("  %-22s %.1f M parameters, ", "weights", (double)params / 1e6);
        print_size(total);
        putchar('\n');
        for (int t = 0; t < TG_TYPE_COUNT; t++) {
            if (!count[t])
                continue;
            printf("  %-22s %zu tensors, ", tg_type_name((uint32_t)t), count[t]);
            print_size(bytes[t]);
            printf(" (%.1f%%)\n", total ? 100.0 * (double)bytes[t] / (double)total : 0.0);
        }
    }

    show_key(g, "tokenizer", "tokenizer.ggml.model");
    show_key(g, "pre-tokenizer", "tokenizer.ggml.pre");
    const tg_gguf_value *toks;
    if (tg_gguf_get_array(g, "tokenizer.ggml.tokens", &toks) == TG_OK)
        printf("  %-22s %" PRIu64 "\n", "vocabulary size", toks->v.arr.n);
    show_key(g, "bos token", "tokenizer.ggml.bos_token_id");
    show_key(g, "eos token", "tokenizer.ggml.eos_token_id");
    tg_str tmpl;
    if (tg_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == TG_OK)
        printf("  %-22s present (%zu bytes)\n", "chat template", tmpl.len);
    else
        printf("  %-22s absent\n", "chat template");

    if (dump_kv) {
        printf("\nmetadata:\n");
        for (size_t i = 0; i < tg_gguf_n_kv(g); i++) {
            tg_str k = tg_gguf_kv_key(g, i);
            const tg_gguf_value *v = tg_gguf_kv_value(g, i);
            printf("  %.*s (%s) = ", (int)k.len, k.ptr, tg_gguf_type_name(v->type));
            print_value(v);
            putchar('\n');
        }
    }
    if (list_tensors) {
        printf("\ntensors:\n");
        for (size_t i = 0; i < tg_gguf_n_tensors(g); i++) {
            const tg_gguf_tensor *t = tg_gguf_tensor_at(g, i);
            printf("  %-32.*s %-6s [", (int)t->name.len, t->name.ptr, tg_type_name(t->type));
            for (uint32_t d = 0; d < t->n_dims; d++)
                printf("%s%" PRId64, d ? ", " : "", t->ne[d]);
            printf("] %zu bytes\n", t->nbytes);
        }
    }
    tg_gguf_close(g);
    return 0;
}
