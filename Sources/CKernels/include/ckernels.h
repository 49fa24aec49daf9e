// Hot loops of the engine in C with intrinsics (AVX-512 where the CPU has it, portable C
// otherwise, chosen at run time: no global -march flag, the binary runs on any x86-64).
// Layouts are the engine's (Sources/Engine: CNHW activations, see Graph.swift / Winograd.swift).
#ifndef LSTV_CKERNELS_H
#define LSTV_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Which code the kernels run: 1 = AVX-512 (when the CPU has it), 0 = portable C.
/// Defaults to AVX-512 where available; tests switch it to run the golden cases under both.
int lstv_kernels_avx512(void);
/// Asks for AVX-512 (1) or portable (0); AVX-512 is only used where the CPU supports it.
/// Returns what is in effect afterwards.
int lstv_kernels_set_avx512(int on);

/// Winograd F(2x2,3x3) input transform (pad 1) of tiles [t0, t0+tc) of a conv over n images of
/// h x w: V[xi][ci][t - t0] at v + (xi * cin + ci) * tc + (t - t0). Tile t = image t / (th*tw),
/// then row-major tiles (th = ceil(h/2), tw = ceil(w/2)). Input channel ci < c1 is the row
/// x + ci*n*h*w, ci >= c1 the row x2 + (ci-c1)*n*h*w (the decoder's concat, read in place).
void lstv_winograd_input(const float *x, int c1, const float *x2, int cin, int h, int w, int n,
                         long t0, int tc, float *v);

/// Winograd F(2x2,3x3) output transform of tiles [t0, t0+tc): M[xi][co][t - t0] at
/// m + (xi * cout + co) * tc + (t - t0) -> y (cout rows of n*h*w, CNHW), plus bias[co],
/// plus the value already in y when accumulate (residual), then ReLU when relu.
void lstv_winograd_output(const float *m, int cout, int h, int w, int n, long t0, int tc,
                          const float *bias, float *y, int relu, int accumulate);

/// im2col of output rows [r0, r1) of a conv over n images of h x w (CNHW; row r = image r / oh, output
/// row r % oh) for input channels [ch0, ch1): col is [cin*k*k] x [(r1-r0)*ow] row-major, row (ci, ky, kx),
/// its first row being channel col_base. Channels ci < c1 are rows of x, the rest rows of x2 (the
/// decoder's concat, read in place), n*h*w floats apart.
void lstv_im2col(const float *x, int c1, const float *x2, int h, int w, int n, int k, int stride, int pad,
                 int oh, int ow, int r0, int r1, float *col, int ch0, int ch1, int col_base);

/// Rows of a packed GEMM panel: A (M x K) is stored as ceil(M/8) panels of K x 8 (row r of panel p
/// is A's row 8p + r; rows past M are zero), so the kernel reads 8 rows' weights for one k at once.
enum { LSTV_GEMM_PANEL = 8 };

/// Floats of A packed (M x K).
long lstv_gemm_packed_count(int m, int k);

/// Packs a row-major A (M x K, lda) into `packed` (lstv_gemm_packed_count(m, k) floats).
void lstv_gemm_pack(const float *a, int m, int k, long lda, float *packed);

/// AVX-512 only (lstv_kernels_avx512() must be 1): C (m x n, ldc) = A * B, or C += A * B when
/// accumulate, then + bias[row] and ReLU when bias is not NULL. `a` is a packed A's panel holding
/// C's row 0, advanced to column k0 (a = packed + panel * K * 8 + k0 * 8); panel_stride = K * 8;
/// B is k x n row-major (ldb), its row 0 being A's column k0. No B packing: B is read in place.
void lstv_gemm_packed(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                      float *c, long ldc, int accumulate, const float *bias, int relu);

/// Rows of a wide panel (gemm_wide.c: vectors along the output channels, for few output columns):
/// A (M x K) is stored as ceil(M/64) panels of K x 64, rows past M zero. With M a multiple of 64 the
/// packed matrix has the same size as the row-major one, so it can be packed in place panel by panel.
enum { LSTV_GEMM_WIDE_PANEL = 64 };

/// Floats of A packed in wide panels (M x K).
long lstv_gemm_wide_count(int m, int k);

/// Packs one full wide panel in place: `a` holds its 64 rows row-major (64 x K) and receives the
/// panel (K x 64) in the same floats. `visited` is a zeroed bitset of ceil(64 * K / 64) words. No
/// staging copy of the rows: 64 x K floats (7 MB for K = 27648) would add to the peak RSS at load.
void lstv_gemm_wide_pack_panel_in_place(float *a, int k, unsigned long long *visited);

/// AVX-512 only: CT (n x m, ldct: row j holds output column j's m channels) = (A * B)^T, or
/// CT += (A * B)^T when accumulate. `a` is the wide panel holding C's row 0, advanced to column k0
/// (a = packed + panel * K * 64 + k0 * 64); panel_stride = K * 64; m a multiple of 64.
/// B is k x n row-major (ldb), its row 0 being A's column k0, read in place.
void lstv_gemm_wide(const float *a, long panel_stride, int m, int n, int k, const float *b, long ldb,
                    float *ct, long ldct, int accumulate);

/// AVX-512 only: C (m x n, ldc) = CT^T, or C += CT^T when accumulate (a residual), then + bias[row]
/// and ReLU when bias is not NULL (the order of lstv_gemm_packed's epilogue).
void lstv_gemm_wide_store(const float *ct, long ldct, int m, int n, float *c, long ldc, int accumulate,
                          const float *bias, int relu);

/// A spin-wait hint (x86 PAUSE) for the engine's worker pool while it waits for the next op.
static inline void lstv_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

#ifdef __cplusplus
}
#endif
#endif
