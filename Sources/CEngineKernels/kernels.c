#include "CEngineKernels.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define FV_X86 1
#define FV_AVX2 __attribute__((target("avx2,fma")))
#else
#define FV_X86 0
#define FV_AVX2
#endif
#define FV_INLINE static inline __attribute__((always_inline))

// exp(x) as in Sources/Engine/Activations.swift (Cephes expf polynomial, 2^n from the exponent bits),
// written branch-free so that the loops below vectorise.
FV_INLINE float fv_exp(float x) {
    float xc = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
    const float magic = 12582912.0f;
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float er = p * r * r + r + 1.0f;
    int32_t tb;
    memcpy(&tb, &t, 4);
    int32_t e = (int32_t)((uint32_t)(tb - 0x4B400000 + 127) << 23);
    float scale;
    memcpy(&scale, &e, 4);
    return er * scale;
}

FV_INLINE void bias_activation_body(float *restrict x, long n, float bias, int activation) {
    switch (activation) {
    case FV_ACT_IDENTITY:
        for (long i = 0; i < n; i++) x[i] += bias;
        break;
    case FV_ACT_RELU:
        for (long i = 0; i < n; i++) { float v = x[i] + bias; x[i] = v > 0 ? v : 0; }
        break;
    case FV_ACT_RELU6:
        for (long i = 0; i < n; i++) { float v = x[i] + bias; v = v > 0 ? v : 0; x[i] = v < 6 ? v : 6; }
        break;
    case FV_ACT_SILU:
        for (long i = 0; i < n; i++) { float v = x[i] + bias; x[i] = v / (1.0f + fv_exp(-v)); }
        break;
    case FV_ACT_SIGMOID:
        for (long i = 0; i < n; i++) { float v = x[i] + bias; x[i] = 1.0f / (1.0f + fv_exp(-v)); }
        break;
    }
}

FV_INLINE void depthwise_body(float *restrict acc, const float *restrict padded, long span, long wp,
                              const float *restrict w, int kh, int kw) {
    for (int ky = 0; ky < kh; ky++) {
        const float *r = padded + ky * wp;
        const float *wr = w + ky * kw;
        if (kw == 3) {
            float w0 = wr[0], w1 = wr[1], w2 = wr[2];
            for (long i = 0; i < span; i++) acc[i] += w0 * r[i] + w1 * r[i + 1] + w2 * r[i + 2];
        } else if (kw == 5) {
            float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4];
            for (long i = 0; i < span; i++)
                acc[i] += w0 * r[i] + w1 * r[i + 1] + w2 * r[i + 2] + w3 * r[i + 3] + w4 * r[i + 4];
        } else {
            for (int kx = 0; kx < kw; kx++) {
                float wv = wr[kx];
                const float *t = r + kx;
                for (long i = 0; i < span; i++) acc[i] += wv * t[i];
            }
        }
    }
}

#if FV_X86
FV_AVX2 static void bias_activation_avx2(float *x, long n, float bias, int activation) {
    bias_activation_body(x, n, bias, activation);
}
FV_AVX2 static void depthwise_avx2(float *acc, const float *padded, long span, long wp, const float *w, int kh, int kw) {
    depthwise_body(acc, padded, span, wp, w, kh, kw);
}
#endif

// Decided once at load time, before any thread can call a kernel (a lazily set global would be a data race
// between the worker threads of the first parallel call).
static int use_avx2;

__attribute__((constructor)) static void fv_detect_cpu(void) {
#if FV_X86
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

void fv_bias_activation(float *x, long n, float bias, int activation) {
#if FV_X86
    if (use_avx2) { bias_activation_avx2(x, n, bias, activation); return; }
#endif
    bias_activation_body(x, n, bias, activation);
}

void fv_depthwise_accumulate(float *acc, const float *padded, long span, long wp, const float *w, int kh, int kw) {
#if FV_X86
    if (use_avx2) { depthwise_avx2(acc, padded, span, wp, w, kh, kw); return; }
#endif
    depthwise_body(acc, padded, span, wp, w, kh, kw);
}
