import Hummingbird
import Store

/// QIDO-RS (PS3.18 10.6): searches for studies, series and instances, answered as a DICOM JSON
/// array (`application/dicom+json`); no match is 200 with `[]` (one shape for every answer, which
/// dicomweb-client and browsers read alike). The node's own SRs and key images are found in the
/// study they report on, beside the received series.
struct QIDO {
    let catalog: ObjectCatalog

    func add(to group: RouterGroup<WebContext>) {
        group.get("studies") { try await search($0, $1, level: .study) }
        group.get("series") { try await search($0, $1, level: .series) }
        group.get("instances") { try await search($0, $1, level: .instance) }
        group.get("studies/{study}/series") { try await search($0, $1, level: .series) }
        group.get("studies/{study}/instances") { try await search($0, $1, level: .instance) }
        group.get("studies/{study}/series/{series}/instances") { try await search($0, $1, level: .instance) }
    }

    static let mediaType = "application/dicom+json"

    func search(_ request: Request, _ context: WebContext, level: SearchLevel) async throws -> Response {
        let accept = AcceptHeader(request.headers[.accept])
        guard accept.accepts(Self.mediaType) || accept.accepts("application/json") else {
            throw HTTPError(.notAcceptable, message: "searches answer \(Self.mediaType)")
        }
        var query: SearchQuery
        do {
            query = try SearchQuery(parameters: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        } catch { throw HTTPError(.badRequest, message: "\(error)") }
        guard query.restrict(study: try context.uid("study"), series: try context.uid("series")) else {
            return try JSONBody.response([Any](), contentType: Self.mediaType)
        }
        var match = query.match
        let studyModality = level == .study ? match.modality : nil
        if level == .study { match.modality = nil }
        let items = SearchResults.build(try catalog.objects(matching: match), level: level, baseURL: request.baseURL,
                                        studyModality: studyModality)
        return try JSONBody.response(query.page(items), contentType: Self.mediaType)
    }
}
