/*
 * progress.c — the download progress display (progress.h).  Speed is an
 * exponential average of half-second samples, so the ETA does not jump with
 * every packet; the bar fits the terminal's width (a line that wraps could
 * not be redrawn with '\r').  Writes only to stderr.
 */
#include "net/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BAR_MAX 30
#define LABEL_MAX 28

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tg__fmt_bytes(char *out, size_t cap, uint64_t b) {
    double v = (double)b;
    if (b >= (1ull << 30)) snprintf(out, cap, "%.2f GiB", v / (double)(1ull << 30));
    else if (b >= (1ull << 20)) snprintf(out, cap, "%.1f MiB", v / (double)(1ull << 20));
    else if (b >= 1024) snprintf(out, cap, "%.1f KiB", v / 1024.0);
    else snprintf(out, cap, "%" PRIu64 " B", b);
}

static void fmt_eta(char *out, size_t cap, double s) {
    if (!(s >= 0) || s > 360000) {
        snprintf(out, cap, "--:--");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

void tg__progress_start(tg__progress *p, tg__progress_mode mode, const char *label,
                        uint64_t total, uint64_t done) {
    if (mode == TG__PROGRESS_AUTO)
        mode = isatty(STDERR_FILENO) ? TG__PROGRESS_BAR : TG__PROGRESS_LINES;
    double t = now_s();
    *p = (tg__progress){
        .mode = mode,
        .label = label,
        .total = total,
        .t_start = t,
        .t_sample = t,
        .t_draw = t - 1e9,
        .bytes_sample = done,
        .bytes_start = done,
        .last_tenth = total ? (int)(10.0 * (double)TG_MIN(done, total) / (double)total) : 0,
    };
}

void tg__progress_restart(tg__progress *p) {
    p->bytes_sample = p->bytes_start = 0;
    p->last_tenth = 0;
}

/* "45%  112.0 MiB / 250.0 MiB  12.3 MiB/s  ETA 0:11" */
static void status_text(const tg__progress *p, uint64_t done, char *out, size_t cap) {
    char d[32], t[32], r[32], eta[32];
    tg__fmt_bytes(d, sizeof d, done);
    tg__fmt_bytes(r, sizeof r, (uint64_t)p->rate);
    if (p->total) {
        tg__fmt_bytes(t, sizeof t, p->total);
        double left = p->total > done ? (double)(p->total - done) : 0.0;
        fmt_eta(eta, sizeof eta, p->rate > 0 ? left / p->rate : -1);
        snprintf(out, cap, "%3d%%  %s / %s  %s/s  ETA %s",
                 (int)(100.0 * (double)done / (double)p->total), d, t, r, eta);
    } else {
        snprintf(out, cap, "%s  %s/s", d, r);
    }
}

static int term_cols(void) {
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void draw_bar(tg__progress *p, uint64_t done, const char *status) {
    /* label [####....] status, kept one column short of the edge; the bar
     * shrinks first, then goes, then the label is cut. */
    int cols = term_cols() - 1, slen = (int)strlen(status);
    int llen = (int)TG_MIN(strlen(p->label), (size_t)LABEL_MAX);
    int barw = TG_MIN(cols - llen - 4 - slen, BAR_MAX);
    if (barw < 10) {
        barw = 0;
        llen = TG_MAX(0, TG_MIN(llen, cols - 1 - slen));
    }
    char bar[BAR_MAX + 1];
    int fill = p->total ? (int)((double)barw * (double)TG_MIN(done, p->total) / (double)p->total)
                        : 0;
    for (int i = 0; i < barw; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[barw] = '\0';
    if (barw && p->total)
        fprintf(stderr, "\r%.*s [%s] %s\x1b[K", llen, p->label, bar, status);
    else
        fprintf(stderr, "\r%.*s %.*s\x1b[K", llen, p->label, TG_MAX(0, cols - llen - 1), status);
    p->on_screen = true;
}

void tg__progress_update(tg__progress *p, uint64_t done, bool final) {
    if (p->mode == TG__PROGRESS_NONE)
        return;
    double t = now_s();
    if (t - p->t_sample >= 0.5 || final) {
        double dt = t - p->t_sample;
        if (dt > 0 && done >= p->bytes_sample) {
            double inst = (double)(done - p->bytes_sample) / dt;
            p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst;
        }
        p->t_sample = t;
        p->bytes_sample = done;
    }
    /* Until the first half-second sample, the average so far. */
    if (p->rate <= 0 && t - p->t_start > 0.01 && done >= p->bytes_start)
        p->rate = (double)(done - p->bytes_start) / (t - p->t_start);
    char status[160];
    if (p->mode == TG__PROGRESS_BAR) {
        if (!final && t - p->t_draw < 0.1)
            return;
        p->t_draw = t;
        status_text(p, done, status, sizeof status);
        draw_bar(p, done, status);
        if (final)
            tg__progress_break(p);
        fflush(stderr);
        return;
    }
    /* Lines: one per 10% when the size is known, else one per 10 s; 100% is
     * left to the final call, which has the last speed. */
    int tenth = p->total ? (int)(10.0 * (double)TG_MIN(done, p->total) / (double)p->total) : 0;
    bool due = final || (p->total ? tenth > p->last_tenth && tenth < 10 : t - p->t_draw >= 10.0);
    if (!due)
        return;
    p->last_tenth = tenth;
    p->t_draw = t;
    status_text(p, done, status, sizeof status);
    fprintf(stderr, "%s: %s\n", p->label, status);
}

void tg__progress_break(tg__progress *p) {
    if (p->on_screen) {
        fputc('\n', stderr);
        p->on_screen = false;
    }
}
