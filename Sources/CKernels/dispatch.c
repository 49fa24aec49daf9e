// Run-time choice between the AVX-512 kernels and the portable ones (no -march flag anywhere:
// each AVX-512 function carries its own target attribute and only runs where the CPU has it).
#include "ckernels.h"

static int cpu_has_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

// -1: not decided yet. Deciding twice from two threads gives the same answer, so the race is benign.
static int use_avx512 = -1;

int lstv_kernels_avx512(void) {
    if (use_avx512 < 0) use_avx512 = cpu_has_avx512();
    return use_avx512;
}

int lstv_kernels_set_avx512(int on) {
    use_avx512 = on && cpu_has_avx512();
    return use_avx512;
}
