import DICOM
import Foundation
import Hummingbird
import Raster
import Store

/// `/rendered` (PS3.18 10.4.1.1.3) of a stored image as `image/png`: an RGB image (the node's key
/// image) as it is, a monochrome one from its minimum (black) to its maximum (white); the first
/// frame of a multi-frame image. An object without pixel data (an SR) cannot be rendered: 400.
struct Rendered {
    let catalog: ObjectCatalog

    func add(to group: RouterGroup<WebContext>) {
        group.get("studies/{study}/series/{series}/instances/{instance}/rendered", use: render)
    }

    func render(_ request: Request, _ context: WebContext) async throws -> Response {
        let match = ObjectQuery(studyInstanceUID: try context.uid("study"), seriesInstanceUID: try context.uid("series"),
                                sopInstanceUID: try context.uid("instance"))
        guard let object = try catalog.objects(matching: match).first else { throw HTTPError(.notFound, message: "no such instance here") }
        guard AcceptHeader(request.headers[.accept]).accepts("image/png") else {
            throw HTTPError(.notAcceptable, message: "rendered images are image/png")
        }
        let image: RGBImage
        do { image = try Self.image(path: object.path) } catch { throw HTTPError(.badRequest, message: "cannot render this instance: \(error)") }
        var headers = HTTPFields()
        headers[.contentType] = "image/png"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: PNG.encode(image))))
    }

    static func image(path: String) throws -> RGBImage {
        let dataset = try DicomDataset(path: path, headerOnly: false)
        let info = dataset.imageInfo
        guard info.rows > 0, info.columns > 0 else { throw DICOMError("no pixel data") }
        switch info.samplesPerPixel {
        case 3: return RGBImage(pixels: try dataset.decodeRGBFrame(), rows: info.rows, columns: info.columns)
        case 1: return RGBImage(greyscale: try dataset.decodeFrame(), rows: info.rows, columns: info.columns)
        default: throw DICOMError("\(info.samplesPerPixel) samples per pixel")
        }
    }
}
