import CDICOM
import Foundation

// Helpers for handing Swift values to CDICOM's C API for the duration of one call.

func withOptionalPointer<T, R>(_ value: inout T?, _ body: (UnsafePointer<T>?) -> R) -> R {
    if value != nil {
        return withUnsafePointer(to: &value!) { body($0) }
    }
    return body(nil)
}

/// C strings that live as long as the arena (the duration of one call into CDICOM).
final class CStringArena {
    private var pointers: [UnsafeMutablePointer<CChar>] = []
    private var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
    deinit {
        pointers.forEach { free($0) }
        arrays.forEach { $0.deallocate() }
    }

    /// A C array of C strings that lives as long as the arena (for pointers kept inside a C struct).
    func cArray(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, strings.count))
        for (i, s) in strings.enumerated() { (p + i).initialize(to: c(s)) }
        arrays.append(p)
        return UnsafePointer(p)
    }

    func c(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        let p = strdup(s)!
        pointers.append(p)
        return UnsafePointer(p)
    }

    func code(_ code: SRCode) -> cdicom_code {
        cdicom_code(value: c(code.value), scheme: c(code.scheme), meaning: c(code.meaning),
                    scheme_version: c(code.schemeVersion))
    }

    func ref(_ r: ReferencedInstance) -> cdicom_instance_ref {
        cdicom_instance_ref(sop_class_uid: c(r.sopClassUID), sop_instance_uid: c(r.sopInstanceUID),
                            series_instance_uid: c(r.seriesInstanceUID), study_instance_uid: c(r.studyInstanceUID),
                            frame_number: UInt32(r.frameNumber ?? 0))
    }
}

extension CStringArena {
    /// A C array of C strings owned by the arena; call within the arena's lifetime.
    func array(_ strings: [String]) -> [UnsafePointer<CChar>?] { strings.map { c($0) } }
}
