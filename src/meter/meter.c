/*
 * meter.c — the energy meter (tg_meter in tinglado.h): one object that picks
 * its power sources once, keeps cumulative joules since it was made, and
 * turns two readings into the energy a workload used.
 *
 *   CPU: RAPL package + DRAM counters (measured) if the powercap tree reads,
 *        else the estimate of estimate.c (labelled "estimated");
 *   GPU: NVML energy if libnvidia-ml loads and finds a device, else nothing.
 *
 * Attributed energy of an interval = measured energy − idle baseline power ×
 * its duration, per source, never below zero.  The baseline comes from an
 * idle period the caller chose (tg_meter_measure_idle sleeps through one).
 *
 * This file must never hide which source a number came from: every caller
 * prints tg_meter_label() next to it.  Readings are serialised by a mutex so
 * a server's threads may share one meter.
 */
#include "meter/meter.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tg_meter {
    pthread_mutex_t mu;
    bool rapl_ok;
    tg__rapl rapl;
    tg__estimate_model est;
    tg__nvml *nvml;
    double t0, cpu_s0;          /* wall clock and process CPU time at creation */
    double last_t;              /* wall clock of the last reading (NVML sampling) */
    tg_meter_reading total;     /* cumulative since creation                      */
    double idle_cpu_w, idle_gpu_w;
    bool idle_known;
    char source[1024];           /* the CPU and GPU sources and why               */
    char label[1100];           /* source + the idle baseline                    */
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

tg_meter_params tg_meter_default_params(void) {
    return (tg_meter_params){0};
}

static void update_label(tg_meter *m) {
    if (m->idle_known)
        snprintf(m->label, sizeof m->label, "%s; idle baseline %.2f W subtracted", m->source,
                 m->idle_cpu_w + m->idle_gpu_w);
    else
        snprintf(m->label, sizeof m->label, "%s; no idle baseline subtracted", m->source);
}

tg_meter *tg_meter_new(const tg_meter_params *p) {
    tg_meter_params d = tg_meter_default_params();
    if (!p)
        p = &d;
    if (!(p->watts >= 0) || !isfinite(p->watts)) {
        tg__fail(TG_ERR_ARG, "meter: watts must be a non-negative number, not %g", p->watts);
        return NULL;
    }
    tg_meter *m = tg__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    char rapl_why[400] = "";
    if (!p->estimate_only) {
        const char *root = p->powercap_root;
        if (!root || !*root)
            root = getenv("TINGLADO_POWERCAP_ROOT");
        if (!root || !*root)
            root = "/sys/class/powercap";
        m->rapl_ok = tg__rapl_open(&m->rapl, root) == TG_OK;
        if (!m->rapl_ok)
            snprintf(rapl_why, sizeof rapl_why, "%s", tg_last_error());
    } else {
        snprintf(rapl_why, sizeof rapl_why, "RAPL not used (asked for the estimate)");
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    tg__estimate_model_init(&m->est, p->watts, p->cpuinfo, ncpu > 0 ? (int)ncpu : 1);

    char gpu_why[256] = "";
    if (!p->no_gpu) {
        const char *lib = p->nvml_lib && *p->nvml_lib ? p->nvml_lib : getenv("TINGLADO_NVML_LIB");
        m->nvml = tg__nvml_open(lib && *lib ? lib : NULL, gpu_why, sizeof gpu_why);
    }
    else
        snprintf(gpu_why, sizeof gpu_why, "GPU not metered (asked)");

    int k;
    if (m->rapl_ok) {
        k = snprintf(m->source, sizeof m->source, "CPU measured: RAPL (");
        for (int i = 0; i < m->rapl.n && k < (int)sizeof m->source; i++)
            k += snprintf(m->source + k, sizeof m->source - (size_t)k, "%s%s", i ? ", " : "", m->rapl.dom[i].label);
        if (k < (int)sizeof m->source)
            k += snprintf(m->source + k, sizeof m->source - (size_t)k, "; whole processor, every process)");
    } else {
        k = snprintf(m->source, sizeof m->source,
                     "CPU estimated: %s × this process's CPU time (%s)", m->est.how, rapl_why);
    }
    if (k < (int)sizeof m->source) {
        if (m->nvml)
            snprintf(m->source + k, sizeof m->source - (size_t)k, "; GPU measured: %s", tg__nvml_describe(m->nvml));
        else
            snprintf(m->source + k, sizeof m->source - (size_t)k, "; %s", gpu_why);
    }
    update_label(m);
    m->t0 = m->last_t = now_s();
    m->cpu_s0 = tg__process_cpu_seconds();
    return m;
}

void tg_meter_free(tg_meter *m) {
    if (!m)
        return;
    tg__nvml_close(m->nvml);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

bool tg_meter_estimated(const tg_meter *m) { return !m->rapl_ok; }
bool tg_meter_has_gpu(const tg_meter *m) { return m->nvml != NULL; }
const char *tg_meter_label(const tg_meter *m) { return m->label; }

tg_status tg_meter_read(tg_meter *m, tg_meter_reading *out) {
    pthread_mutex_lock(&m->mu);
    tg_status s = TG_OK;
    double t = now_s(), cpu_s = tg__process_cpu_seconds();
    double cpu_j = 0.0, gpu_j = 0.0;
    if (m->rapl_ok) {
        double uj = 0.0;
        s = tg__rapl_delta(&m->rapl, &uj);
        cpu_j = uj * 1e-6;
    }
    if (s == TG_OK && m->nvml)
        s = tg__nvml_delta(m->nvml, t - m->last_t, &gpu_j);
    if (s == TG_OK) {
        m->last_t = t;
        m->total.seconds = t - m->t0;
        m->total.cpu_seconds = cpu_s - m->cpu_s0;
        if (m->rapl_ok)
            m->total.cpu_joules += cpu_j;
        else /* the estimate: cumulative by construction, no delta to add */
            m->total.cpu_joules = m->est.watts_per_thread * m->total.cpu_seconds;
        m->total.gpu_joules += gpu_j;
        *out = m->total;
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

/* max(0, x): an interval quieter than the idle baseline used no energy of its own. */
static double pos(double x) { return x > 0.0 ? x : 0.0; }

double tg_meter_joules(const tg_meter *m, const tg_meter_reading *a, const tg_meter_reading *b) {
    double dt = b->seconds - a->seconds;
    return pos(b->cpu_joules - a->cpu_joules - m->idle_cpu_w * dt) +
           pos(b->gpu_joules - a->gpu_joules - m->idle_gpu_w * dt);
}

tg_status tg_meter_set_idle(tg_meter *m, const tg_meter_reading *a, const tg_meter_reading *b) {
    double dt = b->seconds - a->seconds;
    if (!(dt > 0))
        return tg__fail(TG_ERR_ARG, "meter: the idle period has no duration");
    pthread_mutex_lock(&m->mu);
    m->idle_cpu_w = pos((b->cpu_joules - a->cpu_joules) / dt);
    m->idle_gpu_w = pos((b->gpu_joules - a->gpu_joules) / dt);
    m->idle_known = true;
    update_label(m);
    pthread_mutex_unlock(&m->mu);
    return TG_OK;
}

tg_status tg_meter_measure_idle(tg_meter *m, double seconds) {
    if (!(seconds > 0) || seconds > 3600)
        return tg__fail(TG_ERR_ARG, "meter: idle period of %g s (want (0, 3600])", seconds);
    tg_meter_reading a, b;
    tg_status s = tg_meter_read(m, &a);
    if (s != TG_OK)
        return s;
    struct timespec req = {.tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&req, &req) != 0 && errno == EINTR)
        ;
    if ((s = tg_meter_read(m, &b)) != TG_OK)
        return s;
    return tg_meter_set_idle(m, &a, &b);
}

double tg_meter_idle_watts(const tg_meter *m) {
    return m->idle_known ? m->idle_cpu_w + m->idle_gpu_w : 0.0;
}
