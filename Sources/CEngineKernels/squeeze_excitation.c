// The squeeze-excitation's two small products on the pooled vector, without the per-call overhead of BLAS gemv
// (32 of them per B4 forward, each a few microseconds of arithmetic).
#include "dispatch.h"

// Sum of a[i]*b[i] in 16 independent lanes, so it vectorises without reassociating a single sum.
FV_INLINE float dot(const float *restrict a, const float *restrict b, long n) {
    float lane[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) lane[j] += a[i + j] * b[i + j];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < 16; j++) s += lane[j];
    return s;
}

FV_INLINE void se_body(const float *pooled, long channels, long squeezed, const float *w1, const float *b1, int act1,
                       const float *w2t, const float *b2, int act2, float *hidden, float *scale) {
    for (long o = 0; o < squeezed; o++) hidden[o] = fv_activate(dot(w1 + o * channels, pooled, channels) + b1[o], act1);
    // The expansion as a sum of rows of W2 transposed ([squeezed][channels]): long vector loops over channels.
    for (long c = 0; c < channels; c++) scale[c] = b2[c];
    for (long j = 0; j < squeezed; j++) {
        float h = hidden[j];
        const float *row = w2t + j * channels;
        for (long c = 0; c < channels; c++) scale[c] += h * row[c];
    }
    switch (act2) {
    case FV_ACT_SIGMOID:
        for (long c = 0; c < channels; c++) scale[c] = 1.0f / (1.0f + fv_exp(-scale[c]));
        break;
    default:
        for (long c = 0; c < channels; c++) scale[c] = fv_activate(scale[c], act2);
        break;
    }
}

static void se_baseline(const float *p, long c, long s, const float *w1, const float *b1, int a1, const float *w2t,
                        const float *b2, int a2, float *h, float *out) {
    se_body(p, c, s, w1, b1, a1, w2t, b2, a2, h, out);
}
#if FV_X86
FV_AVX2 static void se_avx2(const float *p, long c, long s, const float *w1, const float *b1, int a1, const float *w2t,
                            const float *b2, int a2, float *h, float *out) {
    se_body(p, c, s, w1, b1, a1, w2t, b2, a2, h, out);
}
FV_AVX512 static void se_avx512(const float *p, long c, long s, const float *w1, const float *b1, int a1,
                                const float *w2t, const float *b2, int a2, float *h, float *out) {
    se_body(p, c, s, w1, b1, a1, w2t, b2, a2, h, out);
}
#endif

void fv_squeeze_excitation(const float *pooled, long channels, long squeezed, const float *w1, const float *b1,
                           int act1, const float *w2t, const float *b2, int act2, float *hidden, float *scale) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) { se_avx512(pooled, channels, squeezed, w1, b1, act1, w2t, b2, act2, hidden, scale); return; }
    if (fv_isa >= FV_ISA_AVX2) { se_avx2(pooled, channels, squeezed, w1, b1, act1, w2t, b2, act2, hidden, scale); return; }
#endif
    se_baseline(pooled, channels, squeezed, w1, b1, act1, w2t, b2, act2, hidden, scale);
}
