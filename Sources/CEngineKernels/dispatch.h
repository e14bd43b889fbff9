// Internal to CEngineKernels: the instruction set the kernels run, decided once at load time.
#ifndef FV_DISPATCH_H
#define FV_DISPATCH_H
#include "CEngineKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FV_X86 1
#define FV_AVX2 __attribute__((target("avx2,fma,f16c")))
#define FV_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma,f16c")))
#else
#define FV_X86 0
#define FV_AVX2
#define FV_AVX512
#endif
#define FV_INLINE static inline __attribute__((always_inline))

// The ISA in use (FV_ISA_*). Written by the load-time constructor and by fv_force_isa (tests, before any
// parallel call), read by every kernel entry point.
extern int fv_isa;

// A buffer of at least `bytes` bytes (64-byte aligned) in one of the calling thread's slots, kept until the next
// call for that slot with a larger size or the thread's end; NULL if it cannot be had. One user at a time per slot
// and thread: no kernel nests another's use.
enum { FV_SCRATCH_PANEL, FV_SCRATCH_COLUMNS, FV_SCRATCH_SLOTS };
void *fv_thread_scratch(int slot, long bytes);

// exp(x) as in Sources/Engine/Activations.swift (Cephes expf polynomial, 2^n from the exponent bits),
// written branch-free so that the loops that call it vectorise.
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
    int tb;
    __builtin_memcpy(&tb, &t, 4);
    int e = (int)((unsigned)(tb - 0x4B400000 + 127) << 23);
    float scale;
    __builtin_memcpy(&scale, &e, 4);
    return er * scale;
}

// IEEE half to float without F16C, for the baseline GEMM (its vector paths widen with vcvtph2ps) and the matrix-vector products: branch-free so
// that the loop over a panel row vectorises. The magnitude's bits shifted into a float's place and scaled by
// 2^112 re-bias the exponent and make subnormals come out right; half panels never hold an infinity or NaN
// (Conv2d packs only finite weights in half precision).
FV_INLINE float half_to_float(unsigned short h) {
    unsigned magnitude = (unsigned)(h & 0x7FFFu) << 13, bits;
    float f;
    __builtin_memcpy(&f, &magnitude, 4);
    f *= 0x1p112f;
    __builtin_memcpy(&bits, &f, 4);
    bits |= (unsigned)(h & 0x8000u) << 16;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

FV_INLINE float fv_activate(float v, int activation) {
    switch (activation) {
    case FV_ACT_RELU: return v > 0 ? v : 0;
    case FV_ACT_RELU6: { float r = v > 0 ? v : 0; return r < 6 ? r : 6; }
    case FV_ACT_SILU: return v / (1.0f + fv_exp(-v));
    case FV_ACT_SIGMOID: return 1.0f / (1.0f + fv_exp(-v));
    default: return v;
    }
}
#endif
