/*
 * meter.h — internals of the energy meter shared by its power sources:
 * RAPL through the powercap sysfs tree (rapl.c), NVIDIA's NVML loaded at
 * run time (nvml.c) and the CPU estimate (estimate.c); meter.c combines
 * them behind the public tg_meter API.
 *
 * A source never aborts and never guesses silently: when it cannot be used
 * it says why in a sentence, and meter.c puts that sentence in the label
 * every output carries.
 */
#ifndef TG_METER_INTERNAL_H
#define TG_METER_INTERNAL_H

#include "base/base.h"

enum { TG__RAPL_MAX_DOMAINS = 16 };

/* One RAPL domain: a cumulative micro-joule counter that wraps at
 * max_uj (max_energy_range_uj). */
typedef struct tg__rapl_domain {
    char path[512];  /* directory of the zone             */
    char label[64];  /* "package-0", "package-0/dram" …  */
    uint64_t max_uj; /* the counter wraps after this value */
    uint64_t last;   /* last raw reading                   */
} tg__rapl_domain;

typedef struct tg__rapl {
    tg__rapl_domain dom[TG__RAPL_MAX_DOMAINS];
    int n;
} tg__rapl;

/* Finds the package and DRAM domains under root and reads each once.
 * TG_OK with at least one domain, else a status and a message saying why
 * (no tree, no package domain, a file missing, unreadable or malformed). */
tg_status tg__rapl_open(tg__rapl *r, const char *root);
/* Micro-joules consumed by all domains since the previous call (or the
 * open), counter wrap-arounds included.  Must be called at least once per
 * wrap period (minutes at full load); a failed read leaves the state as it
 * was and sets the message. */
tg_status tg__rapl_delta(tg__rapl *r, double *uj);
/* The energy between two readings of a counter that went from `last` to
 * `now` and may have wrapped (once) after reaching max. */
uint64_t tg__rapl_wrap_delta(uint64_t last, uint64_t now, uint64_t max);

/* NVML (opaque; NULL when libnvidia-ml does not load or finds no device). */
typedef struct tg__nvml tg__nvml;
tg__nvml *tg__nvml_open(const char *lib_path, char *why, size_t why_cap);
/* Joules all devices used since the previous call (energy counters; on
 * devices without one, power samples integrated over the interval). */
tg_status tg__nvml_delta(tg__nvml *n, double seconds, double *joules);
/* "1 device (NVIDIA H100 80GB HBM3), energy counter" */
const char *tg__nvml_describe(const tg__nvml *n);
void tg__nvml_close(tg__nvml *n);

/* The CPU estimate: watts per busy hardware thread, and where that came
 * from ("225 W TDP / 128 threads of AMD EPYC (lookup: generic entry)"). */
typedef struct tg__estimate_model {
    double watts_per_thread;
    char how[320];
} tg__estimate_model;
/* From `watts` (> 0: the full-load power of the n_cpus CPUs this system
 * shows), else the lookup table by the model name in cpuinfo_path, else the
 * documented default.  Always succeeds. */
void tg__estimate_model_init(tg__estimate_model *e, double watts, const char *cpuinfo_path, int n_cpus);
/* CPU seconds this process (all its threads) has used so far. */
double tg__process_cpu_seconds(void);

#endif
