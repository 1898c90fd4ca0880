/*
 * openai.c — the body of an OpenAI API request (POST /v1/chat/completions,
 * POST /v1/completions) → a validated tg__sreq.
 *
 * This is attack surface: the bytes come from the network.  Every field we
 * read is checked for its JSON type and OpenAI's range before use; unknown
 * fields are ignored (clients send vendor extensions); a field we know but do
 * not implement with a non-default value (n > 1, echo, suffix, image parts)
 * is refused rather than silently dropped.  On failure the message names the
 * field and r->param holds its path ("messages[2].content"), as OpenAI's
 * error object does.  Nothing here may abort, and nothing is kept from the
 * body beyond the request's lifetime.  fuzz/fuzz_openai_request.c drives it.
 */
#include "serve/serve.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOGIT_BIAS 300 /* OpenAI's limit */
#define MAX_PROMPT_IDS (1 << 20)

TG_PRINTF(4, 5)
static tg_status bad(tg__sreq *r, tg_status s, const char *param, const char *fmt, ...) {
    snprintf(r->param, sizeof r->param, "%s", param);
    va_list ap;
    va_start(ap, fmt);
    tg__vfail(s, fmt, ap);
    va_end(ap);
    return s;
}

bool tg__sreq_own(tg__sreq *r, char *s) {
    if (!s)
        return false;
    if (r->n_owned == r->cap_owned) {
        size_t cap = r->cap_owned ? r->cap_owned * 2 : 16;
        char **o = tg__realloc(r->owned, cap * sizeof *o);
        if (!o) {
            free(s);
            return false;
        }
        r->owned = o;
        r->cap_owned = cap;
    }
    r->owned[r->n_owned++] = s;
    return true;
}

void tg__sreq_free(tg__sreq *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    free(r->owned);
    free(r->msgs);
    free(r->tools);
    free(r->bias_tokens);
    free(r->bias_values);
    tg_tokens_free(&r->prompt_ids);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* A field, or NULL when absent or null (OpenAI treats null as "not given"). */
static json_t *field(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return (v && !json_is_null(v)) ? v : NULL;
}

static tg_status get_number(tg__sreq *r, json_t *obj, const char *key, double lo, double hi, double *out) {
    json_t *v = field(obj, key);
    if (!v)
        return TG_OK;
    if (!json_is_number(v))
        return bad(r, TG_ERR_TYPE, key, "'%s' must be a number, not %s", key, type_name(v));
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return bad(r, TG_ERR_RANGE, key, "'%s' is %g; it must be between %g and %g", key, d, lo, hi);
    *out = d;
    return TG_OK;
}

/* Integers may arrive as 3 or 3.0; 3.5 is refused. */
static tg_status get_int(tg__sreq *r, json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    json_t *v = field(obj, key);
    if (!v)
        return TG_OK;
    int64_t x;
    if (json_is_integer(v)) {
        x = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
            return bad(r, TG_ERR_TYPE, key, "'%s' must be an integer, not %g", key, d);
        x = (int64_t)d;
    } else {
        return bad(r, TG_ERR_TYPE, key, "'%s' must be an integer, not %s", key, type_name(v));
    }
    if (x < lo || x > hi)
        return bad(r, TG_ERR_RANGE, key, "'%s' is %lld; it must be between %lld and %lld", key, (long long)x,
                   (long long)lo, (long long)hi);
    *out = x;
    return TG_OK;
}

static tg_status get_bool(tg__sreq *r, json_t *obj, const char *key, bool *out) {
    json_t *v = field(obj, key);
    if (!v)
        return TG_OK;
    if (!json_is_boolean(v))
        return bad(r, TG_ERR_TYPE, key, "'%s' must be a boolean, not %s", key, type_name(v));
    *out = json_is_true(v);
    return TG_OK;
}

/* ---- sampling fields shared by both endpoints ------------------------------- */

static tg_status parse_sampling(tg__sreq *r, json_t *o) {
    double d;
    int64_t i;
    tg_status s;
    d = r->sp.temperature;
    if ((s = get_number(r, o, "temperature", 0.0, 2.0, &d)))
        return s;
    r->sp.temperature = (float)d;
    d = r->sp.top_p;
    if ((s = get_number(r, o, "top_p", 0.0, 1.0, &d)))
        return s;
    r->sp.top_p = (float)d;
    d = r->sp.presence_penalty;
    if ((s = get_number(r, o, "presence_penalty", -2.0, 2.0, &d)))
        return s;
    r->sp.presence_penalty = (float)d;
    d = r->sp.frequency_penalty;
    if ((s = get_number(r, o, "frequency_penalty", -2.0, 2.0, &d)))
        return s;
    r->sp.frequency_penalty = (float)d;
    /* llama.cpp's extensions, which many local clients send */
    i = r->sp.top_k;
    if ((s = get_int(r, o, "top_k", 0, 1 << 30, &i)))
        return s;
    r->sp.top_k = (int32_t)i;
    d = r->sp.min_p;
    if ((s = get_number(r, o, "min_p", 0.0, 1.0, &d)))
        return s;
    r->sp.min_p = (float)d;
    d = r->sp.repeat_penalty;
    if ((s = get_number(r, o, "repeat_penalty", 0.01, 100.0, &d)))
        return s;
    r->sp.repeat_penalty = (float)d;

    json_t *seed = field(o, "seed");
    if (seed) {
        if (!json_is_integer(seed))
            return bad(r, TG_ERR_TYPE, "seed", "'seed' must be an integer, not %s", type_name(seed));
        /* negative seeds are valid in OpenAI's API: reinterpret the bits */
        r->sp.seed = (uint64_t)json_integer_value(seed);
        if (r->sp.seed == TG_SEED_RANDOM)
            r->sp.seed--; /* UINT64_MAX means "random" to the sampler */
    }

    i = -1;
    if ((s = get_int(r, o, "max_tokens", 1, INT32_MAX, &i)))
        return s;
    if ((s = get_int(r, o, "max_completion_tokens", 1, INT32_MAX, &i)))
        return s;
    if (i > 0)
        r->max_tokens = i;

    i = 1;
    if ((s = get_int(r, o, "n", 1, 128, &i)))
        return s;
    if (i != 1)
        return bad(r, TG_ERR_UNSUPPORTED, "n", "'n' must be 1: one choice per request (send several requests)");

    json_t *stop = field(o, "stop");
    if (stop) {
        if (json_is_string(stop)) {
            if (json_string_length(stop) > 0)
                r->stops[r->n_stops++] = json_string_value(stop);
        } else if (json_is_array(stop)) {
            if (json_array_size(stop) > TG__MAX_STOPS)
                return bad(r, TG_ERR_RANGE, "stop", "'stop' has %zu strings; at most %d", json_array_size(stop),
                           TG__MAX_STOPS);
            size_t k;
            json_t *e;
            json_array_foreach(stop, k, e) {
                if (!json_is_string(e))
                    return bad(r, TG_ERR_TYPE, "stop", "'stop[%zu]' must be a string, not %s", k, type_name(e));
                if (json_string_length(e) > 0)
                    r->stops[r->n_stops++] = json_string_value(e);
            }
        } else {
            return bad(r, TG_ERR_TYPE, "stop", "'stop' must be a string or an array of strings, not %s",
                       type_name(stop));
        }
    }

    if ((s = get_bool(r, o, "stream", &r->stream)))
        return s;
    json_t *so = field(o, "stream_options");
    if (so) {
        if (!json_is_object(so))
            return bad(r, TG_ERR_TYPE, "stream_options", "'stream_options' must be an object, not %s",
                       type_name(so));
        if (!r->stream)
            return bad(r, TG_ERR_ARG, "stream_options", "'stream_options' is only allowed with \"stream\": true");
        json_t *iu = field(so, "include_usage");
        if (iu && !json_is_boolean(iu))
            return bad(r, TG_ERR_TYPE, "stream_options.include_usage",
                       "'stream_options.include_usage' must be a boolean, not %s", type_name(iu));
        r->include_usage = iu && json_is_true(iu);
    }

    json_t *lb = field(o, "logit_bias");
    if (lb) {
        if (!json_is_object(lb))
            return bad(r, TG_ERR_TYPE, "logit_bias", "'logit_bias' must be an object, not %s", type_name(lb));
        size_t n = json_object_size(lb);
        if (n > MAX_LOGIT_BIAS)
            return bad(r, TG_ERR_RANGE, "logit_bias", "'logit_bias' has %zu entries; at most %d", n, MAX_LOGIT_BIAS);
        if (n) {
            r->bias_tokens = tg__calloc(n, sizeof *r->bias_tokens);
            r->bias_values = tg__calloc(n, sizeof *r->bias_values);
            if (!r->bias_tokens || !r->bias_values)
                return TG_ERR_NOMEM;
        }
        const char *key;
        json_t *val;
        json_object_foreach(lb, key, val) {
            char *end;
            long long t = strtoll(key, &end, 10);
            if (!*key || *end || t < 0 || t > INT32_MAX)
                return bad(r, TG_ERR_ARG, "logit_bias", "'logit_bias' key '%.40s' is not a token id", key);
            if (!json_is_number(val) || !(json_number_value(val) >= -100 && json_number_value(val) <= 100))
                return bad(r, TG_ERR_RANGE, "logit_bias", "'logit_bias' values must be numbers in [-100, 100]");
            r->bias_tokens[r->n_bias] = t;
            r->bias_values[r->n_bias] = (float)json_number_value(val);
            r->n_bias++;
        }
    }
    return TG_OK;
}

/* ---- chat ------------------------------------------------------------------------ */

/* A message's content: a string, or an array of text parts joined with
 * newlines.  *out is "" when absent/null (callers decide if that is allowed). */
static tg_status parse_content(tg__sreq *r, json_t *m, size_t i, const char **out, bool *present) {
    char path[64];
    snprintf(path, sizeof path, "messages[%zu].content", i);
    json_t *c = field(m, "content");
    *out = "";
    *present = c != NULL;
    if (!c)
        return TG_OK;
    if (json_is_string(c)) {
        *out = json_string_value(c);
        return TG_OK;
    }
    if (!json_is_array(c))
        return bad(r, TG_ERR_TYPE, path, "'%s' must be a string or an array of content parts, not %s", path,
                   type_name(c));
    tg__buf b = {0};
    size_t k;
    json_t *part;
    json_array_foreach(c, k, part) {
        json_t *ty = json_is_object(part) ? json_object_get(part, "type") : NULL;
        if (!ty || !json_is_string(ty)) {
            tg__buf_free(&b);
            return bad(r, TG_ERR_TYPE, path, "'%s[%zu]' must be an object with a string \"type\"", path, k);
        }
        const char *t = json_string_value(ty);
        if (strcmp(t, "text") != 0) {
            tg__buf_free(&b);
            return bad(r, TG_ERR_UNSUPPORTED, path, "'%s[%zu]' is a '%.40s' part; this server reads text only",
                       path, k, t);
        }
        json_t *tx = json_object_get(part, "text");
        if (!json_is_string(tx)) {
            tg__buf_free(&b);
            return bad(r, TG_ERR_TYPE, path, "'%s[%zu].text' must be a string", path, k);
        }
        if (b.len)
            tg__buf_append_u8(&b, '\n');
        tg__buf_append(&b, json_string_value(tx), json_string_length(tx));
    }
    tg__buf_append_u8(&b, 0);
    if (b.failed) {
        tg__buf_free(&b);
        return TG_ERR_NOMEM;
    }
    if (!tg__sreq_own(r, (char *)b.data))
        return TG_ERR_NOMEM;
    *out = (const char *)b.data;
    return TG_OK;
}

static tg_status check_tool_calls(tg__sreq *r, json_t *calls, size_t i) {
    char path[80];
    snprintf(path, sizeof path, "messages[%zu].tool_calls", i);
    if (!json_is_array(calls))
        return bad(r, TG_ERR_TYPE, path, "'%s' must be an array, not %s", path, type_name(calls));
    size_t k;
    json_t *c;
    json_array_foreach(calls, k, c) {
        json_t *fn = json_is_object(c) ? json_object_get(c, "function") : NULL;
        json_t *name = json_is_object(fn) ? json_object_get(fn, "name") : NULL;
        json_t *args = json_is_object(fn) ? json_object_get(fn, "arguments") : NULL;
        if (!json_is_string(name) || (args && !json_is_string(args) && !json_is_object(args)))
            return bad(r, TG_ERR_TYPE, path,
                       "'%s[%zu]' must be {\"type\": \"function\", \"function\": {\"name\": string, "
                       "\"arguments\": string}}", path, k);
    }
    return TG_OK;
}

static tg_status parse_messages(tg__sreq *r, json_t *o) {
    json_t *ms = json_object_get(o, "messages");
    if (!ms || json_is_null(ms))
        return bad(r, TG_ERR_ARG, "messages", "'messages' is required");
    if (!json_is_array(ms))
        return bad(r, TG_ERR_TYPE, "messages", "'messages' must be an array, not %s", type_name(ms));
    size_t n = json_array_size(ms);
    if (n == 0)
        return bad(r, TG_ERR_ARG, "messages", "'messages' must not be empty");
    if (n > TG__MAX_MESSAGES)
        return bad(r, TG_ERR_RANGE, "messages", "'messages' has %zu entries; at most %d", n, TG__MAX_MESSAGES);
    r->msgs = tg__calloc(n, sizeof *r->msgs);
    if (!r->msgs)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(ms, i);
        char path[64];
        snprintf(path, sizeof path, "messages[%zu]", i);
        if (!json_is_object(m))
            return bad(r, TG_ERR_TYPE, path, "'%s' must be an object, not %s", path, type_name(m));
        json_t *role = json_object_get(m, "role");
        snprintf(path, sizeof path, "messages[%zu].role", i);
        if (!json_is_string(role))
            return bad(r, TG_ERR_TYPE, path, "'%s' must be a string", path);
        const char *rs = json_string_value(role);
        tg__msg *msg = &r->msgs[i];
        if (!strcmp(rs, "system") || !strcmp(rs, "developer"))
            msg->role = "system";
        else if (!strcmp(rs, "user"))
            msg->role = "user";
        else if (!strcmp(rs, "assistant"))
            msg->role = "assistant";
        else if (!strcmp(rs, "tool"))
            msg->role = "tool";
        else
            return bad(r, TG_ERR_ARG, path,
                       "'%s' is '%.40s'; it must be one of system, developer, user, assistant, tool", path, rs);
        bool present;
        tg_status s = parse_content(r, m, i, &msg->content, &present);
        if (s)
            return s;
        if (msg->role[0] == 'a') {
            json_t *calls = field(m, "tool_calls");
            if (calls && (s = check_tool_calls(r, calls, i)))
                return s;
            msg->tool_calls = (calls && json_array_size(calls)) ? calls : NULL;
            if (!present && !msg->tool_calls) {
                snprintf(path, sizeof path, "messages[%zu].content", i);
                return bad(r, TG_ERR_ARG, path, "'%s' is required unless the message has tool_calls", path);
            }
        } else if (!present) {
            snprintf(path, sizeof path, "messages[%zu].content", i);
            return bad(r, TG_ERR_ARG, path, "'%s' is required", path);
        }
        if (msg->role[0] == 't') {
            json_t *id = field(m, "tool_call_id");
            if (id && !json_is_string(id)) {
                snprintf(path, sizeof path, "messages[%zu].tool_call_id", i);
                return bad(r, TG_ERR_TYPE, path, "'%s' must be a string", path);
            }
            msg->tool_call_id = id ? json_string_value(id) : NULL;
        }
    }
    r->n_msgs = n;
    return TG_OK;
}

static bool valid_tool_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static tg_status parse_tools(tg__sreq *r, json_t *o) {
    json_t *tools = field(o, "tools");
    json_t *choice = field(o, "tool_choice");
    if (tools) {
        if (!json_is_array(tools))
            return bad(r, TG_ERR_TYPE, "tools", "'tools' must be an array, not %s", type_name(tools));
        size_t n = json_array_size(tools);
        if (n > TG__MAX_TOOLS)
            return bad(r, TG_ERR_RANGE, "tools", "'tools' has %zu entries; at most %d", n, TG__MAX_TOOLS);
        if (n && !(r->tools = tg__calloc(n, sizeof *r->tools)))
            return TG_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            json_t *t = json_array_get(tools, i);
            char path[48];
            snprintf(path, sizeof path, "tools[%zu]", i);
            json_t *ty = json_is_object(t) ? json_object_get(t, "type") : NULL;
            json_t *fn = json_is_object(t) ? json_object_get(t, "function") : NULL;
            if (!json_is_string(ty) || strcmp(json_string_value(ty), "function") != 0 || !json_is_object(fn))
                return bad(r, TG_ERR_TYPE, path, "'%s' must be {\"type\": \"function\", \"function\": {…}}", path);
            json_t *name = json_object_get(fn, "name");
            if (!json_is_string(name) || !valid_tool_name(json_string_value(name)))
                return bad(r, TG_ERR_ARG, path, "'%s.function.name' must be 1-64 characters of a-z, A-Z, 0-9, _ and -",
                           path);
            for (size_t k = 0; k < i; k++)
                if (!strcmp(r->tools[k].name, json_string_value(name)))
                    return bad(r, TG_ERR_ARG, path, "'%s' repeats the tool name '%s'", path, r->tools[k].name);
            json_t *desc = field(fn, "description");
            if (desc && !json_is_string(desc))
                return bad(r, TG_ERR_TYPE, path, "'%s.function.description' must be a string", path);
            json_t *params = field(fn, "parameters");
            if (params && !json_is_object(params))
                return bad(r, TG_ERR_TYPE, path, "'%s.function.parameters' must be a JSON Schema object", path);
            r->tools[i] = (tg__tool){.name = json_string_value(name),
                                     .description = desc ? json_string_value(desc) : "",
                                     .parameters = params};
        }
        r->n_tools = n;
    }
    r->tool_mode = r->n_tools ? TG__TOOLS_AUTO : TG__TOOLS_NONE;
    if (!choice)
        return TG_OK;
    if (json_is_string(choice)) {
        const char *c = json_string_value(choice);
        if (!strcmp(c, "none"))
            r->tool_mode = TG__TOOLS_NONE;
        else if (!strcmp(c, "auto"))
            r->tool_mode = r->n_tools ? TG__TOOLS_AUTO : TG__TOOLS_NONE;
        else if (!strcmp(c, "required"))
            r->tool_mode = TG__TOOLS_REQUIRED;
        else
            return bad(r, TG_ERR_ARG, "tool_choice", "'tool_choice' is '%.40s'; it must be none, auto, required "
                       "or {\"type\": \"function\", \"function\": {\"name\": …}}", c);
    } else if (json_is_object(choice)) {
        json_t *fn = json_object_get(choice, "function");
        json_t *name = json_is_object(fn) ? json_object_get(fn, "name") : NULL;
        if (!json_is_string(name))
            return bad(r, TG_ERR_TYPE, "tool_choice",
                       "'tool_choice' must be {\"type\": \"function\", \"function\": {\"name\": string}}");
        r->tool_mode = TG__TOOLS_NAMED;
        r->tool_name = json_string_value(name);
        bool found = false;
        for (size_t i = 0; i < r->n_tools; i++)
            found |= !strcmp(r->tools[i].name, r->tool_name);
        if (!found)
            return bad(r, TG_ERR_ARG, "tool_choice", "'tool_choice' names '%.64s', which is not in 'tools'",
                       r->tool_name);
    } else {
        return bad(r, TG_ERR_TYPE, "tool_choice", "'tool_choice' must be a string or an object, not %s",
                   type_name(choice));
    }
    if (r->tool_mode == TG__TOOLS_REQUIRED && r->n_tools == 0)
        return bad(r, TG_ERR_ARG, "tool_choice", "'tool_choice' is 'required' but no 'tools' were given");
    return TG_OK;
}

static tg_status parse_response_format(tg__sreq *r, json_t *o) {
    json_t *rf = field(o, "response_format");
    if (!rf)
        return TG_OK;
    json_t *ty = json_is_object(rf) ? json_object_get(rf, "type") : NULL;
    if (!json_is_string(ty))
        return bad(r, TG_ERR_TYPE, "response_format", "'response_format' must be an object with a string \"type\"");
    const char *t = json_string_value(ty);
    if (!strcmp(t, "text")) {
        r->format = TG__FORMAT_TEXT;
    } else if (!strcmp(t, "json_object")) {
        r->format = TG__FORMAT_JSON_OBJECT;
    } else if (!strcmp(t, "json_schema")) {
        json_t *js = json_object_get(rf, "json_schema");
        json_t *schema = json_is_object(js) ? field(js, "schema") : NULL;
        if (!json_is_object(js))
            return bad(r, TG_ERR_TYPE, "response_format.json_schema",
                       "'response_format.json_schema' must be an object with a \"schema\"");
        if (schema && !json_is_object(schema))
            return bad(r, TG_ERR_TYPE, "response_format.json_schema.schema",
                       "'response_format.json_schema.schema' must be a JSON Schema object");
        r->format = schema ? TG__FORMAT_JSON_SCHEMA : TG__FORMAT_JSON_OBJECT;
        r->format_schema = schema;
    } else {
        return bad(r, TG_ERR_ARG, "response_format.type",
                   "'response_format.type' is '%.40s'; it must be text, json_object or json_schema", t);
    }
    return TG_OK;
}

static tg_status parse_chat(tg__sreq *r, json_t *o) {
    tg_status s;
    if ((s = parse_messages(r, o)) || (s = parse_tools(r, o)) || (s = parse_response_format(r, o)))
        return s;
    if (r->tool_mode != TG__TOOLS_NONE && r->format != TG__FORMAT_TEXT)
        return bad(r, TG_ERR_UNSUPPORTED, "response_format",
                   "'response_format' cannot be combined with tools here; use tool_choice \"none\"");
    if ((s = get_bool(r, o, "logprobs", &r->logprobs)))
        return s;
    int64_t k = 0;
    if ((s = get_int(r, o, "top_logprobs", 0, TG__MAX_TOP_LOGPROBS, &k)))
        return s;
    if (field(o, "top_logprobs") && !r->logprobs)
        return bad(r, TG_ERR_ARG, "top_logprobs", "'top_logprobs' requires \"logprobs\": true");
    r->top_logprobs = (int32_t)k;
    return TG_OK;
}

/* ---- completions ------------------------------------------------------------------ */

static tg_status parse_id_array(tg__sreq *r, json_t *a) {
    size_t n = json_array_size(a);
    if (n == 0)
        return bad(r, TG_ERR_ARG, "prompt", "'prompt' must not be empty");
    if (n > MAX_PROMPT_IDS)
        return bad(r, TG_ERR_RANGE, "prompt", "'prompt' has %zu token ids; at most %d", n, MAX_PROMPT_IDS);
    r->prompt_ids.ids = tg__malloc(n * sizeof *r->prompt_ids.ids);
    if (!r->prompt_ids.ids)
        return TG_ERR_NOMEM;
    r->prompt_ids.cap = n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX)
            return bad(r, TG_ERR_TYPE, "prompt", "'prompt[%zu]' must be a token id (a non-negative integer)", i);
        r->prompt_ids.ids[r->prompt_ids.n++] = (tg_token)json_integer_value(e);
    }
    r->prompt_is_ids = true;
    return TG_OK;
}

static tg_status parse_completions(tg__sreq *r, json_t *o) {
    json_t *p = json_object_get(o, "prompt");
    if (!p || json_is_null(p))
        return bad(r, TG_ERR_ARG, "prompt", "'prompt' is required");
    if (json_is_array(p) && json_array_size(p) == 1 && !json_is_integer(json_array_get(p, 0)))
        p = json_array_get(p, 0); /* ["text"] or [[ids]] */
    if (json_is_string(p)) {
        r->prompt = json_string_value(p);
        r->prompt_len = json_string_length(p);
    } else if (json_is_array(p) && json_array_size(p) > 0 && json_is_integer(json_array_get(p, 0))) {
        tg_status s = parse_id_array(r, p);
        if (s)
            return s;
    } else if (json_is_array(p) && json_array_size(p) > 1) {
        return bad(r, TG_ERR_UNSUPPORTED, "prompt", "'prompt' holds several prompts; send one per request");
    } else {
        return bad(r, TG_ERR_TYPE, "prompt", "'prompt' must be a string or an array of token ids");
    }
    tg_status s;
    bool echo = false;
    if ((s = get_bool(r, o, "echo", &echo)))
        return s;
    if (echo)
        return bad(r, TG_ERR_UNSUPPORTED, "echo", "'echo' is not supported");
    json_t *suffix = field(o, "suffix");
    if (suffix && !(json_is_string(suffix) && json_string_length(suffix) == 0))
        return bad(r, TG_ERR_UNSUPPORTED, "suffix", "'suffix' (insertion) is not supported");
    int64_t best_of = 1;
    if ((s = get_int(r, o, "best_of", 1, 20, &best_of)))
        return s;
    if (best_of != 1)
        return bad(r, TG_ERR_UNSUPPORTED, "best_of", "'best_of' must be 1");
    int64_t lp = -1;
    if ((s = get_int(r, o, "logprobs", 0, 5, &lp)))
        return s;
    r->logprobs = lp >= 0;
    r->top_logprobs = lp > 0 ? (int32_t)lp : 0;
    if (r->max_tokens < 0)
        r->max_tokens = 16; /* OpenAI's default for this endpoint */
    return TG_OK;
}

tg_status tg__sreq_parse(tg__api api, const char *body, size_t len, const tg_sampler_params *defaults,
                         tg__sreq *r) {
    memset(r, 0, sizeof *r);
    r->api = api;
    r->max_tokens = -1;
    r->sp = defaults ? *defaults : tg_sampler_defaults();
    r->sp.seed = TG_SEED_RANDOM;
    r->sp.n_logprobs = 0;
    json_error_t err;
    /* duplicate keys are refused: two readers of the same body must not be
     * able to disagree about which value counts */
    r->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!r->root)
        return bad(r, TG_ERR_FORMAT, "", "the body is not valid JSON: %s (line %d, column %d)", err.text, err.line,
                   err.column);
    if (!json_is_object(r->root))
        return bad(r, TG_ERR_TYPE, "", "the body must be a JSON object, not %s", type_name(r->root));
    json_t *model = field(r->root, "model");
    if (model && !json_is_string(model))
        return bad(r, TG_ERR_TYPE, "model", "'model' must be a string, not %s", type_name(model));
    tg_status s = parse_sampling(r, r->root);
    if (s)
        return s;
    s = api == TG__API_CHAT ? parse_chat(r, r->root) : parse_completions(r, r->root);
    if (s)
        return s;
    r->sp.n_logprobs = r->logprobs ? r->top_logprobs : 0;
    r->param[0] = '\0';
    return TG_OK;
}
