// The fixed-size (3x3, 5x5) depthwise kernels, written once for any vector width: channels_last.c includes this
// file once per ISA, having defined
//   FV_W      the vector width in bits (256, 512): it names the functions (dw_row_512, dw_small_256, ...)
//   FV_ATTR   the ISA's target attribute
//   FV_LANES  floats per vector
//   FV_VEC    the vector type, FV_MASK a partial vector's mask type
// and, with the width as suffix, the vector helpers vmask (the first n lanes), vload / vstore (masked), vloadu /
// vstoreu, vzero, vfmadd, vadd and activate.
// It undefines them at its end. Not a header to include anywhere else: it has no include guard on purpose.

#define FV_PASTE2(a, b) a##b
// The largest kernel side these functions are instantiated for (3x3 and 5x5). Their KH and KW are parameters that
// become constants once inlined, but an array sized by them is still a variable-length array in C, which the
// compiler keeps in memory: every tap weight was reloaded from the stack next to its input (two loads per FMA,
// 1.6x the time). Arrays of this fixed size are promoted to registers.
#define FV_FIXED_MAX 5
// Output pixels the small-map kernel computes at once, each an independent chain of FMAs. Four chains hide only
// half the FMA latency (two units, four cycles each); with AVX-512's 32 registers, 14 chains (a 14-wide row at a
// time, a 7-wide one as a 7-pixel remainder) ran 5x5 maps in 0.7-0.9x the time of four and 3x3 ones with SiLU in
// 0.6-0.94x (with ReLU6, level: there the tile copy dominates), though a 5x5's weights no longer fit beside them
// (one weight load now serves 14 FMAs). AVX2's 16 registers: 6, 7, 8 and 14 were no faster than 4 (Intel Xeon, one
// thread, C microbenchmark; docs/engine.md).
#define FV_SMALL_BLOCK (FV_LANES == 16 ? 14 : 4)
// dw_small_fixed_'s remainder switch names the block sizes below it, 13 down to 1.
_Static_assert(FV_SMALL_BLOCK <= 14, "a wider block needs more remainder cases in dw_small_fixed_");
#define FV_PASTE(a, b) FV_PASTE2(a, b)
#define FV_OP(name) FV_PASTE(name, FV_W)

// One vector of channels (c0 .. c0 + FV_LANES, masked by m) of dw_row_fixed_'s output row. Inlined twice: with
// the constant whole-vector mask for every vector but a partial last one, so that its loads and stores are plain
// ones: AVX2 has no mask registers, and a runtime mask made every load a vmaskmovps; AVX-512 folds plain loads
// into the FMAs. The 56x56x144 3x3 layer took 0.9 of the time with either ISA (C microbenchmark, Intel Xeon).
FV_INLINE FV_ATTR void FV_PASTE(dw_row_vector_, FV_W)(const float *const *rows, int ky0, int ky1, long w, long ch,
                                                      const float *wt, const float *bias, const int KH, const int KW,
                                                      int sw, int pw, int act, float *outRow, long wo, float *sums,
                                                      long lo, long hi, long c0, const FV_MASK m) {
    FV_VEC wv[FV_FIXED_MAX * FV_FIXED_MAX];
#pragma clang loop unroll(full)
    for (int t = 0; t < KH * KW; t++) wv[t] = FV_OP(vload)(m, wt + t * ch + c0);
    const FV_VEC b = FV_OP(vload)(m, bias + c0);
    FV_VEC sum = FV_OP(vzero)();
    long ox = 0;
    for (;;) {
        if (ox >= lo && ox + 4 <= hi) {
            const long off = (ox * sw - pw) * ch + c0, step = sw * ch;
            FV_VEC a0 = b, a1 = b, a2 = b, a3 = b;
#pragma clang loop unroll(full)
            for (int ky = 0; ky < KH; ky++)
#pragma clang loop unroll(full)
                for (int kx = 0; kx < KW; kx++) {
                    const float *t = rows[ky] + off + kx * ch;
                    const FV_VEC tap = wv[ky * KW + kx];
                    a0 = FV_OP(vfmadd)(tap, FV_OP(vload)(m, t), a0);
                    a1 = FV_OP(vfmadd)(tap, FV_OP(vload)(m, t + step), a1);
                    a2 = FV_OP(vfmadd)(tap, FV_OP(vload)(m, t + 2 * step), a2);
                    a3 = FV_OP(vfmadd)(tap, FV_OP(vload)(m, t + 3 * step), a3);
                }
            a0 = FV_OP(activate)(a0, act); a1 = FV_OP(activate)(a1, act);
            a2 = FV_OP(activate)(a2, act); a3 = FV_OP(activate)(a3, act);
            FV_OP(vstore)(m, outRow + ox * ch + c0, a0);
            FV_OP(vstore)(m, outRow + (ox + 1) * ch + c0, a1);
            FV_OP(vstore)(m, outRow + (ox + 2) * ch + c0, a2);
            FV_OP(vstore)(m, outRow + (ox + 3) * ch + c0, a3);
            sum = FV_OP(vadd)(sum, FV_OP(vadd)(FV_OP(vadd)(a0, a1), FV_OP(vadd)(a2, a3)));
            ox += 4;
            continue;
        }
        if (ox >= wo) break;
        const long ix = ox * sw - pw;
        FV_VEC acc = b;
        if (ox >= lo && ox < hi) {
#pragma clang loop unroll(full)
            for (int ky = 0; ky < KH; ky++)
#pragma clang loop unroll(full)
                for (int kx = 0; kx < KW; kx++)
                    acc = FV_OP(vfmadd)(wv[ky * KW + kx], FV_OP(vload)(m, rows[ky] + (ix + kx) * ch + c0), acc);
        } else {
            const int kx0 = ix < 0 ? (int)-ix : 0, kx1 = ix + KW > w ? (int)(w - ix) : KW;
            for (int ky = ky0; ky < ky1; ky++)
                for (int kx = kx0; kx < kx1; kx++)
                    acc = FV_OP(vfmadd)(FV_OP(vload)(m, wt + (ky * KW + kx) * ch + c0),
                                        FV_OP(vload)(m, rows[ky] + (ix + kx) * ch + c0), acc);
        }
        acc = FV_OP(activate)(acc, act);
        FV_OP(vstore)(m, outRow + ox * ch + c0, acc);
        sum = FV_OP(vadd)(sum, acc);
        ox++;
    }
    if (sums) FV_OP(vstore)(m, sums + c0, FV_OP(vadd)(FV_OP(vload)(m, sums + c0), sum));
}

// One output row, KH x KW known at compile time: one vector of channels at a time, its KH*KW tap weights loaded
// once while the output row is swept; interior pixels run the taps fully unrolled, four pixels at a time (four
// independent chains hide the FMA latency), border pixels only the taps inside the image, their weights read from
// memory (indexing `wv` with a runtime tap would move the whole array out of registers). The pool sum of the vector
// stays in a register across the row. AVX-512's 32 registers hold a 5x5's 25 taps; AVX2's 16 cannot, and the
// compiler reads the spilled ones from L1 (one load serves the four pixels' FMAs).
FV_INLINE FV_ATTR void FV_PASTE(dw_row_fixed_, FV_W)(const float *const *rowsIn, int ky0, int ky1, long w, long ch,
                                                     const float *wt, const float *bias, const int KH, const int KW,
                                                     int sw, int pw, int act, float *outRow, long wo, float *sums) {
    // A local copy of the row pointers stays in registers: the vector stores below may alias any memory, so
    // pointers read through rowsIn would be reloaded after every store.
    const float *rows[FV_FIXED_MAX];
#pragma clang loop unroll(full)
    for (int ky = 0; ky < KH; ky++) rows[ky] = rowsIn[ky];
    int fullRows = ky0 == 0 && ky1 == KH;
    // Interior columns [lo, hi): every tap inside the image.
    long lo = (pw + sw - 1) / sw, hi = (w - KW + pw) / sw + 1;
    if (!fullRows || hi < lo) { lo = wo; hi = wo; }
    if (hi > wo) hi = wo;
    if (lo > hi) lo = hi;
    for (long c0 = 0; c0 < ch; c0 += FV_LANES) {
        if (ch - c0 >= FV_LANES)
            FV_PASTE(dw_row_vector_, FV_W)(rows, ky0, ky1, w, ch, wt, bias, KH, KW, sw, pw, act, outRow, wo, sums, lo,
                                           hi, c0, FV_OP(vmask)(FV_LANES));
        else
            FV_PASTE(dw_row_vector_, FV_W)(rows, ky0, ky1, w, ch, wt, bias, KH, KW, sw, pw, act, outRow, wo, sums, lo,
                                           hi, c0, FV_OP(vmask)(ch - c0));
    }
}

// The row kernel for this ISA: 3x3 and 5x5 on rows of at least 14 outputs; narrow rows (mostly border, where the
// fixed-size path loses its unrolled taps; maps that small normally take the padded-tile kernel below) and other
// kernel sizes (none in EfficientNet) run the portable body, compiled here for this ISA.
FV_ATTR static void FV_PASTE(dw_row_, FV_W)(const float *const *rows, int ky0, int ky1, long w, long ch,
                                           const float *wt, const float *bias, int kh, int kw, int sw, int pw, int act,
                                           float *out, long wo, float *sums) {
    if (kh == 3 && kw == 3 && wo >= 14)
        FV_PASTE(dw_row_fixed_, FV_W)(rows, ky0, ky1, w, ch, wt, bias, 3, 3, sw, pw, act, out, wo, sums);
    else if (kh == 5 && kw == 5 && wo >= 14)
        FV_PASTE(dw_row_fixed_, FV_W)(rows, ky0, ky1, w, ch, wt, bias, 5, 5, sw, pw, act, out, wo, sums);
    else
        dw_row_body(rows, ky0, ky1, w, ch, wt, bias, kw, sw, pw, act, out, wo, sums);
}

// N (1 to FV_SMALL_BLOCK) consecutive output pixels of the small-map kernel from the padded tile at `src`: N
// independent FMA chains over the KH x KW taps held in `wv`, then the activation, the stores and the pool sum.
FV_INLINE FV_ATTR void FV_PASTE(dw_small_pixels_, FV_W)(const float *src, long wp, const FV_VEC *wv, const FV_VEC b,
                                                        const FV_MASK m, const int KH, const int KW, const int sw,
                                                        const int N, int act, float *out, long ch, FV_VEC *sum) {
    FV_VEC acc[FV_SMALL_BLOCK];
#pragma clang loop unroll(full)
    for (int p = 0; p < N; p++) acc[p] = b;
#pragma clang loop unroll(full)
    for (int ky = 0; ky < KH; ky++)
#pragma clang loop unroll(full)
        for (int kx = 0; kx < KW; kx++)
#pragma clang loop unroll(full)
            for (int p = 0; p < N; p++)
                acc[p] = FV_OP(vfmadd)(wv[ky * KW + kx], FV_OP(vloadu)(src + (ky * wp + kx + p * sw) * FV_LANES), acc[p]);
    FV_VEC s = *sum;
#pragma clang loop unroll(full)
    for (int p = 0; p < N; p++) {
        const FV_VEC v = FV_OP(activate)(acc[p], act);
        FV_OP(vstore)(m, out + p * ch, v);
        s = FV_OP(vadd)(s, v);
    }
    *sum = s;
}

// One vector of channels (c0 .. c0 + FV_LANES, masked by m) of dw_small_fixed_: its band copied into the tile, then
// its output rows. With AVX2, inlined with the constant whole-vector mask too, as dw_row_vector_ is: the 5x5 maps
// took 0.6-0.72 of the time. AVX-512's masked loads and stores cost nothing extra, and there the second copy made
// the 14x14 maps 5 % slower (C microbenchmark, Intel Xeon).
FV_INLINE FV_ATTR void FV_PASTE(dw_small_vector_, FV_W)(const float *x, long h, long w, long ch, const float *wt,
                                                        const float *bias, const int KH, const int KW, const int sh,
                                                        const int sw, int pw, int act, float *y, long wo,
                                                        long row_begin, long row_end, float *sums, float *tile,
                                                        long wp, long first, long band, long c0, const FV_MASK m) {
    const FV_VEC zero = FV_OP(vzero)();
    for (long r = 0; r < band; r++) {
        const long iy = first + r;
        if (iy < 0 || iy >= h) continue;
        for (long ix = 0; ix < w; ix++)
            FV_OP(vstoreu)(tile + (r * wp + ix + pw) * FV_LANES, FV_OP(vload)(m, x + (iy * w + ix) * ch + c0));
    }
    FV_VEC wv[FV_FIXED_MAX * FV_FIXED_MAX];
#pragma clang loop unroll(full)
    for (int t = 0; t < KH * KW; t++) wv[t] = FV_OP(vload)(m, wt + t * ch + c0);
    const FV_VEC b = FV_OP(vload)(m, bias + c0);
    FV_VEC sum = zero;
    for (long oy = row_begin; oy < row_end; oy++) {
        const float *rowBase = tile + (oy - row_begin) * sh * wp * FV_LANES;
        float *outRow = y + oy * wo * ch + c0;
        long ox = 0;
        for (; ox + FV_SMALL_BLOCK <= wo; ox += FV_SMALL_BLOCK)
            FV_PASTE(dw_small_pixels_, FV_W)(rowBase + ox * sw * FV_LANES, wp, wv, b, m, KH, KW, sw,
                                             FV_SMALL_BLOCK, act, outRow + ox * ch, ch, &sum);
        // The row's remaining pixels as one block too: one at a time, each pixel's taps were a single chain of
        // dependent FMAs. N is a constant in every case (the accumulators stay in registers).
        const float *src = rowBase + ox * sw * FV_LANES;
#define FV_REST(N)                                                                                                     \
    case N:                                                                                                            \
        if (N < FV_SMALL_BLOCK)                                                                                        \
            FV_PASTE(dw_small_pixels_, FV_W)(src, wp, wv, b, m, KH, KW, sw, N, act, outRow + ox * ch, ch, &sum);       \
        break;
        switch (wo - ox) {
        FV_REST(13) FV_REST(12) FV_REST(11) FV_REST(10) FV_REST(9) FV_REST(8) FV_REST(7)
        FV_REST(6) FV_REST(5) FV_REST(4) FV_REST(3) FV_REST(2) FV_REST(1)
        default: break;
        }
#undef FV_REST
    }
    if (sums) FV_OP(vstore)(m, sums + c0, FV_OP(vadd)(FV_OP(vload)(m, sums + c0), sum));
}

// Small maps (up to 40x40, see fv_depthwise_small_supported): per vector of channels, the input rows that output
// rows [row_begin, row_end) read are copied into a zero-padded tile (band x (w+2pw) pixels of FV_LANES floats: a few
// KB in L1 for the late stages' 7x7 and 14x14 maps, up to 150 KB in L2 for 40x40), so that every output pixel,
// border or not, runs the fully unrolled taps, FV_SMALL_BLOCK pixels at a time (the row kernel runs a border
// pixel's taps one by one, with its weights from memory: on a 28x28 map a quarter of the pixels). The caller splits
// the rows or the channels over the threads as the 1x1 conv that wrote the input split its own, so each core reads
// what it wrote.
// Channels [c_begin, c_end) (multiples of the lanes except at the end); sums[c] += each channel's output sum over
// these rows.
FV_INLINE FV_ATTR void FV_PASTE(dw_small_fixed_, FV_W)(const float *x, long h, long w, long ch, const float *wt,
                                                       const float *bias, const int KH, const int KW, const int sh,
                                                       const int sw, int ph, int pw, int act, float *y, long ho, long wo,
                                                       long row_begin, long row_end, long c_begin, long c_end,
                                                       float *sums, float *tile) {
    (void)ho;
    const long wp = w + 2 * pw;
    const long first = row_begin * sh - ph;                          // the band's first input row (< 0: padding)
    const long band = (row_end - 1 - row_begin) * sh + KH;           // its rows
    const FV_VEC zero = FV_OP(vzero)();
    // The padding (the ring around the map, and band rows outside it) is zeroed once: each vector of channels
    // overwrites only the map's pixels. Zeroing the whole tile per vector was a third of this kernel's time.
    for (long i = 0; i < band * wp; i++) FV_OP(vstoreu)(tile + i * FV_LANES, zero);
    for (long c0 = c_begin; c0 < c_end; c0 += FV_LANES) {
        if (FV_LANES == 8 && c_end - c0 >= FV_LANES)
            FV_PASTE(dw_small_vector_, FV_W)(x, h, w, ch, wt, bias, KH, KW, sh, sw, pw, act, y, wo, row_begin, row_end,
                                             sums, tile, wp, first, band, c0, FV_OP(vmask)(FV_LANES));
        else
            FV_PASTE(dw_small_vector_, FV_W)(x, h, w, ch, wt, bias, KH, KW, sh, sw, pw, act, y, wo, row_begin, row_end,
                                             sums, tile, wp, first, band, c0, FV_OP(vmask)(c_end - c0));
    }
}

// The stride is a compile-time constant too (1 or 2, the same both ways: EfficientNet's): a runtime stride took the
// four pixels' offsets out of the addressing modes, and the registers they needed spilled (1.3x the time).
FV_ATTR static void FV_PASTE(dw_small_, FV_W)(const float *x, long h, long w, long ch, const float *wt,
                                             const float *bias, int kh, int kw, int sh, int sw, int ph, int pw,
                                             int act, float *y, long ho, long wo, long row_begin, long row_end,
                                             long c_begin, long c_end, float *sums, float *tile) {
#define FV_SMALL(K, S)                                                                                                 \
    FV_PASTE(dw_small_fixed_, FV_W)(x, h, w, ch, wt, bias, K, K, S, S, ph, pw, act, y, ho, wo, row_begin, row_end,     \
                                    c_begin, c_end, sums, tile)
    const int s = sh == sw ? sh : 0;
    if (kh == 3 && kw == 3 && s == 1) FV_SMALL(3, 1);
    else if (kh == 3 && kw == 3 && s == 2) FV_SMALL(3, 2);
    else if (kh == 5 && kw == 5 && s == 1) FV_SMALL(5, 1);
    else if (kh == 5 && kw == 5 && s == 2) FV_SMALL(5, 2);
#undef FV_SMALL
}

#undef FV_OP
#undef FV_FIXED_MAX
#undef FV_SMALL_BLOCK
#undef FV_PASTE
#undef FV_PASTE2
#undef FV_W
#undef FV_ATTR
#undef FV_LANES
#undef FV_VEC
#undef FV_MASK
