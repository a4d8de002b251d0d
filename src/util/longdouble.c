/*
 * Extended-precision ("long double") arithmetic for INCRBYFLOAT and
 * HINCRBYFLOAT. The reference server computes these in the C long double
 * of the platform (80-bit x87 on x86-64, 128-bit on some others), parses
 * with strtold and prints with "%.17Lf"; the results are only reproducible
 * byte for byte by doing the same arithmetic, so it is done here in C.
 * Blocking commands' timeouts are parsed the same way.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest accepted input, and the size of the output buffer. */
#define STRATA_LD_CHARS 5120

/* Parses the whole of s[0..len) as a long double: no leading space, nothing
 * left over, no overflow or underflow to zero, not NaN. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[STRATA_LD_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len) return 0;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) return 0;
    if (errno == EINVAL || isnan(v)) return 0;
    *out = v;
    return 1;
}

/* "%.17Lf" with the zeros after the point trimmed (and the point when
 * nothing is left after it); "-0" becomes "0". Returns the length, 0 when
 * the text does not fit. */
static size_t format_ld(long double v, char *out, size_t cap) {
    int n = snprintf(out, cap, "%.17Lf", v);
    size_t l;

    if (n < 0 || (size_t)n + 1 > cap) return 0;
    l = (size_t)n;
    if (memchr(out, '.', l) != NULL) {
        while (l > 0 && out[l - 1] == '0') l--;
        if (l > 0 && out[l - 1] == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    out[l] = '\0';
    return l;
}

/* cur (NULL for a missing value, taken as 0) + incr, formatted into out.
 * Returns 0 on success with *outlen set, 1 when either operand is not a
 * valid number, 2 when the sum is infinite or NaN. */
int strata_ld_add(const char *cur, size_t curlen, const char *incr, size_t incrlen,
                  char *out, size_t cap, size_t *outlen) {
    long double a = 0, b = 0, sum;

    if (cur != NULL && !parse_ld(cur, curlen, &a)) return 1;
    if (!parse_ld(incr, incrlen, &b)) return 1;
    sum = a + b;
    if (isnan(sum) || isinf(sum)) return 2;
    *outlen = format_ld(sum, out, cap);
    return 0;
}

/* Whether s[0..len) is a valid long double as strata_ld_add accepts it. */
int strata_ld_valid(const char *s, size_t len) {
    long double v;
    return parse_ld(s, len, &v);
}

/* A blocking command's timeout: s[0..len) seconds parsed as a long double,
 * made milliseconds and rounded up. Returns 0 when s is not a valid number,
 * else 1 with *ms set. A product that does not fit a long long becomes
 * LLONG_MIN, the value x86's conversion yields and the reference then
 * reports as a negative timeout (inf, 1e16). */
int strata_ld_timeout_ms(const char *s, size_t len, long long *ms) {
    long double v;

    if (!parse_ld(s, len, &v)) return 0;
    v = ceill(v * 1000.0L);
    if (v >= -9223372036854775808.0L && v < 9223372036854775808.0L)
        *ms = (long long)v;
    else
        *ms = LLONG_MIN;
    return 1;
}
