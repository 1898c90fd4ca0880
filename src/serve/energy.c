/*
 * energy.c — the energy meter inside `tinglado serve`: the scheduler reads
 * it around every forward step and shares the step's energy among the
 * requests in the batch by their tokens in it; each response's `usage` then
 * carries its joules (and their electricity cost when a price is set), and
 * /metrics a cumulative counter (docs/energy-and-cost.md, "Per request").
 *
 * Must never invent a figure: a step whose meter reading failed leaves the
 * requests in it without energy (the fields are omitted), and every figure
 * says whether it was measured or estimated.
 */
#include "serve/serve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct tg__energy {
    tg_meter *meter;
    tg_cost_params cost; /* price_kwh > 0: usage gets the electricity cost */
    const char *currency;
    bool estimated;
};

tg__energy *tg__energy_new(const tg_serve_params *p) {
    if (p->no_energy)
        return NULL;
    tg__energy *e = tg__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    tg_meter_params mp = tg_meter_default_params();
    mp.watts = p->energy_watts;
    e->cost = tg_cost_default_params();
    e->cost.price_kwh = p->price_kwh;
    e->cost.pue = p->pue > 0 ? p->pue : 1.0;
    e->currency = p->currency && *p->currency ? p->currency : "EUR";
    if (!(e->meter = tg_meter_new(&mp))) {
        free(e);
        return NULL;
    }
    e->estimated = tg_meter_estimated(e->meter);
    /* The estimate has no idle draw by construction (CPU time of this
     * process); measured sources get a baseline before any request runs. */
    if ((!e->estimated || tg_meter_has_gpu(e->meter)) && p->energy_idle_s > 0 &&
        tg_meter_measure_idle(e->meter, p->energy_idle_s) != TG_OK) {
        tg__energy_free(e);
        return NULL;
    }
    return e;
}

void tg__energy_free(tg__energy *e) {
    if (!e)
        return;
    tg_meter_free(e->meter);
    free(e);
}

const char *tg__energy_label(const tg__energy *e) { return tg_meter_label(e->meter); }
bool tg__energy_estimated(const tg__energy *e) { return e->estimated; }

bool tg__energy_begin(tg__energy *e, tg_meter_reading *a) {
    return e && tg_meter_read(e->meter, a) == TG_OK;
}

double tg__energy_end(tg__energy *e, const tg_meter_reading *a) {
    tg_meter_reading b;
    if (tg_meter_read(e->meter, &b) != TG_OK)
        return -1.0;
    return tg_meter_joules(e->meter, a, &b);
}

void tg__energy_usage(const tg__energy *e, double joules, json_t *usage) {
    if (!e || !usage || !(joules >= 0) || !isfinite(joules))
        return;
    json_object_set_new(usage, "energy_joules", json_real(joules));
    json_object_set_new(usage, "energy_source", json_string(e->estimated ? "estimated" : "measured"));
    if (e->cost.price_kwh > 0) {
        json_object_set_new(usage, "energy_cost", json_real(tg_cost_of_joules(&e->cost, joules)));
        json_object_set_new(usage, "energy_cost_currency", json_string(e->currency));
    }
}
