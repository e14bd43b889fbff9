// Hot loops of the engine, in C so that each can be compiled several times: for the baseline x86-64 (SSE2), for
// AVX2+FMA and for AVX-512, picked at run time. Swift has no per-function target attribute.
#ifndef CENGINEKERNELS_H
#define CENGINEKERNELS_H

enum { FV_ACT_IDENTITY = 0, FV_ACT_RELU = 1, FV_ACT_RELU6 = 2, FV_ACT_SILU = 3, FV_ACT_SIGMOID = 4 };
enum { FV_ISA_BASELINE = 0, FV_ISA_AVX2 = 1, FV_ISA_AVX512 = 2 };

/// The best instruction set this CPU supports, and the one the kernels use now.
int fv_supported_isa(void);
int fv_current_isa(void);
/// Makes the kernels use `isa` (clamped to what the CPU supports); returns the previous one. For tests, which
/// check every path on one machine; call it only while no kernel runs.
int fv_force_isa(int isa);

/// x[i] = act(x[i] + bias) for i < n.
void fv_bias_activation(float *x, long n, float bias, int activation);


/// Squeeze-excitation on a pooled vector: hidden = act1(W1 pooled + b1) (W1 [squeezed][channels]),
/// scale = act2(W2 hidden + b2), W2 given transposed: w2t [squeezed][channels].
void fv_squeeze_excitation(const float *pooled, long channels, long squeezed, const float *w1, const float *b1,
                           int act1, const float *w2t, const float *b2, int act2, float *hidden, float *scale);

// ---- Matrix-vector products (the classifier head) ----

/// A row-major matrix: exactly one of f32 and f16 (IEEE half-precision bit patterns) is set.
typedef struct {
    const float *f32;
    const unsigned short *f16;
} fv_matrix;

/// y[i] = sum_j A[i][j] x[j] for rows [row_begin, row_end) of an m x n matrix A.
void fv_gemv(long n, fv_matrix a, const float *x, float *y, long row_begin, long row_end);

/// y[j] = sum_i A[i][j] x[i] for columns [col_begin, col_end) of an m x n matrix A.
void fv_gemv_transposed(long m, long n, fv_matrix a, const float *x, float *y, long col_begin, long col_end);

// ---- Threads ----

typedef void (*fv_task_fn)(void *ctx, long chunk);

/// Runs fn(ctx, i) for every i < chunks on the engine's worker threads (created on first use: threads - 1 of
/// them) and the caller, and returns when all are done. Runs them all on the caller when the pool is busy.
void fv_parallel_run(long chunks, int threads, fv_task_fn fn, void *ctx);

/// While set (non-zero), regions started on the calling thread run on it alone. Returns the previous setting.
int fv_set_thread_serial(int serial);

// ---- Channels-last (NHWC) kernels: the backbone's layout. ----

/// Width of a packed weight panel: the output channels one micro-kernel pass computes.
enum { FV_PANEL = 32 };

/// Elements `fv_pack_weights` writes for an [n outputs × k inputs] weight: ceil(n/32) panels of k rows of 32.
long fv_packed_size(long n, long k);

/// Packs a PyTorch-layout weight w[n][k] (output-major) into panels: panel p, row r holds w[p*32 + j][r] for
/// j < 32 (zero past n). Done once at load.
void fv_pack_weights(const float *w, long n, long k, float *packed);

/// The same for IEEE half-precision bit patterns: the panels of a weight that is exact in half precision (the
/// shipped files are F16), half the memory; the kernels widen each panel row as they load it.
void fv_pack_weights_half(const unsigned short *w, long n, long k, unsigned short *packed);

/// A 1x1 or unfolded conv's packed weights: exactly one of f32 and f16 is set. out_scale (may be NULL): a
/// per-output factor applied to the sums before the bias (a batch norm kept out of half-precision weights).
typedef struct {
    const float *f32;
    const unsigned short *f16;
    const float *out_scale;
} fv_panels;

/// C[i][j] = act(out_scale[j] * sum_r A[i][r] * scale[r] * W[j][r] + bias[j]) (+ residual[i][j]) for rows i in
/// [row_begin, row_end) and panels [panel_begin, panel_end). Row strides: lda for A, ldc for C and residual.
/// scale (a squeeze-excitation folded into this 1x1 conv) and residual may be NULL.
void fv_gemm_packed(long n, long k, const float *a, long lda, fv_panels w, const float *scale,
                    const float *bias, int activation,
                    const float *residual, float *c, long ldc, long row_begin, long row_end,
                    long panel_begin, long panel_end);

/// Whether fv_gemm_packed skips the columns of A that are zero in every row of a tile (on by default; the result
/// has the same bits either way but for the sign of a zero sum). Returns the previous setting. For tests and
/// benchmarks, before any parallel call.
int fv_set_zero_column_skipping(int on);

/// Rows [row_begin, row_end) of the unfolded patches of one NHWC image x[h][w][ci]: cols row (oy*wo + ox) holds
/// the kh x kw x ci patch in (ky, kx, c) order, zeros outside the image.
void fv_unfold_nhwc(const float *x, long h, long w, long ci, int kh, int kw, int sh, int sw, int ph, int pw,
                    long wo, long row_begin, long row_end, float *cols);

/// fv_unfold_nhwc reading an NCHW image x[ci][h][w] (the model's input): same rows, same (ky, kx, c) order.
void fv_unfold_nchw(const float *x, long ci, long h, long w, int kh, int kw, int sh, int sw, int ph, int pw,
                    long wo, long row_begin, long row_end, float *cols);

/// Depthwise conv on one NHWC image x[h][w][ch] into y[ho][wo][ch] for output rows [row_begin, row_end):
/// y = act(sum_taps wt[tap][ch] * x[...] + bias[ch]), zero padding. wt is [kh*kw][ch] (tap-major).
/// If sums is not NULL, sums[ch] += the outputs of these rows (the squeeze-excitation pool).
void fv_depthwise_nhwc(const float *x, long h, long w, long ch, const float *wt, const float *bias,
                       int kh, int kw, int sh, int sw, int ph, int pw, int activation,
                       float *y, long ho, long wo, long row_begin, long row_end, float *sums);

/// Whether fv_depthwise_nhwc_tiled runs this shape on this CPU (3x3 or 5x5, stride 1 or 2 the same both ways, AVX2
/// or AVX-512, a padded map of at most 24 x 24, or 48 x 48 at stride 1 with AVX-512), and the floats of its
/// per-thread tile.
int fv_depthwise_small_supported(long h, long w, int kh, int kw, int sh, int sw, int ph, int pw);
long fv_depthwise_small_tile_size(long h, long w, int ph, int pw);

/// Depthwise conv on a small NHWC image, output rows [row_begin, row_end) and channels [c_begin, c_end) (c_begin a
/// multiple of 16): the input rows those output rows read, for each vector of channels, copied into a zero-padded
/// tile first. sums[c] (if not NULL) += each channel's output sum over these rows.
void fv_depthwise_nhwc_tiled(const float *x, long h, long w, long ch, const float *wt, const float *bias,
                             int kh, int kw, int sh, int sw, int ph, int pw, int activation, float *y, long ho,
                             long wo, long row_begin, long row_end, long c_begin, long c_end, float *sums, float *tile);

/// Floats of one thread's ring for fv_expand_depthwise_nhwc: kh expanded rows.
long fv_expand_depthwise_ring_size(long w, long ch, int kh);

/// fv_depthwise_nhwc applied to act_e(x · expand + expand_bias) without materialising it: the 1x1 expansion
/// (cin -> ch, packed panels) of each input row is computed into `ring` (kh rows of w x ch, one ring per thread)
/// when first needed.
void fv_expand_depthwise_nhwc(const float *x, long h, long w, long cin, fv_panels expand_packed,
                              const float *expand_bias, int expand_activation, long ch, const float *wt,
                              const float *bias, int kh, int kw, int sh, int sw, int ph, int pw, int activation,
                              float *y, long ho, long wo, long row_begin, long row_end, float *sums, float *ring);

/// Floats of one thread's scratch for fv_stem_depthwise_nhwc: kh stem output rows and one row of unfolded patches.
long fv_stem_depthwise_scratch_size(long w, long ch, int kh, long stem_k);

/// fv_depthwise_nhwc applied to the stem's output, a general conv (stem_kh x stem_kw, stride, pad; packed by
/// fv_pack_weights) of the NCHW image[ci][ih][iw] into h x w x ch, without materialising it: each stem row the
/// depthwise conv needs is unfolded and multiplied into a ring in `scratch` when first needed.
void fv_stem_depthwise_nhwc(const float *image, long ci, long ih, long iw, int stem_kh, int stem_kw, int stem_sh,
                            int stem_sw, int stem_ph, int stem_pw, fv_panels stem_packed, const float *stem_bias,
                            int stem_activation, long h, long w, long ch, const float *wt, const float *bias, int kh,
                            int kw, int sh, int sw, int ph, int pw, int activation, float *y, long ho, long wo,
                            long row_begin, long row_end, float *sums, float *scratch);

/// Serves every block of at least `bytes` from mmap, returned to the system when freed (glibc's mallopt
/// M_MMAP_THRESHOLD, which also stops glibc from raising the threshold itself). Does nothing when the user set
/// MALLOC_MMAP_THRESHOLD_. Returns mallopt's result (1 on success), or 0.
int fv_fix_mmap_threshold(long bytes);

#endif
