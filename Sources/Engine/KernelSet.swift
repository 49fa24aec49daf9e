// Which code the C kernels (Sources/CKernels) run. They pick AVX-512 by themselves where the CPU
// has it; the portable C is there for CPUs without it, and tests switch to it so that both run
// the golden cases on a machine that has AVX-512.

import CKernels

public enum KernelSet: Equatable, Sendable {
    case avx512
    case portable
}

extension Engine {
    /// The kernel set in effect for every session of the process. Setting `.avx512` on a CPU without
    /// it leaves `.portable`. Set it before loading a model: the loader packs the weights for
    /// CKernels' GEMM only under `.avx512` (otherwise they stay row-major for OpenBLAS), and a
    /// model's layout must not change under its sessions.
    public static var kernelSet: KernelSet {
        get { lstv_kernels_avx512() != 0 ? .avx512 : .portable }
        set { _ = lstv_kernels_set_avx512(newValue == .avx512 ? 1 : 0) }
    }
}
