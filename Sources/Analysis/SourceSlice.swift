// The analysis input, independent of DICOM: the DICOM module fills it from a dataset (with the
// modality rescale already applied), and tests can build it by hand.

/// Image Orientation (Patient): unit direction cosines in LPS. `row` is the direction of increasing
/// column index (along a row, IOP's first triplet); `column` the direction of increasing row index.
public struct ImageOrientation: Equatable, Sendable {
    public var row: SIMD3<Double>
    public var column: SIMD3<Double>
    public init(row: SIMD3<Double>, column: SIMD3<Double>) {
        self.row = row
        self.column = column
    }
    /// Slice normal, row × column: the direction slices are ordered along.
    public var normal: SIMD3<Double> {
        SIMD3(row.y * column.z - row.z * column.y,
              row.z * column.x - row.x * column.z,
              row.x * column.y - row.y * column.x)
    }
}

/// Pixel Spacing in mm, in DICOM order: `row` = spacing between rows (PixelSpacing[0]),
/// `column` = spacing between columns (PixelSpacing[1]).
public struct PixelSpacing: Equatable, Sendable {
    public var row: Double
    public var column: Double
    public init(row: Double, column: Double) {
        self.row = row
        self.column = column
    }
}

/// One slice of a series: rescaled pixel values (row-major, `rows * columns`) and its geometry.
public struct SourceSlice: Sendable {
    public var pixels: [Float]
    public var rows: Int
    public var columns: Int
    public var imagePositionPatient: SIMD3<Double>?
    public var imageOrientationPatient: ImageOrientation?
    public var pixelSpacing: PixelSpacing?
    public var instanceNumber: Int?
    public var sopInstanceUID: String
    /// The frame's number (1-based, as Referenced Frame Number counts) when the slice is a frame of
    /// an enhanced multi-frame image; nil for a single-frame instance.
    public var frameNumber: Int?

    public init(pixels: [Float], rows: Int, columns: Int,
                imagePositionPatient: SIMD3<Double>? = nil,
                imageOrientationPatient: ImageOrientation? = nil,
                pixelSpacing: PixelSpacing? = nil,
                instanceNumber: Int? = nil,
                sopInstanceUID: String,
                frameNumber: Int? = nil) {
        self.pixels = pixels
        self.rows = rows
        self.columns = columns
        self.imagePositionPatient = imagePositionPatient
        self.imageOrientationPatient = imageOrientationPatient
        self.pixelSpacing = pixelSpacing
        self.instanceNumber = instanceNumber
        self.sopInstanceUID = sopInstanceUID
        self.frameNumber = frameNumber
    }

    /// Geometry needed to map pixels to patient mm, when the slice has all of it.
    public var geometry: SliceGeometry? {
        guard let ipp = imagePositionPatient, let iop = imageOrientationPatient, let ps = pixelSpacing else { return nil }
        return SliceGeometry(position: ipp, orientation: iop, spacing: ps)
    }
}
