import Analysis
import Foundation
import Mustache
import Store

/// `GET /`: the analysed series, newest first (the `lstv_flags` view), filtered by risk and a
/// since-date from the query, in pages, each with its deliveries' states.
struct WorklistPage {
    static let pageSize = 50

    struct Row {
        var seriesInstanceUID: String
        var analysedAt: String
        var risk: String
        var suspicion: String
        var lumbarCount: String
        var ladderStatus: String
        var accession: String
        var seriesDescription: String
        var sent: Int, pending: Int, dead: Int
    }
    struct Option { var value: String; var label: String; var selected: Bool }

    var rows: [Row]
    var empty: Bool
    var riskOptions: [Option]
    var since: String
    var previous: String?
    var next: String?
    var offset: Int

    /// The filter of the query: `risk` (low/medium/high or empty), `since` (YYYY-MM-DD), `offset`.
    struct Filter: Equatable {
        var risk: Risk?
        var since: Date?
        var sinceText: String
        var offset: Int

        init(risk: String?, since: String?, offset: String?) throws {
            switch risk ?? "" {
            case "": self.risk = nil
            case let r: guard let v = Risk(rawValue: r) else { throw PageError.badRequest("risk must be low, medium or high") }; self.risk = v
            }
            sinceText = since ?? ""
            if sinceText.isEmpty { self.since = nil } else {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd"
                guard let d = f.date(from: sinceText) else { throw PageError.badRequest("since must be a date, YYYY-MM-DD") }
                self.since = d
            }
            guard let o = Int(offset ?? "0"), o >= 0 else { throw PageError.badRequest("offset must be 0 or more") }
            self.offset = o
        }

        func query(offset: Int) -> String {
            var items = URLComponents()
            items.queryItems = [URLQueryItem(name: "risk", value: risk?.rawValue ?? ""), URLQueryItem(name: "since", value: sinceText),
                                URLQueryItem(name: "offset", value: String(offset))]
            return "/?" + (items.percentEncodedQuery ?? "")
        }
    }

    init(filter: Filter, rows: [Row], more: Bool) {
        self.rows = rows
        empty = rows.isEmpty
        riskOptions = [Option(value: "", label: "any", selected: filter.risk == nil)]
            + Risk.allCases.reversed().map { Option(value: $0.rawValue, label: $0.rawValue, selected: filter.risk == $0) }
        since = filter.sinceText
        offset = filter.offset
        previous = filter.offset > 0 ? filter.query(offset: max(0, filter.offset - Self.pageSize)) : nil
        next = more ? filter.query(offset: filter.offset + Self.pageSize) : nil
    }

    /// The page from the database: one page of flags and each series' deliveries.
    static func load(pipeline: Pipeline, filter: Filter) throws -> WorklistPage {
        let flags = try pipeline.flags(since: filter.since, risk: filter.risk?.rawValue, limit: pageSize + 1, offset: filter.offset)
        let rows = try flags.prefix(pageSize).map { f -> Row in
            let uid = f["series_instance_uid"] ?? ""
            let states = try pipeline.deliveries(analysedSeries: uid).map(\.state)
            return Row(seriesInstanceUID: uid, analysedAt: PageFormat.time(f.date("analysed_at")), risk: f["risk"] ?? "",
                       suspicion: PageFormat.number(f["lstv_suspicion"].flatMap(Double.init)),
                       lumbarCount: f["lumbar_count"] ?? "undetermined", ladderStatus: f["ladder_status"] ?? "",
                       accession: f["accession_number"] ?? "", seriesDescription: f["series_description"] ?? "",
                       sent: states.filter { $0 == .sent }.count,
                       pending: states.filter { $0 == .pending || $0 == .sending }.count,
                       dead: states.filter { $0 == .dead }.count)
        }
        return WorklistPage(filter: filter, rows: Array(rows), more: flags.count > pageSize)
    }

    static let template = try! MustacheTemplate(string: """
    <section>
      <h2>Analysed series</h2>
      <form class="filters" method="get" action="/">
        <label>Risk <select name="risk">{{#riskOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/riskOptions}}</select></label>
        <label>Analysed since <input type="date" name="since" value="{{since}}"></label>
        <input type="submit" value="Filter">
      </form>
    </section>
    <section>
      {{#empty}}<p class="muted">No analysed series match.</p>{{/empty}}
      {{^empty}}
      <table id="worklist">
        <tr><th>analysed at</th><th>risk</th><th>lstv_suspicion</th><th>lumbar count</th><th>ladder</th><th>accession</th><th>series description</th><th>deliveries</th><th></th></tr>
        {{#rows}}
        <tr data-series="{{seriesInstanceUID}}">
          <td>{{analysedAt}}</td><td class="risk risk-{{risk}}">{{risk}}</td><td class="number">{{suspicion}}</td>
          <td class="number">{{lumbarCount}}</td><td>{{ladderStatus}}</td><td>{{accession}}</td><td>{{seriesDescription}}</td>
          <td><span class="state-sent">{{sent}} sent</span> · <span class="state-pending">{{pending}} pending</span> · <span class="state-dead">{{dead}} dead</span></td>
          <td><a href="/series/{{seriesInstanceUID}}">series</a></td>
        </tr>
        {{/rows}}
      </table>
      {{/empty}}
      <div class="paging">{{#previous}}<a href="{{.}}">← newer</a>{{/previous}}{{#next}}<a href="{{.}}">older →</a>{{/next}}</div>
    </section>
    """)
}
