/*
 * prompt.c — how a chat request becomes prompt text, and how the model's
 * reply becomes tool calls.
 *
 * The chat templates (src/gen/chat.c) know four roles and plain text, and
 * the models we run have no tool-call syntax of their own that we could rely
 * on, so tools are rendered here, on the server side, in one documented
 * format (docs/API.md, "Function calling"):
 *
 *   - the offered tools go into a system message: one JSON line per tool
 *     (name, description, parameters) and the instruction to answer a call
 *     with only {"name": …, "arguments": {…}};
 *   - an assistant turn that made calls is rendered as that same JSON (one
 *     line per call), so the history reads as the model is told to write;
 *   - a tool result is a turn of role "tool" carrying the result text.
 *
 * The reply side does not trust the model to follow the instruction: the
 * scheduler constrains the turn with a grammar compiled from the envelope
 * schema below, so what comes back always parses and validates.
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void puts_buf(tg__buf *b, const char *s) {
    tg__buf_append(b, s, strlen(s));
}

/* Appends a JSON value in compact form. */
static void put_json(tg__buf *b, const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        b->failed = true;
        return;
    }
    puts_buf(b, s);
    free(s);
}

static json_t *tool_parameters(const tg__tool *t) {
    if (t->parameters)
        return json_incref(t->parameters);
    return json_pack("{s:s, s:{}, s:b}", "type", "object", "properties", "additionalProperties", 0);
}

/* The system text that offers the tools. */
static void tools_text(const tg__sreq *r, tg__buf *b) {
    puts_buf(b, "You can call functions. Each one is described by a JSON line with its name, what it does, "
                "and the JSON Schema of its arguments:\n");
    for (size_t i = 0; i < r->n_tools; i++) {
        const tg__tool *t = &r->tools[i];
        json_t *params = tool_parameters(t);
        json_t *line = json_pack("{s:s, s:s, s:o}", "name", t->name, "description", t->description, "parameters",
                                 params);
        if (!line) {
            b->failed = true;
            return;
        }
        put_json(b, line);
        json_decref(line);
        tg__buf_append_u8(b, '\n');
    }
    puts_buf(b, "To call a function, reply with only this JSON object and nothing else: "
                "{\"name\": \"<function name>\", \"arguments\": {<the arguments>}}\n");
    switch (r->tool_mode) {
    case TG__TOOLS_REQUIRED: puts_buf(b, "You must call one of these functions now."); break;
    case TG__TOOLS_NAMED:
        puts_buf(b, "You must call the function ");
        puts_buf(b, r->tool_name);
        puts_buf(b, " now.");
        break;
    default: puts_buf(b, "If no function helps, answer in plain text."); break;
    }
}

/* An assistant turn with calls: its text (if any), then one envelope per
 * call.  Arguments arrive as a JSON string; if that string is not JSON it is
 * kept as a string value rather than dropped. */
static void assistant_calls_text(const tg__msg *m, tg__buf *b) {
    puts_buf(b, m->content);
    size_t k;
    json_t *c;
    json_array_foreach(m->tool_calls, k, c) {
        json_t *fn = json_object_get(c, "function");
        json_t *args = json_object_get(fn, "arguments");
        json_t *parsed = NULL;
        if (json_is_string(args))
            parsed = json_loadb(json_string_value(args), json_string_length(args), JSON_DECODE_ANY, NULL);
        if (!parsed)
            parsed = args ? json_incref(args) : json_object();
        json_t *env = json_pack("{s:O, s:o}", "name", json_object_get(fn, "name"), "arguments", parsed);
        if (!env) {
            b->failed = true;
            return;
        }
        if (b->len)
            tg__buf_append_u8(b, '\n');
        put_json(b, env);
        json_decref(env);
    }
}

static char *buf_cstr(tg__buf *b) {
    tg__buf_append_u8(b, 0);
    if (b->failed) {
        tg__buf_free(b);
        tg__fail(TG_ERR_NOMEM, "out of memory building the prompt");
        return NULL;
    }
    return (char *)b->data;
}

tg_status tg__prompt_chat(const tg__sreq *r, tg_chat_template t, char **out) {
    *out = NULL;
    size_t n = r->n_msgs + 1;
    tg_chat_msg *msgs = tg__calloc(n, sizeof *msgs);
    char **texts = tg__calloc(n, sizeof *texts);
    if (!msgs || !texts) {
        free(msgs);
        free(texts);
        return TG_ERR_NOMEM;
    }
    size_t k = 0, first = 0;
    tg_status s = TG_OK;
    if (r->tool_mode != TG__TOOLS_NONE && r->n_tools) {
        /* merged into the caller's first system message, or a new one */
        tg__buf b = {0};
        if (r->n_msgs && !strcmp(r->msgs[0].role, "system")) {
            puts_buf(&b, r->msgs[0].content);
            puts_buf(&b, "\n\n");
            first = 1;
        }
        tools_text(r, &b);
        if (!(texts[k] = buf_cstr(&b))) {
            s = TG_ERR_NOMEM;
            goto out;
        }
        msgs[k] = (tg_chat_msg){.role = "system", .content = texts[k]};
        k++;
    }
    for (size_t i = first; i < r->n_msgs; i++, k++) {
        const tg__msg *m = &r->msgs[i];
        msgs[k] = (tg_chat_msg){.role = m->role, .content = m->content};
        if (m->tool_calls) {
            tg__buf cb = {0};
            assistant_calls_text(m, &cb);
            if (!(texts[k] = buf_cstr(&cb))) {
                s = TG_ERR_NOMEM;
                goto out;
            }
            msgs[k].content = texts[k];
        }
    }
    s = tg_chat_render(t, msgs, k, true, out);
out:
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(msgs);
    return s;
}

/* {"type":"object","properties":{"name":{"enum":[NAME]},"arguments":PARAMS},
 *  "required":["name","arguments"],"additionalProperties":false} */
static json_t *envelope_for(const tg__tool *t) {
    return json_pack("{s:s, s:{s:{s:[s]}, s:o}, s:[s,s], s:b}", "type", "object", "properties", "name", "enum",
                     t->name, "arguments", tool_parameters(t), "required", "name", "arguments",
                     "additionalProperties", 0);
}

json_t *tg__tools_envelope_schema(const tg__sreq *r) {
    if (r->tool_mode == TG__TOOLS_NAMED) {
        for (size_t i = 0; i < r->n_tools; i++)
            if (!strcmp(r->tools[i].name, r->tool_name))
                return envelope_for(&r->tools[i]);
        return NULL;
    }
    if (r->n_tools == 1)
        return envelope_for(&r->tools[0]);
    json_t *any = json_array();
    for (size_t i = 0; any && i < r->n_tools; i++) {
        if (json_array_append_new(any, envelope_for(&r->tools[i])) != 0) {
            json_decref(any);
            return NULL;
        }
    }
    return any ? json_pack("{s:o}", "anyOf", any) : NULL;
}

tg_status tg__tools_parse_call(const tg__sreq *r, const char *text, size_t len, char **name, char **args) {
    *name = *args = NULL;
    json_error_t err;
    json_t *v = json_loadb(text, len, 0, &err);
    if (!v)
        return tg__fail(TG_ERR_FORMAT, "the tool call is not JSON: %s", err.text);
    json_t *n = json_object_get(v, "name");
    json_t *a = json_object_get(v, "arguments");
    const tg__tool *tool = NULL;
    for (size_t i = 0; json_is_string(n) && i < r->n_tools; i++)
        if (!strcmp(r->tools[i].name, json_string_value(n)))
            tool = &r->tools[i];
    if (!tool || !a) {
        json_decref(v);
        return tg__fail(TG_ERR_FORMAT, "the reply is not a call to one of the offered tools");
    }
    *name = tg__strndup(tool->name, strlen(tool->name));
    *args = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (!*name || !*args) {
        free(*name);
        free(*args);
        *name = *args = NULL;
        return tg__fail(TG_ERR_NOMEM, "out of memory");
    }
    return TG_OK;
}
