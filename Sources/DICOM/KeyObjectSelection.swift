import CDICOM
import Foundation

/// A Key Object Selection document (TID 2010) that marks instances of the analysed study as "Of
/// Interest", so that a viewer shows them without reading the SR (IHE AI Results allows it beside
/// the SR).
public struct KeyObjectSelection: Sendable {
    /// A received instance of the analysed series: patient/study modules are copied from it.
    public var sourceInstancePath: String
    public var instance: CreatedInstance
    /// The document title (CID 7010).
    public var title: SRCode
    /// The Key Object Description text; none when nil.
    public var description: String?
    /// The selected instances, in the order a viewer should show them.
    public var references: [ReferencedInstance]

    public init(sourceInstancePath: String, instance: CreatedInstance, title: SRCode = Codes.ofInterest,
                description: String?, references: [ReferencedInstance]) {
        self.sourceInstancePath = sourceInstancePath; self.instance = instance; self.title = title
        self.description = description; self.references = references
    }
}

/// Writes Key Object Selection Document Storage instances, explicit VR little endian.
public enum KeyObjectSelectionWriter {
    public static func write(_ document: KeyObjectSelection, to path: String) throws {
        DICOMLibrary.initialize()
        guard !document.references.isEmpty else { throw DICOMError("key object selection: no referenced instance") }
        try UID.requireValid(document.instance.uids + document.references.map(\.sopInstanceUID), for: "key object selection")
        let arena = CStringArena()
        let references = document.references.map { arena.ref($0) }
        var c = cdicom_kos_document()
        c.source_path = arena.c(document.sourceInstancePath)
        c.instance = document.instance.c(arena)
        c.title = arena.code(document.title)
        c.description_concept = arena.code(Codes.keyObjectDescription)
        c.description = arena.c(document.description)
        var err = [CChar](repeating: 0, count: 1024)
        let rc = references.withUnsafeBufferPointer { refs -> Int32 in
            c.references = refs.baseAddress
            c.reference_count = refs.count
            return cdicom_kos_write(&c, path, &err, err.count)
        }
        guard rc == 0 else { throw DICOMError("key object selection: " + String(cString: err)) }
    }
}
