/*
 * progress.h — the download progress display on stderr: a bar redrawn in
 * place on a terminal, plain lines (every 10%) when stderr is a file or a
 * pipe, so logs stay readable.  Internal to the library and the CLI.
 */
#ifndef TG_NET_PROGRESS_H
#define TG_NET_PROGRESS_H

#include "base/base.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum tg__progress_mode {
    TG__PROGRESS_AUTO = 0, /* a redrawn bar on a terminal, plain lines otherwise */
    TG__PROGRESS_BAR,
    TG__PROGRESS_LINES,
    TG__PROGRESS_NONE,
} tg__progress_mode;

typedef struct tg__progress {
    tg__progress_mode mode; /* never AUTO once started */
    const char *label;
    uint64_t total;         /* 0 if unknown */
    double t_start, t_draw, t_sample;
    uint64_t bytes_sample;  /* bytes done at t_sample */
    uint64_t bytes_start;   /* bytes done when this run began (a resume) */
    double rate;            /* bytes per second, smoothed */
    int last_tenth;         /* lines mode: the last 10% step printed */
    bool on_screen;         /* bar mode: a bar waits for its newline */
} tg__progress;

/* Starts a display of `label` with `done` of `total` bytes already there. */
void tg__progress_start(tg__progress *p, tg__progress_mode mode, const char *label,
                        uint64_t total, uint64_t done);
/* The transfer is at `done` bytes; `final` draws the last state for good. */
void tg__progress_update(tg__progress *p, uint64_t done, bool final);
/* The count went back to zero (the server sent the whole file again). */
void tg__progress_restart(tg__progress *p);
/* Ends a bar's line so another message can be printed. */
void tg__progress_break(tg__progress *p);

/* "12.3 MiB" and the like. */
void tg__fmt_bytes(char *out, size_t cap, uint64_t bytes);

#endif /* TG_NET_PROGRESS_H */
