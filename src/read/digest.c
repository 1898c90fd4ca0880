/*
 * digest.c — the reading digest (`tinglado read digest`).
 */
#include "read/store.h"

tg_status tg_library_digest(tg_library *lib, int64_t since, tg_digest_format fmt, char **out) {
    (void)lib;
    (void)since;
    (void)fmt;
    *out = NULL;
    return tg__fail(TG_ERR_UNSUPPORTED, "digest: not implemented yet");
}
