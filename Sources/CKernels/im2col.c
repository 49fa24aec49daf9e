// im2col for the convolutions that neither Winograd nor the 1x1 path takes (3x3 at 5x5 and the
// decoder's 3072-channel conv at 10x10, stride-2 3x3 and 1x1, the 7x7 stem), in C: the Swift loop
// copied each output row with a call per row segment and gathered stride 2 one float at a time.
// AVX-512: 16 output columns per masked load (stride 1) or two masked loads and one permute
// (stride 2); lanes outside the input row are zero through the load mask, which also covers the
// padding. Same values as the portable code (it is a copy).
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Input channel ci's row of the batch (CNHW): channels [0, c1) from x, the rest from x2.
static inline const float *channel_row(const float *x, int c1, const float *x2, int ci, long row_stride) {
    return ci < c1 ? x + ci * row_stride : x2 + (long)(ci - c1) * row_stride;
}

// One output row: d[ox] = row[ox * stride + ix0] for ox < ow, zero where that is outside [0, w).
typedef void (*row_copy)(const float *row, int w, int ix0, int stride, int ow, float *d);

static void row_portable(const float *row, int w, int ix0, int stride, int ow, float *d) {
    for (int ox = 0; ox < ow; ox++) {
        const int ix = ox * stride + ix0;
        d[ox] = ix >= 0 && ix < w ? row[ix] : 0;
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

// Lanes l < 16 with 0 <= i0 + l < w.
static inline __mmask16 inside(int i0, int w) {
    int lo = i0 < 0 ? -i0 : 0, hi = w - i0 < 16 ? w - i0 : 16;
    if (hi <= lo) return 0;
    return (__mmask16)((0xFFFFu >> (16 - hi)) & (0xFFFFu << lo));
}

// Stride 1 or 2 only.
AVX512 static void row_avx512(const float *row, int w, int ix0, int stride, int ow, float *d) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int ox = 0; ox < ow; ox += 16) {
        const __mmask16 out = ow - ox >= 16 ? 0xFFFF : (__mmask16)((1u << (ow - ox)) - 1);
        const int ix = ox * stride + ix0;
        __m512 v;
        if (stride == 1) {
            v = _mm512_maskz_loadu_ps(inside(ix, w) & out, row + ix);
        } else {
            const __m512 a = _mm512_maskz_loadu_ps(inside(ix, w), row + ix);
            const __m512 b = _mm512_maskz_loadu_ps(inside(ix + 16, w), row + ix + 16);
            v = _mm512_permutex2var_ps(a, even, b);
        }
        _mm512_mask_storeu_ps(d + ox, out, v);
    }
}
#endif

void lstv_im2col(const float *x, int c1, const float *x2, int h, int w, int n, int k, int stride, int pad,
                 int oh, int ow, int r0, int r1, float *col, int ch0, int ch1, int col_base) {
    row_copy copy = row_portable;
#if defined(__x86_64__)
    if (lstv_kernels_avx512() && (stride == 1 || stride == 2)) copy = row_avx512;
#endif
    const long cols = (long)(r1 - r0) * ow, plane = (long)h * w;
    float *dst = col + (long)(ch0 - col_base) * k * k * cols;
    for (int ci = ch0; ci < ch1; ci++) {
        const float *xc = channel_row(x, c1, x2, ci, n * plane);
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++, dst += cols) {
                float *d = dst;
                for (int r = r0; r < r1; r++, d += ow) {
                    const int img = r / oh, iy = (r - img * oh) * stride - pad + ky;
                    if (iy < 0 || iy >= h) memset(d, 0, sizeof(float) * ow);
                    else copy(xc + img * plane + (long)iy * w, w, kx - pad, stride, ow, d);
                }
            }
    }
}
