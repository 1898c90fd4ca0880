/*
 * nvml.c — GPU energy from NVIDIA's management library, loaded at run time
 * with dlopen so tinglado neither links against nor requires the driver.
 *
 * tinglado has no GPU backend: a GPU this reads only idles, or serves other
 * work, during a run.  It is reported (and its idle baseline subtracted) so a
 * machine's whole draw is visible, never mixed silently into CPU figures.
 *
 * Per device: nvmlDeviceGetTotalEnergyConsumption (mJ since the driver
 * loaded; Volta and later) when it works, else nvmlDeviceGetPowerUsage (mW)
 * integrated between readings with the trapezoid rule (coarser; said so in
 * the description).  This file must never fail the caller when the library
 * is absent: it returns NULL with the reason.
 */
#include "meter/meter.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few NVML declarations used, as documented in nvml.h. */
typedef int nvml_ret;
typedef struct nvml_dev_ *nvml_dev;
enum { NVML_OK = 0, MAX_GPUS = 16 };

struct tg__nvml {
    void *lib;
    nvml_ret (*shutdown)(void);
    nvml_ret (*energy)(nvml_dev, unsigned long long *);
    nvml_ret (*power)(nvml_dev, unsigned int *);
    nvml_dev dev[MAX_GPUS];
    bool has_counter[MAX_GPUS];
    unsigned long long last_mj[MAX_GPUS];
    double last_w[MAX_GPUS];
    unsigned n;
    char desc[256];
};

static void *sym(void *lib, const char *name, bool *ok) {
    void *p = dlsym(lib, name);
    if (!p)
        *ok = false;
    return p;
}

tg__nvml *tg__nvml_open(const char *lib_path, char *why, size_t why_cap) {
    const char *path = lib_path ? lib_path : "libnvidia-ml.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(why, why_cap, "no NVIDIA GPU power: %s does not load", path);
        return NULL;
    }
    tg__nvml *n = calloc(1, sizeof *n);
    if (!n) {
        dlclose(lib);
        snprintf(why, why_cap, "no NVIDIA GPU power: out of memory");
        return NULL;
    }
    n->lib = lib;
    bool ok = true;
    nvml_ret (*init)(void) = (nvml_ret(*)(void))sym(lib, "nvmlInit_v2", &ok);
    n->shutdown = (nvml_ret(*)(void))sym(lib, "nvmlShutdown", &ok);
    nvml_ret (*count)(unsigned *) = (nvml_ret(*)(unsigned *))sym(lib, "nvmlDeviceGetCount_v2", &ok);
    nvml_ret (*handle)(unsigned, nvml_dev *) = (nvml_ret(*)(unsigned, nvml_dev *))sym(lib, "nvmlDeviceGetHandleByIndex_v2", &ok);
    nvml_ret (*name)(nvml_dev, char *, unsigned) = (nvml_ret(*)(nvml_dev, char *, unsigned))sym(lib, "nvmlDeviceGetName", &ok);
    n->energy = (nvml_ret(*)(nvml_dev, unsigned long long *))sym(lib, "nvmlDeviceGetTotalEnergyConsumption", &ok);
    n->power = (nvml_ret(*)(nvml_dev, unsigned int *))sym(lib, "nvmlDeviceGetPowerUsage", &ok);
    if (!ok) {
        snprintf(why, why_cap, "no NVIDIA GPU power: %s lacks the NVML functions used", path);
        dlclose(lib);
        free(n);
        return NULL;
    }
    nvml_ret rc = init();
    unsigned total = 0;
    if (rc != NVML_OK || count(&total) != NVML_OK || total == 0) {
        snprintf(why, why_cap, "no NVIDIA GPU power: NVML %s", rc != NVML_OK ? "failed to initialise" : "finds no device");
        if (rc == NVML_OK)
            n->shutdown();
        dlclose(lib);
        free(n);
        return NULL;
    }
    char first[96] = "?";
    int counters = 0;
    for (unsigned i = 0; i < total && n->n < MAX_GPUS; i++) {
        nvml_dev d;
        if (handle(i, &d) != NVML_OK)
            continue;
        unsigned long long mj;
        unsigned mw;
        bool counter = n->energy(d, &mj) == NVML_OK;
        if (!counter && n->power(d, &mw) != NVML_OK)
            continue; /* neither reading works: this device cannot be metered */
        if (n->n == 0)
            name(d, first, sizeof first);
        n->dev[n->n] = d;
        n->has_counter[n->n] = counter;
        n->last_mj[n->n] = counter ? mj : 0;
        n->last_w[n->n] = counter ? 0.0 : mw / 1000.0;
        counters += counter;
        n->n++;
    }
    if (n->n == 0) {
        snprintf(why, why_cap, "no NVIDIA GPU power: NVML reads neither energy nor power of its %u device(s)", total);
        tg__nvml_close(n);
        return NULL;
    }
    snprintf(n->desc, sizeof n->desc, "NVML, %u device%s (%s%s), %s", n->n, n->n == 1 ? "" : "s", first,
             n->n > 1 ? ", …" : "",
             counters == (int)n->n ? "energy counters" : "power samples integrated between readings");
    return n;
}

tg_status tg__nvml_delta(tg__nvml *n, double seconds, double *joules) {
    double sum = 0.0;
    for (unsigned i = 0; i < n->n; i++) {
        if (n->has_counter[i]) {
            unsigned long long mj;
            if (n->energy(n->dev[i], &mj) != NVML_OK)
                return tg__fail(TG_ERR_IO, "NVML: reading the energy counter of GPU %u failed", i);
            sum += mj >= n->last_mj[i] ? (double)(mj - n->last_mj[i]) / 1000.0 : 0.0; /* reset: driver reload */
            n->last_mj[i] = mj;
        } else {
            unsigned mw;
            if (n->power(n->dev[i], &mw) != NVML_OK)
                return tg__fail(TG_ERR_IO, "NVML: reading the power of GPU %u failed", i);
            double w = mw / 1000.0;
            sum += 0.5 * (w + n->last_w[i]) * seconds;
            n->last_w[i] = w;
        }
    }
    *joules = sum;
    return TG_OK;
}

const char *tg__nvml_describe(const tg__nvml *n) { return n->desc; }

void tg__nvml_close(tg__nvml *n) {
    if (!n)
        return;
    if (n->shutdown)
        n->shutdown();
    dlclose(n->lib);
    free(n);
}
