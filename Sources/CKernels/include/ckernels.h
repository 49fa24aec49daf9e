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

#ifdef __cplusplus
}
#endif
#endif
