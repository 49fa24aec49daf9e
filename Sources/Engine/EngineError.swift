// Typed errors of the engine. Every message names the file, tensor or value at fault, so a
// model that fails to load says why without a debugger.

public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// Reading the file failed (open, short read, size).
    case io(String)
    /// The safetensors container is malformed (header length, JSON, offsets).
    case badFile(String)
    /// `__metadata__` is missing a key, has the wrong format, or an inconsistent architecture.
    case badMetadata(String)
    /// A tensor the architecture needs is not in the file.
    case missingTensor(String)
    /// The file holds a tensor the architecture does not have.
    case unexpectedTensor(String)
    /// A tensor has the wrong shape.
    case wrongShape(tensor: String, expected: [Int], found: [Int])
    /// A tensor has a dtype the engine does not accept there.
    case wrongDType(tensor: String, expected: String, found: String)
    /// A run was given input of the wrong size, or a session was asked for an impossible shape.
    case badInput(String)

    public var description: String {
        switch self {
        case .io(let m): return "I/O error: \(m)"
        case .badFile(let m): return "bad safetensors file: \(m)"
        case .badMetadata(let m): return "bad model metadata: \(m)"
        case .missingTensor(let n): return "missing tensor \(n)"
        case .unexpectedTensor(let n): return "unexpected tensor \(n)"
        case .wrongShape(let n, let e, let f): return "tensor \(n): shape \(f), expected \(e)"
        case .wrongDType(let n, let e, let f): return "tensor \(n): dtype \(f), expected \(e)"
        case .badInput(let m): return "bad input: \(m)"
        }
    }
}
