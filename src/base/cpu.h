/*
 * cpu.h — what the processor (and the operating system) lets tinglado run:
 * cpuid feature bits, XGETBV state checks, and the SIMD *level* the kernels
 * dispatch on.
 *
 * A level is a set of instruction-set extensions that a kernel file was
 * compiled for (the Makefile's KERNEL_FLAGS_<file>); a level is usable only
 * when the CPU has every one of those extensions *and* the OS saves the
 * register state they use (XCR0), because the compiler may emit any of them
 * anywhere in that file.  This header never decides which kernels to use;
 * tensor/kernels/dispatch.c does, once.
 */
#ifndef TG_BASE_CPU_H
#define TG_BASE_CPU_H

#include <stdbool.h>
#include <stddef.h>

typedef enum tg__cpu_level {
    TG__CPU_SCALAR = 0, /* portable C, any CPU                                  */
    TG__CPU_AVX2 = 1,   /* AVX2 + FMA + F16C + BMI2, OS saves YMM state          */
    TG__CPU_AVX512 = 2, /* the above + AVX-512 F/BW/VL/DQ/VNNI/BF16, ZMM state   */
    TG__CPU_LEVEL_COUNT
} tg__cpu_level;

typedef struct tg__cpu_features {
    char vendor[13]; /* "GenuineIntel", "AuthenticAMD", "" off x86 */
    char brand[49];  /* processor brand string, "" if unknown      */
    bool sse3, ssse3, sse41, sse42, popcnt;
    bool avx, avx2, fma, f16c, bmi1, bmi2;
    bool avx512f, avx512bw, avx512vl, avx512dq;
    bool avx512_vnni; /* EVEX vpdpbusd (Cascade Lake, Ice Lake, Zen 4, ...)   */
    bool avx_vnni;    /* VEX vpdpbusd (Alder Lake, Zen 5): no AVX-512 needed */
    bool avx512_bf16; /* vdpbf16ps (Cooper Lake, Sapphire Rapids, Zen 4)     */
    bool os_ymm;      /* OSXSAVE and XCR0 has SSE+AVX state                   */
    bool os_zmm;      /* ... and opmask + ZMM_Hi256 + Hi16_ZMM state          */
} tg__cpu_features;

/* The features of the CPU this process runs on, detected on first call
 * (thread-safe; the result never changes). */
const tg__cpu_features *tg__cpu_features_get(void);

/* Fills *f from cpuid/xgetbv (what tg__cpu_features_get caches). */
void tg__cpu_detect(tg__cpu_features *f);

/* "scalar", "avx2", "avx512"; "?" for anything else. */
const char *tg__cpu_level_name(tg__cpu_level level);

/* Whether the CPU described by f can run `level`.  If not and missing is
 * not NULL, writes the names of the lacking features ("AVX512_BF16, ZMM
 * state (OS)") into missing[0..cap). */
bool tg__cpu_level_ok(const tg__cpu_features *f, tg__cpu_level level, char *missing, size_t cap);

/* The highest level f can run. */
tg__cpu_level tg__cpu_best_level(const tg__cpu_features *f);

/* The level to use given the value of TINGLADO_CPU (NULL or "" = the
 * best).  A forced level the CPU lacks is downgraded to the best one it
 * has, and an unknown name falls back to the best; in both cases a one-line
 * explanation is written to warn[0..cap) (else warn[0] = '\0'). */
tg__cpu_level tg__cpu_select_level(const tg__cpu_features *f, const char *request, char *warn,
                                   size_t cap);

#endif /* TG_BASE_CPU_H */
