import DICOM
import Foundation
import Raster

/// A key image (the node's RGB Secondary Capture) as a small PNG `data:` URI, so the page carries
/// its images inside itself (the report's thumbnails, the dashboard's series page).
public enum KeyImageThumbnail {
    /// The longer side of a report thumbnail, in pixels.
    public static let maxSide = 160

    public static func dataURI(path: String, maxSide: Int = maxSide) throws -> String {
        let dataset = try DicomDataset(path: path, headerOnly: false)
        let info = dataset.imageInfo
        let image = RGBImage(pixels: try dataset.decodeRGBFrame(), rows: info.rows, columns: info.columns)
        return "data:image/png;base64," + Data(PNG.encode(image.downscaled(toFit: maxSide))).base64EncodedString()
    }
}
