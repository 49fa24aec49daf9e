// Winograd F(2x2,3x3) transforms (see Sources/Engine/Winograd.swift for the method and layouts).
// AVX-512: 16 tiles of one tile row per vector. The input transform reads the four input rows a
// tile row needs from a zero-padded row buffer, splits even and odd columns with one permute each,
// and stores each of the 16 transformed values as one vector of 16 tiles. The output transform loads 16 vectors of M, computes the four outputs
// of 16 tiles, adds bias (and the residual), applies ReLU and interleaves them back into two output
// rows with masked stores at the image's right edge. Same operations in the same order as the
// portable code, so both give identical results.
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

static inline int imin(long a, long b) { return (int)(a < b ? a : b); }

// A run of tiles in one tile row of one image: image img, tile row ty, tile columns [tx, tx+count).
// Tiles are numbered image by image, row-major, ceil(h/2) x ceil(w/2) per image.
typedef struct { long img; int ty, tx, count; } tile_run;

static inline tile_run run_at(long t, long end, int h, int w) {
    const int tw = (w + 1) / 2;
    const long per = (long)((h + 1) / 2) * tw;
    tile_run r;
    r.img = t / per;
    long rem = t - r.img * per;
    r.ty = (int)(rem / tw);
    r.tx = (int)(rem - (long)r.ty * tw);
    r.count = imin(tw - r.tx, end - t);
    return r;
}

// Fills buf[k] = input(iy, col0 + k) for k < len (zero outside the image).
static inline void pad_row(const float *plane, int h, int w, int iy, int col0, int len, float *buf) {
    if (iy < 0 || iy >= h) { memset(buf, 0, sizeof(float) * len); return; }
    const float *row = plane + (long)iy * w;
    int lo = col0 < 0 ? -col0 : 0;                 // first k inside the image
    int hi = w - col0 < len ? w - col0 : len;      // one past the last
    if (hi < lo) hi = lo;
    if (lo > 0) memset(buf, 0, sizeof(float) * lo);
    if (hi > lo) memcpy(buf + lo, row + col0 + lo, sizeof(float) * (hi - lo));
    if (len > hi) memset(buf + hi, 0, sizeof(float) * (len - hi));
}

// ---- portable ----

// The input transform of cnt tiles of one tile row: rows[r][k] = input(2ty-1+r, 2tx-1+k), so tile
// j reads rows[r][2j .. 2j+3]; V[xi] of tile j goes to out[xi * st + j].
typedef void (*input_run_fn)(const float *const rows[4], int cnt, float *out, long st);

static void input_run_portable(const float *const rows[4], int cnt, float *out, long st) {
    for (int j = 0; j < cnt; j++) {
        float d[4][4], q[4][4];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) d[r][c] = rows[r][2 * j + c];
        for (int c = 0; c < 4; c++) {
            q[0][c] = d[0][c] - d[2][c]; q[1][c] = d[1][c] + d[2][c];
            q[2][c] = d[2][c] - d[1][c]; q[3][c] = d[1][c] - d[3][c];
        }
        float *p = out + j;
        for (int i = 0; i < 4; i++) {
            p[(4 * i + 0) * st] = q[i][0] - q[i][2];
            p[(4 * i + 1) * st] = q[i][1] + q[i][2];
            p[(4 * i + 2) * st] = q[i][2] - q[i][1];
            p[(4 * i + 3) * st] = q[i][1] - q[i][3];
        }
    }
}

// Channel by channel, run by run: the four input rows a tile row needs, zero-padded, into a row
// buffer (the image border then costs nothing in the kernels), then the kernel on that run.
static void input_transform(const float *x, int c1, const float *x2, int cin, int h, int w, int n,
                            long t0, int tc, float *v, input_run_fn kernel) {
    const int tw = (w + 1) / 2;
    const long plane = (long)h * w, row = n * plane, st = (long)cin * tc, end = t0 + tc;
    // Rounded up to whole vectors of 16 tiles, + 2 columns of the last tile, + slack for the loads.
    const int span = 2 * ((tw + 15) / 16 * 16) + 2 + 16;
    float buf[4][span];
    const float *const rows[4] = { buf[0], buf[1], buf[2], buf[3] };
    for (int ci = 0; ci < cin; ci++) {
        const float *xc = ci < c1 ? x + ci * row : x2 + (ci - c1) * row;
        for (long t = t0; t < end; ) {
            const tile_run run = run_at(t, end, h, w);
            const float *src = xc + run.img * plane;
            const int len = 2 * ((run.count + 15) / 16 * 16) + 2;
            for (int r = 0; r < 4; r++) pad_row(src, h, w, 2 * run.ty - 1 + r, 2 * run.tx - 1, len, buf[r]);
            kernel(rows, run.count, v + ci * (long)tc + (t - t0), st);
            t += run.count;
        }
    }
}

static void output_portable(const float *m, int cout, int h, int w, int n, long t0, int tc,
                            const float *bias, float *y, int relu, int accumulate) {
    const long plane = (long)h * w, row = n * plane, s = (long)cout * tc;
    const long end = t0 + tc;
    for (int co = 0; co < cout; co++) {
        float *yc = y + co * row;
        const float bv = bias[co];
        for (long t = t0; t < end; ) {
            const tile_run run = run_at(t, end, h, w);
            const long img = run.img;
            const int ty = run.ty, tx = run.tx, cnt = run.count;
            for (int j = 0; j < cnt; j++) {
                const float *q = m + co * (long)tc + (t - t0) + j;
                float a0 = q[0] + q[4 * s] + q[8 * s], a1 = q[s] + q[5 * s] + q[9 * s];
                float a2 = q[2 * s] + q[6 * s] + q[10 * s], a3 = q[3 * s] + q[7 * s] + q[11 * s];
                float b0 = q[4 * s] - q[8 * s] - q[12 * s], b1 = q[5 * s] - q[9 * s] - q[13 * s];
                float b2 = q[6 * s] - q[10 * s] - q[14 * s], b3 = q[7 * s] - q[11 * s] - q[15 * s];
                float y00 = a0 + a1 + a2 + bv, y01 = a1 - a2 - a3 + bv;
                float y10 = b0 + b1 + b2 + bv, y11 = b1 - b2 - b3 + bv;
                int oy = 2 * ty, ox = 2 * (tx + j);
                float *dst = yc + img * plane + (long)oy * w + ox;
                int right = ox + 1 < w, down = oy + 1 < h;
                if (accumulate) {
                    y00 += dst[0];
                    if (right) y01 += dst[1];
                    if (down) { y10 += dst[w]; if (right) y11 += dst[w + 1]; }
                }
                if (relu) {
                    y00 = y00 > 0 ? y00 : 0; y01 = y01 > 0 ? y01 : 0;
                    y10 = y10 > 0 ? y10 : 0; y11 = y11 > 0 ? y11 : 0;
                }
                dst[0] = y00;
                if (right) dst[1] = y01;
                if (down) { dst[w] = y10; if (right) dst[w + 1] = y11; }
            }
            t += cnt;
        }
    }
}

// ---- AVX-512 ----
#if defined(__x86_64__)

AVX512 static void input_run_avx512(const float *const rows[4], int cnt, float *out, long st) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int j0 = 0; j0 < cnt; j0 += 16) {
        __mmask16 mk = cnt - j0 >= 16 ? 0xFFFF : (__mmask16)((1u << (cnt - j0)) - 1);
        // Lane j: columns 2j, 2j+1 (even/odd of the 32 floats at 2*j0), 2j+2, 2j+3 (same, 2 later).
        __m512 d[4][4];
        for (int r = 0; r < 4; r++) {
            const float *b = rows[r] + 2 * j0;
            __m512 a0 = _mm512_loadu_ps(b), a1 = _mm512_loadu_ps(b + 16);
            __m512 b0 = _mm512_loadu_ps(b + 2), b1 = _mm512_loadu_ps(b + 18);
            d[r][0] = _mm512_permutex2var_ps(a0, even, a1);
            d[r][1] = _mm512_permutex2var_ps(a0, odd, a1);
            d[r][2] = _mm512_permutex2var_ps(b0, even, b1);
            d[r][3] = _mm512_permutex2var_ps(b0, odd, b1);
        }
        __m512 q[4][4];
        for (int c = 0; c < 4; c++) {
            q[0][c] = _mm512_sub_ps(d[0][c], d[2][c]); q[1][c] = _mm512_add_ps(d[1][c], d[2][c]);
            q[2][c] = _mm512_sub_ps(d[2][c], d[1][c]); q[3][c] = _mm512_sub_ps(d[1][c], d[3][c]);
        }
        float *p = out + j0;
        for (int i = 0; i < 4; i++) {
            _mm512_mask_storeu_ps(p + (4 * i + 0) * st, mk, _mm512_sub_ps(q[i][0], q[i][2]));
            _mm512_mask_storeu_ps(p + (4 * i + 1) * st, mk, _mm512_add_ps(q[i][1], q[i][2]));
            _mm512_mask_storeu_ps(p + (4 * i + 2) * st, mk, _mm512_sub_ps(q[i][2], q[i][1]));
            _mm512_mask_storeu_ps(p + (4 * i + 3) * st, mk, _mm512_sub_ps(q[i][1], q[i][3]));
        }
    }
}

static inline __mmask16 lanes(int k) { return k >= 16 ? 0xFFFF : k <= 0 ? 0 : (__mmask16)((1u << k) - 1); }

// One output row: the outputs a (even columns) and b (odd columns) of 16 tiles interleaved into
// 32 floats at d (masks m0, m1 clip at the image's right edge), plus residual, then ReLU.
AVX512 static inline void store_pairs(float *d, __m512 a, __m512 b, __m512i lo, __m512i hi,
                                      __mmask16 m0, __mmask16 m1, int relu, int accumulate) {
    __m512 r0 = _mm512_permutex2var_ps(a, lo, b), r1 = _mm512_permutex2var_ps(a, hi, b);
    if (accumulate) {
        r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, d));
        r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, d + 16));
    }
    if (relu) { r0 = _mm512_max_ps(r0, _mm512_setzero_ps()); r1 = _mm512_max_ps(r1, _mm512_setzero_ps()); }
    _mm512_mask_storeu_ps(d, m0, r0);
    _mm512_mask_storeu_ps(d + 16, m1, r1);
}

AVX512 static void output_avx512(const float *m, int cout, int h, int w, int n, long t0, int tc,
                                 const float *bias, float *y, int relu, int accumulate) {
    const long plane = (long)h * w, row = n * plane, s = (long)cout * tc;
    const long end = t0 + tc;
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int co = 0; co < cout; co++) {
        float *yc = y + co * row;
        const __m512 bv = _mm512_set1_ps(bias[co]);
        for (long t = t0; t < end; ) {
            const tile_run run = run_at(t, end, h, w);
            const long img = run.img;
            const int ty = run.ty, tx = run.tx, cnt = run.count;
            int oy = 2 * ty, down = oy + 1 < h;
            for (int j0 = 0; j0 < cnt; j0 += 16) {
                __mmask16 mk = lanes(cnt - j0);
                const float *q = m + co * (long)tc + (t - t0) + j0;
                __m512 mm[16];
                for (int k = 0; k < 16; k++) mm[k] = _mm512_maskz_loadu_ps(mk, q + k * s);
                __m512 a0 = _mm512_add_ps(_mm512_add_ps(mm[0], mm[4]), mm[8]);
                __m512 a1 = _mm512_add_ps(_mm512_add_ps(mm[1], mm[5]), mm[9]);
                __m512 a2 = _mm512_add_ps(_mm512_add_ps(mm[2], mm[6]), mm[10]);
                __m512 a3 = _mm512_add_ps(_mm512_add_ps(mm[3], mm[7]), mm[11]);
                __m512 b0 = _mm512_sub_ps(_mm512_sub_ps(mm[4], mm[8]), mm[12]);
                __m512 b1 = _mm512_sub_ps(_mm512_sub_ps(mm[5], mm[9]), mm[13]);
                __m512 b2 = _mm512_sub_ps(_mm512_sub_ps(mm[6], mm[10]), mm[14]);
                __m512 b3 = _mm512_sub_ps(_mm512_sub_ps(mm[7], mm[11]), mm[15]);
                __m512 y00 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), a2), bv);
                __m512 y01 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(a1, a2), a3), bv);
                __m512 y10 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(b0, b1), b2), bv);
                __m512 y11 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(b1, b2), b3), bv);
                // Two output rows of up to 32 floats from column 2(tx+j0).
                int ox = 2 * (tx + j0);
                int valid = imin(2 * (cnt - j0), w - ox);
                __mmask16 m0 = lanes(valid), m1 = lanes(valid - 16);
                float *d0 = yc + img * plane + (long)oy * w + ox;
                store_pairs(d0, y00, y01, lo, hi, m0, m1, relu, accumulate);
                if (down) store_pairs(d0 + w, y10, y11, lo, hi, m0, m1, relu, accumulate);
            }
            t += cnt;
        }
    }
}
#endif

void lstv_winograd_input(const float *x, int c1, const float *x2, int cin, int h, int w, int n,
                         long t0, int tc, float *v) {
#if defined(__x86_64__)
    if (lstv_kernels_avx512()) { input_transform(x, c1, x2, cin, h, w, n, t0, tc, v, input_run_avx512); return; }
#endif
    input_transform(x, c1, x2, cin, h, w, n, t0, tc, v, input_run_portable);
}

void lstv_winograd_output(const float *m, int cout, int h, int w, int n, long t0, int tc,
                          const float *bias, float *y, int relu, int accumulate) {
#if defined(__x86_64__)
    if (lstv_kernels_avx512()) { output_avx512(m, cout, h, w, n, t0, tc, bias, y, relu, accumulate); return; }
#endif
    output_portable(m, cout, h, w, n, t0, tc, bias, y, relu, accumulate);
}
