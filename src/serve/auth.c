/*
 * auth.c — API keys and listen addresses.
 *
 * A request is allowed when its Authorization header is "Bearer <key>" for
 * the server's key.  The comparison runs over the whole key whatever the
 * input, so its duration does not tell an attacker how much of a guess was
 * right.  A server without a key may listen only on a loopback address
 * (server.c refuses anything else unless --insecure), which is what
 * tg__host_is_loopback decides.  Must never: log or echo a key.
 */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

bool tg__auth_ok(const char *header, const char *key) {
    if (!key || !*key)
        return true;
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *got = header + 7;
    while (*got == ' ')
        got++;
    size_t n = strlen(got), k = strlen(key);
    while (n > 0 && (got[n - 1] == ' ' || got[n - 1] == '\t'))
        n--;
    /* constant time in the key's length: every key byte is compared, the
     * length difference is folded into the result */
    unsigned char diff = (unsigned char)(n != k);
    for (size_t i = 0; i < k; i++) {
        unsigned char g = i < n ? (unsigned char)got[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)key[i]);
    }
    return diff == 0;
}

bool tg__host_is_loopback(const char *host) {
    if (!host)
        return false;
    if (!strcasecmp(host, "localhost"))
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}
