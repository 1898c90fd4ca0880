/*
 * pretok.c — the pre-tokenizers of byte-level BPE ("gpt2") vocabularies:
 * tokenizer.ggml.pre → a list of regexes and llama.cpp's settings for that
 * name, and the splitting of text into pieces with PCRE2.
 *
 * What llama.cpp does (unicode.cpp, unicode_regex_split), and so what we do:
 *   1. The text is decoded leniently: every byte that does not start a
 *      well-formed-looking sequence becomes U+FFFD (utf8.h's lax decoder).
 *   2. Each regex of the list re-splits every piece of the previous one; the
 *      text between two matches becomes a piece of its own.  A match never
 *      sees past its piece (lookaheads and `$` stop at the piece's end).
 *   3. The pieces are rebuilt as UTF-8 from the code points.
 *   The regex classes are llama.cpp's, not the regex engine's: \s is the
 *   Unicode White_Space property, \p{L} \p{N} \p{P} \p{M} \p{S} are general
 *   categories from Unicode 15.1 (llama.cpp's own table), and \p{Lu} \p{Ll}
 *   \p{Lt} \p{Lm} \p{Lo} all mean "any letter" (llama.cpp collapses them).
 *   Its hand-written splitters for the gpt2/llama3/qwen2/qwen35 regexes follow
 *   the same rules, so one engine serves every list.
 *
 * How PCRE2 is made to agree: PCRE2's Unicode tables are whatever version the
 * system library has (10.42: Unicode 14), and its \s adds U+180E.  So a regex
 * that uses \p{...} does not run on the text itself but on a stand-in
 * ("collapsed") copy: ASCII stays, and every other code point is replaced by
 * one fixed character of its class per pretok_ucd.inc (U+00E0 for a letter,
 * U+00B2 number, U+00A1 punctuation, U+0300 mark, U+00A6 symbol, U+000B for
 * whitespace, U+0080 for anything else) — characters whose class is the same
 * in every Unicode version.  This is llama.cpp's own trick (it collapses to
 * single bytes for std::regex); such regexes never contain non-ASCII
 * literals.  A regex without \p{...} (the deepseek, bloom, youtu lists with
 * literal CJK ranges) runs on the real code points with only whitespace
 * replaced by U+000B and compiled without PCRE2_UCP, so \s is the ASCII set —
 * the same as llama.cpp's std::wregex in the C locale.
 *
 * One divergence: a 4-byte sequence that decodes beyond U+10FFFF (lead bytes
 * F4 90.. to F7) makes llama.cpp throw out of llama_tokenize and abort the
 * process; here it becomes one U+FFFD.
 *
 * Never: read outside (text, len), or crash on any input.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "token/pretok.h"
#include "token/utf8.h"

#include "token/pretok_ucd.inc"

/* ------------------------------------------------------------------ */
/* Code point classes                                                  */
/* ------------------------------------------------------------------ */

enum { CLS_OTHER, CLS_LETTER, CLS_NUMBER, CLS_PUNCT, CLS_MARK, CLS_SYMBOL, CLS_SPACE };

/* The Unicode White_Space property (PropList.txt), which is llama.cpp's
 * whitespace set; note that U+001C..U+001F (Python's isspace) are not in it. */
static bool is_white_space(uint32_t c) {
    if (c <= 0x20)
        return (c >= 0x09 && c <= 0x0D) || c == 0x20;
    switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

static int ucd_class(uint32_t c) {
    size_t lo = 0, hi = TG_ARRAY_LEN(tg__ucd_ranges); /* last entry with start <= c */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((tg__ucd_ranges[mid] >> 3) <= c)
            lo = mid;
        else
            hi = mid;
    }
    return (int)(tg__ucd_ranges[lo] & 7);
}

int tg__pretok_class(uint32_t c) {
    if (is_white_space(c))
        return CLS_SPACE;
    if (c > 0x10FFFF)
        return CLS_OTHER;
    return ucd_class(c);
}

/* The stand-in of each class in a collapsed subject (see the top comment). */
static const uint32_t class_rep[7] = {0x80, 0xE0, 0xB2, 0xA1, 0x300, 0xA6, 0x0B};

/* ------------------------------------------------------------------ */
/* The regex lists (llama.cpp's llm_tokenizer_bpe, as adapted there)   */
/* ------------------------------------------------------------------ */

#define RX_CONTRACT "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_LLAMA3_TAIL "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_LLAMA3 RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" RX_LLAMA3_TAIL
#define RX_QWEN2 RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" RX_LLAMA3_TAIL
#define RX_CJK_HANGUL "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
#define RX_NEWLINES "[^\\n]+|[\\n]+"
#define RX_CJK_KANA "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+"
#define RX_DEEPSEEK3_MAIN                                                                   \
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
#define RX_PORO " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"
/* "uppercase-ish" and "lowercase-ish" runs: llama.cpp's std::regex stand-in
 * for \p{Lu}… (a non-ASCII letter counts as both) */
#define RX_UP(cls) "((?=[" cls "])([^a-z]))"
#define RX_LOW(cls) "((?=[" cls "])([^A-Z]))"
#define RX_O200K(cls)                                                                       \
    "[^\\r\\n\\p{L}\\p{N}]?" RX_UP(cls) "*" RX_LOW(cls) "+" RX_CONTRACT "?"                   \
    "|[^\\r\\n\\p{L}\\p{N}]?" RX_UP(cls) "+" RX_LOW(cls) "*" RX_CONTRACT "?"                  \
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_CASED_TAIL "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_CASED(digits)                                                                    \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" \
    RX_CONTRACT "?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"                 \
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" RX_CONTRACT "?|" digits RX_CASED_TAIL
/* llama.cpp's hand-written digit splitter (unicode_regex_split_custom_afmoe,
 * used for "\p{AFMoE_digits}" and tiny_aya's digit regex): a run of digits is
 * cut into groups of three from the right, and the text before the run joins
 * its first group.  The same as a regex: */
#define RX_DIGIT_GROUPS "\\P{N}*\\p{N}{1,3}(?=(?:\\p{N}{3})*(?!\\p{N}))"

enum {
    G_RAW_BYTES = 1 << 0,      /* byte_encode = false */
    G_NEWLINE_TOKENS = 1 << 1, /* gemma4's whole-newline pieces */
};

typedef struct pre_group {
    const char *name;
    unsigned flags;
    const char *rx[7]; /* NULL-terminated */
} pre_group;

static const pre_group groups[] = {
    {"DEFAULT", 0, {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {"LLAMA3", 0, {RX_LLAMA3}},
    {"JAIS2", 0,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                  "|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)"
                  "|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"}},
    {"DEEPSEEK_LLM", 0,
     {"[\r\n]",
      "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-"
      "\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}"
      "\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}"
      "\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}"
      "\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
      "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}"
      "\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
      "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
      "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}"
      "\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}"
      "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
      "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
      "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
      "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
      "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
      "\\x{1E900}-\\x{1E943}]+",
      "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
      "\\s+$", RX_CJK_HANGUL, "\\p{N}+"}},
    {"DEEPSEEK3_LLM", 0,
     {"\\p{N}{1,3}", RX_CJK_KANA,
      RX_DEEPSEEK3_MAIN "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}},
    {"SPARK2_5", 0,
     {"\\p{N}{1,3}", RX_CJK_KANA,
      RX_DEEPSEEK3_MAIN "| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+", "\\p{N}"}},
    {"YOUTU", 0,
     {"[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}"
      "\\x{2019}\\x{2014}\\x{FF1A}\\x{FF1B}\\x{FF0C}\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+"
      "|[\\x{3105}-\\x{312F}]+|" RX_CJK_KANA,
      RX_CASED("\\p{N}")}},
    {"DEEPSEEK_CODER", 0,
     {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RX_CJK_HANGUL, "\\p{N}"}},
    {"FALCON", 0, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_GPT2, "[0-9][0-9][0-9]"}},
    {"STARCODER", 0, {"\\p{N}", RX_GPT2}},
    {"GPT2", 0, {RX_GPT2}},
    {"QWEN2", 0, {RX_QWEN2}},
    {"QWEN35", 0,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
                  "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"PORO", 0, {RX_PORO}},
    {"VIKING", 0, {RX_PORO, "\\p{N}"}},
    {"TEKKEN", 0,
     {"[^\\r\\n\\p{L}\\p{N}]?" RX_UP("\\p{L}") "*" RX_LOW("\\p{L}") "+|[^\\r\\n\\p{L}\\p{N}]?" RX_UP(
         "\\p{L}") "+" RX_LOW("\\p{L}") "*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+"
                   "|\\s+(?!\\S)|\\s+"}},
    {"CHAMELEON", 0,
     {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
      "[\\p{P}!-/:-@\\[-`{-~]", RX_GPT2}},
    {"GPT4O", 0, {RX_O200K("\\p{L}")}},
    {"GRANITE_EMB_MULTI", 0, {RX_O200K("\\p{L}\\p{M}")}},
    {"TINY_AYA", 0, {RX_DIGIT_GROUPS, RX_CASED("\\p{N}{1,3}")}},
    {"BAILINGMOE", 0,
     {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
      "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
    {"SEED_CODER", 0,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+"
                  "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"UFAKZEKA", 0, {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" RX_LLAMA3_TAIL}},
    {"AFMOE", 0,
     {RX_DIGIT_GROUPS,
      "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{8C48}-\\x{FAFF}\\x{3040}-\\x{309F}\\x{30A0}-"
      "\\x{30FF}\\x{FF65}-\\x{FF9F}\\x{2F00}-\\x{2FDF}\\x{E40}-\\x{E7F}\\x{E80}-\\x{EFF}"
      "\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}\\x{AA60}-\\x{AA7F}\\x{A9E0}-\\x{A9FF}"
      "\\x{AC00}-\\x{D7AF}\\x{1100}-\\x{11FF}]+",
      RX_DEEPSEEK3_MAIN "| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"LAGUNA", 0, {RX_NEWLINES, RX_QWEN2}},
    {"EXAONE_MOE", 0,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}"
                  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
    {"GEMMA4", G_RAW_BYTES | G_NEWLINE_TOKENS, {RX_NEWLINES}},
    {"SARVAM_MOE", G_RAW_BYTES, {RX_NEWLINES}},
    {"MINICPM5", 0,
     {"\\p{N}{1,3}", RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+" RX_LLAMA3_TAIL}},
};

/* Per-name settings on top of the group (llama_vocab::impl::load). */
enum {
    N_IGNORE_MERGES = 1 << 0,
    N_ADD_BOS = 1 << 1,
    N_NO_BOS = 1 << 2,
    N_ADD_SEP = 1 << 3,
    N_NO_CLEAN = 1 << 4,
    N_ESCAPE_WS = 1 << 5,
};

typedef struct pre_name {
    const char *name;
    const char *group;
    unsigned flags;
} pre_name;

static const pre_name names[] = {
    {"default", "DEFAULT", 0},
    {"minicpm5", "MINICPM5", N_IGNORE_MERGES},
    {"llama3", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"llama-v3", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"llama-bpe", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"falcon3", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"falcon-h1", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"pixtral", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"midm-2.0", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"lfm2", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"jina-v5-nano", "LLAMA3", N_IGNORE_MERGES | N_ADD_BOS},
    {"deepseek-llm", "DEEPSEEK_LLM", N_NO_CLEAN},
    {"deepseek-coder", "DEEPSEEK_CODER", N_NO_CLEAN},
    {"deepseek-v3", "DEEPSEEK3_LLM", N_NO_CLEAN},
    {"spark2_5", "SPARK2_5", N_NO_CLEAN},
    {"youtu", "YOUTU", N_NO_CLEAN | N_IGNORE_MERGES},
    {"falcon", "FALCON", 0},
    {"mpt", "GPT2", 0},
    {"starcoder", "STARCODER", 0},
    {"gpt-2", "GPT2", 0},
    {"phi-2", "GPT2", 0},
    {"jina-es", "GPT2", 0},
    {"jina-de", "GPT2", 0},
    {"gigachat", "GPT2", 0},
    {"jina-v2-es", "GPT2", 0},
    {"jina-v2-de", "GPT2", 0},
    {"a.x-4.0", "GPT2", 0},
    {"mellum", "GPT2", 0},
    {"modern-bert", "GPT2", 0},
    {"jais-2", "JAIS2", 0},
    {"gemma4", "GEMMA4", N_ESCAPE_WS},
    {"granite-embed-multi-311m", "GEMMA4", N_ESCAPE_WS},
    {"sarvam-moe", "SARVAM_MOE", N_ESCAPE_WS | N_NO_CLEAN},
    {"jina-v1-en", "GPT2", N_ADD_SEP},
    {"jina-v2-code", "GPT2", N_ADD_SEP},
    {"roberta-bpe", "GPT2", N_ADD_SEP},
    {"refact", "STARCODER", 0},
    {"command-r", "STARCODER", N_NO_CLEAN},
    {"qwen2", "QWEN2", N_NO_CLEAN},
    {"deepseek-r1-qwen", "QWEN2", N_NO_CLEAN},
    {"kormo", "QWEN2", N_NO_CLEAN},
    {"f2llmv2", "QWEN2", N_NO_CLEAN},
    {"qwen35", "QWEN35", N_NO_CLEAN},
    {"stablelm2", "QWEN2", 0},
    {"olmo", "GPT2", 0},
    {"dbrx", "LLAMA3", 0},
    {"smaug-bpe", "LLAMA3", 0},
    {"poro-chat", "PORO", N_NO_CLEAN},
    {"chatglm-bpe", "LLAMA3", N_NO_BOS},
    {"glm4", "LLAMA3", N_NO_BOS | N_IGNORE_MERGES},
    {"glm5", "LLAMA3", N_NO_BOS | N_IGNORE_MERGES},
    {"viking", "VIKING", N_NO_CLEAN},
    {"jais", "GPT2", 0},
    {"tekken", "TEKKEN", N_NO_CLEAN | N_IGNORE_MERGES | N_ADD_BOS},
    {"smollm", "STARCODER", N_NO_CLEAN},
    {"codeshell", "STARCODER", 0},
    {"bloom", "PORO", 0},
    {"gpt3-finnish", "PORO", 0},
    {"exaone", "STARCODER", 0},
    {"exaone4", "GPT2", 0},
    {"exaone-moe", "EXAONE_MOE", 0},
    {"chameleon", "CHAMELEON", N_ADD_BOS | N_NO_CLEAN},
    {"minerva-7b", "STARCODER", 0},
    {"megrez", "QWEN2", 0},
    {"gpt-4o", "GPT4O", N_NO_CLEAN},
    {"llama4", "GPT4O", N_NO_CLEAN},
    {"kanana2", "GPT4O", N_NO_CLEAN},
    {"talkie", "GPT4O", N_NO_CLEAN},
    {"granite-embed-multi-97m", "GRANITE_EMB_MULTI", N_NO_CLEAN | N_IGNORE_MERGES},
    {"tiny_aya", "TINY_AYA", N_NO_CLEAN},
    {"cohere2moe", "TINY_AYA", N_NO_CLEAN},
    {"trillion", "GPT2", N_NO_CLEAN},
    {"granite-docling", "GPT2", N_NO_CLEAN},
    {"bailingmoe", "BAILINGMOE", N_NO_CLEAN},
    {"bailingmoe2", "BAILINGMOE", N_NO_CLEAN},
    {"llada-moe", "BAILINGMOE", N_NO_CLEAN},
    {"seed-coder", "SEED_CODER", N_NO_CLEAN},
    {"hunyuan", "QWEN2", N_NO_CLEAN},
    {"hunyuan-dense", "DEEPSEEK3_LLM", N_NO_CLEAN},
    {"hy_v4", "DEEPSEEK3_LLM", N_NO_CLEAN},
    {"joyai-llm", "DEEPSEEK3_LLM", N_NO_CLEAN},
    {"ufakzeka", "UFAKZEKA", N_NO_CLEAN},
    {"grok-2", "QWEN2", N_NO_CLEAN},
    {"afmoe", "AFMOE", N_NO_CLEAN},
    {"laguna", "LAGUNA", N_NO_CLEAN},
    {"minimax-m2", "GPT4O", N_NO_CLEAN},
    {"solar-open", "QWEN2", N_NO_CLEAN},
    {"mellum2", "STARCODER", 0},
};

/* Names llama.cpp knows whose splitters tinglado does not have. */
static const char *const unsupported[] = {"kimi-k2", "superbpe", "whitespace"};

static const pre_name *find_name(const char *name, size_t len) {
    if (len == 0)
        return &names[0]; /* absent: llama.cpp uses "default" */
    for (size_t i = 0; i < TG_ARRAY_LEN(names); i++)
        if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len))
            return &names[i];
    return NULL;
}

static const pre_group *find_group(const char *group) {
    for (size_t i = 0; i < TG_ARRAY_LEN(groups); i++)
        if (!strcmp(groups[i].name, group))
            return &groups[i];
    return NULL;
}

bool tg__pretok_known(const char *name, size_t len) {
    return find_name(name, len) != NULL;
}

const char *tg__pretok_name_at(size_t i) {
    return i < TG_ARRAY_LEN(names) ? names[i].name : NULL;
}

/* ------------------------------------------------------------------ */
/* Compiling                                                           */
/* ------------------------------------------------------------------ */

typedef struct regex {
    pcre2_code *code;
    bool collapsed; /* runs on the collapsed subject (the regex uses \p{...}) */
} regex;

struct tg__pretok {
    tg__pretok_settings settings;
    regex rx[7];
    size_t n_rx;
    bool need_raw, need_collapsed;
};

/* The pattern as PCRE2 gets it: llama.cpp collapses \p{Lu} \p{Ll} \p{Lt}
 * \p{Lm} \p{Lo} to "any letter", so they become \p{L}. */
static char *rewrite_pattern(const char *rx) {
    size_t n = strlen(rx);
    char *out = tg__malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (rx[i] == '\\' && i + 6 <= n && rx[i + 1] == 'p' && rx[i + 2] == '{' && rx[i + 3] == 'L' &&
            strchr("ultmo", rx[i + 4]) && rx[i + 5] == '}') {
            memcpy(out + o, "\\p{L}", 5);
            o += 5;
            i += 6;
            continue;
        }
        if (rx[i] == '\\' && i + 1 < n) { /* keep escapes whole: "\\p" is no property */
            out[o++] = rx[i++];
        }
        out[o++] = rx[i++];
    }
    out[o] = '\0';
    return out;
}

static tg_status compile_one(const char *group, const char *src, regex *r) {
    r->collapsed = strstr(src, "\\p{") != NULL || strstr(src, "\\P{") != NULL;
    char *pat = rewrite_pattern(src);
    if (!pat)
        return TG_ERR_NOMEM;
    /* UCP only where the subject holds nothing but ASCII and the stand-ins:
     * in raw subjects \s must stay ASCII (llama.cpp's wregex). */
    uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | (r->collapsed ? PCRE2_UCP : 0);
    int err;
    PCRE2_SIZE at;
    r->code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &err, &at, NULL);
    free(pat);
    if (!r->code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return tg__fail(TG_ERR_FORMAT, "pre-tokenizer %s: regex does not compile at %zu: %s", group,
                        (size_t)at, (const char *)msg);
    }
    /* JIT is only for speed; without it the interpreter gives the same result */
    (void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
    return TG_OK;
}

tg_status tg__pretok_new(const char *name, size_t len, tg__pretok **out) {
    *out = NULL;
    const pre_name *pn = find_name(name, len);
    if (!pn) {
        for (size_t i = 0; i < TG_ARRAY_LEN(unsupported); i++)
            if (strlen(unsupported[i]) == len && !memcmp(unsupported[i], name, len))
                return tg__fail(TG_ERR_UNSUPPORTED,
                                "pre-tokenizer '%.*s' is not supported by tinglado "
                                "(llama.cpp uses a hand-written splitter for it)",
                                (int)len, name);
        return tg__fail(TG_ERR_UNSUPPORTED, "unknown pre-tokenizer type '%.*s' (llama.cpp refuses it too)",
                        (int)TG_MIN(len, 64), name);
    }
    const pre_group *g = find_group(pn->group);
    if (!g)
        return tg__fail(TG_ERR_UNSUPPORTED, "pre-tokenizer group %s is missing", pn->group);
    tg__pretok *p = tg__calloc(1, sizeof *p);
    if (!p)
        return TG_ERR_NOMEM;
    p->settings = (tg__pretok_settings){
        .group = g->name,
        .ignore_merges = pn->flags & N_IGNORE_MERGES,
        .add_bos = pn->flags & N_ADD_BOS,
        .no_bos = pn->flags & N_NO_BOS,
        .add_sep = pn->flags & N_ADD_SEP,
        .clean_spaces = !(pn->flags & N_NO_CLEAN),
        .escape_whitespaces = pn->flags & N_ESCAPE_WS,
        .byte_encode = !(g->flags & G_RAW_BYTES),
        .newline_tokens = g->flags & G_NEWLINE_TOKENS,
        .defaulted = len == 0,
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(g->rx) && g->rx[i]; i++) {
        tg_status s = compile_one(g->name, g->rx[i], &p->rx[i]);
        if (s) {
            tg__pretok_free(p);
            return s;
        }
        p->n_rx = i + 1;
        if (p->rx[i].collapsed)
            p->need_collapsed = true;
        else
            p->need_raw = true;
    }
    *out = p;
    return TG_OK;
}

void tg__pretok_free(tg__pretok *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rx; i++)
        pcre2_code_free(p->rx[i].code);
    free(p);
}

const tg__pretok_settings *tg__pretok_settings_of(const tg__pretok *p) {
    return &p->settings;
}

/* ------------------------------------------------------------------ */
/* Splitting                                                           */
/* ------------------------------------------------------------------ */

/* A UTF-8 string PCRE2 runs on, with the byte offset of each code point of
 * the text (pos[n] = len), so matches map back to code point indices. */
typedef struct subject {
    char *s;
    size_t len;
    size_t *pos;
} subject;

static void subject_free(subject *sb) {
    free(sb->s);
    free(sb->pos);
}

/* collapsed: stand-ins by class; raw: the code points, with whitespace as
 * U+000B and surrogates (which PCRE2 rejects and no regex here names) as the
 * private-use U+E000, equally unnamed. */
static tg_status subject_build(subject *sb, const uint32_t *cp, size_t n, bool collapsed) {
    size_t cap, npos;
    if (!tg__mul_size(n, 4, &cap) || !tg__add_size(n, 1, &npos))
        return tg__fail(TG_ERR_RANGE, "pre-tokenizer: text too long");
    sb->s = tg__malloc(cap + 1);
    sb->pos = tg__calloc(npos, sizeof *sb->pos);
    if (!sb->s || !sb->pos)
        return TG_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        sb->pos[i] = o;
        if (c >= 0x80) {
            if (collapsed)
                c = class_rep[tg__pretok_class(c)];
            else if (is_white_space(c))
                c = 0x0B;
            else if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xE000;
        }
        o += tg__utf8_encode(c, sb->s + o);
    }
    sb->pos[n] = o;
    sb->len = o;
    return TG_OK;
}

/* Index of the code point starting at byte offset b, among pos[lo..hi]. */
static size_t cp_index(const size_t *pos, size_t lo, size_t hi, size_t b) {
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct ends {
    size_t *v;
    size_t n, cap;
} ends;

static bool ends_push(ends *e, size_t x) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64, bytes;
        if (!tg__mul_size(cap, sizeof *e->v, &bytes))
            return tg__fail(TG_ERR_NOMEM, "pre-tokenizer: too many pieces"), false;
        size_t *v = tg__realloc(e->v, bytes);
        if (!v)
            return false;
        e->v = v, e->cap = cap;
    }
    e->v[e->n++] = x;
    return true;
}

static int match(const regex *r, const subject *sb, size_t b0, size_t blen, size_t off,
                 uint32_t opts, pcre2_match_data *md) {
    const PCRE2_SPTR s = (PCRE2_SPTR)sb->s + b0;
    int rc = pcre2_match(r->code, s, blen, off, opts | PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its frames on the heap */
        rc = pcre2_match(r->code, s, blen, off, opts | PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
    return rc;
}

/* One regex over every current piece (ends of pieces in code points, `in`),
 * producing the finer pieces in `out` — std::regex_iterator's walk as
 * llama.cpp's unicode_regex_split_stl does it: unmatched stretches become
 * pieces, and after an empty match the next one must be non-empty at the
 * same place or start one character later.  Empty pieces are dropped: they
 * produce no tokens. */
static tg_status split_one(const regex *r, const subject *sb, const ends *in, ends *out,
                           pcre2_match_data *md) {
    size_t a = 0;
    for (size_t k = 0; k < in->n; a = in->v[k++]) {
        size_t b = in->v[k];
        size_t b0 = sb->pos[a], blen = sb->pos[b] - b0;
        size_t done = a; /* code points up to here are in `out` */
        size_t off = 0;  /* byte offset (in the piece) where the next search starts */
        uint32_t opts = 0;
        while (off <= blen) {
            int rc = match(r, sb, b0, blen, off, opts, md);
            if (rc == PCRE2_ERROR_NOMATCH) {
                if (!opts)
                    break;
                /* no non-empty match right after an empty one: move on a character */
                opts = 0;
                if (off == blen)
                    break;
                off = sb->pos[cp_index(sb->pos, a, b, b0 + off) + 1] - b0;
                continue;
            }
            if (rc < 0) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(rc, msg, sizeof msg);
                return tg__fail(TG_ERR_RANGE, "pre-tokenizer: regex match failed: %s",
                                (const char *)msg);
            }
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = cp_index(sb->pos, a, b, b0 + ov[0]);
            size_t me = cp_index(sb->pos, a, b, b0 + ov[1]);
            if (ms > done && !ends_push(out, ms))
                return TG_ERR_NOMEM;
            if (me > ms && !ends_push(out, me))
                return TG_ERR_NOMEM;
            done = TG_MAX(done, me);
            off = ov[1];
            opts = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
        }
        if (b > done && !ends_push(out, b))
            return TG_ERR_NOMEM;
    }
    return TG_OK;
}

void tg__pieces_free(tg__pieces *p) {
    free(p->text);
    free(p->end);
    memset(p, 0, sizeof *p);
}

static tg_status pieces_reserve(tg__pieces *p, size_t bytes, size_t n) {
    if (bytes > p->cap) {
        char *t = tg__realloc(p->text, bytes);
        if (!t)
            return TG_ERR_NOMEM;
        p->text = t, p->cap = bytes;
    }
    if (n > p->ncap) {
        size_t sz;
        if (!tg__mul_size(n, sizeof *p->end, &sz))
            return tg__fail(TG_ERR_RANGE, "pre-tokenizer: text too long");
        size_t *e = tg__realloc(p->end, sz);
        if (!e)
            return TG_ERR_NOMEM;
        p->end = e, p->ncap = n;
    }
    return TG_OK;
}

tg_status tg__pretok_split(const tg__pretok *p, const char *text, size_t len, tg__pieces *out) {
    out->len = out->n = 0;
    if (len == 0)
        return TG_OK;
    tg_status s = TG_OK;
    uint32_t *cp = NULL;
    subject raw = {0}, col = {0};
    ends cur = {0}, next = {0};
    pcre2_match_data *md = NULL;
    size_t n = 0, bytes;

    /* 1. code points, the lax way (at most one per byte) */
    if (!tg__mul_size(len, sizeof *cp, &bytes))
        return tg__fail(TG_ERR_RANGE, "pre-tokenizer: text too long");
    cp = tg__malloc(bytes);
    if (!cp)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < len;) {
        uint32_t c = tg__utf8_decode_lax(text, len, &i);
        cp[n++] = c > 0x10FFFF ? 0xFFFD : c;
    }

    /* 2. the regexes, each re-splitting the pieces of the one before */
    if ((p->need_raw && (s = subject_build(&raw, cp, n, false))) ||
        (p->need_collapsed && (s = subject_build(&col, cp, n, true))))
        goto done;
    md = pcre2_match_data_create(1, NULL);
    if (!md) {
        s = tg__fail(TG_ERR_NOMEM, "pre-tokenizer: out of memory");
        goto done;
    }
    if (!ends_push(&cur, n)) {
        s = TG_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < p->n_rx; i++) {
        next.n = 0;
        s = split_one(&p->rx[i], p->rx[i].collapsed ? &col : &raw, &cur, &next, md);
        if (s)
            goto done;
        ends t = cur;
        cur = next, next = t;
    }

    /* 3. the pieces as UTF-8, rebuilt from the code points */
    if (!tg__mul_size(n, 4, &bytes)) {
        s = tg__fail(TG_ERR_RANGE, "pre-tokenizer: text too long");
        goto done;
    }
    if ((s = pieces_reserve(out, bytes, cur.n)))
        goto done;
    size_t a = 0;
    for (size_t k = 0; k < cur.n; k++) {
        for (size_t i = a; i < cur.v[k]; i++)
            out->len += tg__utf8_encode(cp[i], out->text + out->len);
        out->end[out->n++] = out->len;
        a = cur.v[k];
    }
done:
    pcre2_match_data_free(md);
    subject_free(&raw);
    subject_free(&col);
    free(cur.v);
    free(next.v);
    free(cp);
    return s;
}
