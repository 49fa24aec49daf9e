/// The node's software version: the SR's and key image's SoftwareVersions and `lstv-node --version`.
public enum NodeVersion {
    public static let software = "1.1.0"
    /// Manufacturer and model name in the objects the node creates (General Equipment).
    public static let manufacturer = "lstv-node"
}
