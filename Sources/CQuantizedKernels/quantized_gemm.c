#include "quantized_gemm.h"

#include <math.h>
#include <string.h>

#define PANEL MAST_Q8_PANEL
#define TILE_ROWS 6

int mast_q8_kernel_available(int kernel) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (kernel) {
    case MAST_Q8_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case MAST_Q8_AVX_VNNI: return __builtin_cpu_supports("avxvnni") && __builtin_cpu_supports("fma");
    case MAST_Q8_AVX512_VNNI:
        return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    default: return 0;
    }
#else
    (void)kernel;
    return 0;
#endif
}

int mast_q8_best_kernel(void) {
    const int order[] = {MAST_Q8_AVX_VNNI, MAST_Q8_AVX512_VNNI, MAST_Q8_AVX2};
    for (int i = 0; i < 3; i++)
        if (mast_q8_kernel_available(order[i])) return order[i];
    return MAST_Q8_NONE;
}

void mast_q8_pack_weights(const float *w, int ldw, int n, int k, int limit, int8_t *packed, float *scales, int32_t *sums) {
    const int kp = mast_q8_padded_depth(k), panels = (n + PANEL - 1) / PANEL;
    memset(packed, 0, (size_t)mast_q8_packed_bytes(n, k));
    for (int j = 0; j < panels * PANEL; j++) {
        scales[j] = 0;
        sums[j] = 0;
    }
    for (int j = 0; j < n; j++) {
        const float *row = w + (size_t)j * ldw;
        float peak = 0;
        for (int kk = 0; kk < k; kk++) peak = fmaxf(peak, fabsf(row[kk]));
        const float scale = peak > 0 ? peak / (float)limit : 1, inverse = 1 / scale;
        // Panel layout: per group of four k, 16 columns x 4 bytes, so one 32-bit lane of a
        // register holds four consecutive k of one column.
        int8_t *panel = packed + (size_t)(j / PANEL) * PANEL * kp;
        const int lane = j % PANEL;
        int32_t sum = 0;
        for (int kk = 0; kk < k; kk++) {
            const float r = row[kk] * inverse;  // in [-limit, limit]: round half away from zero
            const int q = (int)(r + (r < 0 ? -0.5f : 0.5f));
            panel[(kk / 4) * PANEL * 4 + lane * 4 + kk % 4] = (int8_t)q;
            sum += q;
        }
        scales[j] = scale;
        sums[j] = sum;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// Row r of x -> u8 with zero point 128, padded with 128 (padded weights are zero). Eight
// floats at a time: |x| peak, then round-to-nearest-even (the default MXCSR mode), +128, narrow.
static inline __attribute__((always_inline, target("avx2,fma"))) void quantize_row(const float *x, int k, int kp, uint8_t *out, float *scale) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 peaks = _mm256_setzero_ps();
    int kk = 0;
    for (; kk + 8 <= k; kk += 8) peaks = _mm256_max_ps(peaks, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + kk)));
    float lanes[8], peak = 0;
    _mm256_storeu_ps(lanes, peaks);
    for (int i = 0; i < 8; i++) peak = fmaxf(peak, lanes[i]);
    for (; kk < k; kk++) peak = fmaxf(peak, fabsf(x[kk]));
    const float s = peak > 0 ? peak / 127 : 1, inverse = 1 / s;
    const __m256 scale8 = _mm256_set1_ps(inverse);
    const __m256i zero_point = _mm256_set1_epi32(128);
    for (kk = 0; kk + 8 <= k; kk += 8) {
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + kk), scale8)), zero_point);
        // 8 × i32 in [1, 255] -> 8 × u8: pack to u16 and u8 within lanes, then take bytes 0-3 and 16-19.
        const __m256i words = _mm256_packus_epi32(q, q), bytes = _mm256_packus_epi16(words, words);
        const uint32_t low = (uint32_t)_mm256_extract_epi32(bytes, 0), high = (uint32_t)_mm256_extract_epi32(bytes, 4);
        memcpy(out + kk, &low, 4);
        memcpy(out + kk + 4, &high, 4);
    }
    for (; kk < k; kk++) out[kk] = (uint8_t)((int)nearbyintf(x[kk] * inverse) + 128);
    for (kk = k; kk < kp; kk++) out[kk] = 128;
    *scale = s;
}

// The kernel body, instantiated once per VNNI flavour (the intrinsic differs, the code not).
#define Q8_GEMM_BODY(DPBUSD)                                                                          \
    const int kp = mast_q8_padded_depth(k), groups = kp / 4, panels = (n + PANEL - 1) / PANEL;       \
    for (int r = 0; r < m; r++) quantize_row(x + (size_t)r * lda, k, kp, scratch + (size_t)r * kp, row_scales + r); \
    for (int p = 0; p < panels; p++) {                                                               \
        const int8_t *panel = packed + (size_t)p * PANEL * kp;                                       \
        const int first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;                  \
        const __m256 scale0 = _mm256_loadu_ps(scales + first), scale1 = _mm256_loadu_ps(scales + first + 8); \
        const __m256i offset0 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(sums + first)), 7);     \
        const __m256i offset1 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(sums + first + 8)), 7); \
        __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();                             \
        if (bias) {                                                                                  \
            float padded[PANEL] = {0};                                                               \
            memcpy(padded, bias + first, (size_t)width * sizeof(float));                             \
            bias0 = _mm256_loadu_ps(padded); bias1 = _mm256_loadu_ps(padded + 8);                    \
        }                                                                                            \
        for (int row = 0; row < m; row += TILE_ROWS) {                                               \
            const int rows = m - row < TILE_ROWS ? m - row : TILE_ROWS;                              \
            const uint8_t *a[TILE_ROWS];                                                             \
            for (int i = 0; i < TILE_ROWS; i++) a[i] = scratch + (size_t)(row + (i < rows ? i : rows - 1)) * kp; \
            __m256i acc[TILE_ROWS][2];                                                               \
            for (int i = 0; i < TILE_ROWS; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();      \
            for (int g = 0; g < groups; g++) {                                                       \
                const __m256i b0 = _mm256_loadu_si256((const __m256i *)(panel + g * PANEL * 4));     \
                const __m256i b1 = _mm256_loadu_si256((const __m256i *)(panel + g * PANEL * 4 + 32)); \
                for (int i = 0; i < TILE_ROWS; i++) {                                                \
                    int32_t quad;                                                                    \
                    memcpy(&quad, a[i] + 4 * g, 4);                                                  \
                    const __m256i v = _mm256_set1_epi32(quad);                                       \
                    acc[i][0] = DPBUSD(acc[i][0], v, b0);                                            \
                    acc[i][1] = DPBUSD(acc[i][1], v, b1);                                            \
                }                                                                                    \
            }                                                                                        \
            for (int i = 0; i < rows; i++) {                                                         \
                float *target = out + (size_t)(row + i) * ldout + first;                             \
                const __m256 rs = _mm256_set1_ps(row_scales[row + i]);                               \
                __m256 v0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[i][0], offset0));                \
                __m256 v1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[i][1], offset1));                \
                v0 = _mm256_fmadd_ps(v0, _mm256_mul_ps(scale0, rs), bias0);                          \
                v1 = _mm256_fmadd_ps(v1, _mm256_mul_ps(scale1, rs), bias1);                          \
                if (width == PANEL) {                                                                \
                    if (accumulate) {                                                                \
                        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(target));                             \
                        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(target + 8));                         \
                    }                                                                                \
                    _mm256_storeu_ps(target, v0);                                                    \
                    _mm256_storeu_ps(target + 8, v1);                                                \
                } else {                                                                             \
                    float lanes[PANEL];                                                              \
                    _mm256_storeu_ps(lanes, v0);                                                     \
                    _mm256_storeu_ps(lanes + 8, v1);                                                 \
                    for (int c = 0; c < width; c++) target[c] = accumulate ? target[c] + lanes[c] : lanes[c]; \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

// vpdpbusd on AVX2: u8*s8 pairs summed in 16 bits (no saturation with weights within +-63),
// then pairs of those summed into the 32-bit lanes.
static inline __attribute__((always_inline, target("avx2,fma"))) __m256i dpbusd_avx2(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}

#define Q8_GEMM_PARAMETERS                                                                           \
    float *out, int ldout, const float *x, int lda, int m, const int8_t *packed, const float *scales, \
    const int32_t *sums, int n, int k, const float *bias, int accumulate, uint8_t *scratch, float *row_scales

__attribute__((target("avx2,fma")))
static void gemm_avx2(Q8_GEMM_PARAMETERS) { Q8_GEMM_BODY(dpbusd_avx2) }

__attribute__((target("avx2,fma,avxvnni")))
static void gemm_avxvnni(Q8_GEMM_PARAMETERS) { Q8_GEMM_BODY(_mm256_dpbusd_avx_epi32) }

__attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
static void gemm_avx512vnni(Q8_GEMM_PARAMETERS) { Q8_GEMM_BODY(_mm256_dpbusd_epi32) }

void mast_q8_gemm(int kernel, Q8_GEMM_PARAMETERS) {
    if (m <= 0) return;
    switch (kernel) {
    case MAST_Q8_AVX2: gemm_avx2(out, ldout, x, lda, m, packed, scales, sums, n, k, bias, accumulate, scratch, row_scales); break;
    case MAST_Q8_AVX_VNNI: gemm_avxvnni(out, ldout, x, lda, m, packed, scales, sums, n, k, bias, accumulate, scratch, row_scales); break;
    case MAST_Q8_AVX512_VNNI: gemm_avx512vnni(out, ldout, x, lda, m, packed, scales, sums, n, k, bias, accumulate, scratch, row_scales); break;
    default: __builtin_trap();  // callers check mast_q8_kernel_available() first
    }
}
#else
void mast_q8_gemm(int kernel, float *out, int ldout, const float *x, int lda, int m, const int8_t *packed,
                  const float *scales, const int32_t *sums, int n, int k, const float *bias, int accumulate,
                  uint8_t *scratch, float *row_scales) {
    __builtin_trap();  // no kernel is available off x86-64: callers check mast_q8_kernel_available() first
}
#endif
