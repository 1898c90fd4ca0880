/*
 * web_assets.c — the reading list's page (the files of src/serve/web/) inside the
 * binary, with no build step: the assembler's .incbin copies each file's
 * bytes into .rodata at compile time (the Makefile makes this object depend
 * on the files), followed by a NUL so each is also a C string.
 *
 * The page is plain HTML, CSS and JavaScript of our own; nothing is fetched
 * from elsewhere (the Content-Security-Policy forbids it anyway).  Must
 * never: serve a name that is not in this table.
 */
#include "serve/serve.h"

#include <string.h>

/* Defines NAME (the bytes) and NAME_end (one past them), hidden symbols.
 * Paths are relative to the repository root, where make runs the compiler. */
#define TG__INCBIN(name, file)                                                                                 \
    __asm__(".pushsection .rodata\n.balign 16\n.globl " #name "\n.hidden " #name "\n" #name ":\n.incbin \"" file \
            "\"\n.globl " #name "_end\n.hidden " #name "_end\n" #name "_end:\n.byte 0\n.popsection\n");        \
    extern const char name[], name##_end[]

TG__INCBIN(tg__asset_index_html, "src/serve/web/index.html");
TG__INCBIN(tg__asset_app_js, "src/serve/web/app.js");
TG__INCBIN(tg__asset_app_css, "src/serve/web/app.css");
TG__INCBIN(tg__asset_article_css, "src/serve/web/article.css");

static const struct {
    const char *name, *ctype;
    const char *start, *end;
} assets[] = {
    {"index.html", "text/html; charset=utf-8", tg__asset_index_html, tg__asset_index_html_end},
    {"app.js", "text/javascript; charset=utf-8", tg__asset_app_js, tg__asset_app_js_end},
    {"app.css", "text/css; charset=utf-8", tg__asset_app_css, tg__asset_app_css_end},
    {"article.css", "text/css; charset=utf-8", tg__asset_article_css, tg__asset_article_css_end},
};

const char *tg__web_asset(const char *name, size_t *len, const char **ctype) {
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (!strcmp(name, assets[i].name)) {
            *len = (size_t)(assets[i].end - assets[i].start);
            *ctype = assets[i].ctype;
            return assets[i].start;
        }
    return NULL;
}
