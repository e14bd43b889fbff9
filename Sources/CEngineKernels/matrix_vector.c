// Matrix-vector products for the classifier head (the attention pooling, fc1 and its backward, the CAM): plain
// loops written for the vectoriser and compiled per ISA, on an F32 matrix or one of half-precision bit patterns
// (fc1's 1280x512 weights, read once per forward: half precision halves the bytes). They replace OpenBLAS's
// gemv, whose kernels follow OPENBLAS_CORETYPE rather than the CPU (SSE3 under the Prescott core some machines set).
#include "dispatch.h"

// Element i of A, widened to F32 when A is half precision (a constant in each instantiation).
#define FV_MV_ELEMENT(a, half, i) ((half) ? half_to_float(((const unsigned short *)(a))[i]) : ((const float *)(a))[i])

// y[i] = sum_j A[i][j] x[j] for rows [row_begin, row_end). Sixteen independent partial sums per row, so the loop
// vectorises without reassociating a single sum.
FV_INLINE void gemv_rows(long n, const void *a, const int half, const float *x, float *y, long row_begin,
                         long row_end) {
    for (long i = row_begin; i < row_end; i++) {
        float acc[16] = {0};
        const long base = i * n;
        long j = 0;
        for (; j + 16 <= n; j += 16)
            for (int l = 0; l < 16; l++) acc[l] += FV_MV_ELEMENT(a, half, base + j + l) * x[j + l];
        float s = 0;
        for (; j < n; j++) s += FV_MV_ELEMENT(a, half, base + j) * x[j];
        for (int l = 0; l < 16; l++) s += acc[l];
        y[i] = s;
    }
}

// y[j] = sum_i A[i][j] x[i] for columns [col_begin, col_end): each row of A scaled and added into y's slice, which
// stays in L1.
FV_INLINE void gemv_columns(long m, long n, const void *a, const int half, const float *x, float *y, long col_begin,
                            long col_end) {
    for (long j = col_begin; j < col_end; j++) y[j] = 0;
    for (long i = 0; i < m; i++) {
        const float xi = x[i];
        const long base = i * n;
        for (long j = col_begin; j < col_end; j++) y[j] += xi * FV_MV_ELEMENT(a, half, base + j);
    }
}

#define FV_DEFINE_GEMV(SUFFIX, ATTR)                                                                              \
    ATTR static void gemv_rows_##SUFFIX(long n, fv_matrix a, const float *x, float *y, long r0, long r1) {      \
        if (a.f16) gemv_rows(n, a.f16, 1, x, y, r0, r1); else gemv_rows(n, a.f32, 0, x, y, r0, r1);              \
    }                                                                                                           \
    ATTR static void gemv_columns_##SUFFIX(long m, long n, fv_matrix a, const float *x, float *y, long c0,       \
                                           long c1) {                                                           \
        if (a.f16) gemv_columns(m, n, a.f16, 1, x, y, c0, c1); else gemv_columns(m, n, a.f32, 0, x, y, c0, c1);  \
    }
FV_DEFINE_GEMV(baseline, )
#if FV_X86
FV_DEFINE_GEMV(avx2, FV_AVX2)
FV_DEFINE_GEMV(avx512, FV_AVX512)
#endif

void fv_gemv(long n, fv_matrix a, const float *x, float *y, long row_begin, long row_end) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) { gemv_rows_avx512(n, a, x, y, row_begin, row_end); return; }
    if (fv_isa >= FV_ISA_AVX2) { gemv_rows_avx2(n, a, x, y, row_begin, row_end); return; }
#endif
    gemv_rows_baseline(n, a, x, y, row_begin, row_end);
}

void fv_gemv_transposed(long m, long n, fv_matrix a, const float *x, float *y, long col_begin, long col_end) {
#if FV_X86
    if (fv_isa >= FV_ISA_AVX512) { gemv_columns_avx512(m, n, a, x, y, col_begin, col_end); return; }
    if (fv_isa >= FV_ISA_AVX2) { gemv_columns_avx2(m, n, a, x, y, col_begin, col_end); return; }
#endif
    gemv_columns_baseline(m, n, a, x, y, col_begin, col_end);
}
