/*
 * grammar_schemas.h — the schemas the random-document tests run over
 * (test_grammar_oracle.c byte by byte, test_grammar_gemma.c with the real
 * vocabulary): tool calls, nesting, enums and consts, bounded arrays,
 * anyOf / oneOf, $ref recursion, formats, exact number ranges, escapes,
 * additionalProperties, tuples, type arrays.
 *
 * `exact`: every constraint in it is one the engine enforces exactly on
 * canonical text (no unbounded floats, no email), so for such schemas the
 * grammar must accept a canonical document exactly when it validates.
 */
#ifndef TG_TESTS_GRAMMAR_SCHEMAS_H
#define TG_TESTS_GRAMMAR_SCHEMAS_H

#include <stdbool.h>

typedef struct gs_schema {
    const char *name;
    const char *text; /* NULL: tg_grammar_json_object(), validated as {"type":"object"} */
    bool exact;
} gs_schema;

static const gs_schema gs_schemas[] = {
    {"weather",
     "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"minLength\":1,"
     "\"maxLength\":40},\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]},\"days\":{\"type\":"
     "\"integer\",\"minimum\":1,\"maximum\":14}},\"required\":[\"location\",\"unit\"]}",
     true},
    {"person",
     "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":30},"
     "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":150},\"address\":{\"type\":"
     "\"object\",\"properties\":{\"street\":{\"type\":\"string\"},\"zip\":{\"type\":\"string\","
     "\"pattern\":\"^[0-9]{5}$\"},\"geo\":{\"type\":\"array\",\"prefixItems\":[{\"type\":"
     "\"number\",\"minimum\":-90,\"maximum\":90},{\"type\":\"number\",\"minimum\":-180,"
     "\"maximum\":180}],\"items\":false,\"minItems\":2}},\"required\":[\"zip\"]},\"tags\":"
     "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":8},\"maxItems\":3}},"
     "\"required\":[\"name\",\"address\"]}",
     true},
    {"enums",
     "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"event\"},\"level\":{\"enum\":"
     "[1,2,3,\"high\",null,true,{\"x\":[1,2]}]},\"ratio\":{\"enum\":[0.5,1.25,-3]}},"
     "\"required\":[\"kind\",\"level\",\"ratio\"]}",
     true},
    {"arrays",
     "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},"
     "\"minItems\":1,\"maxItems\":2},\"minItems\":2,\"maxItems\":4}",
     true},
    {"anyof",
     "{\"type\":\"object\",\"properties\":{\"value\":{\"anyOf\":[{\"type\":\"string\","
     "\"maxLength\":5},{\"type\":\"integer\",\"exclusiveMinimum\":-10,\"exclusiveMaximum\":10},"
     "{\"type\":\"null\"},{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\","
     "\"maximum\":1e6}},\"required\":[\"a\"]}]}},\"required\":[\"value\"]}",
     true},
    {"tree",
     "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","
     "\"maxLength\":6},\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"},"
     "\"maxItems\":3}},\"required\":[\"name\"]}},\"$ref\":\"#/$defs/node\"}",
     true},
    {"formats",
     "{\"type\":\"object\",\"properties\":{\"day\":{\"type\":\"string\",\"format\":\"date\"},"
     "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},\"id\":{\"type\":\"string\","
     "\"format\":\"uuid\"},\"ip\":{\"type\":\"string\",\"format\":\"ipv4\"},\"mail\":{\"type\":"
     "\"string\",\"format\":\"email\"}},\"required\":[\"day\",\"at\",\"id\",\"ip\",\"mail\"]}",
     false},
    {"numbers",
     "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"number\",\"exclusiveMinimum\":0,"
     "\"maximum\":1},\"t\":{\"type\":\"number\",\"minimum\":-273.15},\"n\":{\"type\":\"integer\","
     "\"minimum\":-5,\"exclusiveMaximum\":5},\"big\":{\"type\":\"integer\"},\"x\":{\"type\":"
     "\"number\"}},\"required\":[\"p\",\"t\",\"n\",\"big\",\"x\"]}",
     false},
    {"escapes",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"},\"quoted\":{\"type\":"
     "\"string\",\"pattern\":\"^[a-z\\\"\\\\\\\\ ]{1,8}$\"},\"emoji\":{\"type\":\"string\","
     "\"minLength\":1,\"maxLength\":2}},\"required\":[\"text\",\"quoted\",\"emoji\"]}",
     true},
    {"extra",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"],"
     "\"additionalProperties\":{\"type\":\"string\",\"maxLength\":4}}",
     true},
    {"tuple",
     "{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\",\"enum\":[\"add\",\"del\"]},"
     "{\"type\":\"integer\",\"minimum\":0},{\"type\":\"boolean\"}],\"items\":false,"
     "\"minItems\":2}",
     true},
    {"oneof",
     "{\"oneOf\":[{\"type\":\"string\",\"maxLength\":3},{\"type\":\"integer\",\"maximum\":100},"
     "{\"type\":\"array\",\"items\":{\"type\":\"null\"},\"maxItems\":2},{\"type\":\"object\","
     "\"properties\":{\"k\":{\"const\":1}},\"required\":[\"k\"],\"additionalProperties\":false}]}",
     true},
    {"types", "{\"type\":[\"string\",\"null\",\"boolean\"],\"maxLength\":10}", true},
    {"tools",
     "{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_weather\"},"
     "\"arguments\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
     "\"unit\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"]}},\"required\":[\"name\","
     "\"arguments\"]},{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"search\"},"
     "\"arguments\":{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\","
     "\"minLength\":1},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50}},"
     "\"required\":[\"query\"]}},\"required\":[\"name\",\"arguments\"]}]}",
     true},
    {"json_object", NULL, false},
};

#define GS_N (sizeof gs_schemas / sizeof gs_schemas[0])

#endif /* TG_TESTS_GRAMMAR_SCHEMAS_H */
