/*
 * cpu.c — cpuid/xgetbv feature detection and the choice of a SIMD level.
 *
 * Bits read (Intel SDM vol. 2A "CPUID", AMD APM vol. 3):
 *   leaf 1 ECX:  0 SSE3, 9 SSSE3, 12 FMA, 19 SSE4.1, 20 SSE4.2, 23 POPCNT,
 *                27 OSXSAVE, 28 AVX, 29 F16C
 *   leaf 7.0 EBX: 3 BMI1, 5 AVX2, 8 BMI2, 16 AVX512F, 17 AVX512DQ,
 *                30 AVX512BW, 31 AVX512VL;  ECX: 11 AVX512_VNNI
 *   leaf 7.1 EAX: 4 AVX-VNNI, 5 AVX512_BF16
 *   XCR0 (xgetbv 0): bit 1 SSE, 2 AVX (YMM upper halves), 5 opmask,
 *                6 ZMM_Hi256, 7 Hi16_ZMM.  A CPU may have AVX-512 while the
 *                OS does not save ZMM state (then using it corrupts other
 *                processes' registers), so both must agree.
 *
 * Never executes an instruction the CPU may lack: xgetbv only after
 * OSXSAVE, leaf 7 only when leaf 0 says it exists.  Off x86 every feature
 * is false and the only level is scalar.
 */
#include "base/cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void cpuid_count(unsigned leaf, unsigned sub, unsigned r[4]) {
    r[0] = r[1] = r[2] = r[3] = 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    /* The mnemonic needs no -mxsave (unlike the _xgetbv intrinsic). */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void tg__cpu_detect(tg__cpu_features *f) {
    memset(f, 0, sizeof *f);
    unsigned r[4];
    const unsigned max_leaf = (unsigned)__get_cpuid_max(0, NULL);
    if (max_leaf == 0)
        return;
    cpuid_count(0, 0, r);
    memcpy(f->vendor + 0, &r[1], 4); /* EBX EDX ECX spell the vendor */
    memcpy(f->vendor + 4, &r[3], 4);
    memcpy(f->vendor + 8, &r[2], 4);
    f->vendor[12] = '\0';

    cpuid_count(1, 0, r);
    const unsigned ecx1 = r[2];
    f->sse3 = ecx1 & (1u << 0);
    f->ssse3 = ecx1 & (1u << 9);
    f->fma = ecx1 & (1u << 12);
    f->sse41 = ecx1 & (1u << 19);
    f->sse42 = ecx1 & (1u << 20);
    f->popcnt = ecx1 & (1u << 23);
    f->avx = ecx1 & (1u << 28);
    f->f16c = ecx1 & (1u << 29);
    const bool osxsave = ecx1 & (1u << 27);

    if (max_leaf >= 7) {
        cpuid_count(7, 0, r);
        const unsigned max_sub = r[0], ebx7 = r[1], ecx7 = r[2];
        f->bmi1 = ebx7 & (1u << 3);
        f->avx2 = ebx7 & (1u << 5);
        f->bmi2 = ebx7 & (1u << 8);
        f->avx512f = ebx7 & (1u << 16);
        f->avx512dq = ebx7 & (1u << 17);
        f->avx512bw = ebx7 & (1u << 30);
        f->avx512vl = ebx7 & (1u << 31);
        f->avx512_vnni = ecx7 & (1u << 11);
        if (max_sub >= 1) {
            cpuid_count(7, 1, r);
            f->avx_vnni = r[0] & (1u << 4);
            f->avx512_bf16 = r[0] & (1u << 5);
        }
    }

    if (osxsave) {
        const uint64_t xcr0 = read_xcr0();
        f->os_ymm = (xcr0 & 0x6u) == 0x6u;
        f->os_zmm = f->os_ymm && (xcr0 & 0xe0u) == 0xe0u;
    }

    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) {
            cpuid_count(0x80000002u + i, 0, r);
            memcpy(f->brand + 16 * i, r, 16);
        }
        f->brand[48] = '\0';
        /* Some vendors pad the brand string with leading spaces. */
        size_t lead = strspn(f->brand, " ");
        memmove(f->brand, f->brand + lead, strlen(f->brand + lead) + 1);
    }
}

#else /* not x86: no SIMD level of ours applies */

void tg__cpu_detect(tg__cpu_features *f) {
    memset(f, 0, sizeof *f);
}

#endif

static tg__cpu_features detected;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect_init(void) {
    tg__cpu_detect(&detected);
}

const tg__cpu_features *tg__cpu_features_get(void) {
    pthread_once(&detect_once, detect_init);
    return &detected;
}

const char *tg__cpu_level_name(tg__cpu_level level) {
    switch (level) {
    case TG__CPU_SCALAR: return "scalar";
    case TG__CPU_AVX2: return "avx2";
    case TG__CPU_AVX512: return "avx512";
    default: return "?";
    }
}

/* Appends ", name" (or "name" first) to missing, truncating silently. */
static void note_missing(char *missing, size_t cap, const char *name) {
    if (!missing || cap == 0)
        return;
    size_t len = strnlen(missing, cap);
    if (len + 1 >= cap)
        return;
    snprintf(missing + len, cap - len, "%s%s", len ? ", " : "", name);
}

bool tg__cpu_level_ok(const tg__cpu_features *f, tg__cpu_level level, char *missing, size_t cap) {
    if (missing && cap)
        missing[0] = '\0';
    if (level == TG__CPU_SCALAR)
        return true;
    if (level != TG__CPU_AVX2 && level != TG__CPU_AVX512) {
        note_missing(missing, cap, "a known level");
        return false;
    }
    /* Every extension in the level's compiler flags, not only those the
     * kernels use on purpose: the compiler may emit any of them. */
    struct {
        bool have;
        const char *name;
    } need[] = {
        {f->avx2, "AVX2"},
        {f->fma, "FMA"},
        {f->f16c, "F16C"},
        {f->bmi2, "BMI2"},
        {f->os_ymm, "YMM state (OS)"},
        {level < TG__CPU_AVX512 || f->avx512f, "AVX512F"},
        {level < TG__CPU_AVX512 || f->avx512bw, "AVX512BW"},
        {level < TG__CPU_AVX512 || f->avx512vl, "AVX512VL"},
        {level < TG__CPU_AVX512 || f->avx512dq, "AVX512DQ"},
        {level < TG__CPU_AVX512 || f->avx512_vnni, "AVX512_VNNI"},
        {level < TG__CPU_AVX512 || f->avx512_bf16, "AVX512_BF16"},
        {level < TG__CPU_AVX512 || f->os_zmm, "ZMM state (OS)"},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (!need[i].have) {
            ok = false;
            note_missing(missing, cap, need[i].name);
        }
    }
    return ok;
}

tg__cpu_level tg__cpu_best_level(const tg__cpu_features *f) {
    for (int l = TG__CPU_LEVEL_COUNT - 1; l > TG__CPU_SCALAR; l--)
        if (tg__cpu_level_ok(f, (tg__cpu_level)l, NULL, 0))
            return (tg__cpu_level)l;
    return TG__CPU_SCALAR;
}

tg__cpu_level tg__cpu_select_level(const tg__cpu_features *f, const char *request, char *warn,
                                   size_t cap) {
    if (warn && cap)
        warn[0] = '\0';
    const tg__cpu_level best = tg__cpu_best_level(f);
    if (!request || !*request)
        return best;
    for (int l = 0; l < TG__CPU_LEVEL_COUNT; l++) {
        if (strcmp(request, tg__cpu_level_name((tg__cpu_level)l)) != 0)
            continue;
        char missing[160];
        if (tg__cpu_level_ok(f, (tg__cpu_level)l, missing, sizeof missing))
            return (tg__cpu_level)l;
        if (warn && cap)
            snprintf(warn, cap, "TINGLADO_CPU=%s, but this CPU lacks %s; using %s", request, missing,
                     tg__cpu_level_name(best));
        return best;
    }
    if (warn && cap)
        snprintf(warn, cap, "TINGLADO_CPU=%s is not scalar, avx2 or avx512; using %s", request,
                 tg__cpu_level_name(best));
    return best;
}
