/*
 * cost.c — what an hour of a device and a million tokens cost (tg_cost_* in
 * tinglado.h).  The formulas, written out with a worked example that
 * tests/meter/test_meter.c reproduces, are in docs/energy-and-cost.md:
 *
 *   utilised hours   Hu = years × 8760 × U
 *   hardware / hour  A  = capex / Hu                      (or the rent)
 *   energy / hour    Eh = price × PUE × (W + W_idle × (1 − U) / U) / 1000
 *   break-even hour  A + Eh
 *
 *   seconds / Mtok   S  = 10^6 / tokens_per_second
 *   energy / Mtok    price × PUE × (J_tok × 10^6 + W_idle × S / U) / 3.6·10^6
 *   hardware / Mtok  A × S / 3600
 *
 * Pure arithmetic on validated inputs: this file must never measure, round
 * or invent a default price.
 */
#include "base/base.h"

#include <math.h>

#define HOURS_PER_YEAR 8760.0 /* 365 days */

tg_cost_params tg_cost_default_params(void) {
    return (tg_cost_params){.pue = 1.0, .utilisation = 1.0};
}

static bool finite_nonneg(double x) { return isfinite(x) && x >= 0.0; }

static tg_status check(const tg_cost_params *p) {
    if (!finite_nonneg(p->price_kwh))
        return tg__fail(TG_ERR_ARG, "the electricity price must be >= 0, not %g", p->price_kwh);
    if (!(isfinite(p->pue) && p->pue >= 1.0))
        return tg__fail(TG_ERR_ARG, "PUE must be >= 1 (1 for a machine at home), not %g", p->pue);
    if (!(isfinite(p->utilisation) && p->utilisation > 0.0 && p->utilisation <= 1.0))
        return tg__fail(TG_ERR_ARG, "utilisation must lie in (0, 1], not %g", p->utilisation);
    if (!finite_nonneg(p->capex) || !finite_nonneg(p->rent_hour) || !finite_nonneg(p->idle_watts))
        return tg__fail(TG_ERR_ARG, "prices and idle watts must be >= 0");
    if (p->capex > 0 && !(isfinite(p->years) && p->years > 0.0))
        return tg__fail(TG_ERR_ARG, "a purchase price needs a lifetime in years > 0, not %g", p->years);
    if (p->capex > 0 && p->rent_hour > 0)
        return tg__fail(TG_ERR_ARG, "give a purchase price or a rented hour's price, not both");
    return TG_OK;
}

/* Amortisation of the purchase price over the utilised hours. */
static double capex_per_hour(const tg_cost_params *p) {
    return p->capex > 0 ? p->capex / (p->years * HOURS_PER_YEAR * p->utilisation) : 0.0;
}

tg_status tg_cost_gpu_hour(const tg_cost_params *p, double watts, tg_cost *out) {
    tg_status s = check(p);
    if (s != TG_OK)
        return s;
    if (!finite_nonneg(watts))
        return tg__fail(TG_ERR_ARG, "watts must be >= 0, not %g", watts);
    if (p->rent_hour > 0)
        return tg__fail(TG_ERR_ARG, "a GPU hour's break-even price comes from a purchase price, not a rent");
    const double u = p->utilisation;
    out->hardware = capex_per_hour(p);
    /* The idle draw of the hours nobody pays for is carried by the paid ones. */
    out->energy = p->price_kwh * p->pue * (watts + p->idle_watts * (1.0 - u) / u) / 1000.0;
    out->total = out->hardware + out->energy;
    return TG_OK;
}

tg_status tg_cost_per_mtok(const tg_cost_params *p, double joules_per_token, double tokens_per_second,
                           tg_cost *out) {
    tg_status s = check(p);
    if (s != TG_OK)
        return s;
    if (!finite_nonneg(joules_per_token))
        return tg__fail(TG_ERR_ARG, "joules per token must be >= 0, not %g", joules_per_token);
    const bool needs_speed = p->capex > 0 || p->rent_hour > 0 || p->idle_watts > 0;
    if (needs_speed && !(isfinite(tokens_per_second) && tokens_per_second > 0))
        return tg__fail(TG_ERR_ARG, "hardware, rent and idle shares need tokens per second > 0");
    const double secs = needs_speed ? 1e6 / tokens_per_second : 0.0; /* seconds per million tokens */
    if (p->rent_hour > 0) {
        out->energy = 0.0; /* a rented hour's price includes its power */
        out->hardware = p->rent_hour * secs / 3600.0;
    } else {
        double joules = joules_per_token * 1e6 + p->idle_watts * secs / p->utilisation;
        out->energy = p->price_kwh * p->pue * joules / 3.6e6;
        out->hardware = capex_per_hour(p) * secs / 3600.0;
    }
    out->total = out->energy + out->hardware;
    return TG_OK;
}

double tg_cost_of_joules(const tg_cost_params *p, double joules) {
    if (check(p) != TG_OK || !finite_nonneg(joules))
        return 0.0;
    return p->price_kwh * p->pue * joules / 3.6e6;
}
