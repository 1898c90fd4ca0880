/*
 * error.c — status codes and the per-thread "last error" message.
 *
 * Every failing call in the library leaves one sentence here that names the
 * input and the problem; the CLI prints it.  Never aborts, never allocates.
 */
#include "base.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

static const char *const status_text[TG_ERR_COUNT_] = {
    [TG_OK] = "success",
    [TG_ERR_IO] = "input/output error",
    [TG_ERR_FORMAT] = "malformed input",
    [TG_ERR_UNSUPPORTED] = "unsupported",
    [TG_ERR_NOT_FOUND] = "not found",
    [TG_ERR_TYPE] = "wrong type",
    [TG_ERR_RANGE] = "value out of range",
    [TG_ERR_NOMEM] = "out of memory",
    [TG_ERR_ARG] = "invalid argument",
};

const char *tg_strerror(tg_status s) {
    if ((unsigned)s >= TG_ERR_COUNT_)
        return "unknown status";
    return status_text[s];
}

const char *tg_last_error(void) { return last_error; }

void tg__clear_error(void) { last_error[0] = '\0'; }

tg_status tg__vfail(tg_status s, const char *fmt, va_list ap) {
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return s;
}

tg_status tg__fail(tg_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tg__vfail(s, fmt, ap);
    va_end(ap);
    return s;
}

tg_status tg__fail_prefix(tg_status s, const char *fmt, ...) {
    char old[sizeof last_error];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* Append ": old", cut to fit (a truncated message beats none). */
    size_t used = n < 0 ? 0 : TG_MIN((size_t)n, sizeof last_error - 1);
    const char *parts[2] = {": ", old};
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(parts[k]), room = sizeof last_error - 1 - used;
        if (len > room)
            len = room;
        memcpy(last_error + used, parts[k], len);
        used += len;
    }
    last_error[used] = '\0';
    return s;
}
