/*
 * test_chat.c — chat templates against llama.cpp.
 *
 * 1. tests/golden/chat/render.txt (tools/gen_chat_golden.py): conversations
 *    rendered by llama.cpp's built-in templates; tg_chat_render must give the
 *    same bytes for every template, with and without the generation prompt.
 * 2. tests/golden/chat/detect.txt: the template llama.cpp detects for each of
 *    its real Jinja chat templates (read at test time from
 *    ${TINGLADO_TEMPLATES_DIR:-<cache>/llama.cpp-templates}, which
 *    scripts/setup.sh fills), for the test vocabularies that carry one
 *    (${TINGLADO_VOCAB_DIR:-<cache>/llama.cpp-vocab}) and for small made-up
 *    texts.  Where llama.cpp names a template tinglado renders we must detect
 *    the same one; otherwise detection must fail with TG_ERR_UNSUPPORTED.
 * 3. Hand-written cases: the architecture fallback (the default Gemma 3 model
 *    has no template), names, errors and stop strings.
 * Missing data is a failure, never a skip.
 */
#include "tinglado.h"
#include "../test.h"

#include <limits.h>

#define RENDER_GOLDEN "tests/golden/chat/render.txt"
#define DETECT_GOLDEN "tests/golden/chat/detect.txt"

/* ---- small helpers -------------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes hex into a fresh NUL-terminated string (NULL if malformed). */
static char *unhex(const char *h, size_t *len) {
    size_t n = strlen(h);
    if (n % 2)
        return NULL;
    char *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(out);
            return NULL;
        }
        out[i] = (char)(a * 16 + b);
    }
    out[n / 2] = '\0';
    if (len)
        *len = n / 2;
    return out;
}

/* Prints a string with escapes, for failure messages. */
static void show(const char *label, const char *s, size_t n) {
    fprintf(stderr, "    %s: \"", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stderr);
        else if (c == '\\')
            fputs("\\\\", stderr);
        else if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs("\"\n", stderr);
}

static void cache_dir(char *out, size_t cap) {
    const char *c = getenv("TINGLADO_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (c && *c)
        snprintf(out, cap, "%s", c);
    else if (x && *x)
        snprintf(out, cap, "%s/tinglado", x);
    else
        snprintf(out, cap, "%s/.cache/tinglado", h ? h : ".");
}

static void data_dir(char *out, size_t cap, const char *env, const char *sub) {
    const char *d = getenv(env);
    if (d && *d) {
        snprintf(out, cap, "%s", d);
        return;
    }
    char cache[PATH_MAX];
    cache_dir(cache, sizeof cache);
    snprintf(out, cap, "%s/%s", cache, sub);
}

static tg_str cstr(const char *s) {
    return (tg_str){s, s ? strlen(s) : 0};
}

/* ---- 1. rendering against llama.cpp --------------------------------------- */

#define MAX_MSGS 16

static void test_render_golden(void) {
    size_t len;
    char *data = read_file(RENDER_GOLDEN, &len);
    CHECK_MSG(data != NULL, "cannot read %s (run from the repository root)", RENDER_GOLDEN);
    if (!data)
        return;
    char conv[128] = "";
    tg_chat_msg msgs[MAX_MSGS];
    char *owned[MAX_MSGS];
    size_t n_msgs = 0;
    int n_cases = 0, n_convs = 0, per_template[TG_CHAT_COUNT_] = {0};
    char *lsave = NULL;
    for (char *line = strtok_r(data, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
        if (line[0] == '#')
            continue;
        if (strncmp(line, "conv ", 5) == 0) {
            for (size_t i = 0; i < n_msgs; i++)
                free(owned[i]);
            n_msgs = 0;
            snprintf(conv, sizeof conv, "%s", line + 5);
            n_convs++;
        } else if (strncmp(line, "msg ", 4) == 0) {
            char *sp = strchr(line + 4, ' ');
            CHECK_MSG(sp && n_msgs < MAX_MSGS, "bad msg line in %s", conv);
            if (!sp || n_msgs >= MAX_MSGS)
                break;
            *sp = '\0';
            char *content = unhex(sp + 1, NULL);
            CHECK(content != NULL);
            if (!content)
                break;
            /* The role lives in `data`, which outlives the messages. */
            msgs[n_msgs] = (tg_chat_msg){line + 4, content};
            owned[n_msgs++] = content;
        } else if (strncmp(line, "want ", 5) == 0) {
            char name[64];
            int add, off = 0;
            CHECK_MSG(sscanf(line + 5, "%63s %d %n", name, &add, &off) == 2 && off > 0,
                      "bad want line in %s", conv);
            if (off <= 0)
                break;
            size_t want_len;
            char *want = unhex(line + 5 + off, &want_len);
            tg_chat_template t;
            CHECK_MSG(tg_chat_template_from_name(name, &t) == TG_OK, "template %s: %s", name,
                      tg_last_error());
            char *got = NULL;
            tg_status st = tg_chat_render(t, msgs, n_msgs, add != 0, &got);
            CHECK_MSG(st == TG_OK, "%s/%s: %s", conv, name, tg_last_error());
            bool same = got && want && strlen(got) == want_len && memcmp(got, want, want_len) == 0;
            CHECK_MSG(same, "%s rendered with %s (add_generation_prompt=%d) differs from llama.cpp",
                      conv, name, add);
            if (!same && got && want) {
                show("llama.cpp", want, want_len);
                show("tinglado ", got, strlen(got));
            }
            per_template[t]++;
            n_cases++;
            free(got);
            free(want);
        } else {
            CHECK_MSG(0, "unknown line in %s: %.40s", RENDER_GOLDEN, line);
        }
    }
    for (size_t i = 0; i < n_msgs; i++)
        free(owned[i]);
    free(data);
    /* Every template must have been exercised on every conversation. */
    for (int t = 0; t < TG_CHAT_COUNT_; t++)
        CHECK_MSG(per_template[t] == 2 * n_convs, "template %s: %d cases for %d conversations",
                  tg_chat_template_name((tg_chat_template)t), per_template[t], n_convs);
    CHECK_MSG(n_convs >= 10 && n_cases >= 200, "only %d conversations, %d cases", n_convs, n_cases);
}

/* ---- 2. detection against llama.cpp --------------------------------------- */

/* The template of a vocabulary GGUF, through the public GGUF reader. */
static tg_status detect_vocab_file(const char *path, tg_chat_template *out) {
    tg_gguf *g = tg_gguf_open(path);
    if (!g)
        return TG_ERR_IO;
    tg_status st = tg_chat_template_detect_gguf(g, out);
    tg_gguf_close(g);
    return st;
}

static void test_detect_golden(void) {
    size_t len;
    char *data = read_file(DETECT_GOLDEN, &len);
    CHECK_MSG(data != NULL, "cannot read %s (run from the repository root)", DETECT_GOLDEN);
    if (!data)
        return;
    char tdir[PATH_MAX], vdir[PATH_MAX];
    data_dir(tdir, sizeof tdir, "TINGLADO_TEMPLATES_DIR", "llama.cpp-templates");
    data_dir(vdir, sizeof vdir, "TINGLADO_VOCAB_DIR", "llama.cpp-vocab");
    int n = 0, n_supported = 0, n_kind[3] = {0};
    char *lsave = NULL;
    for (char *line = strtok_r(data, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
        if (line[0] == '#')
            continue;
        char kind[16], file[4096], names[256];
        size_t bytes;
        if (sscanf(line, "detect %15s %4095s %zu %255s", kind, file, &bytes, names) != 4) {
            CHECK_MSG(0, "bad line in %s: %.60s", DETECT_GOLDEN, line);
            continue;
        }
        tg_chat_template got = TG_CHAT_COUNT_;
        tg_status st;
        const char *label = file;
        char *synthetic = NULL;
        if (strcmp(kind, "template") == 0) {
            char path[PATH_MAX + 4096 + 2];
            snprintf(path, sizeof path, "%s/%s", tdir, file);
            size_t n_text;
            char *text = read_file(path, &n_text);
            CHECK_MSG(text != NULL, "cannot read %s (scripts/setup.sh fetches it)", path);
            if (!text)
                continue;
            CHECK_MSG(n_text == bytes, "%s has %zu bytes, the golden was made from %zu", path,
                      n_text, bytes);
            st = tg_chat_template_detect((tg_str){text, n_text}, cstr("llama"), cstr(""), &got);
            free(text);
            n_kind[0]++;
        } else if (strcmp(kind, "vocab") == 0) {
            char path[PATH_MAX + 4096 + 2];
            snprintf(path, sizeof path, "%s/%s", vdir, file);
            st = detect_vocab_file(path, &got);
            CHECK_MSG(st != TG_ERR_IO, "cannot open %s: %s", path, tg_last_error());
            n_kind[1]++;
        } else {
            size_t n_text;
            synthetic = unhex(file, &n_text);
            CHECK(synthetic != NULL && n_text == bytes);
            if (!synthetic)
                continue;
            label = synthetic;
            /* An architecture that would settle it, to show it is not used. */
            st = tg_chat_template_detect((tg_str){synthetic, n_text}, cstr("gemma3"), cstr(""),
                                         &got);
            n_kind[2]++;
        }
        char err[1024];
        snprintf(err, sizeof err, "%s", st == TG_OK ? "" : tg_last_error());
        /* Is one of llama.cpp's names (a|b|…) a template tinglado renders? */
        bool supported = false, match = false;
        char buf[sizeof names];
        memcpy(buf, names, sizeof names);
        char *save = NULL;
        for (char *nm = strtok_r(buf, "|", &save); nm; nm = strtok_r(NULL, "|", &save)) {
            tg_chat_template t;
            if (tg_chat_template_from_name(nm, &t) == TG_OK) {
                supported = true;
                match |= st == TG_OK && got == t;
            }
        }
        if (supported) {
            n_supported++;
            CHECK_MSG(match, "%s: llama.cpp detects %s, tinglado %s %s", label, names,
                      st == TG_OK ? tg_chat_template_name(got) : "fails:", err);
        } else {
            CHECK_MSG(st == TG_ERR_UNSUPPORTED,
                      "%s: llama.cpp detects %s (not rendered here), tinglado %s", label, names,
                      st == TG_OK ? tg_chat_template_name(got) : err);
            CHECK_MSG(strstr(err, "--chat-template") && strstr(err, "mistral-v7-tekken"),
                      "%s: the error does not point to the flag and its names: %s", label, err);
        }
        free(synthetic);
        n++;
    }
    free(data);
    CHECK_MSG(n_kind[0] >= 50 && n_kind[1] >= 4 && n_kind[2] >= 20 && n_supported >= 30,
              "too few detections: %d templates, %d vocabularies, %d synthetic, %d supported",
              n_kind[0], n_kind[1], n_kind[2], n_supported);
}

/* ---- 3. hand-written cases -------------------------------------------------- */

/* The default model's GGUF has no tokenizer.chat_template: the architecture
 * (gemma3) must pick gemma. */
static void test_default_model_falls_back_on_arch(void) {
    char cache[PATH_MAX], path[PATH_MAX + 64];
    const char *m = getenv("TINGLADO_MODEL");
    cache_dir(cache, sizeof cache);
    snprintf(path, sizeof path, "%s", m && *m ? m : "");
    if (!path[0])
        snprintf(path, sizeof path, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "cannot open the default model %s: %s", path, tg_last_error());
    if (!g)
        return;
    CHECK(tg_gguf_find_key(g, "tokenizer.chat_template") < 0);
    tg_chat_template t = TG_CHAT_COUNT_;
    CHECK_EQ_INT(tg_chat_template_detect_gguf(g, &t), TG_OK);
    CHECK_EQ_INT(t, TG_CHAT_GEMMA);
    tg_gguf_close(g);
}

static void test_vocab_files_fall_back_on_pre(void) {
    char vdir[PATH_MAX], path[PATH_MAX + 64];
    data_dir(vdir, sizeof vdir, "TINGLADO_VOCAB_DIR", "llama.cpp-vocab");
    tg_chat_template t = TG_CHAT_COUNT_;
    /* llama + the Llama 3 pre-tokenizer: llama3. */
    snprintf(path, sizeof path, "%s/ggml-vocab-llama-bpe.gguf", vdir);
    CHECK_EQ_INT(detect_vocab_file(path, &t), TG_OK);
    CHECK_EQ_INT(t, TG_CHAT_LLAMA3);
    /* llama + SentencePiece: Llama 2? Mistral? Vicuna? Not ours to guess. */
    snprintf(path, sizeof path, "%s/ggml-vocab-llama-spm.gguf", vdir);
    CHECK_EQ_INT(detect_vocab_file(path, &t), TG_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("--chat-template NAME");
    CHECK_ERROR_HAS("'llama'");
}

static void test_arch_fallback(void) {
    static const struct {
        const char *arch, *pre;
        int want; /* -1: unsupported */
    } cases[] = {
        {"gemma", "", TG_CHAT_GEMMA},     {"gemma2", "", TG_CHAT_GEMMA},
        {"gemma3", "", TG_CHAT_GEMMA},    {"gemma3n", "", TG_CHAT_GEMMA},
        {"qwen2", "qwen2", TG_CHAT_CHATML}, {"qwen3", "qwen2", TG_CHAT_CHATML},
        {"qwen3moe", "", TG_CHAT_CHATML}, {"llama", "llama-bpe", TG_CHAT_LLAMA3},
        {"llama", "llama3", TG_CHAT_LLAMA3}, {"llama", "smollm", TG_CHAT_CHATML},
        {"llama", "default", -1},         {"llama", "", -1},
        {"gemma4", "", -1},               {"gpt2", "gpt-2", -1},
        {"", "", -1},                     {"gemma3x", "", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_chat_template t = TG_CHAT_COUNT_;
        tg_status st =
            tg_chat_template_detect((tg_str){NULL, 0}, cstr(cases[i].arch), cstr(cases[i].pre), &t);
        if (cases[i].want < 0) {
            CHECK_MSG(st == TG_ERR_UNSUPPORTED, "arch '%s' pre '%s' should be unsupported",
                      cases[i].arch, cases[i].pre);
            CHECK_ERROR_HAS("--chat-template");
        } else {
            CHECK_MSG(st == TG_OK && (int)t == cases[i].want, "arch '%s' pre '%s': %s",
                      cases[i].arch, cases[i].pre, st == TG_OK ? tg_chat_template_name(t) : tg_last_error());
        }
    }
    /* An empty template text counts as none; NULL arch/pre views are empty. */
    tg_chat_template t = TG_CHAT_COUNT_;
    CHECK_EQ_INT(tg_chat_template_detect((tg_str){"", 0}, cstr("gemma3"), (tg_str){NULL, 0}, &t),
                 TG_OK);
    CHECK_EQ_INT(t, TG_CHAT_GEMMA);
    CHECK_EQ_INT(tg_chat_template_detect((tg_str){NULL, 0}, (tg_str){NULL, 0}, (tg_str){NULL, 0}, &t),
                 TG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(tg_chat_template_detect(cstr("chatml"), cstr(""), cstr(""), NULL), TG_ERR_ARG);
    /* Template text that is not NUL-terminated: only len bytes count. */
    const char buf[] = "<|start_header_id|><|end_header_id|>XXXX<|im_start|>";
    CHECK_EQ_INT(tg_chat_template_detect((tg_str){buf, 36}, cstr(""), cstr(""), &t), TG_OK);
    CHECK_EQ_INT(t, TG_CHAT_LLAMA3);
}

static void test_names(void) {
    const char *list = tg_chat_template_names();
    for (int i = 0; i < TG_CHAT_COUNT_; i++) {
        const char *nm = tg_chat_template_name((tg_chat_template)i);
        tg_chat_template t = TG_CHAT_COUNT_;
        CHECK_EQ_INT(tg_chat_template_from_name(nm, &t), TG_OK);
        CHECK_EQ_INT(t, i);
        CHECK_MSG(strstr(list, nm) != NULL, "%s missing from the list", nm);
        const char *const *stops = tg_chat_stop_strings((tg_chat_template)i);
        CHECK(stops && stops[0] && stops[0][0]);
    }
    CHECK_EQ_STR(tg_chat_template_name(TG_CHAT_COUNT_), "?");
    tg_chat_template t;
    CHECK_EQ_INT(tg_chat_template_from_name("mistral", &t), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("mistral-v3");
    CHECK_EQ_INT(tg_chat_template_from_name("Gemma", &t), TG_ERR_NOT_FOUND);
    CHECK_EQ_INT(tg_chat_template_from_name(NULL, &t), TG_ERR_ARG);
    CHECK_EQ_STR(tg_chat_stop_strings(TG_CHAT_GEMMA)[0], "<end_of_turn>");
    CHECK(tg_chat_stop_strings(TG_CHAT_GEMMA)[1] == NULL);
    CHECK_EQ_STR(tg_chat_stop_strings(TG_CHAT_CHATML)[0], "<|im_end|>");
    CHECK_EQ_STR(tg_chat_stop_strings(TG_CHAT_LLAMA3)[0], "<|eot_id|>");
    CHECK(tg_chat_stop_strings(TG_CHAT_COUNT_)[0] == NULL);
}

static void test_render_errors(void) {
    char *out = (char *)"untouched";
    tg_chat_msg bad_role[] = {{"user<|im_end|>", "x"}};
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_CHATML, bad_role, 1, true, &out), TG_ERR_ARG);
    CHECK(out == NULL);
    CHECK_ERROR_HAS("role");
    tg_chat_msg no_content[] = {{"user", "a"}, {"assistant", NULL}};
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_GEMMA, no_content, 2, true, &out), TG_ERR_ARG);
    CHECK_ERROR_HAS("message 1");
    tg_chat_msg no_role[] = {{NULL, "a"}};
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_GEMMA, no_role, 1, true, &out), TG_ERR_ARG);
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_GEMMA, NULL, 1, true, &out), TG_ERR_ARG);
    CHECK_EQ_INT(tg_chat_render((tg_chat_template)99, NULL, 0, true, &out), TG_ERR_ARG);
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_GEMMA, NULL, 0, true, NULL), TG_ERR_ARG);
    /* No messages: just the generation prompt. */
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_CHATML, NULL, 0, true, &out), TG_OK);
    CHECK_EQ_STR(out, "<|im_start|>assistant\n");
    free(out);
    /* The Gemma example from the docs, by hand (the golden covers the rest). */
    tg_chat_msg conv[] = {{"system", " Be nice. "}, {"user", "Hi\n"}};
    CHECK_EQ_INT(tg_chat_render(TG_CHAT_GEMMA, conv, 2, true, &out), TG_OK);
    CHECK_EQ_STR(out, "<start_of_turn>user\nBe nice.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
    free(out);
}

int main(void) {
    RUN(test_render_golden);
    RUN(test_detect_golden);
    RUN(test_default_model_falls_back_on_arch);
    RUN(test_vocab_files_fall_back_on_pre);
    RUN(test_arch_fallback);
    RUN(test_names);
    RUN(test_render_errors);
    return tg_test_finish("test_chat");
}
