/* Python's float arithmetic in C, to the last bit: min/max as the builtins treat NaN, and
 * math.hypot as CPython computes it (correctly rounded; glibc's hypot differs in the last bit
 * in ~0.5% of cases). Part of the C kernel (see _ckernel.h); the tests compare with math.hypot.
 */
#ifndef STATION_HINGE_CMATH_H
#define STATION_HINGE_CMATH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h> /* PY_VERSION_HEX: the hypot of the running CPython */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Python's min(a, b) and max(a, b): the first argument unless the second compares beyond it. */
static inline double py_min(double a, double b) { return b < a ? b : a; }
static inline double py_max(double a, double b) { return b > a ? b : a; }

/* math.hypot(x, y) exactly as the running CPython computes it (Modules/mathmodule.c,
 * vector_norm): correctly rounded in practice, where glibc's hypot differs in the last bit in
 * ~0.5% of cases. 3.10-3.11 and 3.12+ differ in how they get there (and for subnormal
 * lengths, in the result), so both are here; the tests compare them with math.hypot. */
#define T27 134217729.0 /* 2**27 + 1: Veltkamp-Dekker splitting */

static inline uint64_t bits_of(double x) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double double_of(uint64_t b) {
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* frexp(max)'s exponent and ldexp(1.0, -exponent), read off the bits where that is exact; and
 * 1 / scale where that is a normal number too, else 0. */
static inline int scale_of_max(double max, double *scale, double *inverse) {
    int biased = (int)((bits_of(max) >> 52) & 0x7ff), max_e;
    if (biased >= 1 && biased <= 2044) {
        *scale = double_of((uint64_t)(2045 - biased) << 52);
        *inverse = double_of((uint64_t)(biased + 1) << 52);
        return biased - 1022;
    }
    frexp(max, &max_e);
    *scale = max_e >= -1023 ? ldexp(1.0, -max_e) : 0.0;
    *inverse = 0.0;
    return max_e;
}

/* x / scale for a power of two: a multiplication by the exact inverse where there is one (the
 * same exact quotient, so the same rounding, at a fraction of a division's latency). */
static inline double unscale(double x, double scale, double inverse) {
    return inverse != 0.0 ? x * inverse : x / scale;
}

#if PY_VERSION_HEX < 0x030C0000
/* CPython 3.10-3.11: Neumaier sums of the split squares, one differential correction. */
static inline void neumaier(double *csum, double *frac, double x) {
    double oldcsum = *csum;
    *csum += x;
    *frac += (oldcsum - *csum) + x;
}

static inline double vector_norm2(double a, double b, double max, int found_nan) {
    if (isinf(max)) return max;
    if (found_nan) return NAN;
    if (max == 0.0) return max;
    double scale, inverse, csum = 1.0, frac1 = 0.0, frac2 = 0.0, frac3 = 0.0, x, t, hi, lo, h;
    int max_e = scale_of_max(max, &scale, &inverse);
    if (max_e >= -1023) {
        const double vec[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            x = vec[i] * scale;
            t = x * T27;
            hi = t - (t - x);
            lo = x - hi;
            neumaier(&csum, &frac1, hi * hi);
            neumaier(&csum, &frac2, 2.0 * hi * lo);
            frac3 += lo * lo;
        }
        h = sqrt(csum - 1.0 + (frac1 + frac2 + frac3));
        t = h * T27;
        hi = t - (t - h);
        lo = h - hi;
        neumaier(&csum, &frac1, -hi * hi);
        neumaier(&csum, &frac2, -2.0 * hi * lo);
        neumaier(&csum, &frac3, -lo * lo);
        x = csum - 1.0 + (frac1 + frac2 + frac3);
        return unscale(h + x / (2.0 * h), scale, inverse);
    }
    x = a / max; /* subnormal lengths: divide by max instead of scaling */
    neumaier(&csum, &frac1, x * x);
    x = b / max;
    neumaier(&csum, &frac1, x * x);
    return max * sqrt(csum - 1.0 + frac1);
}
#else
/* CPython 3.12+: error-free products and sums (its dl_mul uses fma where 3.12 splits; both
 * give the exact product, so the plain-arithmetic split is used: no libm call off ARM). */
typedef struct { double hi, lo; } dl;

static inline dl dl_fast_sum(double a, double b) {
    double x = a + b;
    dl r = {x, (a - x) + b};
    return r;
}

static inline dl dl_mul(double x, double y) {
    double tx = x * T27, ty = y * T27;
    double xh = tx - (tx - x), yh = ty - (ty - y), xl = x - xh, yl = y - yh;
    double p = xh * yh, q = xh * yl + xl * yh, z = p + q;
    dl r = {z, p - z + q + xl * yl};
    return r;
}

static inline double vector_norm2(double a, double b, double max, int found_nan) {
    if (isinf(max)) return max;
    if (found_nan) return NAN;
    if (max == 0.0) return max;
    double scale, inverse;
    int max_e = scale_of_max(max, &scale, &inverse);
    if (max_e < -1023) { /* subnormal lengths: scale to normal first */
        return DBL_MIN * vector_norm2(a / DBL_MIN, b / DBL_MIN, max / DBL_MIN, found_nan);
    }
    double csum = 1.0, frac1 = 0.0, frac2 = 0.0, x, h;
    dl pr, sm;
    const double vec[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        x = vec[i] * scale;
        pr = dl_mul(x, x);
        sm = dl_fast_sum(csum, pr.hi);
        csum = sm.hi;
        frac1 += pr.lo;
        frac2 += sm.lo;
    }
    h = sqrt(csum - 1.0 + (frac1 + frac2));
    pr = dl_mul(-h, h);
    sm = dl_fast_sum(csum, pr.hi);
    csum = sm.hi;
    frac1 += pr.lo;
    frac2 += sm.lo;
    x = csum - 1.0 + (frac1 + frac2);
    h += x / (2.0 * h);
    return unscale(h, scale, inverse);
}
#endif

static inline double py_hypot(double x, double y) {
    double ax = fabs(x), ay = fabs(y), max = 0.0;
    if (ax > max) max = ax;
    if (ay > max) max = ay;
    return vector_norm2(ax, ay, max, isnan(ax) || isnan(ay));
}

/* math.hypot(x, y) <= limit, decided as Python decides it. The plain sum of squares is within a
 * few ulp of the exact one, so away from the boundary it settles the comparison (the exact
 * hypot is only computed within 1e-12 of it, or outside the range where squares are safe). */
static inline int hypot_le(double x, double y, double limit) {
    double s = x * x + y * y, l2 = limit * limit;
    if (limit > 0.0 && s > 1e-300 && s < 1e300 && l2 > 1e-300 && l2 < 1e300) {
        if (s < l2 * (1.0 - 1e-12)) return 1;
        if (s > l2 * (1.0 + 1e-12)) return 0;
    }
    return py_hypot(x, y) <= limit;
}

#endif
