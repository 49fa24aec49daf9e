import Store

/// One delivery as the series page and the outbox page show it, with its resend/retry button for
/// admins (a form posting the session's CSRF token and the page to come back to).
struct DeliveryRow {
    var id: Int64
    var kind: String
    var sopInstanceUID: String
    var destination: String
    var state: String
    var attempts: Int
    var lastStatus: String
    var lastError: String
    var when: String
    var retry: Bool
    var dead: Bool

    init(_ d: OutboxItem, admin: Bool) {
        id = d.id; kind = d.kind.rawValue; sopInstanceUID = d.sopInstanceUID; destination = d.destination.description
        state = d.state.rawValue; attempts = d.attempts; lastStatus = d.lastStatus ?? ""; lastError = d.lastError ?? ""
        when = d.state == .sent ? PageFormat.time(d.sentAt) : PageFormat.time(d.nextAttemptAt)
        retry = admin && (d.state == .dead || d.state == .pending)
        dead = d.state == .dead
    }

    /// The cells every delivery table ends with; `{{csrf}}` and `{{returnPath}}` come from the page.
    static let cells = """
    <td class="state-{{state}}">{{state}}</td><td class="number">{{attempts}}</td><td>{{lastStatus}}</td><td class="error">{{lastError}}</td><td>{{when}}</td>
    <td>{{#retry}}<form class="inline retry" method="post" action="/deliveries/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="return" value="{{returnPath}}"><button type="submit">{{#dead}}resend{{/dead}}{{^dead}}retry now{{/dead}}</button></form>{{/retry}}</td>
    """
    static let headings = "<th>state</th><th>attempts</th><th>last status</th><th>last error</th><th>sent / next attempt</th><th></th>"
}
