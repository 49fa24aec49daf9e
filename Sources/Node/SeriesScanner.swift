import DICOM
import Foundation
import Records
import Store

/// Groups DICOM files (given as files or folders) into series and routes each with the node's
/// rules: what `lstv-node analyze` does with paths instead of associations.
public struct SeriesScanner {
    public struct ScannedSeries: Sendable {
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var descriptors: SeriesDescriptors
        public var paths: [String]
        public var route: Route
        public var reason: String
    }

    public struct Unreadable: Sendable {
        public var path: String
        public var reason: String
    }

    let router: Router
    public init(router: Router) { self.router = router }

    public func scan(_ inputs: [String]) throws -> (series: [ScannedSeries], unreadable: [Unreadable]) {
        var files: [String] = []
        let fm = FileManager.default
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else {
                throw ConfigurationError("no such file or directory: \(input)")
            }
            if isDir.boolValue {
                let e = fm.enumerator(atPath: input)
                while let rel = e?.nextObject() as? String {
                    let full = (input as NSString).appendingPathComponent(rel)
                    var sub: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { files.append(full) }
                }
            } else {
                files.append(input)
            }
        }
        var bySeries: [String: ScannedSeries] = [:]
        var order: [String] = []
        var unreadable: [Unreadable] = []
        for path in files.sorted() {
            do {
                let h = try InstanceHeader.read(path: path, expected: nil, stackChoice: router.stackChoice)
                if bySeries[h.seriesInstanceUID] == nil {
                    let (route, reason) = router.route(h.descriptors)
                    bySeries[h.seriesInstanceUID] = ScannedSeries(
                        studyInstanceUID: h.studyInstanceUID, seriesInstanceUID: h.seriesInstanceUID,
                        descriptors: h.descriptors, paths: [], route: route, reason: reason)
                    order.append(h.seriesInstanceUID)
                }
                bySeries[h.seriesInstanceUID]!.paths.append(path)
            } catch {
                // Folders often hold DICOMDIR, README or thumbnails: reported, not fatal.
                unreadable.append(Unreadable(path: path, reason: "\(error)"))
            }
        }
        return (order.map { bySeries[$0]! }, unreadable)
    }
}
