/*
 * date.c — dates as the reading pipeline meets them: ISO 8601 / RFC 3339 in
 * page metadata and Wallabag exports, RFC 2822 in feeds and HTTP headers,
 * plain Unix seconds in Pocket, Instapaper and bookmark files.
 *
 * Everything becomes Unix seconds (UTC).  A string that is not a date is
 * "unknown" (false), never a guess and never a crash.
 */
#include "read/read.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "Z", "+01:00", "+0100", "-05", " GMT", "UTC", "EST"… at p: offset in seconds. */
static bool zone(const char *p, int64_t *off) {
    while (*p == ' ')
        p++;
    *off = 0;
    if (!*p || *p == 'Z' || *p == 'z' || !strncasecmp(p, "GMT", 3) || !strncasecmp(p, "UTC", 3) ||
        !strncasecmp(p, "UT", 2))
        return true;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, h, m = 0;
        p++;
        if (!digits(&p, 2, &h))
            return false;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &m))
            return false;
        if (h > 23 || m > 59)
            return false;
        *off = sign * (h * 3600 + m * 60);
        return true;
    }
    static const struct { const char *name; int hours; } zones[] = {
        {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(zones); i++)
        if (!strncasecmp(p, zones[i].name, 3)) {
            *off = zones[i].hours * 3600;
            return true;
        }
    return true; /* an unknown zone name: read as UTC rather than fail */
}

static bool valid(int y, int mo, int d, int h, int mi, int s) {
    return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 && s <= 60;
}

static bool iso(const char *p, int64_t *out) {
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!digits(&p, 4, &y))
        return false;
    /* a full calendar date: a bare year or year-month is too vague to sort by */
    if (*p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
        return false;
    int64_t off = 0;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        if (!digits(&p, 2, &h))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &mi))
                return false;
            if (*p == ':') {
                p++;
                if (!digits(&p, 2, &s))
                    return false;
            }
        }
        if (*p == '.' || *p == ',')
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (!zone(p, &off))
            return false;
    } else if (*p && *p != ' ' && *p != '"') {
        return false;
    }
    if (!valid(y, mo, d, h, mi, s))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    return true;
}

static int month_of(const char *p) {
    static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (!strncasecmp(p, m[i], 3))
            return i + 1;
    return 0;
}

/* "Fri, 01 Mar 2024 10:20:30 GMT" (the weekday and seconds optional). */
static bool rfc2822(const char *p, int64_t *out) {
    const char *comma = strchr(p, ',');
    if (comma && comma - p < 12)
        p = comma + 1;
    while (*p == ' ')
        p++;
    int d = 0, y, h = 0, mi = 0, s = 0;
    while (isdigit((unsigned char)*p) && d < 100)
        d = d * 10 + (*p++ - '0');
    while (*p == ' ')
        p++;
    int mo = month_of(p);
    if (!mo)
        return false;
    while (isalpha((unsigned char)*p))
        p++;
    while (*p == ' ')
        p++;
    if (!digits(&p, 4, &y))
        return false;
    while (*p == ' ')
        p++;
    int64_t off = 0;
    if (isdigit((unsigned char)*p)) {
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &s))
                return false;
        }
        if (!zone(p, &off))
            return false;
    }
    if (!valid(y, mo, d, h, mi, s))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    return true;
}

bool tg__parse_date(const char *s, int64_t *out) {
    if (!s)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    /* plain seconds: all digits, and more than 4 of them (a year is not a timestamp) */
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    if (n > 4 && n <= 12) {
        const char *r = s + n;
        while (isspace((unsigned char)*r))
            r++;
        if (!*r) {
            int64_t v = 0;
            for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
            *out = v;
            return true;
        }
    }
    if (n == 4 && iso(s, out))
        return true;
    return rfc2822(s, out);
}

void tg__format_date(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, cap, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
