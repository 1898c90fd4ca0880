/*
 * bench_energy.h — `tinglado bench --energy`: the options, the meter set-up
 * and the report, kept out of bench.c, which only reads the meter around
 * each timed run.
 */
#ifndef TG_CLI_BENCH_ENERGY_H
#define TG_CLI_BENCH_ENERGY_H

#include "cli/cli.h"

#include <stdio.h>

typedef struct tg_cli_energy_opts {
    bool on;            /* --energy                                  */
    bool estimate_only; /* --estimate: ignore RAPL                    */
    double watts;       /* --watts W for the estimate (0: lookup)     */
    double idle_s;      /* --idle-seconds (default 2; 0: none)        */
    long req_in, req_out; /* --request IN,OUT (default 500,200)       */
} tg_cli_energy_opts;

#define TG_CLI_ENERGY_USAGE                                                                          \
    "      --energy         joules/token of pp and tg, Wh per 1,000 tokens and per request\n"          \
    "                       (median, 95% bootstrap interval, n; docs/energy-and-cost.md);\n"          \
    "                       each option below implies it\n"                                           \
    "      --watts W        CPU power at full load for the estimate (default: TDP lookup)\n"          \
    "      --estimate       use the estimate even where RAPL counters can be read\n"                  \
    "      --idle-seconds S idle period measured first and subtracted (default 2; 0: none)\n"        \
    "      --request IN,OUT tokens of the typical request (default 500,200)\n"

tg_cli_energy_opts tg_cli_energy_defaults(void);
/* Parses the value of one of the options above (flag names it); prints the
 * error and returns false on a bad value. */
bool tg_cli_energy_parse(tg_cli_energy_opts *o, const char *flag, const char *arg);
/* The meter with its idle baseline measured (while nothing else of ours
 * runs); NULL after printing the error. */
tg_meter *tg_cli_energy_meter(const tg_cli_energy_opts *o);
/* Joules of each repetition (jpp: whole pp runs of n_prompt tokens, jtg: tg
 * runs of n_gen tokens; either NULL when skipped) → the figures, as text or
 * as the members of a JSON object ("energy":{…},). */
void tg_cli_energy_report(FILE *f, bool json, const tg_meter *m, const tg_cli_energy_opts *o, long n_prompt,
                          long n_gen, const double *jpp, const double *jtg, size_t reps);

#endif
