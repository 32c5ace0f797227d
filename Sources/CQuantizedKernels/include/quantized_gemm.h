// Int8 matrix products for the MAST engine, on AVX-VNNI (vpdpbusd, 256-bit).
//
// Swift cannot emit vpdpbusd, so this one kernel is C with intrinsics; it is compiled for the
// VNNI extensions alone and chosen at run time, so the binary still runs on any x86-64 CPU.
//
// Scheme (dynamic quantization, as onnxruntime and PyTorch do it for CPU inference):
//   weights   w[n][k] -> s8, one scale per output column: q = round(w / s_n), s_n = max|w[n]| / 127
//   inputs    x[m][k] -> u8, one scale per row: u = round(x / a_r) + 128, a_r = max|x[r]| / 127
//   product   out[r][n] = a_r * s_n * (sum_k u*q - 128 * sum_k q) + bias[n]
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per packed panel (two 8-lane registers).
#define MAST_Q8_PANEL 16

/// 1 when this CPU has AVX-VNNI or AVX512-VNNI with AVX512VL (the int8 kernel can run), else 0.
int mast_q8_supported(void);

/// k rounded up to whole groups of four (one vpdpbusd lane).
static inline int mast_q8_padded_depth(int k) { return (k + 3) & ~3; }

/// Bytes of packed weights for an n x k matrix.
static inline long mast_q8_packed_bytes(int n, int k) {
    return (long)((n + MAST_Q8_PANEL - 1) / MAST_Q8_PANEL) * MAST_Q8_PANEL * mast_q8_padded_depth(k);
}

/// Quantizes and packs w[n][k] (rows ldw floats apart). `scales` and `sums` hold
/// round_up(n, 16) entries; those past n are written as zero.
void mast_q8_pack_weights(const float *w, int ldw, int n, int k, int8_t *packed, float *scales, int32_t *sums);

/// out[m][n] = x[m][k] . w^T (+ bias) (+ out when accumulate), rows lda / ldout floats apart.
/// `scratch` holds m * padded_depth(k) bytes and `row_scales` m floats. Requires mast_q8_supported().
void mast_q8_gemm(float *out, int ldout, const float *x, int lda, int m, const int8_t *packed,
                  const float *scales, const int32_t *sums, int n, int k, const float *bias, int accumulate,
                  uint8_t *scratch, float *row_scales);

#ifdef __cplusplus
}
#endif
