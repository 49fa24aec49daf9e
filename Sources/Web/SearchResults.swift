import Store

/// QIDO-RS answers built from the matching objects: one DICOM JSON object per study, series or
/// instance, in the order the objects came (first appearance), with counts over the matches.
enum SearchResults {
    /// `studyModality` keeps, at study level, the studies with a series of that modality; their
    /// counts and ModalitiesInStudy still cover the whole study (so `objects` must be unfiltered by it).
    static func build(_ objects: [StoredObject], level: SearchLevel, baseURL: String, studyModality: String? = nil) -> [[String: Any]] {
        switch level {
        case .study:
            return groups(objects, by: \.studyInstanceUID)
                .filter { members in studyModality.map { m in members.contains { $0.modality == m } } ?? true }
                .map { study(of: $0, baseURL: baseURL).attributes }
        case .series: return groups(objects, by: \.seriesInstanceUID).map { series(of: $0, baseURL: baseURL).attributes }
        case .instance: return objects.map { instance($0, baseURL: baseURL).attributes }
        }
    }

    /// Objects grouped by a key, groups in the order their first member came.
    static func groups(_ objects: [StoredObject], by key: KeyPath<StoredObject, String>) -> [[StoredObject]] {
        var order: [String] = [], members: [String: [StoredObject]] = [:]
        for o in objects {
            let k = o[keyPath: key]
            if members[k] == nil { order.append(k) }
            members[k, default: []].append(o)
        }
        return order.map { members[$0]! }
    }

    static func studyURL(_ o: StoredObject, _ base: String) -> String { "\(base)/dicomweb/studies/\(o.studyInstanceUID)" }
    static func seriesURL(_ o: StoredObject, _ base: String) -> String { studyURL(o, base) + "/series/\(o.seriesInstanceUID)" }

    /// The study attributes every level repeats (from the first object that has each one).
    static func studyAttributes(_ members: [StoredObject]) -> DicomJSONObject {
        var json = DicomJSONObject()
        json.set(.studyInstanceUID, members[0].studyInstanceUID)
        json.set(.studyDate, members.lazy.compactMap(\.studyDate).first)
        json.set(.accessionNumber, members.lazy.compactMap(\.accessionNumber).first)
        json.set(.patientID, members.lazy.compactMap(\.patientID).first)
        return json
    }

    static func study(of members: [StoredObject], baseURL: String) -> DicomJSONObject {
        var json = studyAttributes(members)
        var modalities: [String] = []
        for m in members.compactMap(\.modality) where !modalities.contains(m) { modalities.append(m) }
        json.set(.modalitiesInStudy, modalities)
        json.set(.numberOfStudyRelatedSeries, Set(members.map(\.seriesInstanceUID)).count)
        json.set(.numberOfStudyRelatedInstances, members.count)
        json.set(.retrieveURL, studyURL(members[0], baseURL))
        return json
    }

    /// The study's and the series' attributes (from the first member), without counts or URL.
    static func seriesAttributes(_ members: [StoredObject]) -> DicomJSONObject {
        var json = studyAttributes(members)
        let first = members[0]
        json.set(.seriesInstanceUID, first.seriesInstanceUID)
        json.set(.modality, first.modality)
        json.set(.seriesDescription, first.seriesDescription)
        json.set(.seriesNumber, first.seriesNumber)
        return json
    }

    static func series(of members: [StoredObject], baseURL: String) -> DicomJSONObject {
        var json = seriesAttributes(members)
        json.set(.numberOfSeriesRelatedInstances, members.count)
        json.set(.retrieveURL, seriesURL(members[0], baseURL))
        return json
    }

    static func instance(_ o: StoredObject, baseURL: String) -> DicomJSONObject {
        var json = seriesAttributes([o])
        json.set(.sopClassUID, o.sopClassUID)
        json.set(.sopInstanceUID, o.sopInstanceUID)
        json.set(.instanceNumber, o.instanceNumber)
        json.set(.retrieveURL, seriesURL(o, baseURL) + "/instances/\(o.sopInstanceUID)")
        return json
    }
}
