/// Where a complete series goes (`series.route`): the routing rules decide, the index records it.
public enum Route: String, Sendable, Codable {
    case localizer, ignored
}
