/*
 * bench_energy.c — the energy half of `tinglado bench --energy`.
 *
 * bench.c reads the meter before and after every timed run; this file turns
 * each repetition's joules into per-repetition figures and reports each as
 * a median with a 95% bootstrap interval and n:
 *
 *   J/token      prefill = J(pp run) / P,  decode = J(tg run) / N
 *   Wh/1k tokens J/token × 1000 / 3600
 *   Wh/request   (IN × prefill J/token + OUT × decode J/token) / 3600,
 *                paired within a repetition
 *
 * next to two published reference points (sources: docs/energy-and-cost.md).
 * It must never print a figure without the meter's label — which says
 * "estimated" whenever the CPU figure is not a RAPL measurement.
 */
#include "cli/bench_energy.h"

#include <stdlib.h>
#include <string.h>

/* Published reference points, quoted (not measured here). */
#define REF_SEARCH_WH 0.3  /* a web search: Google, "Powering a Google search", 2009 */
#define REF_GEMINI_WH 0.24 /* median Gemini Apps text prompt: Google, August 2025  */

tg_cli_energy_opts tg_cli_energy_defaults(void) {
    return (tg_cli_energy_opts){.idle_s = 2.0, .req_in = 500, .req_out = 200};
}

bool tg_cli_energy_parse(tg_cli_energy_opts *o, const char *flag, const char *arg) {
    if (!strcmp(flag, "--watts"))
        return tg_cli_parse_float(flag, arg, 0.001, 100000, &o->watts);
    if (!strcmp(flag, "--idle-seconds"))
        return tg_cli_parse_float(flag, arg, 0, 600, &o->idle_s);
    if (!strcmp(flag, "--request")) {
        const char *comma = strchr(arg, ',');
        char in[32];
        if (!comma || (size_t)(comma - arg) >= sizeof in) {
            fprintf(stderr, "tinglado: --request wants IN,OUT token counts (e.g. 500,200), not '%s'\n", arg);
            return false;
        }
        memcpy(in, arg, (size_t)(comma - arg));
        in[comma - arg] = '\0';
        return tg_cli_parse_int("--request (IN)", in, 0, 1 << 24, &o->req_in) &&
               tg_cli_parse_int("--request (OUT)", comma + 1, 0, 1 << 24, &o->req_out);
    }
    return false;
}

tg_meter *tg_cli_energy_meter(const tg_cli_energy_opts *o) {
    tg_meter_params p = tg_meter_default_params();
    p.watts = o->watts;
    p.estimate_only = o->estimate_only;
    tg_meter *m = tg_meter_new(&p);
    if (!m) {
        tg_cli_fail("bench --energy");
        return NULL;
    }
    if (o->idle_s > 0 && tg_meter_measure_idle(m, o->idle_s) != TG_OK) {
        tg_cli_fail("bench --energy: idle baseline");
        tg_meter_free(m);
        return NULL;
    }
    return m;
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct figure {
    const char *key, *label, *unit;
    double *x; /* per repetition */
} figure;

void tg_cli_energy_report(FILE *f, bool json, const tg_meter *m, const tg_cli_energy_opts *o, long n_prompt,
                          long n_gen, const double *jpp, const double *jtg, size_t reps) {
    double *buf = calloc(5 * reps, sizeof *buf);
    if (!buf) {
        fputs("tinglado: bench --energy: out of memory\n", stderr);
        return;
    }
    figure fig[5];
    size_t nf = 0;
    double *pp_j = buf, *tg_j = buf + reps, *pp_wh = buf + 2 * reps, *tg_wh = buf + 3 * reps, *req = buf + 4 * reps;
    for (size_t r = 0; r < reps; r++) {
        if (jpp && n_prompt) {
            pp_j[r] = jpp[r] / (double)n_prompt;
            pp_wh[r] = pp_j[r] * 1000.0 / 3600.0;
        }
        if (jtg && n_gen) {
            tg_j[r] = jtg[r] / (double)n_gen;
            tg_wh[r] = tg_j[r] * 1000.0 / 3600.0;
        }
        req[r] = ((double)o->req_in * pp_j[r] + (double)o->req_out * tg_j[r]) / 3600.0;
    }
    char req_label[64];
    snprintf(req_label, sizeof req_label, "request %ld in + %ld out", o->req_in, o->req_out);
    if (jpp && n_prompt) {
        fig[nf++] = (figure){"prefill_j_per_token", "prefill", "J/token", pp_j};
        fig[nf++] = (figure){"prefill_wh_per_1k_tokens", "prefill", "Wh/1000 tokens", pp_wh};
    }
    if (jtg && n_gen) {
        fig[nf++] = (figure){"decode_j_per_token", "decode", "J/token", tg_j};
        fig[nf++] = (figure){"decode_wh_per_1k_tokens", "decode", "Wh/1000 tokens", tg_wh};
    }
    /* A request needs both phases measured (or the phase it lacks unused). */
    const bool have_req = ((jpp && n_prompt) || o->req_in == 0) && ((jtg && n_gen) || o->req_out == 0);
    if (have_req)
        fig[nf++] = (figure){"request_wh", req_label, "Wh/request", req};

    const char *kind = tg_meter_estimated(m) ? "estimated" : "measured";
    if (json) {
        fprintf(f, "\"energy\":{\"source\":\"%s\",\"label\":", kind);
        json_string(f, tg_meter_label(m));
        fprintf(f, ",\"idle_watts\":%.4f,\"request_tokens\":{\"in\":%ld,\"out\":%ld}", tg_meter_idle_watts(m),
                o->req_in, o->req_out);
        for (size_t i = 0; i < nf; i++) {
            tg_estimate e = tg_stats_median_boot(fig[i].x, reps, 2000, 10 + i);
            fprintf(f, ",\"%s\":{\"median\":%.6g,\"lo\":%.6g,\"hi\":%.6g,\"n\":%zu,\"samples\":[", fig[i].key,
                    e.value, e.lo, e.hi, e.n);
            for (size_t r = 0; r < reps; r++)
                fprintf(f, "%s%.6g", r ? "," : "", fig[i].x[r]);
            fputs("]}", f);
        }
        fprintf(f, ",\"reference_wh\":{\"web_search\":%g,\"gemini_text_prompt_median_2025\":%g}},", REF_SEARCH_WH,
                REF_GEMINI_WH);
    } else {
        fprintf(f, "energy (%s): %s\n", kind, tg_meter_label(m));
        fprintf(f, "%-26s %-15s %12s  %-26s %s\n", "energy", "unit", "median", "95% interval", "n");
        for (size_t i = 0; i < nf; i++) {
            tg_estimate e = tg_stats_median_boot(fig[i].x, reps, 2000, 10 + i);
            fprintf(f, "%-26s %-15s %12.4g  [%10.4g, %10.4g]  %zu  %s\n", fig[i].label, fig[i].unit, e.value, e.lo,
                    e.hi, e.n, kind);
        }
        if (!have_req)
            fprintf(f, "(no per-request figure: it needs both -p and -n, or --request with 0 for the phase skipped)\n");
        fprintf(f, "for scale (published, not measured here): a web search ~%g Wh (Google 2009); the median Gemini\n"
                   "text prompt %g Wh (Google 2025); sources in docs/energy-and-cost.md\n",
                REF_SEARCH_WH, REF_GEMINI_WH);
    }
    free(buf);
}
