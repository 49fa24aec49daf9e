import CKernels

/// How a conv's weight matrix (Cout x Cin*k*k, or each of Winograd's 16 U matrices) is stored,
/// chosen at load for the kernel that will run it.
enum WeightLayout: Equatable {
    /// Row-major, PyTorch's OIHW order, for OpenBLAS (CPUs without AVX-512).
    case rowMajor
    /// Panels of 8 output channels for CKernels' gemm.c (vectors along the output columns).
    case columnPanels
    /// Panels of 64 output channels for CKernels' gemm_wide.c (vectors along the output channels,
    /// the result transposed through a scratch).
    case channelPanels

    /// Output planes up to this size (at the model's input size: 10x10 and 5x5 for 160x160) take
    /// channel panels when Cout is a multiple of 64. There a 16-column vector wastes lanes (25 or
    /// 100 columns) and each k does more broadcasts than FMAs; on larger planes gemm.c is faster
    /// and needs no transposing scratch (bench network, 1 thread, interleaved profiles: layer 2's
    /// convs at 20x20 took 10.0 ms on channel panels, 9.0 on column panels; channel panels on every
    /// plane made the whole network 2-3 ms slower). Winograd's U keeps column panels:
    /// its 16 GEMMs per conv at 10x10 (25 tiles) gained nothing measurable with channel panels
    /// once their results were transposed back (three interleaved pairs, 76.0-77.4 vs 76.1-77.0 ms).
    static let channelPanelsMaxPlane = 100

    static func choose(_ s: ConvSpec, winograd: Bool, kernelSet: KernelSet) -> WeightLayout {
        guard kernelSet == .avx512 else { return .rowMajor }
        if !winograd && s.cout % Int(LSTV_GEMM_WIDE_PANEL) == 0 && s.plane <= channelPanelsMaxPlane {
            return .channelPanels
        }
        return .columnPanels
    }

    /// Floats a cout x k matrix takes in this layout.
    func count(rows: Int, k: Int) -> Int {
        switch self {
        case .rowMajor: return rows * k
        case .columnPanels: return lstv_gemm_packed_count(Int32(rows), Int32(k))
        case .channelPanels: return lstv_gemm_wide_count(Int32(rows), Int32(k))
        }
    }

    /// Rows per panel (1 for row-major): a packed range of rows must start on a panel.
    var panelRows: Int {
        switch self {
        case .rowMajor: return 1
        case .columnPanels: return Int(LSTV_GEMM_PANEL)
        case .channelPanels: return Int(LSTV_GEMM_WIDE_PANEL)
        }
    }
}
