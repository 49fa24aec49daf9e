// GEMM on packed weights for the convolutions (AVX-512): C = W * B with W packed once at load.
// OpenBLAS packs both operands in every call; at batch 1 the deep layers have few columns (25 at
// 5x5, 100 at 10x10), so packing the weights again on every run cost about as much as streaming
// them (16% of the run in sgemm_oncopy). Here W is packed at load into panels of 8 rows (K x 8),
// B (activations or the im2col scratch) is read in place, and the epilogue (bias, ReLU) runs on
// the accumulators after the last K block.
//
// Micro-kernel: 8 rows x NV vectors of 16 columns (NV <= 3: 24 accumulators), per k NV loads of B,
// 8 broadcasts of W, 8*NV FMAs. Blocking: NC columns (B's KC x NC block stays in L2) x KC depth,
// then every panel of W (8 x KC, in L1) sweeps the block's columns.
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PANEL LSTV_GEMM_PANEL
#define KC 256
#define NC 480

long lstv_gemm_packed_count(int m, int k) { return (long)((m + PANEL - 1) / PANEL) * PANEL * k; }

void lstv_gemm_pack(const float *a, int m, int k, long lda, float *packed) {
    for (int p = 0; p < (m + PANEL - 1) / PANEL; p++) {
        float *dst = packed + (long)p * PANEL * k;
        for (int kk = 0; kk < k; kk++)
            for (int r = 0; r < PANEL; r++) {
                int row = p * PANEL + r;
                dst[kk * PANEL + r] = row < m ? a[row * lda + kk] : 0;
            }
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

static inline __mmask16 lanes16(int k) { return k >= 16 ? 0xFFFF : k <= 0 ? 0 : (__mmask16)((1u << k) - 1); }

// rows (<= 8) x cols (<= 16*NV) of C from one panel over k; C is read only when load_c.
AVX512 __attribute__((always_inline)) static inline void
micro(const int NV, const float *a, int k, const float *b, long ldb, float *c, long ldc, int rows, int cols,
      int load_c, const float *bias, int relu) {
    __m512 acc[PANEL][3];
    __mmask16 mk[3];
    for (int v = 0; v < NV; v++) mk[v] = lanes16(cols - 16 * v);
    for (int r = 0; r < PANEL; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    const int full = cols >= 16 * NV;
    for (int kk = 0; kk < k; kk++) {
        __m512 bv[3];
        const float *bk = b + kk * ldb;
        for (int v = 0; v < NV; v++) bv[v] = full ? _mm512_loadu_ps(bk + 16 * v) : _mm512_maskz_loadu_ps(mk[v], bk + 16 * v);
        const float *ak = a + kk * PANEL;
        for (int r = 0; r < PANEL; r++) {
            __m512 av = _mm512_set1_ps(ak[r]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < NV; v++) {
            // The block's products are summed first and C (a residual, or the earlier K blocks)
            // added after, like BLAS's A*B + beta*C: starting the sum from a large C loses the
            // low bits of every product (the bench network's error went 7e-5 -> 1.8e-4).
            __m512 x = acc[r][v];
            if (load_c) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mk[v], c + r * ldc + 16 * v));
            if (bias) {
                x = _mm512_add_ps(x, _mm512_set1_ps(bias[r]));
                if (relu) x = _mm512_max_ps(x, _mm512_setzero_ps());
            }
            _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mk[v], x);
        }
}

AVX512 static void micro1(const float *a, int k, const float *b, long ldb, float *c, long ldc, int rows, int cols, int load_c, const float *bias, int relu) { micro(1, a, k, b, ldb, c, ldc, rows, cols, load_c, bias, relu); }
AVX512 static void micro2(const float *a, int k, const float *b, long ldb, float *c, long ldc, int rows, int cols, int load_c, const float *bias, int relu) { micro(2, a, k, b, ldb, c, ldc, rows, cols, load_c, bias, relu); }
AVX512 static void micro3(const float *a, int k, const float *b, long ldb, float *c, long ldc, int rows, int cols, int load_c, const float *bias, int relu) { micro(3, a, k, b, ldb, c, ldc, rows, cols, load_c, bias, relu); }

void lstv_gemm_packed(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                      float *c, long ldc, int accumulate, const float *bias, int relu) {
    for (int n0 = 0; n0 < n; n0 += NC) {
        const int nc = n - n0 < NC ? n - n0 : NC;
        for (int k0 = 0; k0 < k; k0 += KC) {
            const int kc = k - k0 < KC ? k - k0 : KC;
            const int load_c = k0 > 0 || accumulate;
            const int last = k0 + kc == k;
            for (int m0 = 0; m0 < m; m0 += PANEL) {
                const float *ap = a + (long)(m0 / PANEL) * panel_stride + (long)k0 * PANEL;
                const int rows = m - m0 < PANEL ? m - m0 : PANEL;
                const float *bb = bias && last ? bias + m0 : NULL;
                for (int j = 0; j < nc; ) {
                    const int left = nc - j;
                    const float *bp = b + (long)k0 * ldb + n0 + j;
                    float *cp = c + (long)m0 * ldc + n0 + j;
                    // 3 vectors while that leaves no lone vector: 4 left go as 2 + 2, since a
                    // 1-vector call does 8 broadcasts for 8 FMAs and is load-bound (256 x 100 x 27648:
                    // 48 + 48 + 4 columns took 16.7 ms, 48 + 32 + 20 takes ~10.5).
                    const int vectors = (left + 15) / 16;
                    if (vectors >= 3 && vectors != 4) { micro3(ap, kc, bp, ldb, cp, ldc, rows, left, load_c, bb, relu); j += 48; }
                    else if (vectors >= 2) { micro2(ap, kc, bp, ldb, cp, ldc, rows, left, load_c, bb, relu); j += 32; }
                    else { micro1(ap, kc, bp, ldb, cp, ldc, rows, left, load_c, bb, relu); j += 16; }
                }
            }
        }
    }
}
#else
void lstv_gemm_packed(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                      float *c, long ldc, int accumulate, const float *bias, int relu) {
    __builtin_trap();  // callers check lstv_kernels_avx512() first
}
#endif
