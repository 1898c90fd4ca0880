/*
 * cpu_level.c — the public name of the kernel level in use, for reports
 * (`tinglado bench`, `info`).
 */
#include "tensor/kernels/kernels.h"

const char *tg_cpu_level(void) { return tg__kernels_level(); }
