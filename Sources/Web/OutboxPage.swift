import Mustache
import Store

/// `GET /outbox`: every delivery with its state and last error, newest first; admins get retry buttons.
struct OutboxPage {
    var items: [DeliveryRow]
    var empty: Bool
    var csrf: String?
    var returnPath = "/outbox"

    init(_ outbox: [OutboxItem], admin: Bool, csrf: String?) {
        items = outbox.reversed().map { DeliveryRow($0, admin: admin) }
        empty = items.isEmpty
        self.csrf = csrf
    }

    static let template = try! MustacheTemplate(string: """
    <section>
      <h2>Outbox (newest first)</h2>
      {{#empty}}<p class="muted">No deliveries.</p>{{/empty}}
      {{^empty}}
      <table id="outbox">
        <tr><th>#</th><th>result</th><th>SOP Instance UID</th><th>destination</th>\(DeliveryRow.headings)</tr>
        {{#items}}
        <tr><td class="number">{{id}}</td><td>{{kind}}</td><td class="uid">{{sopInstanceUID}}</td><td>{{destination}}</td>
        \(DeliveryRow.cells)</tr>
        {{/items}}
      </table>
      {{/empty}}
    </section>
    """)
}
