/* vexp.h — e^x in float that the compiler can vectorize: glibc's expf is a call per element (its vector variants
 * need -ffast-math), and in the character GPT's GELU and softmaxes it took a fifth of a training step. Cody-Waite
 * range reduction x = n ln2 + r, |r| <= ln2/2, and Cephes's degree-6 polynomial for e^r (the constants of Cephes
 * expf.c, S. L. Moshier); 2^n is built in the exponent bits. Plain arithmetic in a fixed order, no fused
 * multiply-adds (the build has -ffp-contract=off): the same bits on every vector width. Relative error below
 * 2e-7 (measured 7.9e-8) on [-87, 88], checked against exp() in double by tests/test_lm.c. Inputs are clamped to
 * [-87.33, 88.37]: below, the result is ~1.2e-38 instead of a subnormal or 0; above, 2.5e38 instead of inf. */
#ifndef SO_CORE_VEXP_H
#define SO_CORE_VEXP_H

#include <math.h>
#include <stdint.h>

static inline float so__vexpf(float x)
{
    x = x < -87.33f ? -87.33f : x;
    x = x > 88.37f ? 88.37f : x;
    /* n = round(x / ln2) by adding 1.5 * 2^23 (round to nearest; floorf would not vectorize under the build's
     * trapping-math default); the low bits of t then hold n, so no float-to-int conversion is needed */
    const float t = x * 1.44269504088896341f + 12582912.0f;
    const float n = t - 12582912.0f;
    union { float f; int32_t i; } tn = { .f = t };
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    union { int32_t i; float f; } two_n = { .i = (tn.i - 0x4B400000 + 127) * (1 << 23) };
    return p * two_n.f;
}

#endif
