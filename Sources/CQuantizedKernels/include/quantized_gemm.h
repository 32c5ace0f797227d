// Int8 matrix products for the MAST engine: vpdpbusd (AVX-VNNI or AVX512-VNNI, 256-bit), or on
// AVX2 alone vpmaddubsw + vpmaddwd.
//
// Swift cannot emit these instructions, so this one kernel is C with intrinsics; each flavour is
// compiled for its extensions alone and chosen at run time, so the binary runs on any x86-64 CPU.
//
// Scheme (dynamic quantization, as onnxruntime and PyTorch do it for CPU inference):
//   weights   w[n][k] -> s8, one scale per output column: q = round(w / s_n), s_n = max|w[n]| / L,
//             L = 127, or 63 for the AVX2 kernel: vpmaddubsw adds two u8*s8 products in 16 bits,
//             and 2 * 255 * 63 fits where 2 * 255 * 127 would saturate
//   inputs    x[m][k] -> u8, one scale per row: u = round(x / a_r) + 128, a_r = max|x[r]| / 127
//   product   out[r][n] = a_r * s_n * (sum_k u*q - 128 * sum_k q) + bias[n]
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per packed panel (two 8-lane registers).
#define MAST_Q8_PANEL 16

/// The kernels, by the instructions they need.
enum {
    MAST_Q8_NONE = 0,        // no int8 kernel runs on this CPU
    MAST_Q8_AVX2 = 1,        // vpmaddubsw + vpmaddwd (weights limited to +-63)
    MAST_Q8_AVX_VNNI = 2,    // vpdpbusd, VEX-encoded (Alder Lake, Zen 5)
    MAST_Q8_AVX512_VNNI = 3, // vpdpbusd, EVEX-encoded on 256-bit registers (Ice Lake, Zen 4)
};

/// Whether this CPU runs `kernel`.
int mast_q8_kernel_available(int kernel);

/// The fastest kernel this CPU runs (MAST_Q8_NONE when there is none).
int mast_q8_best_kernel(void);

/// The largest weight magnitude `kernel` takes.
static inline int mast_q8_weight_limit(int kernel) { return kernel == MAST_Q8_AVX2 ? 63 : 127; }

/// k rounded up to whole groups of four (one vpdpbusd lane).
static inline int mast_q8_padded_depth(int k) { return (k + 3) & ~3; }

/// Bytes of packed weights for an n x k matrix.
static inline long mast_q8_packed_bytes(int n, int k) {
    return (long)((n + MAST_Q8_PANEL - 1) / MAST_Q8_PANEL) * MAST_Q8_PANEL * mast_q8_padded_depth(k);
}

/// Quantizes w[n][k] (rows ldw floats apart) to +-`limit` and packs it. `scales` and `sums` hold
/// round_up(n, 16) entries; those past n are written as zero.
void mast_q8_pack_weights(const float *w, int ldw, int n, int k, int limit, int8_t *packed, float *scales, int32_t *sums);

/// out[m][n] = x[m][k] . w^T (+ bias) (+ out when accumulate), rows lda / ldout floats apart, on
/// `kernel`, which must be available and the one the weights were packed for (its limit).
/// `scratch` holds m * padded_depth(k) bytes and `row_scales` m floats.
void mast_q8_gemm(int kernel, float *out, int ldout, const float *x, int lda, int m, const int8_t *packed,
                  const float *scales, const int32_t *sums, int n, int k, const float *bias, int accumulate,
                  uint8_t *scratch, float *row_scales);

#ifdef __cplusplus
}
#endif
