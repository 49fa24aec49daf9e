import Foundation

/// How one convolution runs, chosen when a session is planned from the kernel's shape and the
/// loader's Winograd choice, with the chunk that keeps its scratch within budget.
enum ConvStrategy: Equatable {
    /// Winograd F(2x2,3x3): output tiles per chunk.
    case winograd(tilesPerChunk: Int)
    /// 1x1 stride 1: the input rows are the GEMM's B directly; output columns per GEMM.
    case pointwise(columnsPerChunk: Int)
    /// im2col, then a GEMM: output rows per chunk.
    case im2col(rowsPerChunk: Int)

    /// Budgets in floats: im2col scratch, pointwise output and Winograd scratch per chunk.
    /// LSTV_ENGINE_CHUNKS="im2col,pointwise,winograd" overrides them (benchmark tuning only).
    struct Budget {
        var im2col = 1 << 20
        var pointwise = 1 << 19
        var winograd = 1 << 20

        static func fromEnvironment() -> Budget {
            var b = Budget()
            if let e = getenv("LSTV_ENGINE_CHUNKS") {
                let p = String(cString: e).split(separator: ",").compactMap { Int($0) }
                if p.count == 3 { b.im2col = p[0]; b.pointwise = p[1]; b.winograd = p[2] }
            }
            return b
        }
    }

    /// Floats of a pointwise chunk's transposed result on channel panels (512 KB: in L2).
    static let transposedFloats = 1 << 17

    /// im2col convs with a K at least this deep (decoder block 0 of the reference network: 3072 x 9 =
    /// 27648) cut K into blocks of about `deepKBlockRows` rows (the GEMM's own K block): the im2col
    /// block (256 x 100 floats at batch 1, <= 512 KB at batch 8) stays in L2 between im2col writing
    /// it and the GEMM reading it, where a scratch-sized block (4 MB) went through memory (that conv:
    /// 20.7-21.2% -> 18.1-19.3% of a batch-1 run). The golden bottleneck network's first decoder conv
    /// (K = 6912) runs this path when Winograd is off.
    static let deepK = 6144
    static let deepKBlockRows = 256

    /// Input channels per K block of an im2col conv over `columns` output columns, within the scratch.
    static func channelsPerBlock(_ s: ConvSpec, columns: Int, scratchFloats: Int) -> Int {
        let kk = s.k * s.k
        var channels = scratchFloats / (kk * columns)
        if s.cin * kk >= deepK { channels = min(channels, (deepKBlockRows + kk - 1) / kk) }
        return max(1, min(s.cin, channels))
    }

    /// im2col chunks keep at least this many output columns (K is cut into blocks instead), so the
    /// weights are streamed a few times, not once per thin chunk.
    static let minChunkColumns = 512

    /// Output rows of an im2col chunk, for a part holding `rows` output rows.
    static func im2colChunkRows(_ rowsPerChunk: Int, rows: Int, outputWidth ow: Int) -> Int {
        max(1, min(max(rows, 1), max(rowsPerChunk, (minChunkColumns + ow - 1) / ow)))
    }

    /// Scratch floats one part needs for a conv: the gathered input (im2col columns or Winograd's
    /// tiles) and, for channel-panel weights, the transposed result (gemm_wide.c) in which the K
    /// blocks accumulate before it is stored into the output.
    struct Scratch: Equatable {
        var gather = 0
        var transposed = 0
    }

    /// The strategy of a conv producing `y` for `batch` images split into `parts`, and the scratch
    /// it needs per part.
    static func plan(_ layer: ConvLayer, output y: Ref, batch: Int, parts: Int, budget: Budget) -> (ConvStrategy, Scratch) {
        let s = layer.spec
        if layer.winograd {
            let tiles = batch * ((y.h + 1) / 2) * ((y.w + 1) / 2)
            let perChunk = max(1, min(tiles, budget.winograd / winogradScratch(cin: s.cin, cout: s.cout, tiles: 1)))
            return (.winograd(tilesPerChunk: perChunk), Scratch(gather: winogradScratch(cin: s.cin, cout: s.cout, tiles: perChunk)))
        }
        // Columns of one GEMM call: a chunk, or every column at once when there are too few to
        // split by columns (Session.forward / conv split those by output channels instead).
        let columns = batch * y.h * y.w, fewColumns = Session.minColumnsPerPart * parts
        func transposed(chunkColumns: Int) -> Int {
            layer.layout == .channelPanels ? s.cout * min(columns, max(chunkColumns, fewColumns)) : 0
        }
        if s.k == 1 && s.stride == 1 {
            // On channel panels a chunk's result also passes through the transposed scratch, so
            // those chunks are kept to `transposedFloats`: the pointwise budget's 2 MB per part put
            // `analyze`'s peak RSS over 2x the weights (2.03x; 1.98x before the channel panels).
            let floats = layer.layout == .channelPanels ? min(budget.pointwise, transposedFloats) : budget.pointwise
            let perChunk = max(16, floats / s.cout)
            return (.pointwise(columnsPerChunk: perChunk), Scratch(transposed: transposed(chunkColumns: perChunk)))
        }
        let kdim = s.cin * s.k * s.k
        let rows = max(1, min(batch * y.h, budget.im2col / (kdim * y.w)))
        let chunkRows = im2colChunkRows(rows, rows: batch * y.h, outputWidth: y.w)
        return (.im2col(rowsPerChunk: rows), Scratch(gather: kdim * rows * y.w, transposed: transposed(chunkColumns: chunkRows * y.w)))
    }
}
