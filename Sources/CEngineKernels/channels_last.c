// Channels-last (NHWC) kernels: the 1x1 conv as a GEMM on weights packed once at load, and the depthwise conv
// vectorised over channels. Each body is written once and compiled for baseline x86-64, AVX2+FMA and AVX-512;
// the entry points pick one by fv_isa. See docs/engine.md for the design and what was tried.
#include "dispatch.h"

#if FV_X86
#include <immintrin.h>
#endif

long fv_packed_size(long n, long k) { return (n + FV_PANEL - 1) / FV_PANEL * k * FV_PANEL; }

// Panel p, row r holds w[p*32 + j][r] for j < 32, zero past n: one body for F32 and for half bit patterns.
#define FV_DEFINE_PACK(NAME, T)                                                                                   \
    void NAME(const T *w, long n, long k, T *packed) {                                                          \
        long panels = (n + FV_PANEL - 1) / FV_PANEL;                                                            \
        for (long p = 0; p < panels; p++)                                                                       \
            for (long r = 0; r < k; r++) {                                                                      \
                T *row = packed + (p * k + r) * FV_PANEL;                                                       \
                for (long j = 0; j < FV_PANEL; j++) {                                                           \
                    long o = p * FV_PANEL + j;                                                                  \
                    row[j] = o < n ? w[o * k + r] : (T)0;                                                       \
                }                                                                                               \
            }                                                                                                   \
    }
FV_DEFINE_PACK(fv_pack_weights, float)
FV_DEFINE_PACK(fv_pack_weights_half, unsigned short)

// out[j] = act(acc[j] + bias[j]) (+ residual[j]) for j < n; the switch sits outside the loops so each vectorises.
FV_INLINE void finish(float *restrict out, float *restrict acc, const float *restrict out_scale,
                      const float *restrict bias, const float *restrict residual, long n, int activation) {
    if (out_scale)
        for (long j = 0; j < n; j++) acc[j] *= out_scale[j];
    switch (activation) {
    case FV_ACT_RELU:
        for (long j = 0; j < n; j++) { float v = acc[j] + bias[j]; out[j] = v > 0 ? v : 0; }
        break;
    case FV_ACT_RELU6:
        for (long j = 0; j < n; j++) { float v = acc[j] + bias[j]; v = v > 0 ? v : 0; out[j] = v < 6 ? v : 6; }
        break;
    case FV_ACT_SILU:
        for (long j = 0; j < n; j++) { float v = acc[j] + bias[j]; out[j] = v / (1.0f + fv_exp(-v)); }
        break;
    case FV_ACT_SIGMOID:
        for (long j = 0; j < n; j++) { float v = acc[j] + bias[j]; out[j] = 1.0f / (1.0f + fv_exp(-v)); }
        break;
    default:
        for (long j = 0; j < n; j++) out[j] = acc[j] + bias[j];
        break;
    }
    if (residual)
        for (long j = 0; j < n; j++) out[j] += residual[j];
}

// The epilogue's activation as a constant of each micro-kernel instantiation: the identity, a clamp (ReLU, ReLU6:
// branch-free, the upper bound a register) or the general switch (SiLU, sigmoid). A switch on the runtime code
// for every accumulator had put an indirect jump and stack spills beside each vector of a small-k tile's epilogue.
enum { FV_ACTS_NONE = 0, FV_ACTS_CLAMP = 1, FV_ACTS_OTHER = 2 };
FV_INLINE int activation_kind(int act) {
    return act == FV_ACT_IDENTITY ? FV_ACTS_NONE : act == FV_ACT_RELU || act == FV_ACT_RELU6 ? FV_ACTS_CLAMP : FV_ACTS_OTHER;
}
// A micro-kernel's copies for the activation's kind: VARIANTS(kind) with the kind a constant.
#define FV_FOR_ACTIVATION_KIND(act, VARIANTS)                                                                      \
    switch (activation_kind(act)) {                                                                                \
    case FV_ACTS_NONE: VARIANTS(FV_ACTS_NONE) break;                                                               \
    case FV_ACTS_CLAMP: VARIANTS(FV_ACTS_CLAMP) break;                                                             \
    default: VARIANTS(FV_ACTS_OTHER) break;                                                                        \
    }

#if FV_X86
// fv_exp, a reciprocal without a division (for the d >= 1 of the SiLU and sigmoid denominators: the hardware
// estimate and one Newton step, about 1e-7 relative error for AVX-512's 14-bit estimate, 2e-7 for AVX2's 12-bit one,
// several times the throughput of a vector division) and the activations on them, written once for both vector
// widths: W is the width (512, 256), V its float vector, RCP its estimate instruction.
#define FV_DEFINE_VECTOR_ACTIVATIONS(W, ATTR, V, VI, RCP)                                                          \
    FV_INLINE ATTR V exp##W(V x) {                                                                                 \
        x = _mm##W##_min_ps(_mm##W##_max_ps(x, _mm##W##_set1_ps(-87.3f)), _mm##W##_set1_ps(88.0f));                \
        const V magic = _mm##W##_set1_ps(12582912.0f);                                                             \
        V t = _mm##W##_fmadd_ps(x, _mm##W##_set1_ps(1.44269504088896341f), magic);                                 \
        V n = _mm##W##_sub_ps(t, magic);                                                                           \
        V r = _mm##W##_fnmadd_ps(n, _mm##W##_set1_ps(0.693359375f), x);                                            \
        r = _mm##W##_fnmadd_ps(n, _mm##W##_set1_ps(-2.12194440e-4f), r);                                           \
        V p = _mm##W##_set1_ps(1.9875691500e-4f);                                                                  \
        p = _mm##W##_fmadd_ps(p, r, _mm##W##_set1_ps(1.3981999507e-3f));                                           \
        p = _mm##W##_fmadd_ps(p, r, _mm##W##_set1_ps(8.3334519073e-3f));                                           \
        p = _mm##W##_fmadd_ps(p, r, _mm##W##_set1_ps(4.1665795894e-2f));                                           \
        p = _mm##W##_fmadd_ps(p, r, _mm##W##_set1_ps(1.6666665459e-1f));                                           \
        p = _mm##W##_fmadd_ps(p, r, _mm##W##_set1_ps(5.0000001201e-1f));                                           \
        V er = _mm##W##_add_ps(_mm##W##_fmadd_ps(p, _mm##W##_mul_ps(r, r), r), _mm##W##_set1_ps(1.0f));            \
        VI e = _mm##W##_slli_epi32(_mm##W##_add_epi32(_mm##W##_sub_epi32(_mm##W##_castps_si##W(t),                 \
                                                                          _mm##W##_set1_epi32(0x4B400000)),        \
                                                      _mm##W##_set1_epi32(127)), 23);                              \
        return _mm##W##_mul_ps(er, _mm##W##_castsi##W##_ps(e));                                                    \
    }                                                                                                              \
    FV_INLINE ATTR V reciprocal##W(V d) {                                                                          \
        V r = RCP(d);                                                                                              \
        return _mm##W##_mul_ps(r, _mm##W##_fnmadd_ps(d, r, _mm##W##_set1_ps(2.0f)));                               \
    }                                                                                                              \
    /* ReLU's and ReLU6's upper bound (infinity: ReLU's max alone), made once per tile for the clamp. */          \
    FV_INLINE ATTR V relu_top##W(int activation) {                                                                 \
        return _mm##W##_set1_ps(activation == FV_ACT_RELU6 ? 6.0f : __builtin_inff());                          \
    }                                                                                                              \
    FV_INLINE ATTR V activate##W(V v, int activation) {                                                            \
        const V one = _mm##W##_set1_ps(1.0f), zero = _mm##W##_setzero_ps();                                        \
        switch (activation) {                                                                                      \
        case FV_ACT_RELU: return _mm##W##_max_ps(v, zero);                                                         \
        case FV_ACT_RELU6: return _mm##W##_min_ps(_mm##W##_max_ps(v, zero), _mm##W##_set1_ps(6.0f));               \
        case FV_ACT_SILU: return _mm##W##_mul_ps(v, reciprocal##W(_mm##W##_add_ps(one, exp##W(_mm##W##_sub_ps(zero, v))))); \
        case FV_ACT_SIGMOID: return reciprocal##W(_mm##W##_add_ps(one, exp##W(_mm##W##_sub_ps(zero, v))));        \
        default: return v;                                                                                         \
        }                                                                                                          \
    }                                                                                                              \
    /* The epilogue's: KIND (activation_kind) is a constant where it is inlined, so the branches compile away. */ \
    FV_INLINE ATTR V activate_kind##W(V v, const int KIND, int activation, V top) {                                \
        if (KIND == FV_ACTS_CLAMP) return _mm##W##_min_ps(_mm##W##_max_ps(v, _mm##W##_setzero_ps()), top);        \
        return KIND == FV_ACTS_OTHER ? activate##W(v, activation) : v;                                             \
    }
FV_DEFINE_VECTOR_ACTIVATIONS(512, FV_AVX512, __m512, __m512i, _mm512_rcp14_ps)
FV_DEFINE_VECTOR_ACTIVATIONS(256, FV_AVX2, __m256, __m256i, _mm256_rcp_ps)

// The first `valid` of 8 lanes (AVX2 has no mask registers: a lane mask from a compare).
FV_INLINE FV_AVX2 __m256i lanes256(long valid) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(valid < 8 ? valid : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

// ---- GEMM on packed weights ----
// A micro-kernel computes an mr x 32 tile of A (mr rows) times one packed panel into C. `half`: the panel holds
// half-precision bit patterns, widened as each row is loaded (F16C on AVX2, AVX-512F's vcvtph2ps); it is a
// constant in every instantiation, so the branch is compiled away. `keep` (NULL, or with a half panel k x 32
// floats): each widened panel row is also stored there, for the tiles after this one. `out_scale` (NULL or the
// panel's 32 factors) multiplies the sums before the bias. `used` (NULL, or with an F32 panel): the k columns of A
// the tile runs over, the others being zero in all its rows (Zero columns of A, below).

FV_INLINE void micro_baseline_rows(long k, const float *a, long lda, const void *panel, const int half,
                                   const float *scale, const float *out_scale, const float *bias, long cols, int act,
                                   const float *residual, float *c, long ldc, long mr, float *keep,
                                   const unsigned short *used) {
    // A half panel is widened 64 rows at a time into `wide`, once for all the tile's rows.
    enum { CHUNK = 64 };
    float acc[4][FV_PANEL] = {{0}}, wide[CHUNK * FV_PANEL];
    for (long r0 = 0; r0 < k; r0 += CHUNK) {
        long r1 = r0 + CHUNK < k ? r0 + CHUNK : k;
        const float *b = (const float *)panel + r0 * FV_PANEL;
        if (half) {
            const unsigned short *h = (const unsigned short *)panel + r0 * FV_PANEL;
            for (long j = 0; j < (r1 - r0) * FV_PANEL; j++) wide[j] = half_to_float(h[j]);
            if (keep)
                for (long j = 0; j < (r1 - r0) * FV_PANEL; j++) keep[r0 * FV_PANEL + j] = wide[j];
            b = wide;
        }
        for (long i = 0; i < mr; i++) {
            float row[FV_PANEL];
            for (long j = 0; j < FV_PANEL; j++) row[j] = acc[i][j];
            const float *ar = a + i * lda;
            for (long t = r0; t < r1; t++) {
                const long r = used ? (long)used[t] : t;
                float av = scale ? ar[r] * scale[r] : ar[r];
                const float *br = used ? (const float *)panel + r * FV_PANEL : b + (t - r0) * FV_PANEL;
                for (long j = 0; j < FV_PANEL; j++) row[j] += av * br[j];
            }
            for (long j = 0; j < FV_PANEL; j++) acc[i][j] = row[j];
        }
    }
    for (long i = 0; i < mr; i++)
        finish(c + i * ldc, acc[i], out_scale, bias, residual ? residual + i * ldc : 0, cols, act);
}

static void micro_baseline(long k, const float *a, long lda, const void *panel, int half, const float *scale,
                           const float *out_scale, const float *bias, long cols, int act, const float *residual,
                           float *c, long ldc, long mr, float *keep, const unsigned short *used) {
    // Each case its own inlined copy (`half` and whether there is a list are constants in it): a list tested inside
    // the dense loop made the baseline's forward 1.4x slower.
    if (half)
        micro_baseline_rows(k, a, lda, panel, 1, scale, out_scale, bias, cols, act, residual, c, ldc, mr, keep, 0);
    else if (used)
        micro_baseline_rows(k, a, lda, panel, 0, scale, out_scale, bias, cols, act, residual, c, ldc, mr, 0, used);
    else
        micro_baseline_rows(k, a, lda, panel, 0, scale, out_scale, bias, cols, act, residual, c, ldc, mr, 0, 0);
}

#if FV_X86
// Eight panel values from row r at column offset `at`, widened when the panel is half precision.
#define FV_PANEL_LOAD256(panel, half, r, at)                                                                       \
    ((half) ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const unsigned short *)(panel) + (r) * FV_PANEL + (at)))) \
            : _mm256_loadu_ps((const float *)(panel) + (r) * FV_PANEL + (at)))
#define FV_PANEL_LOAD512(panel, half, r, at)                                                                       \
    ((half) ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const unsigned short *)(panel) + (r) * FV_PANEL + (at)))) \
            : _mm512_loadu_ps((const float *)(panel) + (r) * FV_PANEL + (at)))

// The AVX2 pass's k loop (below). Every choice in it is a constant of its copy (whether the panel rows are scaled,
// the vector count V and the rest), and a dense loop reads its rows through two pointers that step along k (rows
// 0-2 and 3-5, at 0, lda and 2 lda from each): with `scale` and V tested at run time and each row addressed from
// the loop index, the dense loop carried a test, a taken branch and four address computations (short of general
// registers) beside its 12 FMAs, 31 instructions where 25 do. On Zen 4 with the AVX2 path the forwards took
// 0.965-0.989 of their time in a quiet phase and 0.93-0.95 in a busy one (burst-interleaved A/B; docs/engine.md):
// there the instructions, not the FMAs, are what runs short, the more so while another tenant shares the cores.
FV_INLINE FV_AVX2 void micro_avx2_k_loop(long k, const float *a, long lda, const void *panel, const int half,
                                         const float *scale, const int SCALED, const int KEEP, float *keep,
                                         const long base, const int V, const int SPARSE, const unsigned short *used,
                                         const int mr, __m256 acc[6][3]) {
    const float *a0 = a, *a3 = mr > 3 ? a + 3 * lda : a;
    for (long t = 0; t < k; t++) {
        const long r = SPARSE ? (long)used[t] : t;
        __m256 b[3];
#pragma clang loop unroll(full)
        for (int j = 0; j < 3; j++) {
            if (j < V) {
                b[j] = FV_PANEL_LOAD256(panel, half, r, base + 8 * j);
                // What this pass reads of the panel, which is what the block's other tiles read of the copy.
                if (KEEP) _mm256_storeu_ps(keep + r * FV_PANEL + base + 8 * j, b[j]);
                if (SCALED) b[j] = _mm256_mul_ps(b[j], _mm256_broadcast_ss(scale + r));
            }
        }
#pragma clang loop unroll(full)
        for (int i = 0; i < 6; i++) {
            if (i < mr) {
                const float *row = SPARSE ? a + i * lda + r : (i < 3 ? a0 : a3) + (i % 3) * lda;
                __m256 av = _mm256_broadcast_ss(row);
#pragma clang loop unroll(full)
                for (int j = 0; j < 3; j++)
                    if (j < V) acc[i][j] = _mm256_fmadd_ps(av, b[j], acc[i][j]);
            }
        }
        if (!SPARSE) {
            a0++;
            a3++;
            // Opaque to the optimiser, which otherwise rewrites the two pointers back into an index per row.
            __asm__("" : "+r"(a0), "+r"(a3));
        }
    }
}

// AVX2: up to 6 rows x V vectors of 8 columns from column `base` per pass (V = 2: 12 accumulators + 2 panel
// registers + 1 broadcast, 15 of the 16 ymm). A 32-column panel takes two passes of two vectors, the second skipped
// when its valid columns fit in 16; one of one vector when they fit in 8 (a 40-channel layer's last panel: a second
// vector was FMAs for lanes never stored); and one fitting in 24 (the projections to 24 channels) two passes of
// three rows three vectors wide (9 accumulators, each panel row loaded once per three rows: a 16-wide pass then an
// 8-wide one broadcast every row twice and left the 8-wide one 6 accumulators, too few to hide the FMA latency).
// As for AVX-512, the epilogue (bias, activation, residual, the partial panel's masked stores) runs on the
// accumulators in registers: through a tile buffer and a scalar loop it cost as much as the FMAs for the small k of
// the 1x1 expansions. `V` and `mr` are constants in every instantiation: the unused accumulators are never made.
FV_INLINE FV_AVX2 void micro_avx2_pass(long k, const float *a, long lda, const void *panel, const int half,
                                       const float *scale, const float *out_scale, const float *bias, long cols,
                                       int act, const float *residual, float *c, long ldc, const int mr,
                                       const int KEEP, float *keep, const long base, const int V,
                                       const int SPARSE, const unsigned short *used, const int ACTS) {
    __m256 acc[6][3];
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < 3; j++) acc[i][j] = _mm256_setzero_ps();
    if (scale)
        micro_avx2_k_loop(k, a, lda, panel, half, scale, 1, KEEP, keep, base, V, SPARSE, used, mr, acc);
    else
        micro_avx2_k_loop(k, a, lda, panel, half, scale, 0, KEEP, keep, base, V, SPARSE, used, mr, acc);
    const __m256 one = _mm256_set1_ps(1.0f), top = relu_top256(act);
    __m256i m[3];
    __m256 bias_v[3], scale_v[3];
#pragma clang loop unroll(full)
    for (int j = 0; j < 3; j++) {
        if (j < V) {
            const long at = base + 8 * j;  // this vector's lanes in the layer: cols - at (1-8 in the last)
            m[j] = lanes256(cols - at);
            bias_v[j] = _mm256_maskload_ps(bias + at, m[j]);
            scale_v[j] = out_scale ? _mm256_maskload_ps(out_scale + at, m[j]) : one;
        }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; i++) {
        if (i < mr) {
#pragma clang loop unroll(full)
            for (int j = 0; j < 3; j++) {
                if (j < V) {
                    const long at = base + 8 * j;
                    float *out = c + i * ldc + at;
                    __m256 v = activate_kind256(_mm256_fmadd_ps(acc[i][j], scale_v[j], bias_v[j]), ACTS, act, top);
                    if (residual) v = _mm256_add_ps(v, _mm256_maskload_ps(residual + i * ldc + at, m[j]));
                    if (cols - at >= 8) _mm256_storeu_ps(out, v); else _mm256_maskstore_ps(out, m[j], v);
                }
            }
        }
    }
}

FV_INLINE FV_AVX2 void micro_avx2_rows(long k, const float *a, long lda, const void *panel, const int half,
                                       const float *scale, const float *out_scale, const float *bias, long cols,
                                       int act, const float *residual, float *c, long ldc, const int mr,
                                       const int KEEP, float *keep, const int SPARSE, const unsigned short *used,
                                       const int ACTS) {
    if (cols > 16 && cols <= 24) {
        // Rows 0-2 from the panel (keeping its F32 rows when asked), rows 3-5 from the same rows again: from the
        // copy just written where there is one.
        micro_avx2_pass(k, a, lda, panel, half, scale, out_scale, bias, cols, act, residual, c, ldc,
                        mr < 3 ? mr : 3, KEEP, keep, 0, 3, SPARSE, used, ACTS);
        if (mr > 3)
            micro_avx2_pass(k, a + 3 * lda, lda, KEEP ? (const void *)keep : panel, KEEP ? 0 : half, scale,
                            out_scale, bias, cols, act, residual ? residual + 3 * ldc : 0, c + 3 * ldc, ldc, mr - 3,
                            0, 0, 0, 3, SPARSE, used, ACTS);
        return;
    }
    if (cols <= 8)
        micro_avx2_pass(k, a, lda, panel, half, scale, out_scale, bias, cols, act, residual, c, ldc, mr, KEEP, keep,
                        0, 1, SPARSE, used, ACTS);
    else
        micro_avx2_pass(k, a, lda, panel, half, scale, out_scale, bias, cols, act, residual, c, ldc, mr, KEEP, keep,
                        0, 2, SPARSE, used, ACTS);
    if (cols > 16)
        micro_avx2_pass(k, a, lda, panel, half, scale, out_scale, bias, cols, act, residual, c, ldc, mr, KEEP, keep,
                        16, 2, SPARSE, used, ACTS);
}

FV_AVX2 static void micro_avx2(long k, const float *a, long lda, const void *panel, int half, const float *scale,
                               const float *out_scale, const float *bias, long cols, int act, const float *residual,
                               float *c, long ldc, long mr, float *keep, const unsigned short *used) {
#define FV_MICRO256(R, HALF, KEEP, SPARSE)                                                                       \
    micro_avx2_rows(k, a, lda, panel, HALF, scale, out_scale, bias, cols, act, residual, c, ldc, R, KEEP, keep,  \
                    SPARSE, used, ACTS)
#define FV_ROWS256(HALF, KEEP, SPARSE)                                                                           \
    switch (mr) { /* constant row counts, so the accumulators live in registers */                            \
    case 1: FV_MICRO256(1, HALF, KEEP, SPARSE); break; case 2: FV_MICRO256(2, HALF, KEEP, SPARSE); break;       \
    case 3: FV_MICRO256(3, HALF, KEEP, SPARSE); break; case 4: FV_MICRO256(4, HALF, KEEP, SPARSE); break;       \
    case 5: FV_MICRO256(5, HALF, KEEP, SPARSE); break; default: FV_MICRO256(6, HALF, KEEP, SPARSE); break;      \
    }
#define FV_VARIANTS256(ACTS_KIND)                                                                                \
    {                                                                                                            \
        const int ACTS = ACTS_KIND; /* the activation's kind, a constant in each copy */                        \
        if (used) {  /* column lists only for F32 panels (a half panel's copy or an F32 weight) */            \
            FV_ROWS256(0, 0, 1)                                                                                  \
        } else if (half && keep) {                                                                               \
            FV_ROWS256(1, 1, 0)                                                                                  \
        } else if (half) {                                                                                       \
            FV_ROWS256(1, 0, 0)                                                                                  \
        } else {                                                                                                 \
            FV_ROWS256(0, 0, 0)                                                                                  \
        }                                                                                                        \
    }
    FV_FOR_ACTIVATION_KIND(act, FV_VARIANTS256)
#undef FV_VARIANTS256
#undef FV_ROWS256
#undef FV_MICRO256
}

// AVX-512: 12 rows x 32 columns (24 accumulators, 2 panel registers, broadcasts from memory).
// The epilogue is applied in registers (bias, activation, residual, masked stores of a partial panel), so the
// accumulators never go through a tile buffer: that round trip cost as much as the FMAs when k is small (the
// 1x1 expansions have k = 16 to 80).
// `wide` 0: the panel's valid columns fit in its first 16 (a 16- or 24-channel layer's last panel): half the FMAs.
FV_INLINE FV_AVX512 void micro_avx512_rows(long k, const float *a, long lda, const void *panel, const int half,
                                           const float *scale, const float *out_scale, const float *bias, long cols,
                                           int act, const float *residual, float *c, long ldc, const int mr,
                                           const int wide, const int KEEP, float *keep, const int SPARSE,
                                           const unsigned short *used, const int ACTS) {
    __m512 c0[12], c1[12];
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (long t = 0; t < k; t++) {
        const long r = SPARSE ? (long)used[t] : t;
        __m512 b0 = FV_PANEL_LOAD512(panel, half, r, 0), b1 = wide ? FV_PANEL_LOAD512(panel, half, r, 16) : b0;
        if (KEEP) {
            _mm512_storeu_ps(keep + r * FV_PANEL, b0);
            if (wide) _mm512_storeu_ps(keep + r * FV_PANEL + 16, b1);
        }
        if (scale) {
            __m512 s = _mm512_set1_ps(scale[r]);
            b0 = _mm512_mul_ps(b0, s); b1 = _mm512_mul_ps(b1, s);
        }
#pragma clang loop unroll(full)
        for (int i = 0; i < 12; i++) {
            if (i < mr) {
                __m512 av = _mm512_set1_ps(a[i * lda + r]);
                c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
                if (wide) c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
            }
        }
    }
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : (cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1));
    __m512 bias0 = _mm512_maskz_loadu_ps(m0, bias), bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    const __m512 one = _mm512_set1_ps(1.0f), top = relu_top512(act);
    __m512 scale0 = out_scale ? _mm512_maskz_loadu_ps(m0, out_scale) : one;
    __m512 scale1 = out_scale ? _mm512_maskz_loadu_ps(m1, out_scale + 16) : one;
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; i++) {
        if (i < mr) {
            __m512 v0 = activate_kind512(_mm512_fmadd_ps(c0[i], scale0, bias0), ACTS, act, top);
            if (residual) v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, residual + i * ldc));
            _mm512_mask_storeu_ps(c + i * ldc, m0, v0);
            if (wide) {
                __m512 v1 = activate_kind512(_mm512_fmadd_ps(c1[i], scale1, bias1), ACTS, act, top);
                if (residual) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, residual + i * ldc + 16));
                _mm512_mask_storeu_ps(c + i * ldc + 16, m1, v1);
            }
        }
    }
}

FV_AVX512 static void micro_avx512(long k, const float *a, long lda, const void *panel, int half, const float *scale,
                                   const float *out_scale, const float *bias, long cols, int act,
                                   const float *residual, float *c, long ldc, long mr, float *keep,
                                   const unsigned short *used) {
#define FV_MICRO512(R, WIDE, HALF, KEEP, SPARSE)                                                                 \
    micro_avx512_rows(k, a, lda, panel, HALF, scale, out_scale, bias, cols, act, residual, c, ldc, R, WIDE, KEEP, \
                      keep, SPARSE, used, ACTS)
#define FV_ROWS512(WIDE, HALF, KEEP, SPARSE)                                                                     \
    switch (mr) { /* constant row counts, so the accumulators live in registers */                            \
    case 1: FV_MICRO512(1, WIDE, HALF, KEEP, SPARSE); break;   case 2: FV_MICRO512(2, WIDE, HALF, KEEP, SPARSE); break; \
    case 3: FV_MICRO512(3, WIDE, HALF, KEEP, SPARSE); break;   case 4: FV_MICRO512(4, WIDE, HALF, KEEP, SPARSE); break; \
    case 5: FV_MICRO512(5, WIDE, HALF, KEEP, SPARSE); break;   case 6: FV_MICRO512(6, WIDE, HALF, KEEP, SPARSE); break; \
    case 7: FV_MICRO512(7, WIDE, HALF, KEEP, SPARSE); break;   case 8: FV_MICRO512(8, WIDE, HALF, KEEP, SPARSE); break; \
    case 9: FV_MICRO512(9, WIDE, HALF, KEEP, SPARSE); break;   case 10: FV_MICRO512(10, WIDE, HALF, KEEP, SPARSE); break; \
    case 11: FV_MICRO512(11, WIDE, HALF, KEEP, SPARSE); break; default: FV_MICRO512(12, WIDE, HALF, KEEP, SPARSE); break; \
    }
#define FV_VARIANTS512(ACTS_KIND)                                                                                \
    {                                                                                                            \
        const int ACTS = ACTS_KIND; /* the activation's kind, a constant in each copy */                        \
        if (used) {  /* column lists only for F32 panels (a half panel's copy or an F32 weight) */            \
            if (cols <= 16) { FV_ROWS512(0, 0, 0, 1) } else { FV_ROWS512(1, 0, 0, 1) }                           \
        } else if (half && keep) {                                                                               \
            if (cols <= 16) { FV_ROWS512(0, 1, 1, 0) } else { FV_ROWS512(1, 1, 1, 0) }                           \
        } else if (half) {                                                                                       \
            if (cols <= 16) { FV_ROWS512(0, 1, 0, 0) } else { FV_ROWS512(1, 1, 0, 0) }                           \
        } else {                                                                                                 \
            if (cols <= 16) { FV_ROWS512(0, 0, 0, 0) } else { FV_ROWS512(1, 0, 0, 0) }                           \
        }                                                                                                        \
    }
    FV_FOR_ACTIVATION_KIND(act, FV_VARIANTS512)
#undef FV_VARIANTS512
#undef FV_ROWS512
#undef FV_MICRO512
}
#endif

// ---- Zero columns of A ----
// Lite's projections read the depthwise conv's ReLU6 output, and on X-rays most of it is exactly zero: 60-80 % of
// the values in the 14x14 and 7x7 stages, whole channels of some images, and the head's gate reads features 94 %
// zero. Where every row of a tile is zero in column r, the products with panel row r add nothing, so such a tile
// runs over the list of its other columns (the same sums in the same order: the skipped terms are exact zeros, so
// the result has the same bits but for the sign of a zero sum). On the shipped member's forward on an X-ray this
// skips 17 % of the 1x1 convs' multiply-adds with AVX2's 6-row tiles and 12.5 % with AVX-512's 12 (docs/engine.md).
// A tile's list is made once, as the first panel reaches it, and serves every panel. Tests switch the skipping
// off to compare.
static int skip_zero_columns = 1;
int fv_set_zero_column_skipping(int on) { int was = skip_zero_columns; skip_zero_columns = on != 0; return was; }

// Lists only where k is deep enough to be worth one (the fused expansions' k of 16-27 read dense activations) and
// fits the list's 16-bit entries, and where at least two panels share them: making a list costs about a tenth of
// one panel's FMAs over the tile with AVX2, so on one panel (the projections to 24 channels, whose inputs are the
// densest) lists made the layer up to 12 % slower, where on two (to 40 channels) they made it 7-30 % faster. A
// tile runs its list when it drops at least three columns in sixteen: the list's loop (an index load and its
// address arithmetic per panel row, and on AVX-512 a few more registers than x86 has) runs each remaining FMA at
// 0.8-0.88 of the dense loop's rate (C microbenchmark), so a list that drops fewer costs about what it saves.
enum { FV_COLUMN_LIST_MIN_K = 64, FV_COLUMN_LIST_MAX_K = 65535, FV_COLUMN_LIST_MIN_PANELS = 2 };
FV_INLINE int worth_a_list(long used, long k) { return used * 16 <= k * 13; }

#if FV_X86
// For each byte of flags, the pshufb control that moves the 16-bit lanes of the set flags to the front, in order:
// AVX2 has no compress instruction, and taking the flags out one at a time cost a tenth of a projection's time.
static unsigned char pack_flag_lanes[256][16];
__attribute__((constructor)) static void make_pack_flag_lanes(void) {
    for (int flags = 0; flags < 256; flags++) {
        int n = 0;
        for (int lane = 0; lane < 8; lane++)
            if (flags >> lane & 1) { pack_flag_lanes[flags][2 * n] = (unsigned char)(2 * lane); pack_flag_lanes[flags][2 * n + 1] = (unsigned char)(2 * lane + 1); n++; }
        for (; n < 8; n++) pack_flag_lanes[flags][2 * n] = pack_flag_lanes[flags][2 * n + 1] = 0x80;
    }
}

// The columns r < k in which some of the mr rows of A is not zero (-0 counts as zero, a NaN does not: its bits
// survive the OR), in order, written to `used` (which has room for k + 16); returns how many.
FV_INLINE FV_AVX2 long nonzero_columns_avx2(const float *a, long lda, long mr, long k, unsigned short *used) {
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF), zero = _mm256_setzero_si256();
    const __m128i lane = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7);
    long n = 0;
    for (long r = 0; r < k; r += 8) {
        const long valid = k - r < 8 ? k - r : 8;
        __m256i any = zero;
        if (valid == 8) {
            for (long i = 0; i < mr; i++) any = _mm256_or_si256(any, _mm256_loadu_si256((const __m256i *)(a + i * lda + r)));
        } else {  // the last columns: a masked load reads nothing past them
            const __m256i lanes = lanes256(valid);
            for (long i = 0; i < mr; i++)
                any = _mm256_or_si256(any, _mm256_castps_si256(_mm256_maskload_ps(a + i * lda + r, lanes)));
        }
        const __m256i is_zero = _mm256_cmpeq_epi32(_mm256_and_si256(any, magnitude), zero);
        const unsigned flags = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(is_zero)) & ((1u << valid) - 1);
        const __m128i columns = _mm_add_epi16(lane, _mm_set1_epi16((short)r));
        _mm_storeu_si128((__m128i *)(used + n),
                         _mm_shuffle_epi8(columns, _mm_loadu_si128((const __m128i *)pack_flag_lanes[flags])));
        n += __builtin_popcount(flags);
    }
    return n;
}

FV_INLINE FV_AVX512 long nonzero_columns_avx512(const float *a, long lda, long mr, long k, unsigned short *used) {
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    long n = 0;
    for (long r = 0; r < k; r += 16) {
        const __mmask16 lanes = k - r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - r)) - 1);
        __m512i any = _mm512_setzero_si512();
        for (long i = 0; i < mr; i++)
            any = _mm512_or_si512(any, _mm512_maskz_loadu_epi32(lanes, a + i * lda + r));
        const __mmask16 flags = _mm512_test_epi32_mask(any, magnitude);
        // Compressed in a register and stored whole (a compressing store is microcoded and slow on Zen 4).
        const __m512i columns = _mm512_maskz_compress_epi32(flags, _mm512_add_epi32(lane, _mm512_set1_epi32((int)r)));
        _mm256_storeu_si256((__m256i *)(used + n), _mm512_cvtepi32_epi16(columns));
        n += __builtin_popcount(flags);
    }
    return n;
}
#endif

FV_INLINE long nonzero_columns_baseline(const float *a, long lda, long mr, long k, unsigned short *used) {
    long n = 0;
    for (long r = 0; r < k; r++) {
        unsigned any = 0;
        for (long i = 0; i < mr; i++) {
            unsigned bits;
            __builtin_memcpy(&bits, a + i * lda + r, 4);
            any |= bits;
        }
        if (any & 0x7FFFFFFFu) used[n++] = (unsigned short)r;
    }
    return n;
}

// Rows are taken in blocks whose slice of A fits in L2 (~128 KB), and of at least 8 tiles; within a block every
// panel sweeps the block's row tiles, so a panel (k x 32) stays in L1/L2 while A streams through. One driver per
// ISA, each with its own micro-kernel inlined, the epilogue (out_scale, bias, activation, residual) inside it.
// A half panel's first tile widens each panel row as it loads it and keeps the F32 row in the thread's scratch;
// the block's other tiles read that copy. Widening in every tile put two conversions beside every 24 FMAs (the
// 1x1 convs 14-27 % slower than on F32 panels, now 2-6 %); widening in a pass of its own before the first tile
// spent its time storing a panel (up to 147 KB) that no longer fits in L1: 5 % of a forward, where the first
// tile's stores hide behind its FMAs (Intel Xeon, AVX-512; docs/engine.md). The 8-tile floor gives each copy 96
// rows to serve where a deep k (1152) would give 24-row blocks. Every tile that reads F32 rows (all of them on an
// F32 weight, all but the first on a half one) may run over its list of non-zero columns (above).
// On AVX2 each tile also asks for its slice of the next panel (the panel's lines split over the block's tiles; a
// panel is k rows of 64 or 128 bytes, so the next one starts panel_lines lines on). AVX2 computes half as much per
// panel line as AVX-512 (6 rows of A against 12), so over a cold panel (a layer's weights come from L3 or memory
// in every forward) its first tile outran the hardware prefetcher. On Zen 4 with the AVX2 path the member's forward
// took 0.94-0.95 of its time (burst-interleaved A/B, three runs); on AVX-512 the same prefetch made B4 5 % slower,
// so that path has none (docs/engine.md, "Zen 4").
FV_INLINE void prefetch_lines(const void *panel, long first, long end) {
    for (long line = first; line < end; line++) __builtin_prefetch((const char *)panel + line * 64, 0, 2);
}

#define FV_DEFINE_FUSED_GEMM(NAME, ATTR, MICRO, MR, NONZERO_COLUMNS, PREFETCH)                                  \
    ATTR static void NAME(long n, long k, const float *a, long lda, fv_panels w, const float *scale,            \
                          const float *bias, int activation, const float *residual, float *c, long ldc,         \
                          long row_begin, long row_end, long panel_begin, long panel_end) {                     \
        const long panel_floats = k * FV_PANEL;                                                                 \
        const int half = w.f16 != 0;                                                                            \
        long block = (32768 / (k > 0 ? k : 1)) / (MR) * (MR);                                                   \
        if (block < 8 * (MR)) block = 8 * (MR);                                                                 \
        /* Scratch only where a block has tiles to share the copy; none to be had: every tile widens. */        \
        float *wide = half && row_end - row_begin > (MR)                                                        \
                          ? (float *)fv_thread_scratch(FV_SCRATCH_PANEL, panel_floats * (long)sizeof(float))    \
                          : 0;                                                                                  \
        /* One list per tile of a block (at most block / MR tiles), its length first, and room for the 16 */    \
        /* entries a vector store may write past the last; none to be had: every tile runs dense. */            \
        const int listed = skip_zero_columns && k >= FV_COLUMN_LIST_MIN_K && k <= FV_COLUMN_LIST_MAX_K &&       \
                           panel_end - panel_begin >= FV_COLUMN_LIST_MIN_PANELS;                                \
        const long list_entries = (block / (MR)) * (k + 1) + 16;                                                \
        unsigned short *lists =                                                                                 \
            listed ? (unsigned short *)fv_thread_scratch(FV_SCRATCH_COLUMNS, list_entries * (long)sizeof(short))\
                   : 0;                                                                                         \
        int misses = 0; /* tiles in a row whose list had no zero column */                                      \
        for (long i0 = row_begin; i0 < row_end; i0 += block) {                                                  \
            long i1 = i0 + block < row_end ? i0 + block : row_end;                                              \
            /* Tiles of equal height (49 rows: 10,10,10,10,9 rather than 12,12,12,12,1). */                     \
            long tiles = (i1 - i0 + (MR) - 1) / (MR), step = (i1 - i0 + tiles - 1) / tiles;                     \
            const int shared = wide && tiles > 1;  /* the first tile keeps the F32 rows for the others */       \
            const long panel_lines = (panel_floats * (half ? 2 : 4) + 63) / 64;                                 \
            const long lines_per_tile = (panel_lines + tiles - 1) / tiles;                                      \
            for (long p = panel_begin; p < panel_end; p++) {                                                    \
                const void *panel = half ? (const void *)(w.f16 + p * panel_floats)                             \
                                         : (const void *)(w.f32 + p * panel_floats);                            \
                long col = p * FV_PANEL, cols = n - col < FV_PANEL ? n - col : FV_PANEL;                        \
                const float *out_scale = w.out_scale ? w.out_scale + col : 0;                                   \
                for (long i = i0, t = 0; i < i1; i += step, t++) {                                              \
                    long mr = i1 - i < step ? i1 - i : step;                                                    \
                    if (PREFETCH && p + 1 < panel_end) {                                                        \
                        const long first = t * lines_per_tile, end = first + lines_per_tile;                    \
                        prefetch_lines((const char *)panel + panel_lines * 64, first,                           \
                                       end < panel_lines ? end : panel_lines);                                  \
                    }                                                                                           \
                    const int reads_copy = shared && i != i0;                                                   \
                    unsigned short *list = lists ? lists + t * (k + 1) : 0;                                     \
                    /* Made as the first panel reaches the tile, while its rows come into L1 for the FMAs (a */ \
                    /* pass of its own over the block read A from L2 twice); no more once two in a row had */   \
                    /* no zero column (a dense input: B4's SiLU, the expansions after a linear projection). */  \
                    if (list && p == panel_begin) {                                                             \
                        long used = k;                                                                          \
                        if (misses < 2 && (!half || reads_copy)) {                                              \
                            used = NONZERO_COLUMNS(a + i * lda, lda, mr, k, list + 1);                          \
                            misses = used < k ? 0 : misses + 1;                                                 \
                        }                                                                                       \
                        list[0] = (unsigned short)used;                                                         \
                    }                                                                                           \
                    const int skips = list && worth_a_list(list[0], k);                                         \
                    MICRO(skips ? list[0] : k, a + i * lda, lda, reads_copy ? (const void *)wide : panel,       \
                          half && !reads_copy, scale, out_scale, bias + col, cols, activation,                  \
                          residual ? residual + i * ldc + col : 0, c + i * ldc + col, ldc, mr,                  \
                          shared && !reads_copy ? wide : 0, skips ? list + 1 : 0);                              \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
    }
FV_DEFINE_FUSED_GEMM(gemm_baseline, , micro_baseline, 4, nonzero_columns_baseline, 0)
#if FV_X86
FV_DEFINE_FUSED_GEMM(gemm_avx2, FV_AVX2, micro_avx2, 6, nonzero_columns_avx2, 1)
FV_DEFINE_FUSED_GEMM(gemm_avx512, FV_AVX512, micro_avx512, 12, nonzero_columns_avx512, 0)
#endif

typedef void (*gemm_fn)(long n, long k, const float *a, long lda, fv_panels w, const float *scale,
                        const float *bias, int activation, const float *residual, float *c, long ldc, long row_begin,
                        long row_end, long panel_begin, long panel_end);

static gemm_fn gemm_for_isa(void) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) return gemm_avx512;
    if (fv_isa >= FV_ISA_AVX2) return gemm_avx2;
#endif
    return gemm_baseline;
}

void fv_gemm_packed(long n, long k, const float *a, long lda, fv_panels w, const float *scale,
                    const float *bias, int activation,
                    const float *residual, float *c, long ldc, long row_begin, long row_end,
                    long panel_begin, long panel_end) {
    gemm_for_isa()(n, k, a, lda, w, scale, bias, activation, residual, c, ldc, row_begin, row_end, panel_begin, panel_end);
}

// ---- Unfolding (the stem's general conv) ----

void fv_unfold_nhwc(const float *x, long h, long w, long ci, int kh, int kw, int sh, int sw, int ph, int pw,
                    long wo, long row_begin, long row_end, float *cols) {
    long k = ci * kh * kw;
    for (long oy = row_begin; oy < row_end; oy++)
        for (long ox = 0; ox < wo; ox++) {
            float *row = cols + (oy * wo + ox) * k;
            for (int ky = 0; ky < kh; ky++) {
                long iy = oy * sh - ph + ky;
                for (int kx = 0; kx < kw; kx++) {
                    long ix = ox * sw - pw + kx;
                    float *dst = row + (ky * kw + kx) * ci;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                        for (long c = 0; c < ci; c++) dst[c] = 0;
                    } else {
                        const float *src = x + (iy * w + ix) * ci;
                        for (long c = 0; c < ci; c++) dst[c] = src[c];
                    }
                }
            }
        }
}

// The unfold's body; CI, KH, KW are compile-time constants where the caller knows them (the stem's 3 x 3 x 3), so
// that the interior copy unrolls into 27 moves.
FV_INLINE void unfold_nchw_body(const float *x, const long ci, long h, long w, const int kh, const int kw, int sh,
                                int sw, int ph, int pw, long wo, long row_begin, long row_end, float *cols) {
    long k = ci * kh * kw, plane = h * w;
    for (long oy = row_begin; oy < row_end; oy++)
        for (long ox = 0; ox < wo; ox++) {
            float *row = cols + (oy * wo + ox) * k;
            long iy0 = oy * sh - ph, ix0 = ox * sw - pw;
            if (iy0 >= 0 && iy0 + kh <= h && ix0 >= 0 && ix0 + kw <= w) {  // interior: no tests
                const float *src = x + iy0 * w + ix0;
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (long c = 0; c < ci; c++) row[(ky * kw + kx) * ci + c] = src[c * plane + ky * w + kx];
                continue;
            }
            for (int ky = 0; ky < kh; ky++) {
                long iy = oy * sh - ph + ky;
                for (int kx = 0; kx < kw; kx++) {
                    long ix = ox * sw - pw + kx;
                    float *dst = row + (ky * kw + kx) * ci;
                    int inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    const float *src = x + iy * w + ix;
                    for (long c = 0; c < ci; c++) dst[c] = inside ? src[c * plane] : 0.0f;
                }
            }
        }
}

void fv_unfold_nchw(const float *x, long ci, long h, long w, int kh, int kw, int sh, int sw, int ph, int pw,
                    long wo, long row_begin, long row_end, float *cols) {
    if (ci == 3 && kh == 3 && kw == 3)
        unfold_nchw_body(x, 3, h, w, 3, 3, sh, sw, ph, pw, wo, row_begin, row_end, cols);
    else
        unfold_nchw_body(x, ci, h, w, kh, kw, sh, sw, ph, pw, wo, row_begin, row_end, cols);
}

// ---- Depthwise, channels last ----
// One output row at a time, from kh input row pointers (rows[ky] for ky0 <= ky < ky1 are inside the image; the
// others are padding). Reading rows through pointers lets the fused expand+depthwise kernel feed rows from a
// small ring buffer instead of a whole expanded tensor. Per output pixel, channels in blocks of 64 accumulate
// over the taps inside the image (no padded copy, no bounds test in the inner loop), then bias, activation and
// the pool sums.

FV_INLINE void dw_row_body(const float *const *rows, int ky0, int ky1, long w, long ch, const float *wt,
                           const float *bias, int kw, int sw, int pw, int act, float *outRow, long wo, float *sums) {
    float acc[64] __attribute__((aligned(64)));
    for (long ox = 0; ox < wo; ox++) {
        long ix = ox * sw - pw;
        int kx0 = ix < 0 ? (int)-ix : 0;
        int kx1 = ix + kw > w ? (int)(w - ix) : kw;
        float *out = outRow + ox * ch;
        for (long c0 = 0; c0 < ch; c0 += 64) {
            long nc = ch - c0 < 64 ? ch - c0 : 64;
            for (long j = 0; j < nc; j++) acc[j] = 0;
            for (int ky = ky0; ky < ky1; ky++)
                for (int kx = kx0; kx < kx1; kx++) {
                    const float *src = rows[ky] + (ix + kx) * ch + c0;
                    const float *wk = wt + (ky * kw + kx) * ch + c0;
                    for (long j = 0; j < nc; j++) acc[j] += wk[j] * src[j];
                }
            finish(out + c0, acc, 0, bias + c0, 0, nc, act);
        }
        if (sums)
            for (long j = 0; j < ch; j++) sums[j] += out[j];
    }
}

static void dw_row_baseline(const float *const *rows, int ky0, int ky1, long w, long ch, const float *wt,
                            const float *bias, int kh, int kw, int sw, int pw, int act, float *out, long wo, float *sums) {
    (void)kh;
    dw_row_body(rows, ky0, ky1, w, ch, wt, bias, kw, sw, pw, act, out, wo, sums);
}

#if FV_X86
// The vector helpers depthwise_fixed.h is written in, per width. AVX2 has no mask registers: a partial vector's
// mask is a lane mask from a compare, and whole vectors take plain loads and stores.
typedef struct {
    __m256i lanes;
    int whole;
} fv_mask256;
FV_INLINE FV_AVX2 fv_mask256 vmask256(long valid) { fv_mask256 m = {lanes256(valid), valid >= 8}; return m; }
FV_INLINE FV_AVX2 __m256 vload256(fv_mask256 m, const float *p) { return m.whole ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.lanes); }
FV_INLINE FV_AVX2 void vstore256(fv_mask256 m, float *p, __m256 v) {
    if (m.whole) _mm256_storeu_ps(p, v); else _mm256_maskstore_ps(p, m.lanes, v);
}
FV_INLINE FV_AVX2 __m256 vloadu256(const float *p) { return _mm256_loadu_ps(p); }
FV_INLINE FV_AVX2 void vstoreu256(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
FV_INLINE FV_AVX2 __m256 vzero256(void) { return _mm256_setzero_ps(); }
FV_INLINE FV_AVX2 __m256 vfmadd256(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
FV_INLINE FV_AVX2 __m256 vadd256(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }

typedef __mmask16 fv_mask512;
FV_INLINE FV_AVX512 fv_mask512 vmask512(long valid) { return valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1); }
FV_INLINE FV_AVX512 __m512 vload512(fv_mask512 m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
FV_INLINE FV_AVX512 void vstore512(fv_mask512 m, float *p, __m512 v) { _mm512_mask_storeu_ps(p, m, v); }
FV_INLINE FV_AVX512 __m512 vloadu512(const float *p) { return _mm512_loadu_ps(p); }
FV_INLINE FV_AVX512 void vstoreu512(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
FV_INLINE FV_AVX512 __m512 vzero512(void) { return _mm512_setzero_ps(); }
FV_INLINE FV_AVX512 __m512 vfmadd512(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
FV_INLINE FV_AVX512 __m512 vadd512(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }

// dw_row_256, dw_small_256: 8-channel vectors.
#define FV_W 256
#define FV_ATTR FV_AVX2
#define FV_LANES 8
#define FV_VEC __m256
#define FV_MASK fv_mask256
#include "depthwise_fixed.h"

// dw_row_512, dw_small_512: 16-channel vectors.
#define FV_W 512
#define FV_ATTR FV_AVX512
#define FV_LANES 16
#define FV_VEC __m512
#define FV_MASK fv_mask512
#include "depthwise_fixed.h"
#endif

long fv_depthwise_small_tile_size(long h, long w, int ph, int pw) { return (h + 2 * ph) * (w + 2 * pw) * 16; }

int fv_depthwise_small_supported(long h, long w, int kh, int kw, int sh, int sw, int ph, int pw) {
#if FV_X86
    // Where the padded tile beats the row kernel (a C microbenchmark of both on EfficientNet's shapes, one thread,
    // Intel Xeon): with AVX-512 at stride 1 on maps up to 40x40 (28x28 5x5: 1.8x; 40x40 5x5: 1.3x), at stride 2
    // up to 20x20 (on 28x28 copying the tile costs more than the quarter of its pixels the conv reads); with AVX2's
    // 8-lane vectors up to 20x20 either way (7x7 to 14x14 3x3: 1.25-1.8x; level at 28x28).
    const int fixed = (kh == 5 && kw == 5) || (kh == 3 && kw == 3), stride = sh == sw && (sh == 1 || sh == 2);
    const long area = (h + 2 * ph) * (w + 2 * pw);
    if (fv_isa >= FV_ISA_AVX512) return fixed && stride && area <= (sh == 1 ? 48 * 48 : 24 * 24);
    return fv_isa >= FV_ISA_AVX2 && fixed && stride && area <= 24 * 24;
#else
    (void)h; (void)w; (void)kh; (void)kw; (void)sh; (void)sw; (void)ph; (void)pw;
    return 0;
#endif
}

void fv_depthwise_nhwc_tiled(const float *x, long h, long w, long ch, const float *wt, const float *bias,
                             int kh, int kw, int sh, int sw, int ph, int pw, int activation, float *y, long ho,
                             long wo, long row_begin, long row_end, long c_begin, long c_end, float *sums, float *tile) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) {
        dw_small_512(x, h, w, ch, wt, bias, kh, kw, sh, sw, ph, pw, activation, y, ho, wo, row_begin, row_end, c_begin,
                     c_end, sums, tile);
    } else {
        dw_small_256(x, h, w, ch, wt, bias, kh, kw, sh, sw, ph, pw, activation, y, ho, wo, row_begin, row_end, c_begin,
                     c_end, sums, tile);
    }
#else
    (void)x; (void)h; (void)w; (void)ch; (void)wt; (void)bias; (void)kh; (void)kw; (void)sh; (void)sw; (void)ph;
    (void)pw; (void)activation; (void)y; (void)ho; (void)wo; (void)row_begin; (void)row_end; (void)c_begin;
    (void)c_end; (void)sums; (void)tile;
#endif
}

typedef void (*dw_row_fn)(const float *const *rows, int ky0, int ky1, long w, long ch, const float *wt,
                          const float *bias, int kh, int kw, int sw, int pw, int act, float *out, long wo, float *sums);

static dw_row_fn dw_row_for_isa(void) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) return dw_row_512;
    if (fv_isa >= FV_ISA_AVX2) return dw_row_256;
#endif
    return dw_row_baseline;
}

enum { FV_MAX_KERNEL = 16 };

void fv_depthwise_nhwc(const float *x, long h, long w, long ch, const float *wt, const float *bias,
                       int kh, int kw, int sh, int sw, int ph, int pw, int activation,
                       float *y, long ho, long wo, long row_begin, long row_end, float *sums) {
    dw_row_fn row_fn = dw_row_for_isa();
    const float *rows[FV_MAX_KERNEL];
    if (kh > FV_MAX_KERNEL) return;
    for (long oy = row_begin; oy < row_end; oy++) {
        long iy = oy * sh - ph;
        int ky0 = iy < 0 ? (int)-iy : 0;
        int ky1 = iy + kh > h ? (int)(h - iy) : kh;
        for (int ky = 0; ky < kh; ky++) rows[ky] = ky >= ky0 && ky < ky1 ? x + (iy + ky) * w * ch : 0;
        row_fn(rows, ky0, ky1, w, ch, wt, bias, kh, kw, sw, pw, activation, y + oy * wo * ch, wo, sums);
    }
}

// ---- Expand (1x1) fused into the depthwise conv ----
// The expanded tensor of an MBConv block (up to 192x192x96 floats here) never exists: each expanded row is
// computed into a ring of kh rows when the depthwise conv first needs it, and read from L2 while it is hot.

long fv_expand_depthwise_ring_size(long w, long ch, int kh) { return (long)kh * w * ch; }

/// Computes input row r of the depthwise conv (w x ch floats) into dst.
typedef void (*row_producer)(const void *ctx, long r, float *dst);

/// The depthwise conv's output rows [row_begin, row_end) over input rows that `produce` computes into a ring of
/// kh rows when first needed: the layer before the depthwise conv (a 1x1 expansion, or the stem) is never written
/// out whole.
static void depthwise_over_produced_rows(row_producer produce, const void *ctx, long h, long w, long ch,
                                         const float *wt, const float *bias, int kh, int kw, int sh, int sw, int ph,
                                         int pw, int activation, float *y, long ho, long wo, long row_begin,
                                         long row_end, float *sums, float *ring) {
    (void)ho;
    dw_row_fn row_fn = dw_row_for_isa();
    if (kh > FV_MAX_KERNEL) return;
    long held[FV_MAX_KERNEL];  // the input row each ring slot holds (-1: none)
    for (int i = 0; i < kh; i++) held[i] = -1;
    const float *rows[FV_MAX_KERNEL];
    for (long oy = row_begin; oy < row_end; oy++) {
        long iy = oy * sh - ph;
        int ky0 = iy < 0 ? (int)-iy : 0;
        int ky1 = iy + kh > h ? (int)(h - iy) : kh;
        for (int ky = 0; ky < kh; ky++) {
            rows[ky] = 0;
            if (ky < ky0 || ky >= ky1) continue;
            long r = iy + ky, slot = r % kh;
            float *dst = ring + slot * w * ch;
            if (held[slot] != r) {
                produce(ctx, r, dst);
                held[slot] = r;
            }
            rows[ky] = dst;
        }
        row_fn(rows, ky0, ky1, w, ch, wt, bias, kh, kw, sw, pw, activation, y + oy * wo * ch, wo, sums);
    }
}

typedef struct {
    gemm_fn gemm;
    const float *x;
    fv_panels packed;
    const float *bias;
    long w, cin, ch, panels;
    int activation;
} expand_rows;

static void produce_expanded_row(const void *ctx, long r, float *dst) {
    const expand_rows *e = ctx;
    e->gemm(e->ch, e->cin, e->x + r * e->w * e->cin, e->cin, e->packed, 0, e->bias, e->activation, 0, dst, e->ch, 0,
            e->w, 0, e->panels);
}

void fv_expand_depthwise_nhwc(const float *x, long h, long w, long cin, fv_panels expand_packed,
                              const float *expand_bias, int expand_activation, long ch, const float *wt,
                              const float *bias, int kh, int kw, int sh, int sw, int ph, int pw, int activation,
                              float *y, long ho, long wo, long row_begin, long row_end, float *sums, float *ring) {
    expand_rows e = {gemm_for_isa(), x, expand_packed, expand_bias, w, cin, ch, (ch + FV_PANEL - 1) / FV_PANEL,
                     expand_activation};
    depthwise_over_produced_rows(produce_expanded_row, &e, h, w, ch, wt, bias, kh, kw, sh, sw, ph, pw, activation, y,
                                 ho, wo, row_begin, row_end, sums, ring);
}

// ---- The stem fused into the first depthwise conv ----
// The stem's output (192x192x32 floats for a 384x384 input) never exists either: each of its rows is unfolded from
// the NCHW image and multiplied by the stem's packed weights when the depthwise conv first needs it.

long fv_stem_depthwise_scratch_size(long w, long ch, int kh, long stem_k) { return (long)kh * w * ch + w * stem_k; }

typedef struct {
    gemm_fn gemm;
    const float *image;
    fv_panels packed;
    const float *bias;
    long ci, ih, iw, w, ch, k, panels;
    int kh, kw, sh, sw, ph, pw, activation;
    float *cols;
} stem_rows;

static void produce_stem_row(const void *ctx, long r, float *dst) {
    const stem_rows *s = ctx;
    // fv_unfold_nchw writes patch (r·w + x) at cols + (r·w + x)·k: offset so that row r lands at the start.
    fv_unfold_nchw(s->image, s->ci, s->ih, s->iw, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->w, r, r + 1,
                   s->cols - r * s->w * s->k);
    s->gemm(s->ch, s->k, s->cols, s->k, s->packed, 0, s->bias, s->activation, 0, dst, s->ch, 0, s->w, 0, s->panels);
}

void fv_stem_depthwise_nhwc(const float *image, long ci, long ih, long iw, int stem_kh, int stem_kw, int stem_sh,
                            int stem_sw, int stem_ph, int stem_pw, fv_panels stem_packed, const float *stem_bias,
                            int stem_activation, long h, long w, long ch, const float *wt, const float *bias, int kh,
                            int kw, int sh, int sw, int ph, int pw, int activation, float *y, long ho, long wo,
                            long row_begin, long row_end, float *sums, float *scratch) {
    long k = ci * stem_kh * stem_kw;
    stem_rows s = {gemm_for_isa(), image, stem_packed, stem_bias, ci, ih, iw, w, ch, k, (ch + FV_PANEL - 1) / FV_PANEL,
                   stem_kh, stem_kw, stem_sh, stem_sw, stem_ph, stem_pw, stem_activation, scratch + (long)kh * w * ch};
    depthwise_over_produced_rows(produce_stem_row, &s, h, w, ch, wt, bias, kh, kw, sh, sw, ph, pw, activation, y, ho,
                                 wo, row_begin, row_end, sums, scratch);
}
