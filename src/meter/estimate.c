/*
 * estimate.c — the CPU power estimate used when no RAPL counter can be read
 * (virtual machines, containers, non-root since Linux 5.10).
 *
 * The model is CodeCarbon's: power = TDP × utilisation.  Here utilisation is
 * this process's CPU time over the hardware threads the TDP covers, so the
 * energy of an interval is
 *
 *     E = (TDP / threads) × (CPU seconds this process used in the interval)
 *
 * where TDP and threads are those of the whole processor (from the lookup
 * table below by /proc/cpuinfo's model name), or --watts for the CPUs this
 * system shows.  It leaves out idle power, DRAM and the rest of the machine,
 * and TDP is not measured power: the result is labelled "estimated" wherever
 * it appears.  This file must never present its number as a measurement.
 */
#include "meter/meter.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* TDP (the vendor's thermal design power, W) and hardware threads of whole
 * processors, from the vendors' specification pages (ark.intel.com,
 * amd.com/en/products).  First match of `match` as a substring of the model
 * name wins, so specific parts come before the generic family entries,
 * which stand for a typical part when a virtual machine hides the model
 * (e.g. "AMD EPYC"). */
typedef struct tdp_entry {
    const char *match;
    double tdp_w;
    int threads;
    bool generic;
} tdp_entry;

static const tdp_entry k_tdp[] = {
    {"AMD EPYC 9654", 360, 192, false},         /* Genoa, 96 cores  */
    {"AMD EPYC 7763", 280, 128, false},         /* Milan, 64 cores  */
    {"AMD EPYC 7713", 225, 128, false},         /* Milan, 64 cores  */
    {"AMD Ryzen 9 7950X", 170, 32, false},      /* 16 cores         */
    {"AMD Ryzen 7 5700G", 65, 16, false},       /* 8 cores          */
    {"Intel(R) Xeon(R) Platinum 8380", 270, 80, false}, /* 40 cores */
    {"Intel(R) Xeon(R) Gold 6338", 205, 64, false},     /* 32 cores */
    {"Intel(R) Core(TM) i5-12400", 65, 12, false},      /* base power; 6 cores */
    {"Intel(R) Core(TM) i7-8700", 65, 12, false},       /* 6 cores  */
    {"Intel(R) N100", 6, 4, false},                     /* 4 cores  */
    {"AMD EPYC", 225, 128, true},          /* generic: as the EPYC 7713 */
    {"Intel(R) Xeon(R)", 205, 64, true},   /* generic: as the Xeon Gold 6338 */
};

/* CodeCarbon's fallback TDP for an unknown processor, applied to the CPUs
 * this system shows. */
#define DEFAULT_TDP_W 85.0

/* The "model name" of the first processor in a cpuinfo file ("" if none). */
static void model_name(const char *path, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10))
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strcspn(v, "\n");
        while (n > 0 && v[n - 1] == ' ')
            n--;
        snprintf(out, cap, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

void tg__estimate_model_init(tg__estimate_model *e, double watts, const char *cpuinfo_path, int n_cpus) {
    if (n_cpus < 1)
        n_cpus = 1;
    if (watts > 0) {
        e->watts_per_thread = watts / n_cpus;
        snprintf(e->how, sizeof e->how, "%g W (--watts) / %d CPUs", watts, n_cpus);
        return;
    }
    char model[128];
    model_name(cpuinfo_path ? cpuinfo_path : "/proc/cpuinfo", model, sizeof model);
    for (size_t i = 0; i < TG_ARRAY_LEN(k_tdp); i++) {
        if (!model[0] || !strstr(model, k_tdp[i].match))
            continue;
        e->watts_per_thread = k_tdp[i].tdp_w / k_tdp[i].threads;
        snprintf(e->how, sizeof e->how, "%g W TDP / %d threads of '%.100s' (%s)", k_tdp[i].tdp_w, k_tdp[i].threads,
                 model, k_tdp[i].generic ? "generic lookup entry: the exact part is unknown" : "lookup table");
        return;
    }
    e->watts_per_thread = DEFAULT_TDP_W / n_cpus;
    snprintf(e->how, sizeof e->how, "%g W default TDP / %d CPUs ('%.100s' is not in the lookup table; give --watts)",
             DEFAULT_TDP_W, n_cpus, model[0] ? model : "unknown processor");
}

double tg__process_cpu_seconds(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
        return 0.0;
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
