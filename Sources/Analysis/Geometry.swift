// From the network's grid back to the image the radiologist sees, and to the patient.

/// What maps a pixel of one slice to patient coordinates (LPS, mm).
public struct SliceGeometry: Equatable, Sendable {
    public var position: SIMD3<Double>
    public var orientation: ImageOrientation
    public var spacing: PixelSpacing
    public init(position: SIMD3<Double>, orientation: ImageOrientation, spacing: PixelSpacing) {
        self.position = position
        self.orientation = orientation
        self.spacing = spacing
    }

    /// DICOM's pixel-to-patient equation (PS3.3 C.7.6.2.1.1): the centre of pixel (row, col) is
    /// IPP + col * PixelSpacing[1] * rowDir + row * PixelSpacing[0] * colDir. Fractional indices
    /// interpolate linearly.
    public func patientPosition(of p: PixelPoint) -> SIMD3<Double> {
        position + (p.column * spacing.column) * orientation.row + (p.row * spacing.row) * orientation.column
    }
}

public enum Geometry {
    /// A point on the resized grid back to the original pixel grid. cv2's resize samples destination
    /// pixel d at source coordinate (d + 0.5) * (src / dst) - 0.5 (pixel centres aligned), so that is
    /// the inverse used here, per axis (not p * src / dst, which is off by half a pixel's scale).
    public static func toOriginal(_ p: PixelPoint, gridRows: Int, gridColumns: Int,
                                  rows: Int, columns: Int) -> PixelPoint {
        PixelPoint(row: (p.row + 0.5) * Double(rows) / Double(gridRows) - 0.5,
                   column: (p.column + 0.5) * Double(columns) / Double(gridColumns) - 0.5)
    }
}
