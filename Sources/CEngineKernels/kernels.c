#include <stdlib.h>
#include <strings.h>
#include <stdint.h>
#include <string.h>

#include "dispatch.h"

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

#if FV_X86
FV_AVX2 static void bias_activation_avx2(float *x, long n, float bias, int activation) {
    bias_activation_body(x, n, bias, activation);
}
FV_AVX512 static void bias_activation_avx512(float *x, long n, float bias, int activation) {
    bias_activation_body(x, n, bias, activation);
}
#endif

// Decided once at load time, before any thread can call a kernel (a lazily set global would be a data race
// between the worker threads of the first parallel call).
int fv_isa = FV_ISA_BASELINE;
static int fv_isa_supported = FV_ISA_BASELINE;

__attribute__((constructor)) static void fv_detect_cpu(void) {
#if FV_X86
    __builtin_cpu_init();
    // F16C widens the half-precision weight panels; every AVX2 CPU has it, but check rather than assume.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        fv_isa_supported = FV_ISA_AVX2;
    if (fv_isa_supported == FV_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
        fv_isa_supported = FV_ISA_AVX512;
#endif
    fv_isa = fv_isa_supported;
    // FRACVIEW_MAX_ISA=avx2|baseline runs the lower path on a machine that has a higher one: the AVX2 proxy of
    // scripts/bench.sh on an AVX-512 machine (it cannot make the split 256-bit units of a Zen 1 either).
    const char *cap = getenv("FRACVIEW_MAX_ISA");
    if (cap && strcasecmp(cap, "avx2") == 0 && fv_isa > FV_ISA_AVX2) fv_isa = FV_ISA_AVX2;
    if (cap && strcasecmp(cap, "baseline") == 0) fv_isa = FV_ISA_BASELINE;
}

int fv_supported_isa(void) { return fv_isa_supported; }
int fv_current_isa(void) { return fv_isa; }
int fv_force_isa(int isa) {
    int previous = fv_isa;
    fv_isa = isa < FV_ISA_BASELINE ? FV_ISA_BASELINE : (isa > fv_isa_supported ? fv_isa_supported : isa);
    return previous;
}

void fv_bias_activation(float *x, long n, float bias, int activation) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) { bias_activation_avx512(x, n, bias, activation); return; }
    if (fv_isa >= FV_ISA_AVX2) { bias_activation_avx2(x, n, bias, activation); return; }
#endif
    bias_activation_body(x, n, bias, activation);
}
