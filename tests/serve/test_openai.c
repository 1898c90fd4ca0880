/*
 * test_openai.c — the server's request mapping and reply shapes, without a
 * model or a socket: body → tg__sreq (types, ranges, paths of the offending
 * field, unknown fields ignored), chat prompts with tools, the tool-call
 * envelope schema and its parsing, error and usage JSON, UTF-8 repair, API
 * keys and loopback addresses, access-log escaping, Prometheus text.
 */
#include "serve/serve.h"
#include "../test.h"

static tg_sampler_params defaults(void) {
    return tg_sampler_defaults();
}

static tg_status parse(tg__api api, const char *body, tg__sreq *r) {
    tg_sampler_params d = defaults();
    return tg__sreq_parse(api, body, strlen(body), &d, r);
}

/* Parses, expects failure with status s, the param, and a message part. */
static void expect_bad(tg__api api, const char *body, tg_status s, const char *param, const char *needle) {
    tg__sreq r;
    tg_status got = parse(api, body, &r);
    CHECK_MSG(got == s, "%s: status %d, expected %d (%s)", body, got, s, tg_last_error());
    CHECK_MSG(!strcmp(r.param, param), "%s: param '%s', expected '%s'", body, r.param, param);
    CHECK_MSG(strstr(tg_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", body, tg_last_error(), needle);
    tg__sreq_free(&r);
}

static void test_chat_valid(void) {
    tg__sreq r;
    const char *body =
        "{\"model\":\"x\",\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"42\"}],"
        "\"temperature\":0.5,\"top_p\":0.9,\"max_completion_tokens\":7,\"stop\":[\"END\",\"\"],\"seed\":-1,"
        "\"presence_penalty\":1.5,\"frequency_penalty\":-0.5,\"logprobs\":true,\"top_logprobs\":3,"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1,\"user\":\"u\",\"metadata\":{},"
        "\"some_vendor_field\":[1,2,3],\"logit_bias\":{\"5\":-100,\"7\":2.5}}";
    CHECK_EQ_INT(parse(TG__API_CHAT, body, &r), TG_OK);
    CHECK_EQ_INT(r.n_msgs, 4);
    CHECK_EQ_STR(r.msgs[0].role, "system");
    CHECK_EQ_STR(r.msgs[1].content, "a\nb");
    CHECK_EQ_STR(r.msgs[2].role, "assistant");
    CHECK_EQ_STR(r.msgs[2].content, "");
    CHECK(r.msgs[2].tool_calls != NULL);
    CHECK_EQ_STR(r.msgs[3].tool_call_id, "call_1");
    CHECK(fabsf(r.sp.temperature - 0.5f) < 1e-6f);
    CHECK(fabsf(r.sp.top_p - 0.9f) < 1e-6f);
    CHECK_EQ_INT(r.max_tokens, 7);
    CHECK_EQ_INT(r.n_stops, 1);
    CHECK_EQ_STR(r.stops[0], "END");
    CHECK(r.sp.seed == UINT64_MAX - 1); /* -1 reinterpreted, kept off the "random" value */
    CHECK(r.logprobs && r.top_logprobs == 3 && r.sp.n_logprobs == 3);
    CHECK(r.stream && r.include_usage);
    CHECK_EQ_INT(r.n_bias, 2);
    CHECK_EQ_INT(r.tool_mode, TG__TOOLS_NONE);
    tg__sreq_free(&r);

    /* defaults: nothing but messages */
    CHECK_EQ_INT(parse(TG__API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r), TG_OK);
    CHECK_EQ_INT(r.max_tokens, -1);
    CHECK(r.sp.seed == TG_SEED_RANDOM);
    CHECK(r.sp.temperature == defaults().temperature);
    CHECK(!r.stream && !r.logprobs);
    tg__sreq_free(&r);
    /* max_tokens 3.0 is an integer */
    CHECK_EQ_INT(parse(TG__API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\"}],\"max_tokens\":3.0}", &r),
                 TG_OK);
    CHECK_EQ_INT(r.max_tokens, 3);
    tg__sreq_free(&r);
}

#define MSG "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

static void test_chat_errors(void) {
    expect_bad(TG__API_CHAT, "{\"messages\":", TG_ERR_FORMAT, "", "not valid JSON");
    expect_bad(TG__API_CHAT, "", TG_ERR_FORMAT, "", "not valid JSON");
    expect_bad(TG__API_CHAT, "[1]", TG_ERR_TYPE, "", "must be a JSON object");
    expect_bad(TG__API_CHAT, "{}", TG_ERR_ARG, "messages", "'messages' is required");
    expect_bad(TG__API_CHAT, "{\"messages\":[]}", TG_ERR_ARG, "messages", "must not be empty");
    expect_bad(TG__API_CHAT, "{\"messages\":\"hi\"}", TG_ERR_TYPE, "messages", "must be an array");
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"boss\",\"content\":\"x\"}]}", TG_ERR_ARG, "messages[0].role",
               "'boss'");
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", TG_ERR_TYPE,
               "messages[0].content", "must be a string or an array");
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", TG_ERR_ARG, "messages[0].content",
               "is required");
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"assistant\",\"content\":null}]}", TG_ERR_ARG,
               "messages[0].content", "unless the message has tool_calls");
    expect_bad(TG__API_CHAT,
               "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}",
               TG_ERR_UNSUPPORTED, "messages[0].content", "text only");
    expect_bad(TG__API_CHAT, "{" MSG ",\"temperature\":\"hot\"}", TG_ERR_TYPE, "temperature", "must be a number");
    expect_bad(TG__API_CHAT, "{" MSG ",\"temperature\":3}", TG_ERR_RANGE, "temperature", "between 0 and 2");
    expect_bad(TG__API_CHAT, "{" MSG ",\"top_p\":-0.1}", TG_ERR_RANGE, "top_p", "between 0 and 1");
    expect_bad(TG__API_CHAT, "{" MSG ",\"max_tokens\":0}", TG_ERR_RANGE, "max_tokens", "between 1");
    expect_bad(TG__API_CHAT, "{" MSG ",\"max_tokens\":2.5}", TG_ERR_TYPE, "max_tokens", "must be an integer");
    expect_bad(TG__API_CHAT, "{" MSG ",\"max_tokens\":\"9\"}", TG_ERR_TYPE, "max_tokens", "must be an integer");
    expect_bad(TG__API_CHAT, "{" MSG ",\"n\":2}", TG_ERR_UNSUPPORTED, "n", "must be 1");
    expect_bad(TG__API_CHAT, "{" MSG ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", TG_ERR_RANGE, "stop", "at most 4");
    expect_bad(TG__API_CHAT, "{" MSG ",\"stop\":[1]}", TG_ERR_TYPE, "stop", "must be a string");
    expect_bad(TG__API_CHAT, "{" MSG ",\"stop\":{}}", TG_ERR_TYPE, "stop", "a string or an array");
    expect_bad(TG__API_CHAT, "{" MSG ",\"seed\":1.5}", TG_ERR_TYPE, "seed", "must be an integer");
    expect_bad(TG__API_CHAT, "{" MSG ",\"top_logprobs\":2}", TG_ERR_ARG, "top_logprobs", "requires");
    expect_bad(TG__API_CHAT, "{" MSG ",\"logprobs\":true,\"top_logprobs\":21}", TG_ERR_RANGE, "top_logprobs",
               "between 0 and 20");
    expect_bad(TG__API_CHAT, "{" MSG ",\"logprobs\":1}", TG_ERR_TYPE, "logprobs", "must be a boolean");
    expect_bad(TG__API_CHAT, "{" MSG ",\"stream_options\":{\"include_usage\":true}}", TG_ERR_ARG, "stream_options",
               "only allowed");
    expect_bad(TG__API_CHAT, "{" MSG ",\"stream\":true,\"stream_options\":{\"include_usage\":1}}", TG_ERR_TYPE,
               "stream_options.include_usage", "boolean");
    expect_bad(TG__API_CHAT, "{" MSG ",\"model\":5}", TG_ERR_TYPE, "model", "must be a string");
    expect_bad(TG__API_CHAT, "{" MSG ",\"temperature\":1,\"temperature\":2}", TG_ERR_FORMAT, "", "duplicate");
    expect_bad(TG__API_CHAT, "{" MSG ",\"logit_bias\":{\"x\":1}}", TG_ERR_ARG, "logit_bias", "not a token id");
    expect_bad(TG__API_CHAT, "{" MSG ",\"logit_bias\":{\"1\":101}}", TG_ERR_RANGE, "logit_bias", "[-100, 100]");
    /* strings with NUL are refused by the JSON reader (our strings are C strings) */
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", TG_ERR_FORMAT, "",
               "not valid JSON");
}

#define TOOL(n) "{\"type\":\"function\",\"function\":{\"name\":\"" n "\",\"parameters\":{\"type\":\"object\"," \
                "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}"

static void test_tools_parse(void) {
    tg__sreq r;
    CHECK_EQ_INT(parse(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("get_weather") "," TOOL("get_time") "]}", &r), TG_OK);
    CHECK_EQ_INT(r.n_tools, 2);
    CHECK_EQ_INT(r.tool_mode, TG__TOOLS_AUTO);
    CHECK_EQ_STR(r.tools[1].name, "get_time");
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("a") "],\"tool_choice\":\"none\"}", &r), TG_OK);
    CHECK_EQ_INT(r.tool_mode, TG__TOOLS_NONE);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("a") "],\"tool_choice\":\"required\"}", &r), TG_OK);
    CHECK_EQ_INT(r.tool_mode, TG__TOOLS_REQUIRED);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_CHAT,
                       "{" MSG ",\"tools\":[" TOOL("a") "," TOOL("b") "],\"tool_choice\":{\"type\":\"function\","
                       "\"function\":{\"name\":\"b\"}}}",
                       &r),
                 TG_OK);
    CHECK_EQ_INT(r.tool_mode, TG__TOOLS_NAMED);
    CHECK_EQ_STR(r.tool_name, "b");
    tg__sreq_free(&r);
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("a") "],\"tool_choice\":{\"type\":\"function\","
               "\"function\":{\"name\":\"zz\"}}}", TG_ERR_ARG, "tool_choice", "not in 'tools'");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tool_choice\":\"required\"}", TG_ERR_ARG, "tool_choice", "no 'tools'");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tool_choice\":\"sometimes\"}", TG_ERR_ARG, "tool_choice", "'sometimes'");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("bad name") "]}", TG_ERR_ARG, "tools[0]", "1-64 characters");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("a") "," TOOL("a") "]}", TG_ERR_ARG, "tools[1]", "repeats");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":[{\"type\":\"function\"}]}", TG_ERR_TYPE, "tools[0]",
               "must be {\"type\": \"function\"");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":{}}", TG_ERR_TYPE, "tools", "must be an array");
    expect_bad(TG__API_CHAT, "{" MSG ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\","
               "\"parameters\":[]}}]}", TG_ERR_TYPE, "tools[0]", "JSON Schema object");
    expect_bad(TG__API_CHAT, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{}}]}]}",
               TG_ERR_TYPE, "messages[0].tool_calls", "must be");
    /* response_format */
    CHECK_EQ_INT(parse(TG__API_CHAT, "{" MSG ",\"response_format\":{\"type\":\"json_object\"}}", &r), TG_OK);
    CHECK_EQ_INT(r.format, TG__FORMAT_JSON_OBJECT);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_CHAT,
                       "{" MSG ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
                       "\"schema\":{\"type\":\"object\"},\"strict\":true}}}",
                       &r),
                 TG_OK);
    CHECK_EQ_INT(r.format, TG__FORMAT_JSON_SCHEMA);
    CHECK(json_is_object(r.format_schema));
    tg__sreq_free(&r);
    expect_bad(TG__API_CHAT, "{" MSG ",\"response_format\":{\"type\":\"yaml\"}}", TG_ERR_ARG, "response_format.type",
               "'yaml'");
    expect_bad(TG__API_CHAT, "{" MSG ",\"response_format\":\"json\"}", TG_ERR_TYPE, "response_format", "object");
    expect_bad(TG__API_CHAT, "{" MSG ",\"response_format\":{\"type\":\"json_schema\"}}", TG_ERR_TYPE,
               "response_format.json_schema", "must be an object");
    expect_bad(TG__API_CHAT, "{" MSG ",\"response_format\":{\"type\":\"json_object\"},\"tools\":[" TOOL("a") "]}",
               TG_ERR_UNSUPPORTED, "response_format", "cannot be combined");
}

static void test_completions(void) {
    tg__sreq r;
    CHECK_EQ_INT(parse(TG__API_COMPLETIONS, "{\"prompt\":\"Once\"}", &r), TG_OK);
    CHECK_EQ_STR(r.prompt, "Once");
    CHECK_EQ_INT(r.max_tokens, 16); /* OpenAI's default for completions */
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_COMPLETIONS, "{\"prompt\":[\"Once\"],\"logprobs\":3,\"max_tokens\":5}", &r), TG_OK);
    CHECK_EQ_STR(r.prompt, "Once");
    CHECK(r.logprobs && r.top_logprobs == 3);
    CHECK_EQ_INT(r.max_tokens, 5);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_COMPLETIONS, "{\"prompt\":[2,10,11]}", &r), TG_OK);
    CHECK(r.prompt_is_ids && r.prompt_ids.n == 3 && r.prompt_ids.ids[2] == 11);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_COMPLETIONS, "{\"prompt\":[[2,10]]}", &r), TG_OK);
    CHECK(r.prompt_is_ids && r.prompt_ids.n == 2);
    tg__sreq_free(&r);
    CHECK_EQ_INT(parse(TG__API_COMPLETIONS, "{\"prompt\":\"x\",\"logprobs\":0}", &r), TG_OK);
    CHECK(r.logprobs && r.top_logprobs == 0);
    tg__sreq_free(&r);
    expect_bad(TG__API_COMPLETIONS, "{}", TG_ERR_ARG, "prompt", "required");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":[\"a\",\"b\"]}", TG_ERR_UNSUPPORTED, "prompt", "several prompts");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":[1,-2]}", TG_ERR_TYPE, "prompt", "token id");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":[1,\"a\"]}", TG_ERR_TYPE, "prompt", "token id");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":7}", TG_ERR_TYPE, "prompt", "string or an array");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":[]}", TG_ERR_TYPE, "prompt", "string or an array");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":\"x\",\"echo\":true}", TG_ERR_UNSUPPORTED, "echo", "echo");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":\"x\",\"suffix\":\"y\"}", TG_ERR_UNSUPPORTED, "suffix", "suffix");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":\"x\",\"best_of\":2}", TG_ERR_UNSUPPORTED, "best_of", "must be 1");
    expect_bad(TG__API_COMPLETIONS, "{\"prompt\":\"x\",\"logprobs\":6}", TG_ERR_RANGE, "logprobs", "between 0 and 5");
}

static void test_prompt_with_tools(void) {
    tg__sreq r;
    const char *body =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be useful.\"},{\"role\":\"user\",\"content\":\"Weather?\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}],"
        "\"tools\":[" TOOL("get_weather") "],\"tool_choice\":\"required\"}";
    CHECK_EQ_INT(parse(TG__API_CHAT, body, &r), TG_OK);
    char *text = NULL;
    CHECK_EQ_INT(tg__prompt_chat(&r, TG_CHAT_CHATML, &text), TG_OK);
    CHECK_MSG(text && strstr(text, "<|im_start|>system\nBe useful.\n\nYou can call functions."), "%s", text);
    CHECK(text && strstr(text, "{\"name\":\"get_weather\",\"description\":\"\",\"parameters\":{"));
    CHECK(text && strstr(text, "You must call one of these functions now."));
    CHECK_MSG(text && strstr(text, "<|im_start|>assistant\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}"
                                   "<|im_end|>"), "%s", text);
    CHECK(text && strstr(text, "<|im_start|>tool\nsunny<|im_end|>"));
    size_t n = text ? strlen(text) : 0;
    CHECK(n > 22 && !strcmp(text + n - 22, "<|im_start|>assistant\n"));
    free(text);

    /* the envelope: one tool → no anyOf */
    json_t *env = tg__tools_envelope_schema(&r);
    CHECK(env && json_is_object(json_object_get(env, "properties")));
    json_t *name_enum = json_object_get(json_object_get(json_object_get(env, "properties"), "name"), "enum");
    CHECK(json_is_array(name_enum) && json_array_size(name_enum) == 1);
    json_decref(env);

    char *name, *args;
    const char *call = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lyon\"}}";
    CHECK_EQ_INT(tg__tools_parse_call(&r, call, strlen(call), &name, &args), TG_OK);
    CHECK_EQ_STR(name, "get_weather");
    CHECK_EQ_STR(args, "{\"city\":\"Lyon\"}");
    free(name);
    free(args);
    const char *wrong = "{\"name\": \"launch\", \"arguments\": {}}";
    CHECK_EQ_INT(tg__tools_parse_call(&r, wrong, strlen(wrong), &name, &args), TG_ERR_FORMAT);
    CHECK_EQ_INT(tg__tools_parse_call(&r, "{\"name\":", 8, &name, &args), TG_ERR_FORMAT);
    tg__sreq_free(&r);

    /* two tools, required → anyOf of two envelopes; no system message → one is added */
    CHECK_EQ_INT(parse(TG__API_CHAT, "{" MSG ",\"tools\":[" TOOL("a") "," TOOL("b") "],\"tool_choice\":\"required\"}",
                       &r),
                 TG_OK);
    env = tg__tools_envelope_schema(&r);
    CHECK(env && json_array_size(json_object_get(env, "anyOf")) == 2);
    json_decref(env);
    CHECK_EQ_INT(tg__prompt_chat(&r, TG_CHAT_GEMMA, &text), TG_OK);
    CHECK_MSG(text && !strncmp(text, "<start_of_turn>user\nYou can call functions.", 43), "%s", text);
    CHECK(text && strstr(text, "\n\nhi<end_of_turn>\n<start_of_turn>model\n"));
    free(text);
    tg__sreq_free(&r);
}

static void test_json_and_errors(void) {
    json_t *v = tg__json_text("a\xff" "b\xe2\x82", 5);
    CHECK(v && !strcmp(json_string_value(v), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"));
    json_decref(v);
    v = tg__json_text("x\0y", 3);
    CHECK(v && !strcmp(json_string_value(v), "x\xEF\xBF\xBDy"));
    json_decref(v);
    v = tg__json_text("\xed\xa0\x80", 3); /* a UTF-16 surrogate is not UTF-8 */
    CHECK(v && json_string_length(v) == 9);
    json_decref(v);
    v = tg__json_text("ñ€😀", strlen("ñ€😀"));
    CHECK(v && !strcmp(json_string_value(v), "ñ€😀"));
    json_decref(v);

    char *e = tg__error_json(400, "bad \"thing\"", "messages[0].role", NULL);
    json_t *o = json_loads(e, 0, NULL);
    json_t *err = json_object_get(o, "error");
    CHECK_EQ_STR(json_string_value(json_object_get(err, "message")), "bad \"thing\"");
    CHECK_EQ_STR(json_string_value(json_object_get(err, "type")), "invalid_request_error");
    CHECK_EQ_STR(json_string_value(json_object_get(err, "param")), "messages[0].role");
    CHECK(json_is_null(json_object_get(err, "code")));
    json_decref(o);
    free(e);
    e = tg__error_json(401, "no", NULL, "invalid_api_key");
    CHECK(strstr(e, "\"authentication_error\"") && strstr(e, "\"param\":null") && strstr(e, "invalid_api_key"));
    free(e);
    CHECK_EQ_STR(tg__error_type(429), "rate_limit_error");
    CHECK_EQ_STR(tg__error_type(503), "server_error");
    CHECK_EQ_STR(tg__error_type(413), "invalid_request_error");

    char id[48];
    tg__random_id("call_", id, sizeof id);
    CHECK(strlen(id) == 29 && !strncmp(id, "call_", 5));
    char id2[48];
    tg__random_id("call_", id2, sizeof id2);
    CHECK(strcmp(id, id2) != 0);
}

static void test_auth(void) {
    CHECK(tg__auth_ok(NULL, NULL));
    CHECK(tg__auth_ok("whatever", ""));
    CHECK(tg__auth_ok("Bearer sk-123", "sk-123"));
    CHECK(tg__auth_ok("bearer  sk-123 ", "sk-123"));
    CHECK(!tg__auth_ok("Bearer sk-12", "sk-123"));
    CHECK(!tg__auth_ok("Bearer sk-1234", "sk-123"));
    CHECK(!tg__auth_ok("Bearer ", "sk-123"));
    CHECK(!tg__auth_ok("sk-123", "sk-123"));
    CHECK(!tg__auth_ok("Basic sk-123", "sk-123"));
    CHECK(!tg__auth_ok(NULL, "sk-123"));
    CHECK(tg__host_is_loopback("127.0.0.1"));
    CHECK(tg__host_is_loopback("127.1.2.3"));
    CHECK(tg__host_is_loopback("::1"));
    CHECK(tg__host_is_loopback("::ffff:127.0.0.1"));
    CHECK(tg__host_is_loopback("localhost"));
    CHECK(!tg__host_is_loopback("0.0.0.0"));
    CHECK(!tg__host_is_loopback("::"));
    CHECK(!tg__host_is_loopback("192.168.1.10"));
    CHECK(!tg__host_is_loopback("example.com"));
    CHECK(!tg__host_is_loopback(""));
}

static void test_access_log(void) {
    char buf[1536];
    tg__access a = {.remote = "127.0.0.1", .method = "POST", .path = "/v1/x\n\"evil\" 200", .id = "chatcmpl-1",
                    .status = 200, .bytes = 12, .seconds = 0.5, .prompt_tokens = 3, .completion_tokens = 4,
                    .finish = "stop"};
    size_t n = tg__alog_format(&a, 0, buf, sizeof buf);
    CHECK_EQ_INT(n, strlen(buf));
    CHECK_MSG(!strcmp(buf, "1970-01-01T00:00:00Z 127.0.0.1 \"POST /v1/x\\x0a\\x22evil\\x22 200\" 200 12B 0.500s "
                           "prompt=3 cached=0 completion=4 finish=stop id=chatcmpl-1"), "%s", buf);
    CHECK(!strchr(buf, '\n'));
    /* a long path is cut, never overflows; a tiny buffer too */
    char path[400];
    memset(path, '\x01', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    a.path = path;
    char small[100];
    n = tg__alog_format(&a, 0, small, sizeof small);
    CHECK(n < sizeof small && strlen(small) == n);
    n = tg__alog_format(&a, 0, buf, sizeof buf);
    CHECK(n < sizeof buf && strlen(buf) == n && strstr(buf, "\\x01"));
    CHECK_EQ_INT(tg__alog_format(&a, 0, small, 10), 0);
}

static void test_metrics(void) {
    tg__metrics *m = tg__metrics_new();
    tg__metrics_request(m, "chat", 200);
    tg__metrics_request(m, "chat", 200);
    tg__metrics_request(m, "chat", 429);
    tg__metrics_request(m, "nonsense-route", 404);
    tg__metrics_tokens(m, 10, 4, 20);
    tg__metrics_ttft(m, 0.07);
    tg__metrics_ttft(m, 100);
    tg__metrics_token_gap(m, 0.02);
    tg__metrics_step(m, 5, 3);
    char *t = tg__metrics_render(m, 2, 1, 4);
    CHECK(t && strstr(t, "tinglado_requests_total{route=\"chat\",code=\"200\"} 2\n"));
    CHECK(t && strstr(t, "tinglado_requests_total{route=\"chat\",code=\"429\"} 1\n"));
    CHECK(t && strstr(t, "tinglado_requests_total{route=\"other\",code=\"404\"} 1\n"));
    CHECK(t && strstr(t, "tinglado_prompt_tokens_total 10\n"));
    CHECK(t && strstr(t, "tinglado_prompt_tokens_cached_total 4\n"));
    CHECK(t && strstr(t, "tinglado_completion_tokens_total 20\n"));
    CHECK(t && strstr(t, "tinglado_time_to_first_token_seconds_bucket{le=\"0.05\"} 0\n"));
    CHECK(t && strstr(t, "tinglado_time_to_first_token_seconds_bucket{le=\"0.1\"} 1\n"));
    CHECK(t && strstr(t, "tinglado_time_to_first_token_seconds_bucket{le=\"60\"} 1\n"));
    CHECK(t && strstr(t, "tinglado_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK(t && strstr(t, "tinglado_time_to_first_token_seconds_count 2\n"));
    CHECK(t && strstr(t, "tinglado_time_per_output_token_seconds_bucket{le=\"0.025\"} 1\n"));
    CHECK(t && strstr(t, "tinglado_decode_rows_total 3\n"));
    CHECK(t && strstr(t, "tinglado_queue_depth 2\n"));
    CHECK(t && strstr(t, "tinglado_slots_active 1\n"));
    CHECK(t && strstr(t, "tinglado_slots_total 4\n"));
    CHECK(t && strstr(t, "# TYPE tinglado_queue_depth gauge\n"));
    free(t);
    /* more distinct codes than the table holds: no crash, no growth */
    for (int c = 100; c < 140; c++)
        tg__metrics_request(m, "chat", c);
    t = tg__metrics_render(m, 0, 0, 1);
    CHECK(t != NULL);
    free(t);
    tg__metrics_free(m);
}

int main(void) {
    RUN(test_chat_valid);
    RUN(test_chat_errors);
    RUN(test_tools_parse);
    RUN(test_completions);
    RUN(test_prompt_with_tools);
    RUN(test_json_and_errors);
    RUN(test_auth);
    RUN(test_access_log);
    RUN(test_metrics);
    return tg_test_finish("test_openai");
}
