/*
 * grammar_num.c — the NUM element: a JSON number read digit by digit, with
 * its range enforced exactly while it is being written.
 *
 * A bounded number tracks its digits; a digit (or sign, or point) is taken
 * only if some completion of the text so far still lies in [lo, hi], so a
 * number can never paint itself into a corner.  Bounds are scaled integers:
 * the smallest (largest) scaled value whose decimal text a JSON parser reads
 * as >= lo (<= hi), found with strtod — the conversion validators use — so
 * "in range" here means in range there.  Bounded numbers have no exponent
 * and floats at most TG__NUM_FRAC decimals; integers never print "-0".
 *
 * The state lives in a frame: count packs phase / sign / digit counts,
 * aux holds the digits read so far (bounded numbers only).
 *
 * What this file must never do: overflow (all range math is in 128 bits on
 * values below 10^38), or accept a digit that leaves no valid completion.
 */
#include "gen/grammar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef __int128 i128;

enum { P_START, P_SIGN, P_ZERO, P_INT, P_DOT, P_FRAC, P_E, P_ESIGN, P_EXP };

#define PHASE(c) ((c)&15u)
#define NEG(c) ((c) >> 4 & 1u)
#define NINT(c) ((c) >> 5 & 31u)
#define NFRAC(c) ((c) >> 10 & 31u)
#define NEXP(c) ((c) >> 15 & 7u)
#define PACK(ph, neg, ni, nf, ne)                                                               \
    ((uint32_t)(ph) | (uint32_t)(neg) << 4 | (uint32_t)(ni) << 5 | (uint32_t)(nf) << 10 |       \
     (uint32_t)(ne) << 15)

static i128 p10(int k) {
    i128 v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* Do the magnitudes [a, b] (sign applied) meet [lo, hi]? */
static bool hits(const tg__num *s, bool neg, i128 a, i128 b) {
    i128 lo = neg ? -b : a, hi = neg ? -a : b;
    return !(hi < (i128)s->lo || lo > (i128)s->hi);
}

/* Can the text read so far still end inside the range? */
static bool feasible(const tg__num *s, uint32_t c, uint64_t mant) {
    int f = s->frac;
    i128 scale = p10(f), m = (i128)mant;
    bool neg = NEG(c);
    switch (PHASE(c)) {
    case P_SIGN: return hits(s, true, 1, p10(s->int_digits + f) - 1);
    case P_ZERO: return hits(s, neg, 0, s->integer ? 0 : scale - 1);
    case P_INT:
        if (hits(s, neg, m * scale, m * scale + (s->integer ? 0 : scale - 1)))
            return true;
        for (int j = 1; (int)NINT(c) + j <= s->int_digits; j++) {
            i128 p = p10(j + f);
            if (hits(s, neg, m * p, (m + 1) * p - 1))
                return true;
        }
        return false;
    case P_DOT: return hits(s, neg, m * scale, m * scale + scale - 1);
    case P_FRAC: {
        i128 unit = p10(f - (int)NFRAC(c));
        return hits(s, neg, m * unit, m * unit + unit - 1);
    }
    default: return true;
    }
}

bool tg__num_take(const tg__num *s, uint32_t *count, uint64_t *aux, uint8_t b) {
    uint32_t c = *count;
    uint64_t m = *aux;
    uint32_t ph = PHASE(c), neg = NEG(c), ni = NINT(c), nf = NFRAC(c), ne = NEXP(c);
    bool digit = b >= '0' && b <= '9';
    unsigned d = b - '0';
    bool exp_ok = !s->bounded && !s->integer && s->exp_digits > 0;
    switch (ph) {
    case P_START:
        if (b == '-') {
            c = PACK(P_SIGN, 1, 0, 0, 0);
            break;
        }
        /* a first digit */
        __attribute__((fallthrough));
    case P_SIGN:
        if (!digit || (d == 0 && neg && s->integer))
            return false;
        c = PACK(d == 0 ? P_ZERO : P_INT, neg, 1, 0, 0);
        m = d;
        break;
    case P_ZERO:
    case P_INT:
        if (digit && ph == P_INT && ni < s->int_digits) {
            c = PACK(P_INT, neg, ni + 1, 0, 0);
            m = m * 10 + d;
        } else if (b == '.' && !s->integer) {
            c = PACK(P_DOT, neg, ni, 0, 0);
        } else if ((b == 'e' || b == 'E') && exp_ok) {
            c = PACK(P_E, neg, ni, 0, 0);
        } else {
            return false;
        }
        break;
    case P_DOT:
    case P_FRAC:
        if (digit && nf < s->frac) {
            c = PACK(P_FRAC, neg, ni, nf + 1, 0);
            if (s->bounded)
                m = m * 10 + d;
        } else if ((b == 'e' || b == 'E') && ph == P_FRAC && exp_ok) {
            c = PACK(P_E, neg, ni, nf, 0);
        } else {
            return false;
        }
        break;
    case P_E:
        if (b == '+' || b == '-') {
            c = PACK(P_ESIGN, neg, ni, nf, 0);
            break;
        }
        __attribute__((fallthrough));
    case P_ESIGN:
    case P_EXP:
        if (!digit || (ph == P_EXP && ne >= s->exp_digits))
            return false;
        c = PACK(P_EXP, neg, ni, nf, ph == P_EXP ? ne + 1 : 1);
        break;
    default: return false;
    }
    if (s->bounded && !feasible(s, c, m))
        return false;
    if (!s->bounded)
        m = 0; /* unbounded numbers keep no digits: equal texts, equal states */
    *count = c;
    *aux = m;
    return true;
}

bool tg__num_can_exit(const tg__num *s, uint32_t c, uint64_t m) {
    uint32_t ph = PHASE(c);
    bool complete = ph == P_ZERO || ph == P_INT || (ph == P_FRAC && NFRAC(c) > 0) || ph == P_EXP;
    if (!complete)
        return false;
    if (!s->bounded)
        return true;
    i128 v = (i128)m * p10(s->frac - (int)NFRAC(c));
    if (NEG(c))
        v = -v;
    return v >= (i128)s->lo && v <= (i128)s->hi;
}

bool tg__num_range_ok(const tg__num *s) {
    if (!s->bounded)
        return true;
    /* the candidates must also be writable with int_digits digits */
    i128 span = p10(s->int_digits + s->frac) - 1;
    i128 lo = s->lo > -span ? s->lo : -span, hi = s->hi < span ? s->hi : span;
    return lo <= hi;
}

/* ------------------------------------------------------------------ */
/* Bounds from a schema                                                */
/* ------------------------------------------------------------------ */

/* strtod of the decimal text of k / 10^frac, as a validator would read it. */
static double text_value(int64_t k, uint8_t frac) {
    char buf[320];
    uint64_t mag = k < 0 ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;
    uint64_t scale = 1;
    for (int i = 0; i < frac; i++)
        scale *= 10;
    if (frac == 0)
        snprintf(buf, sizeof buf, "%s%llu", k < 0 ? "-" : "", (unsigned long long)mag);
    else
        snprintf(buf, sizeof buf, "%s%llu.%0*llu", k < 0 ? "-" : "",
                 (unsigned long long)(mag / scale), (int)frac, (unsigned long long)(mag % scale));
    return strtod(buf, NULL);
}

static bool lower_ok(int64_t k, double x, bool excl, uint8_t frac) {
    double v = text_value(k, frac);
    return excl ? v > x : v >= x;
}

static bool upper_ok(int64_t k, double x, bool excl, uint8_t frac) {
    double v = text_value(k, frac);
    return excl ? v < x : v <= x;
}

/* The scaled span a bound may take: 18 decimal digits. */
#define SPAN 999999999999999999LL

bool tg__num_lower(double x, bool excl, uint8_t frac, int64_t *out) {
    if (isnan(x))
        return false;
    long double t = ceill((long double)x * powl(10.0L, frac));
    if (t <= -(long double)SPAN) {
        *out = -SPAN;
        return true;
    }
    if (t > (long double)SPAN)
        return false; /* nothing writable is that large */
    int64_t k = (int64_t)t;
    /* the product above rounds: settle on the exact answer by stepping */
    while (k < SPAN && !lower_ok(k, x, excl, frac))
        k++;
    if (!lower_ok(k, x, excl, frac))
        return false;
    while (k > -SPAN && lower_ok(k - 1, x, excl, frac))
        k--;
    *out = k;
    return true;
}

bool tg__num_upper(double x, bool excl, uint8_t frac, int64_t *out) {
    if (isnan(x))
        return false;
    long double t = floorl((long double)x * powl(10.0L, frac));
    if (t >= (long double)SPAN) {
        *out = SPAN;
        return true;
    }
    if (t < -(long double)SPAN)
        return false;
    int64_t k = (int64_t)t;
    while (k > -SPAN && !upper_ok(k, x, excl, frac))
        k--;
    if (!upper_ok(k, x, excl, frac))
        return false;
    while (k < SPAN && upper_ok(k + 1, x, excl, frac))
        k++;
    *out = k;
    return true;
}
