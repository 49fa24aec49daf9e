import Analysis
import Cohort
import CohortReport
import Foundation
import Mustache
import Store

/// `GET /series/{uid}`: one analysed series — its levels' figures, the suspicion's reasons, the
/// lumbar count and junction, risk and thresholds, the key image, and its deliveries (with retry
/// buttons for admins).
struct SeriesPage {
    struct Level { var name: String; var confidence: String; var entropy: String; var spatialEntropy: String }

    var seriesInstanceUID: String
    var studyInstanceUID: String
    var accession: String
    var seriesDescription: String
    var analysedAt: String
    var model: String
    var risk: String
    var suspicion: String
    var thresholds: String
    var ladderStatus: String
    var lumbarCount: String
    var junction: String
    var levels: [Level]
    var reasons: [String]
    var hasReasons: Bool
    var keyImage: String?
    var keyImageProblem: String?
    var deliveries: [DeliveryRow]
    var hasDeliveries: Bool
    var csrf: String?
    var returnPath: String

    init(_ c: CohortCase, deliveries: [OutboxItem], keyImage: Result<String, Error>?, admin: Bool, csrf: String?) {
        seriesInstanceUID = c.seriesInstanceUID; studyInstanceUID = c.studyInstanceUID
        accession = c.accessionNumber ?? ""; seriesDescription = c.seriesDescription ?? ""
        analysedAt = PageFormat.time(c.analysedAt)
        model = c.model.map { "\($0.name) \($0.version)" } ?? "not recorded"
        risk = c.flags.risk; suspicion = PageFormat.number(c.flags.lstvSuspicion)
        thresholds = (c.thresholds.map { "high > \(PageFormat.number($0.high)), medium ≥ \(PageFormat.number($0.medium))" } ?? "not recorded")
            + (c.flags.riskThresholdOrigin.isEmpty ? "" : " (\(c.flags.riskThresholdOrigin))")
        ladderStatus = c.flags.ladderStatus
        lumbarCount = c.flags.lumbarCount.map { n in
            "\(n)" + (c.flags.lumbarCountProbability.map { " (p = \(PageFormat.number($0, digits: 2)))" } ?? "")
        } ?? "undetermined"
        junction = c.flags.junctionState
        levels = LevelName.allCases.map { level in
            let l = c.flags.levels[level.rawValue]
            return Level(name: level.displayName, confidence: PageFormat.number(l?.confidence), entropy: PageFormat.number(l?.entropy),
                         spatialEntropy: PageFormat.number(l?.spatialEntropy))
        }
        reasons = c.flags.suspicionReasons; hasReasons = !reasons.isEmpty
        switch keyImage {
        case .some(.success(let uri)): self.keyImage = uri
        case .some(.failure(let error)): keyImageProblem = "The key image cannot be shown: \(error)"
        case .none: keyImageProblem = "No key image was made for this analysis."
        }
        self.deliveries = deliveries.map { DeliveryRow($0, admin: admin) }
        hasDeliveries = !deliveries.isEmpty
        self.csrf = csrf
        returnPath = "/series/" + c.seriesInstanceUID
    }

    /// The longer side of the key image on the page, in pixels.
    static let keyImageSide = 512

    static func load(database: Database, uid: String, admin: Bool, csrf: String?) throws -> SeriesPage {
        guard let c = try CohortSource.load(database: database, since: nil, seriesInstanceUID: uid).last else {
            throw PageError.notFound("No analysed series with this UID.")
        }
        let image = c.keyImagePath.map { path in Result { try KeyImageThumbnail.dataURI(path: path, maxSide: keyImageSide) } }
        return SeriesPage(c, deliveries: try Pipeline(database: database).deliveries(analysedSeries: uid), keyImage: image,
                          admin: admin, csrf: csrf)
    }

    static let template = try! MustacheTemplate(string: """
    <section>
      <h2>Series <span class="uid">{{seriesInstanceUID}}</span></h2>
      <dl class="facts">
        <dt>Study</dt><dd class="uid">{{studyInstanceUID}}</dd>
        <dt>Accession</dt><dd>{{accession}}</dd>
        <dt>Series description</dt><dd>{{seriesDescription}}</dd>
        <dt>Analysed at</dt><dd>{{analysedAt}} · model {{model}}</dd>
        <dt>Risk</dt><dd><span id="risk" class="risk-{{risk}}">&nbsp;{{risk}}&nbsp;</span> · lstv_suspicion {{suspicion}} · thresholds {{thresholds}}</dd>
        <dt>Lumbar count</dt><dd>{{lumbarCount}}</dd>
        <dt>Junction</dt><dd>{{junction}}</dd>
        <dt>Ladder status</dt><dd>{{ladderStatus}}</dd>
      </dl>
    </section>
    <div class="columns">
    <section>
      <h2>Levels</h2>
      <table id="levels">
        <tr><th>level</th><th>confidence</th><th>entropy</th><th>spatial entropy</th></tr>
        {{#levels}}<tr><td>{{name}}</td><td class="number">{{confidence}}</td><td class="number">{{entropy}}</td><td class="number">{{spatialEntropy}}</td></tr>{{/levels}}
      </table>
      <h2>Reasons</h2>
      {{#hasReasons}}<ul id="reasons">{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul>{{/hasReasons}}
      {{^hasReasons}}<p class="muted">No reasons recorded.</p>{{/hasReasons}}
    </section>
    <section>
      <h2>Key image</h2>
      {{#keyImage}}<img id="key-image" class="key-image" alt="key image of the series" src="{{.}}">{{/keyImage}}
      {{#keyImageProblem}}<p class="muted">{{.}}</p>{{/keyImageProblem}}
    </section>
    </div>
    <section>
      <h2>Deliveries</h2>
      {{#hasDeliveries}}
      <table id="deliveries">
        <tr><th>result</th><th>destination</th>\(DeliveryRow.headings)</tr>
        {{#deliveries}}
        <tr><td>{{kind}}</td><td>{{destination}}</td>
        \(DeliveryRow.cells)</tr>
        {{/deliveries}}
      </table>
      {{/hasDeliveries}}
      {{^hasDeliveries}}<p class="muted">No deliveries (no destinations configured).</p>{{/hasDeliveries}}
    </section>
    """)
}
