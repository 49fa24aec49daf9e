// GEMM with vectors along the output channels (AVX-512), for convolutions with few output columns.
// gemm.c puts 16 output columns (pixels) in a vector: at batch 1 the deep layers have 25 (5x5) or
// 100 (10x10) columns, so a quarter or an eighth of every vector is padding, and each k broadcasts
// 8 weights for 16 or so FMAs. Here a vector holds 16 output channels and the pixels are broadcast,
// as onnxruntime's NCHWc kernels do: with Cout a multiple of 64 no lane is wasted whatever the
// columns. Measured on the reference network's shapes (C harness, same machine, interleaved):
// 2048 x 1024 x 25 0.65x the time of gemm.c, 256 x 1024 x 100 0.82x, 64 x 256 x 1600 0.96x.
//
// The result comes out transposed (CT: one row of Cout channels per output column), so the caller
// accumulates K blocks in CT and then stores it once into C's channel rows with the epilogue
// (lstv_gemm_wide_store). Weights are packed at load into panels of 64 rows (K x 64).
#include "ckernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define WIDE LSTV_GEMM_WIDE_PANEL
// K per block: a panel's block (64 x 512 floats, 128 KB) stays in L2 while every column tile
// of B passes over it.
#define KC 256

long lstv_gemm_wide_count(int m, int k) { return (long)((m + WIDE - 1) / WIDE) * WIDE * k; }

void lstv_gemm_wide_pack_panel_in_place(float *a, int k, unsigned long long *visited) {
    // Element (r, kk) moves from r * k + kk to kk * 64 + r: follow each cycle of that permutation,
    // carrying one value, with a bit per element marking what has been placed.
    const long n = (long)WIDE * k;
    for (long start = 0; start < n; start++) {
        if (visited[start >> 6] >> (start & 63) & 1) continue;
        long cur = start;
        float carried = a[start];
        do {
            const long next = (cur % k) * WIDE + cur / k;
            const float displaced = a[next];
            a[next] = carried;
            carried = displaced;
            visited[next >> 6] |= 1ull << (next & 63);
            cur = next;
        } while (cur != start);
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

// NC (<= 6) columns x 64 channels of CT over k: 4 weight vectors and NC broadcasts per k for
// 4*NC FMAs (24 accumulators at NC = 6, 29 of the 32 registers in use). CT is read only when load.
AVX512 __attribute__((always_inline)) static inline void
micro(const int NC, const float *a, int k, const float *b, long ldb, float *ct, long ldct, int load) {
    __m512 acc[6][4];
    for (int j = 0; j < NC; j++)
        for (int v = 0; v < 4; v++) acc[j][v] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        const float *ak = a + (long)kk * WIDE;
        const __m512 w0 = _mm512_load_ps(ak), w1 = _mm512_load_ps(ak + 16);
        const __m512 w2 = _mm512_load_ps(ak + 32), w3 = _mm512_load_ps(ak + 48);
        const float *bk = b + kk * ldb;
        for (int j = 0; j < NC; j++) {
            const __m512 x = _mm512_set1_ps(bk[j]);
            acc[j][0] = _mm512_fmadd_ps(w0, x, acc[j][0]);
            acc[j][1] = _mm512_fmadd_ps(w1, x, acc[j][1]);
            acc[j][2] = _mm512_fmadd_ps(w2, x, acc[j][2]);
            acc[j][3] = _mm512_fmadd_ps(w3, x, acc[j][3]);
        }
    }
    for (int j = 0; j < NC; j++)
        for (int v = 0; v < 4; v++) {
            float *p = ct + j * ldct + 16 * v;
            // This block's products summed first, then the earlier blocks added (as gemm.c).
            _mm512_storeu_ps(p, load ? _mm512_add_ps(acc[j][v], _mm512_loadu_ps(p)) : acc[j][v]);
        }
}

#define MICRO(N) \
    AVX512 static void micro##N(const float *a, int k, const float *b, long ldb, float *ct, long ldct, int load) { \
        micro(N, a, k, b, ldb, ct, ldct, load); \
    }
MICRO(1) MICRO(2) MICRO(3) MICRO(4) MICRO(5) MICRO(6)
typedef void (*micro_fn)(const float *, int, const float *, long, float *, long, int);
static const micro_fn micros[7] = {0, micro1, micro2, micro3, micro4, micro5, micro6};

// Columns of the next tile: 6 while that leaves none or at least 4, else the rest split in two
// near-equal tiles (25 = 6+6+6+4+3, 100 = 16 x 6 + 4), so no tile runs on one or two broadcasts.
static inline int tile_columns(int left) {
    if (left <= 6) return left;
    if (left - 6 >= 4) return 6;
    return (left + 1) / 2;
}

void lstv_gemm_wide(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                    float *ct, long ldct, int accumulate) {
    for (int k0 = 0; k0 < k; k0 += KC) {
        const int kc = k - k0 < KC ? k - k0 : KC;
        const int load = k0 > 0 || accumulate;
        for (int p = 0; p < (m + WIDE - 1) / WIDE; p++) {
            const float *ap = a + p * panel_stride + (long)k0 * WIDE;
            for (int j = 0; j < n;) {
                const int nc = tile_columns(n - j);
                micros[nc](ap, kc, b + (long)k0 * ldb + j, ldb, ct + (long)j * ldct + p * WIDE, ldct, load);
                j += nc;
            }
        }
    }
}

// C[i][j] = CT[j][i] (+ C[i][j] when accumulate) (+ bias[i], then ReLU when relu): 16 columns of
// one channel at a time, gathered from CT's rows.
AVX512 static void store_avx512(const float *ct, long ldct, int m, int n, float *c, long ldc, int accumulate,
                                const float *bias, int relu) {
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)ldct));
    for (int j0 = 0; j0 < n; j0 += 16) {
        const int cols = n - j0 < 16 ? n - j0 : 16;
        const __mmask16 mk = cols == 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
        const float *src = ct + (long)j0 * ldct;
        for (int i = 0; i < m; i++) {
            __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, rows, src + i, 4);
            float *dst = c + (long)i * ldc + j0;
            if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mk, dst));
            if (bias) {
                x = _mm512_add_ps(x, _mm512_set1_ps(bias[i]));
                if (relu) x = _mm512_max_ps(x, _mm512_setzero_ps());
            }
            _mm512_mask_storeu_ps(dst, mk, x);
        }
    }
}

void lstv_gemm_wide_store(const float *ct, long ldct, int m, int n, float *c, long ldc, int accumulate,
                          const float *bias, int relu) {
    store_avx512(ct, ldct, m, n, c, ldc, accumulate, bias, relu);
}
#else
void lstv_gemm_wide(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                    float *ct, long ldct, int accumulate) {
    __builtin_trap();  // callers check lstv_kernels_avx512() first
}
void lstv_gemm_wide_store(const float *ct, long ldct, int m, int n, float *c, long ldc, int accumulate,
                          const float *bias, int relu) {
    __builtin_trap();
}
#endif
