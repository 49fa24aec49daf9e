import DICOM
import Foundation
import Raster

/// A key image (the node's RGB Secondary Capture) as a small PNG `data:` URI, so the page carries
/// its images inside itself.
enum KeyImageThumbnail {
    /// The longer side of a thumbnail, in pixels.
    static let maxSide = 160

    static func dataURI(path: String) throws -> String {
        let dataset = try DicomDataset(path: path, headerOnly: false)
        let info = dataset.imageInfo
        let image = RGBImage(pixels: try dataset.decodeRGBFrame(), rows: info.rows, columns: info.columns)
        return "data:image/png;base64," + Data(PNG.encode(image.downscaled(toFit: maxSide))).base64EncodedString()
    }
}
