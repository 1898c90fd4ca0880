/*
 * probe_html.c — the probe report as one self-contained HTML page: the
 * Markdown that probe_report.c writes, converted for the small subset it
 * uses (headings, paragraphs, "- " lists, pipe tables, `code`, **bold**, one
 * image line), with the SVG plot inlined so the page travels alone.
 *
 * It is not a Markdown implementation and must never be used as one: input
 * it does not recognise is escaped and shown as text, never passed through.
 */
#include "cli/probe.h"

#include <stdlib.h>
#include <string.h>

static void esc(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        switch (s[i]) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(s[i], f);
        }
}

/* Text with `code`, **bold** and \| escapes. */
static void inline_md(FILE *f, const char *s, size_t n) {
    bool code = false, bold = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '|' && !code) {
            fputc('|', f);
            i++;
        } else if (s[i] == '`') {
            fputs(code ? "</code>" : "<code>", f);
            code = !code;
        } else if (!code && s[i] == '*' && i + 1 < n && s[i + 1] == '*') {
            fputs(bold ? "</b>" : "<b>", f);
            bold = !bold;
            i++;
        } else
            esc(f, s + i, 1);
    }
    if (code)
        fputs("</code>", f);
    if (bold)
        fputs("</b>", f);
}

static void table_row(FILE *f, const char *s, size_t n, const char *tag) {
    fputs("<tr>", f);
    size_t i = 1; /* past the leading '|' */
    while (i < n) {
        size_t j = i;
        while (j < n && !(s[j] == '|' && s[j - 1] != '\\'))
            j++;
        if (j >= n)
            break;
        size_t a = i, b = j;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        fprintf(f, "<%s>", tag);
        inline_md(f, s + a, b - a);
        fprintf(f, "</%s>", tag);
        i = j + 1;
    }
    fputs("</tr>\n", f);
}

/* Copies the SVG file at path into the page; false if it cannot be read. */
static bool inline_svg(FILE *f, const char *path) {
    size_t n;
    FILE *in = fopen(path, "rb");
    if (!in)
        return false;
    char buf[8192];
    bool any = false;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        fwrite(buf, 1, n, f);
        any = true;
    }
    fclose(in);
    return any;
}

int probe_md_to_html(const char *md, size_t len, const char *svg_path, FILE *f) {
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Memorisation probe</title>\n"
          "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
          "text-align:left}code{background:#f4f4f4}</style></head><body>\n", f);
    bool in_table = false, in_list = false, in_para = false;
    for (const char *p = md; p < md + len;) {
        const char *nl = memchr(p, '\n', (size_t)(md + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(md + len - p);
        const bool table = n && p[0] == '|', list = n > 1 && p[0] == '-' && p[1] == ' ';
        if (in_table && !table) {
            fputs("</table>\n", f);
            in_table = false;
        }
        if (in_list && !list) {
            fputs("</ul>\n", f);
            in_list = false;
        }
        if (in_para && (n == 0 || table || list || p[0] == '#' || p[0] == '!')) {
            fputs("</p>\n", f);
            in_para = false;
        }
        if (n == 0) {
        } else if (table) {
            bool sep = strspn(p, "|-: ") >= n;
            if (!in_table) {
                fputs("<table>\n", f);
                in_table = true;
                table_row(f, p, n, "th");
            } else if (!sep)
                table_row(f, p, n, "td");
        } else if (list) {
            if (!in_list)
                fputs("<ul>\n", f);
            in_list = true;
            fputs("<li>", f);
            inline_md(f, p + 2, n - 2);
            fputs("</li>\n", f);
        } else if (n > 2 && p[0] == '#') {
            int level = p[1] == '#' ? 2 : 1;
            fprintf(f, "<h%d>", level);
            inline_md(f, p + level + 1, n - (size_t)level - 1);
            fprintf(f, "</h%d>\n", level);
        } else if (n > 2 && p[0] == '!' && p[1] == '[') {
            if (!svg_path || !inline_svg(f, svg_path)) {
                fputs("<p>", f);
                esc(f, p, n);
                fputs("</p>\n", f);
            }
        } else {
            fputs(in_para ? "\n" : "<p>", f);
            in_para = true;
            inline_md(f, p, n);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (in_table)
        fputs("</table>\n", f);
    if (in_list)
        fputs("</ul>\n", f);
    if (in_para)
        fputs("</p>\n", f);
    fputs("</body></html>\n", f);
    return ferror(f) ? 1 : 0;
}
