/*
 * chat.c — chat templates: which conversation format a model expects, and
 * rendering a list of messages into its prompt text.
 *
 * tinglado has no Jinja engine.  Like llama.cpp's built-in templates
 * (src/llama-chat.cpp), it recognises a GGUF's tokenizer.chat_template by a
 * few distinctive markers and renders the format in C.  The output must be
 * byte-identical to llama_chat_apply_template with the same template name:
 * tests/gen/test_chat.c checks it against golden strings made by
 * tools/gen_chat_golden.py.  That includes llama.cpp's quirks (Gemma and
 * Llama 3 trim every message; Mistral v7 adds no generation prompt and renders
 * a tool message like an assistant one), because the same prompt must give
 * the same tokens in both programs.
 *
 * What this file must never do: guess.  A template it does not recognise is
 * an error that tells the user about --chat-template, not a silent fallback
 * to a format the model was not trained on.
 */
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

static const char *const k_names[TG_CHAT_COUNT_] = {
    [TG_CHAT_GEMMA] = "gemma",
    [TG_CHAT_CHATML] = "chatml",
    [TG_CHAT_LLAMA3] = "llama3",
    [TG_CHAT_LLAMA2] = "llama2",
    [TG_CHAT_LLAMA2_SYS] = "llama2-sys",
    [TG_CHAT_LLAMA2_SYS_BOS] = "llama2-sys-bos",
    [TG_CHAT_LLAMA2_SYS_STRIP] = "llama2-sys-strip",
    [TG_CHAT_MISTRAL_V1] = "mistral-v1",
    [TG_CHAT_MISTRAL_V3] = "mistral-v3",
    [TG_CHAT_MISTRAL_V3_TEKKEN] = "mistral-v3-tekken",
    [TG_CHAT_MISTRAL_V7] = "mistral-v7",
    [TG_CHAT_MISTRAL_V7_TEKKEN] = "mistral-v7-tekken",
};

static const char k_name_list[] = "gemma, chatml, llama3, llama2, llama2-sys, llama2-sys-bos, "
                                  "llama2-sys-strip, mistral-v1, mistral-v3, mistral-v3-tekken, "
                                  "mistral-v7, mistral-v7-tekken";

const char *tg_chat_template_name(tg_chat_template t) {
    return (unsigned)t < TG_CHAT_COUNT_ ? k_names[t] : "?";
}

const char *tg_chat_template_names(void) {
    return k_name_list;
}

static bool name_is(const char *p, size_t n, tg_chat_template *out) {
    for (int i = 0; i < TG_CHAT_COUNT_; i++) {
        if (strlen(k_names[i]) == n && memcmp(k_names[i], p, n) == 0) {
            *out = (tg_chat_template)i;
            return true;
        }
    }
    return false;
}

tg_status tg_chat_template_from_name(const char *name, tg_chat_template *out) {
    if (!name || !out)
        return tg__fail(TG_ERR_ARG, "chat template: NULL argument");
    if (name_is(name, strlen(name), out))
        return TG_OK;
    return tg__fail(TG_ERR_NOT_FOUND, "unknown chat template '%s' (known: %s)", name, k_name_list);
}

/* ---- detection ------------------------------------------------------------- */

/* The Jinja text, not NUL-terminated. */
typedef struct text {
    const char *p;
    size_t n;
} text;

static bool has(text t, const char *marker) {
    return memmem(t.p, t.n, marker, strlen(marker)) != NULL;
}

/* The name llama.cpp's detector gives a template (llm_chat_detect_template),
 * as far down its list of checks as the last format tinglado renders; NULL
 * when none of those checks matches.  The order of the checks is part of the
 * behaviour: a Phi-4 template contains chatml's <|im_start|>, a Phi-3 one may
 * mention <|user|> like Zephyr's, and the first match wins.  Formats tinglado
 * does not render are still named, so the error can say what the model uses. */
static const char *llama_cpp_name(text t) {
    if (has(t, "<|im_start|>")) {
        if (has(t, "<|im_sep|>"))
            return "phi4";
        if (has(t, "<end_of_utterance>"))
            return "smolvlm";
        return "chatml";
    }
    if ((t.n >= 7 && memcmp(t.p, "mistral", 7) == 0) || has(t, "[INST]")) {
        if (has(t, "[SYSTEM_PROMPT]"))
            return "mistral-v7";
        /* Mistral's own v1/v3 templates (a system message glued with
         * ' [INST] ', or tool support); anything else with [INST] is Llama 2's
         * format or one of its variants. */
        if (has(t, "' [INST] ' + system_message") || has(t, "[AVAILABLE_TOOLS]")) {
            if (has(t, " [INST]"))
                return "mistral-v1";
            if (has(t, "\"[INST]\""))
                return "mistral-v3-tekken";
            return "mistral-v3";
        }
        if (has(t, "content.strip()"))
            return "llama2-sys-strip";
        if (has(t, "bos_token + '[INST]"))
            return "llama2-sys-bos";
        if (has(t, "<<SYS>>"))
            return "llama2-sys";
        return "llama2";
    }
    if (has(t, "<|assistant|>") && has(t, "<|end|>"))
        return "phi3";
    if (has(t, "[gMASK]<sop>"))
        return "chatglm4";
    if (has(t, "<|assistant|>") && has(t, "<|user|>")) {
        if (has(t, "<|tool_declare|>"))
            return "exaone-moe";
        return has(t, "</s>") ? "falcon3" : "glmedge";
    }
    if (has(t, "<|{{ item['role'] }}|>") && has(t, "<|begin_of_image|>"))
        return "glmedge";
    if (has(t, "<|user|>") && has(t, "<|endoftext|>"))
        return "zephyr";
    if (has(t, "bos_token + message['role']"))
        return "monarch";
    if (has(t, "<start_of_turn>"))
        return "gemma";
    if (has(t, "'\\n\\nAssistant: ' + eos_token"))
        return "orion";
    if (has(t, "GPT4 Correct "))
        return "openchat";
    if (has(t, "USER: ") && has(t, "ASSISTANT: "))
        return has(t, "SYSTEM: ") ? "vicuna-orca" : "vicuna";
    if (has(t, "### Instruction:") && has(t, "<|EOT|>"))
        return "deepseek";
    if (has(t, "<|START_OF_TURN_TOKEN|>") && has(t, "<|USER_TOKEN|>"))
        return "command-r";
    if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
        return "llama3";
    /* llama.cpp goes on (chatglm3, minicpm, deepseek2/3, exaone, granite …),
     * but only to formats tinglado does not render. */
    return NULL;
}

static bool str_in(tg_str s, const char *const *list) {
    for (; *list; list++)
        if (tg__str_eq(s, *list, strlen(*list)))
            return true;
    return false;
}

/* Without template text: the formats a whole architecture (or, for llama, a
 * pre-tokenizer) has only ever used.  Llama-architecture files with another
 * vocabulary may be Llama 2, Mistral, Vicuna …: those are left to the flag. */
static bool from_arch(tg_str arch, tg_str pre, tg_chat_template *out) {
    static const char *const gemma[] = {"gemma", "gemma2", "gemma3", "gemma3n", NULL};
    static const char *const qwen[] = {"qwen", "qwen2", "qwen2moe", "qwen2vl", "qwen3",
                                       "qwen3moe", "smollm3", NULL};
    static const char *const llama3_pre[] = {"llama3", "llama-bpe", NULL};
    static const char *const smollm_pre[] = {"smollm", NULL};
    static const char *const llama[] = {"llama", NULL};
    if (str_in(arch, gemma)) {
        *out = TG_CHAT_GEMMA;
        return true;
    }
    if (str_in(arch, qwen)) {
        *out = TG_CHAT_CHATML;
        return true;
    }
    if (str_in(arch, llama) && str_in(pre, llama3_pre)) {
        *out = TG_CHAT_LLAMA3;
        return true;
    }
    if (str_in(arch, llama) && str_in(pre, smollm_pre)) {
        *out = TG_CHAT_CHATML;
        return true;
    }
    return false;
}

tg_status tg_chat_template_detect(tg_str jinja, tg_str arch, tg_str tokenizer_pre,
                                  tg_chat_template *out) {
    if (!out)
        return tg__fail(TG_ERR_ARG, "chat template: NULL argument");
    if (!arch.ptr)
        arch = (tg_str){"", 0};
    if (!tokenizer_pre.ptr)
        tokenizer_pre = (tg_str){"", 0};
    if (jinja.ptr && jinja.len) {
        text t = {jinja.ptr, jinja.len};
        if (name_is(t.p, t.n, out)) /* llama.cpp accepts a bare name too */
            return TG_OK;
        const char *name = llama_cpp_name(t);
        if (name && name_is(name, strlen(name), out))
            return TG_OK;
        if (name)
            return tg__fail(TG_ERR_UNSUPPORTED,
                            "the model's chat template is the '%s' format, which tinglado does "
                            "not render; choose one with --chat-template NAME (%s)",
                            name, k_name_list);
        return tg__fail(TG_ERR_UNSUPPORTED,
                        "the model's chat template (tokenizer.chat_template, %zu bytes) is not "
                        "one tinglado recognises; choose one with --chat-template NAME (%s)",
                        jinja.len, k_name_list);
    }
    if (from_arch(arch, tokenizer_pre, out))
        return TG_OK;
    return tg__fail(TG_ERR_UNSUPPORTED,
                    "the model has no chat template (tokenizer.chat_template) and its "
                    "architecture '%.*s' (pre-tokenizer '%.*s') does not settle one; choose one "
                    "with --chat-template NAME (%s)",
                    (int)TG_MIN(arch.len, 64), arch.ptr, (int)TG_MIN(tokenizer_pre.len, 64),
                    tokenizer_pre.ptr, k_name_list);
}

/* A string key of the file, or an empty view if it is absent. */
static tg_status get_str_opt(const tg_gguf *g, const char *key, tg_str *out) {
    *out = (tg_str){NULL, 0};
    tg_status st = tg_gguf_get_str(g, key, out);
    if (st == TG_ERR_NOT_FOUND) {
        *out = (tg_str){NULL, 0};
        return TG_OK;
    }
    return st;
}

tg_status tg_chat_template_detect_gguf(const tg_gguf *g, tg_chat_template *out) {
    if (!g || !out)
        return tg__fail(TG_ERR_ARG, "chat template: NULL argument");
    tg_str jinja, arch, pre;
    tg_status st;
    if ((st = get_str_opt(g, "tokenizer.chat_template", &jinja)) != TG_OK ||
        (st = get_str_opt(g, "general.architecture", &arch)) != TG_OK ||
        (st = get_str_opt(g, "tokenizer.ggml.pre", &pre)) != TG_OK)
        return st;
    return tg_chat_template_detect(jinja, arch, pre, out);
}

/* ---- rendering ---------------------------------------------------------------- */

typedef enum role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT, ROLE_TOOL } role;

static bool parse_role(const char *r, role *out) {
    static const char *const names[] = {"system", "user", "assistant", "tool"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(r, names[i]) == 0) {
            *out = (role)i;
            return true;
        }
    }
    return false;
}

static void put(tg__buf *b, const char *s) {
    tg__buf_append(b, s, strlen(s));
}

/* Whitespace as C's isspace() sees it in the "C" locale, which is what
 * llama.cpp trims; spelled out so the locale cannot change it. */
static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void put_trimmed(tg__buf *b, const char *s) {
    size_t n = strlen(s), i = 0;
    while (i < n && is_space(s[i]))
        i++;
    while (n > i && is_space(s[n - 1]))
        n--;
    tg__buf_append(b, s + i, n - i);
}

static void put_maybe_trimmed(tg__buf *b, const char *s, bool trim) {
    if (trim)
        put_trimmed(b, s);
    else
        put(b, s);
}

static void render_chatml(tg__buf *b, const tg_chat_msg *m, size_t n, bool add_gen) {
    for (size_t i = 0; i < n; i++) {
        put(b, "<|im_start|>");
        put(b, m[i].role);
        put(b, "\n");
        put(b, m[i].content);
        put(b, "<|im_end|>\n");
    }
    if (add_gen)
        put(b, "<|im_start|>assistant\n");
}

/* Gemma has no system turn: system messages (trimmed, concatenated) open the
 * next user or tool turn, separated by a blank line; assistant is "model". */
static void render_gemma(tg__buf *b, const tg_chat_msg *m, const role *r, size_t n, bool add_gen) {
    tg__buf sys = {0};
    for (size_t i = 0; i < n; i++) {
        if (r[i] == ROLE_SYSTEM) {
            put_trimmed(&sys, m[i].content);
            continue;
        }
        put(b, "<start_of_turn>");
        put(b, r[i] == ROLE_ASSISTANT ? "model" : m[i].role);
        put(b, "\n");
        if (sys.len && r[i] != ROLE_ASSISTANT) {
            tg__buf_append(b, sys.data, sys.len);
            put(b, "\n\n");
            sys.len = 0;
        }
        put_trimmed(b, m[i].content);
        put(b, "<end_of_turn>\n");
    }
    if (sys.failed)
        b->failed = true;
    tg__buf_free(&sys);
    if (add_gen)
        put(b, "<start_of_turn>model\n");
}

static void render_llama3(tg__buf *b, const tg_chat_msg *m, size_t n, bool add_gen) {
    for (size_t i = 0; i < n; i++) {
        put(b, "<|start_header_id|>");
        put(b, m[i].role);
        put(b, "<|end_header_id|>\n\n");
        put_trimmed(b, m[i].content);
        put(b, "<|eot_id|>");
    }
    if (add_gen)
        put(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Llama 2: "[INST] user [/INST]answer</s>[INST] …".  The variants differ in
 * whether a system message gets <<SYS>> markers, whether later turns reopen
 * with <s>, and whether contents are trimmed.  No generation prompt: the
 * prompt already ends after [/INST]. */
static void render_llama2(tg__buf *b, tg_chat_template t, const tg_chat_msg *m, const role *r,
                          size_t n) {
    const bool sys_markers = t != TG_CHAT_LLAMA2;
    const bool bos_in_history = t == TG_CHAT_LLAMA2_SYS_BOS;
    const bool trim = t == TG_CHAT_LLAMA2_SYS_STRIP;
    bool in_turn = true; /* the first [INST] is written up front */
    put(b, "[INST] ");
    for (size_t i = 0; i < n; i++) {
        if (!in_turn) {
            put(b, bos_in_history ? "<s>[INST] " : "[INST] ");
            in_turn = true;
        }
        if (r[i] == ROLE_SYSTEM) {
            put(b, sys_markers ? "<<SYS>>\n" : "");
            put_maybe_trimmed(b, m[i].content, trim);
            put(b, sys_markers ? "\n<</SYS>>\n\n" : "\n");
        } else if (r[i] == ROLE_USER) {
            put_maybe_trimmed(b, m[i].content, trim);
            put(b, " [/INST]");
        } else {
            put_maybe_trimmed(b, m[i].content, trim);
            put(b, "</s>");
            in_turn = false;
        }
    }
}

/* Mistral v1/v3/v3-tekken (Mistral's tokenizer versions): system text opens
 * the user turn; v1 puts a space before [INST] and [/INST], tekken none after
 * them, v3 trims assistant answers.  Tool messages render as answers. */
static void render_mistral_v1_v3(tg__buf *b, tg_chat_template t, const tg_chat_msg *m,
                                 const role *r, size_t n) {
    const char *lead = t == TG_CHAT_MISTRAL_V1 ? " " : "";
    const char *trail = t == TG_CHAT_MISTRAL_V3_TEKKEN ? "" : " ";
    const bool trim_answer = t == TG_CHAT_MISTRAL_V3;
    bool in_turn = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_turn) {
            put(b, lead);
            put(b, "[INST]");
            put(b, trail);
            in_turn = true;
        }
        if (r[i] == ROLE_SYSTEM) {
            put(b, m[i].content);
            put(b, "\n\n");
        } else if (r[i] == ROLE_USER) {
            put(b, m[i].content);
            put(b, lead);
            put(b, "[/INST]");
        } else {
            put(b, trail);
            put_maybe_trimmed(b, m[i].content, trim_answer);
            put(b, "</s>");
            in_turn = false;
        }
    }
}

/* Mistral v7: explicit [SYSTEM_PROMPT] blocks; the non-tekken flavour pads
 * every content with a leading space. */
static void render_mistral_v7(tg__buf *b, tg_chat_template t, const tg_chat_msg *m, const role *r,
                              size_t n) {
    const char *sp = t == TG_CHAT_MISTRAL_V7 ? " " : "";
    for (size_t i = 0; i < n; i++) {
        if (r[i] == ROLE_SYSTEM) {
            put(b, "[SYSTEM_PROMPT]");
            put(b, sp);
            put(b, m[i].content);
            put(b, "[/SYSTEM_PROMPT]");
        } else if (r[i] == ROLE_USER) {
            put(b, "[INST]");
            put(b, sp);
            put(b, m[i].content);
            put(b, "[/INST]");
        } else {
            put(b, sp);
            put(b, m[i].content);
            put(b, "</s>");
        }
    }
}

tg_status tg_chat_render(tg_chat_template t, const tg_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char **out) {
    if (!out)
        return tg__fail(TG_ERR_ARG, "chat render: NULL output");
    *out = NULL;
    if ((unsigned)t >= TG_CHAT_COUNT_)
        return tg__fail(TG_ERR_ARG, "chat render: unknown template %d", (int)t);
    if (n && !msgs)
        return tg__fail(TG_ERR_ARG, "chat render: NULL message list");
    role *roles = tg__calloc(n, sizeof *roles);
    if (!roles)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content) {
            free(roles);
            return tg__fail(TG_ERR_ARG, "chat render: message %zu has no %s", i,
                            msgs[i].role ? "content" : "role");
        }
        /* Only the four roles: a role string is pasted into the prompt, and an
         * arbitrary one could smuggle in turn markers. */
        if (!parse_role(msgs[i].role, &roles[i])) {
            free(roles);
            return tg__fail(TG_ERR_ARG,
                            "chat render: message %zu has role '%.40s' (expected system, user, "
                            "assistant or tool)",
                            i, msgs[i].role);
        }
    }
    tg__buf b = {0};
    switch (t) {
    case TG_CHAT_GEMMA:
        render_gemma(&b, msgs, roles, n, add_generation_prompt);
        break;
    case TG_CHAT_CHATML:
        render_chatml(&b, msgs, n, add_generation_prompt);
        break;
    case TG_CHAT_LLAMA3:
        render_llama3(&b, msgs, n, add_generation_prompt);
        break;
    case TG_CHAT_LLAMA2:
    case TG_CHAT_LLAMA2_SYS:
    case TG_CHAT_LLAMA2_SYS_BOS:
    case TG_CHAT_LLAMA2_SYS_STRIP:
        render_llama2(&b, t, msgs, roles, n);
        break;
    case TG_CHAT_MISTRAL_V1:
    case TG_CHAT_MISTRAL_V3:
    case TG_CHAT_MISTRAL_V3_TEKKEN:
        render_mistral_v1_v3(&b, t, msgs, roles, n);
        break;
    case TG_CHAT_MISTRAL_V7:
    case TG_CHAT_MISTRAL_V7_TEKKEN:
        render_mistral_v7(&b, t, msgs, roles, n);
        break;
    case TG_CHAT_COUNT_:
        break;
    }
    free(roles);
    tg__buf_append_u8(&b, 0);
    if (b.failed) {
        tg__buf_free(&b);
        return TG_ERR_NOMEM;
    }
    *out = (char *)b.data;
    return TG_OK;
}

const char *const *tg_chat_stop_strings(tg_chat_template t) {
    static const char *const gemma[] = {"<end_of_turn>", NULL};
    static const char *const chatml[] = {"<|im_end|>", NULL};
    static const char *const llama3[] = {"<|eot_id|>", NULL};
    /* Llama 2 and Mistral end a turn with </s>; a model that runs on and
     * writes the next [INST] is playing the user. */
    static const char *const inst[] = {"</s>", "[INST]", NULL};
    static const char *const none[] = {NULL};
    switch (t) {
    case TG_CHAT_GEMMA:
        return gemma;
    case TG_CHAT_CHATML:
        return chatml;
    case TG_CHAT_LLAMA3:
        return llama3;
    case TG_CHAT_LLAMA2:
    case TG_CHAT_LLAMA2_SYS:
    case TG_CHAT_LLAMA2_SYS_BOS:
    case TG_CHAT_LLAMA2_SYS_STRIP:
    case TG_CHAT_MISTRAL_V1:
    case TG_CHAT_MISTRAL_V3:
    case TG_CHAT_MISTRAL_V3_TEKKEN:
    case TG_CHAT_MISTRAL_V7:
    case TG_CHAT_MISTRAL_V7_TEKKEN:
        return inst;
    case TG_CHAT_COUNT_:
        break;
    }
    return none;
}
