/*
 * fake_nvml.c — a stand-in for libnvidia-ml.so.1 so the meter's NVML path
 * runs without a GPU.  test_meter.c compiles it into a shared library and
 * points the meter at it.  Not part of libtinglado.
 *
 * Device 0 has an energy counter that gains exactly 1,000 mJ per read;
 * device 1 has none (NOT_SUPPORTED) and reports a steady 100 W.
 * FAKE_NVML_DEVICES=0 makes it find no device; FAKE_NVML_INIT_FAIL=1 makes
 * nvmlInit_v2 fail.
 */
#include <stdlib.h>
#include <string.h>

typedef struct fake_dev { int id; } fake_dev;
static fake_dev devs[2] = {{0}, {1}};
static unsigned long long counter = 5000000;

int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlDeviceGetCount_v2(unsigned *n);
int nvmlDeviceGetHandleByIndex_v2(unsigned i, fake_dev **d);
int nvmlDeviceGetName(fake_dev *d, char *name, unsigned len);
int nvmlDeviceGetTotalEnergyConsumption(fake_dev *d, unsigned long long *mj);
int nvmlDeviceGetPowerUsage(fake_dev *d, unsigned *mw);

int nvmlInit_v2(void) {
    const char *f = getenv("FAKE_NVML_INIT_FAIL");
    return f && *f == '1' ? 999 : 0;
}
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned *n) {
    const char *v = getenv("FAKE_NVML_DEVICES");
    *n = v ? (unsigned)atoi(v) : 2;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, fake_dev **d) {
    if (i > 1)
        return 2;
    *d = &devs[i];
    return 0;
}
int nvmlDeviceGetName(fake_dev *d, char *name, unsigned len) {
    strncpy(name, d->id == 0 ? "Fake GPU" : "Fake GPU without counter", len - 1);
    name[len - 1] = '\0';
    return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(fake_dev *d, unsigned long long *mj) {
    if (d->id != 0)
        return 3; /* NVML_ERROR_NOT_SUPPORTED */
    counter += 1000;
    *mj = counter;
    return 0;
}
int nvmlDeviceGetPowerUsage(fake_dev *d, unsigned *mw) {
    *mw = 100000;
    return 0;
}
