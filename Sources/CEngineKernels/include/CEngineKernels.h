// Hot element-wise and depthwise loops of the engine, in C so that they can be compiled twice: once for the
// baseline x86-64 (SSE2) and once for AVX2+FMA, picked at run time. Swift has no per-function target attribute.
#ifndef CENGINEKERNELS_H
#define CENGINEKERNELS_H

enum { FV_ACT_IDENTITY = 0, FV_ACT_RELU = 1, FV_ACT_RELU6 = 2, FV_ACT_SILU = 3, FV_ACT_SIGMOID = 4 };

/// x[i] = act(x[i] + bias) for i < n.
void fv_bias_activation(float *x, long n, float bias, int activation);

/// Stride-1 depthwise accumulation over a flattened zero-padded plane (row length wp):
/// acc[i] += sum_{ky<kh, kx<kw} w[ky*kw+kx] * padded[ky*wp + kx + i] for i < span.
void fv_depthwise_accumulate(float *acc, const float *padded, long span, long wp, const float *w, int kh, int kw);

#endif
