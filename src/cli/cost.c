/*
 * cost.c — `tinglado cost`: what a million tokens cost (electricity × PUE,
 * plus the hardware's amortisation or a rented hour's price), and
 * `tinglado cost gpu-hour`: the break-even price of an hour of a device.
 * The arithmetic is tg_cost_* (src/meter/cost.c); the formulas and a worked
 * example are in docs/energy-and-cost.md.
 *
 * Given plain numbers it computes exactly those and says so; given a
 * `bench --energy --json` file it computes the cost of every repetition
 * (its J/token and tokens/s paired) and reports the median with a 95%
 * bootstrap interval and n.  It must never drop the "estimated" label the
 * bench file carries.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado cost (--joules-per-token J | --bench FILE) [--tokens-per-second T]\n"
          "                     --price-kwh P [--pue X] [--capex C --years Y --utilisation U |\n"
          "                     --gpu-hour-price H] [--idle-watts W] [--phase decode|prefill]\n"
          "       tinglado cost gpu-hour --capex C --years Y --utilisation U --watts W\n"
          "                     --price-kwh P [--pue X] [--idle-watts W]\n"
          "\n"
          "Cost per million tokens: electricity (J/token × PUE × price) plus the hardware's\n"
          "purchase price spread over its utilised hours, or a rented hour's price (which\n"
          "includes power); gpu-hour: the break-even price of one utilised hour of a device.\n"
          "Formulas and a worked example: docs/energy-and-cost.md.\n"
          "\n"
          "  --joules-per-token J   energy per token (e.g. from bench --energy)\n"
          "  --bench FILE           a `tinglado bench --energy --json` output: the cost of each\n"
          "                         repetition, median with a 95% bootstrap interval and n\n"
          "  --phase decode|prefill which of the bench file's figures to use (default decode)\n"
          "  --tokens-per-second T  throughput (needed for hardware, rent and idle shares)\n"
          "  --price-kwh P          electricity price per kWh\n"
          "  --pue X                power usage effectiveness, >= 1 (default 1: at home)\n"
          "  --capex C              purchase price of the hardware\n"
          "  --years Y              its lifetime (years of 8,760 hours)\n"
          "  --utilisation U        share of those hours it does paid work, (0, 1] (default 1)\n"
          "  --gpu-hour-price H     a rented hour's price instead of --capex\n"
          "  --watts W              (gpu-hour) the device's power at work\n"
          "  --idle-watts W         power drawn when not utilised (default 0)\n"
          "  --currency LABEL       printed after amounts (default EUR)\n"
          "  --json                 one JSON object on stdout\n"
          "  -h, --help             this text\n",
          f);
}

typedef struct cost_args {
    double jpt, tps, watts;
    const char *bench, *phase, *currency;
    bool have_jpt, have_watts, json;
    tg_cost_params p;
} cost_args;

static int gpu_hour(const cost_args *a) {
    if (!a->have_watts || a->p.capex <= 0) {
        fputs("tinglado cost gpu-hour: give --capex, --years, --utilisation and --watts (and --price-kwh)\n", stderr);
        return 2;
    }
    tg_cost c;
    if (tg_cost_gpu_hour(&a->p, a->watts, &c) != TG_OK)
        return tg_cli_fail("cost gpu-hour");
    const char *cur = a->currency;
    if (a->json) {
        printf("{\"currency\":\"%s\",\"hardware_per_hour\":%.6f,\"energy_per_hour\":%.6f,\"total_per_hour\":%.6f,"
               "\"inputs\":{\"capex\":%g,\"years\":%g,\"utilisation\":%g,\"watts\":%g,\"idle_watts\":%g,\"pue\":%g,"
               "\"price_kwh\":%g},\"calculated_from_given_values\":true}\n",
               cur, c.hardware, c.energy, c.total, a->p.capex, a->p.years, a->p.utilisation, a->watts,
               a->p.idle_watts, a->p.pue, a->p.price_kwh);
        return 0;
    }
    printf("break-even price of one utilised hour (calculated from the given values, not measured):\n");
    char hw[128], en[160];
    snprintf(hw, sizeof hw, "%g / (%g years × 8760 h × %g)", a->p.capex, a->p.years, a->p.utilisation);
    if (a->p.idle_watts > 0)
        snprintf(en, sizeof en, "(%g W + %g W idle × %.4g) / 1000 × PUE %g × %g %s/kWh", a->watts, a->p.idle_watts,
                 (1 - a->p.utilisation) / a->p.utilisation, a->p.pue, a->p.price_kwh, cur);
    else
        snprintf(en, sizeof en, "%g kW × PUE %g × %g %s/kWh", a->watts / 1000, a->p.pue, a->p.price_kwh, cur);
    /* Width in characters, not bytes: × is two bytes in UTF-8. */
    printf("  hardware  %-*s = %10.4f %s/h\n", 48 + 2, hw, c.hardware, cur);
    printf("  energy    %-*s = %10.4f %s/h\n", 48 + 2 * (a->p.idle_watts > 0 ? 2 : 1), en, c.energy, cur);
    printf("  total     %-48s = %10.4f %s/h\n", "", c.total, cur);
    return 0;
}

/* The per-repetition J/token and tokens/s of one phase of a bench file. */
static bool bench_samples(const char *path, const char *phase, double **jpt, double **tps, size_t *n, char *label,
                          size_t label_cap, bool *estimated) {
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "tinglado: cost: %s: line %d: %s\n", path, err.line, err.text);
        return false;
    }
    const bool decode = !strcmp(phase, "decode");
    json_t *energy = json_object_get(root, "energy");
    json_t *fig = json_object_get(energy, decode ? "decode_j_per_token" : "prefill_j_per_token");
    json_t *js = json_object_get(fig, "samples");
    json_t *ts = json_object_get(json_object_get(root, decode ? "tg" : "pp"), "samples");
    json_t *src = json_object_get(energy, "source"), *lab = json_object_get(energy, "label");
    bool ok = false;
    if (!json_is_array(js) || !json_is_array(ts) || json_array_size(js) != json_array_size(ts) ||
        json_array_size(js) == 0 || !json_is_string(src) || !json_is_string(lab)) {
        fprintf(stderr, "tinglado: cost: %s is not the --json output of `tinglado bench --energy` with %s figures\n",
                path, phase);
        goto out;
    }
    *n = json_array_size(js);
    *jpt = calloc(*n, sizeof **jpt);
    *tps = calloc(*n, sizeof **tps);
    if (!*jpt || !*tps)
        goto out;
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(js, i), *y = json_array_get(ts, i);
        if (!json_is_number(x) || !json_is_number(y) || json_number_value(x) < 0 || !(json_number_value(y) > 0)) {
            fprintf(stderr, "tinglado: cost: %s: sample %zu is not a valid J/token and tokens/s pair\n", path, i);
            goto out;
        }
        (*jpt)[i] = json_number_value(x);
        (*tps)[i] = json_number_value(y);
    }
    *estimated = strcmp(json_string_value(src), "measured") != 0;
    snprintf(label, label_cap, "%s", json_string_value(lab));
    ok = true;
out:
    json_decref(root);
    return ok;
}

static void print_row(const char *name, const tg_estimate *e, const char *cur, bool last) {
    if (cur)
        printf("  %-9s %10.4f  [%10.4f, %10.4f]  %zu\n", name, e->value, e->lo, e->hi, e->n);
    else
        printf("\"%s\":{\"median\":%.6g,\"lo\":%.6g,\"hi\":%.6g,\"n\":%zu}%s", name, e->value, e->lo, e->hi, e->n,
               last ? "" : ",");
}

static int per_mtok(const cost_args *a) {
    const char *cur = a->currency;
    if (!a->bench) {
        tg_cost c;
        if (tg_cost_per_mtok(&a->p, a->jpt, a->tps, &c) != TG_OK)
            return tg_cli_fail("cost");
        if (a->json) {
            printf("{\"currency\":\"%s\",\"energy_per_mtok\":%.6f,\"hardware_per_mtok\":%.6f,\"total_per_mtok\":%.6f,"
                   "\"calculated_from_given_values\":true}\n",
                   cur, c.energy, c.hardware, c.total);
            return 0;
        }
        printf("cost of a million tokens (calculated from the given values, not measured):\n");
        printf("  energy    %10.4f %s%s\n", c.energy, cur, a->p.rent_hour > 0 ? "  (included in the rent)" : "");
        printf("  %-9s %10.4f %s\n", a->p.rent_hour > 0 ? "rent" : "hardware", c.hardware, cur);
        printf("  total     %10.4f %s\n", c.total, cur);
        return 0;
    }
    double *jpt = NULL, *tps = NULL, *col = NULL;
    size_t n = 0;
    char label[1200];
    bool estimated = true;
    int rc = 1;
    if (!bench_samples(a->bench, a->phase, &jpt, &tps, &n, label, sizeof label, &estimated))
        goto out;
    if (!(col = calloc(3 * n, sizeof *col)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        tg_cost c;
        /* A given --tokens-per-second overrides the bench's own (e.g. a server's batched rate). */
        if (tg_cost_per_mtok(&a->p, jpt[i], a->tps > 0 ? a->tps : tps[i], &c) != TG_OK) {
            rc = tg_cli_fail("cost");
            goto out;
        }
        col[i] = c.energy;
        col[n + i] = c.hardware;
        col[2 * n + i] = c.total;
    }
    tg_estimate e[3];
    for (int k = 0; k < 3; k++)
        e[k] = tg_stats_median_boot(col + (size_t)k * n, n, 2000, 20 + (uint64_t)k);
    const char *kind = estimated ? "estimated" : "measured";
    if (a->json) {
        printf("{\"currency\":\"%s\",\"phase\":\"%s\",\"energy_source\":\"%s\",\"per_mtok\":{", cur, a->phase, kind);
        print_row("energy", &e[0], NULL, false);
        print_row(a->p.rent_hour > 0 ? "rent" : "hardware", &e[1], NULL, false);
        print_row("total", &e[2], NULL, true);
        printf("}}\n");
    } else {
        printf("cost of a million %s tokens in %s, one per bench repetition (energy %s: %s)\n", a->phase, cur, kind,
               label);
        printf("  %-9s %10s  %-24s  %s\n", "", "median", "95% interval", "n");
        print_row("energy", &e[0], cur, false);
        print_row(a->p.rent_hour > 0 ? "rent" : "hardware", &e[1], cur, false);
        print_row("total", &e[2], cur, true);
    }
    rc = 0;
out:
    free(jpt);
    free(tps);
    free(col);
    return rc;
}

int tg_cli_cost(int argc, char **argv) {
    enum { O_JPT = 256, O_BENCH, O_PHASE, O_TPS, O_PRICE, O_PUE, O_CAPEX, O_YEARS, O_UTIL, O_RENT, O_WATTS, O_IDLE,
           O_CUR, O_JSON };
    static const struct option opts[] = {
        {"joules-per-token", required_argument, NULL, O_JPT}, {"bench", required_argument, NULL, O_BENCH},
        {"phase", required_argument, NULL, O_PHASE}, {"tokens-per-second", required_argument, NULL, O_TPS},
        {"price-kwh", required_argument, NULL, O_PRICE}, {"pue", required_argument, NULL, O_PUE},
        {"capex", required_argument, NULL, O_CAPEX}, {"years", required_argument, NULL, O_YEARS},
        {"utilisation", required_argument, NULL, O_UTIL}, {"utilization", required_argument, NULL, O_UTIL},
        {"gpu-hour-price", required_argument, NULL, O_RENT}, {"watts", required_argument, NULL, O_WATTS},
        {"idle-watts", required_argument, NULL, O_IDLE}, {"currency", required_argument, NULL, O_CUR},
        {"json", no_argument, NULL, O_JSON}, {"help", no_argument, NULL, 'h'}, {0},
    };
    const bool gpu = argc > 1 && !strcmp(argv[1], "gpu-hour");
    if (gpu) {
        argc--;
        argv++;
    }
    cost_args a = {.phase = "decode", .currency = "EUR", .p = tg_cost_default_params()};
    bool have_price = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case O_JPT: ok = tg_cli_parse_float("--joules-per-token", optarg, 0, 1e9, &a.jpt); a.have_jpt = true; break;
        case O_BENCH: a.bench = optarg; break;
        case O_PHASE:
            a.phase = optarg;
            ok = !strcmp(optarg, "decode") || !strcmp(optarg, "prefill");
            if (!ok)
                fprintf(stderr, "tinglado: --phase is decode or prefill, not '%s'\n", optarg);
            break;
        case O_TPS: ok = tg_cli_parse_float("--tokens-per-second", optarg, 1e-9, 1e12, &a.tps); break;
        case O_PRICE: ok = tg_cli_parse_float("--price-kwh", optarg, 0, 1e6, &a.p.price_kwh); have_price = true; break;
        case O_PUE: ok = tg_cli_parse_float("--pue", optarg, 1, 10, &a.p.pue); break;
        case O_CAPEX: ok = tg_cli_parse_float("--capex", optarg, 0, 1e12, &a.p.capex); break;
        case O_YEARS: ok = tg_cli_parse_float("--years", optarg, 1e-6, 1000, &a.p.years); break;
        case O_UTIL: ok = tg_cli_parse_float("--utilisation", optarg, 1e-9, 1, &a.p.utilisation); break;
        case O_RENT: ok = tg_cli_parse_float("--gpu-hour-price", optarg, 0, 1e9, &a.p.rent_hour); break;
        case O_WATTS: ok = tg_cli_parse_float("--watts", optarg, 0, 1e7, &a.watts); a.have_watts = true; break;
        case O_IDLE: ok = tg_cli_parse_float("--idle-watts", optarg, 0, 1e7, &a.p.idle_watts); break;
        case O_CUR:
            a.currency = optarg;
            ok = strlen(optarg) < 16 && !strpbrk(optarg, "\"\\");
            if (!ok)
                fputs("tinglado: --currency wants a short label without quotes or backslashes\n", stderr);
            break;
        case O_JSON: a.json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (!ok)
            return 2;
    }
    if (optind != argc) {
        fprintf(stderr, "tinglado cost: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (a.p.capex > 0 && a.p.years <= 0) {
        fputs("tinglado cost: --capex needs --years\n", stderr);
        return 2;
    }
    if (gpu) {
        if (!have_price) {
            fputs("tinglado cost gpu-hour: give --price-kwh (0 if power is free)\n", stderr);
            return 2;
        }
        return gpu_hour(&a);
    }
    if (a.have_jpt == (a.bench != NULL) || (!have_price && a.p.rent_hour <= 0)) {
        fputs("tinglado cost: give one of --joules-per-token and --bench, and --price-kwh (or --gpu-hour-price)\n",
              stderr);
        usage(stderr);
        return 2;
    }
    return per_mtok(&a);
}
