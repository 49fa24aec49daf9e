import Foundation

/// 8-bit bilinear resampling through a map from output to source pixel: black outside the source
/// (cv2.warpAffine's INTER_LINEAR with BORDER_CONSTANT 0, up to its 1/32-pixel fixed-point rounding).
/// The ladder's perturbed passes and the thoracolumbar locator's window both sample this way.
enum BilinearResample {
    static func resample(_ image: [UInt8], rows: Int, columns: Int, outRows: Int, outColumns: Int,
                         source: (Double, Double) -> PixelPoint) -> [UInt8] {
        precondition(image.count == rows * columns)
        var out = [UInt8](repeating: 0, count: outRows * outColumns)
        func tap(_ r: Int, _ c: Int) -> Double {
            r >= 0 && r < rows && c >= 0 && c < columns ? Double(image[r * columns + c]) : 0
        }
        for r in 0..<outRows {
            for c in 0..<outColumns {
                let s = source(Double(r), Double(c))
                let r0 = Int(floor(s.row)), c0 = Int(floor(s.column))
                let fr = s.row - Double(r0), fc = s.column - Double(c0)
                let v = (1 - fr) * ((1 - fc) * tap(r0, c0) + fc * tap(r0, c0 + 1))
                      + fr * ((1 - fc) * tap(r0 + 1, c0) + fc * tap(r0 + 1, c0 + 1))
                out[r * outColumns + c] = UInt8(min(255, max(0, v.rounded())))
            }
        }
        return out
    }
}
