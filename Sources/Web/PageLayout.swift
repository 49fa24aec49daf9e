import Hummingbird
import Mustache

/// The frame every dashboard page shares: inline style (no external asset of any kind), the
/// navigation, who is signed in and the sign-out form (with the session's CSRF token).
enum PageLayout {
    /// What the frame shows around a page's body.
    struct Frame {
        var title: String
        var user: String?
        var role: String?
        /// The session's CSRF token; nil when signed in by bearer token (no sign-out form then).
        var csrf: String?
        var body: String
        var signedIn: Bool
        var style = PageLayout.style
        init(title: String, user: String?, role: String?, csrf: String?, body: String) {
            self.title = title; self.user = user; self.role = role; self.csrf = csrf; self.body = body; signedIn = user != nil
        }
    }

    static let style = """
      body { font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; margin: 0; background: #f4f5f7; }
      header { background: #24374d; color: #fff; padding: 10px 24px; display: flex; align-items: center; gap: 22px; }
      header h1 { margin: 0; font-size: 18px; }
      header nav a { color: #d6dde6; margin-right: 14px; text-decoration: none; font-size: 14px; }
      header nav a:hover { color: #fff; text-decoration: underline; }
      header .who { margin-left: auto; font-size: 13px; color: #d6dde6; }
      header .who form { display: inline; }
      main { padding: 8px 24px 40px; max-width: 1500px; }
      section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 16px 0; padding: 10px 16px 14px; }
      section h2 { font-size: 16px; margin: 4px 0 10px; }
      table { border-collapse: collapse; font-size: 13px; }
      th, td { border-bottom: 1px solid #e3e6ea; padding: 5px 8px; text-align: left; vertical-align: top; }
      th { background: #f0f2f5; }
      td.number { text-align: right; font-variant-numeric: tabular-nums; }
      .uid { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; }
      .risk-high { color: #fff; background: #c8372d; font-weight: bold; }
      .risk-medium { color: #000; background: #f3c443; font-weight: bold; }
      .risk-low { color: #fff; background: #2e9e5b; }
      .state-dead { color: #c8372d; font-weight: bold; }
      .state-pending, .state-sending { color: #a87800; }
      .state-sent { color: #2e9e5b; }
      .error { color: #c8372d; }
      .muted { color: #777; font-size: 12px; }
      form.inline { display: inline; }
      button, input[type=submit] { font: inherit; font-size: 13px; padding: 3px 10px; cursor: pointer; }
      .filters { display: flex; gap: 14px; align-items: end; flex-wrap: wrap; font-size: 13px; }
      .filters label { display: flex; flex-direction: column; gap: 3px; }
      .paging { margin-top: 10px; font-size: 13px; }
      .paging a { margin-right: 14px; }
      img.key-image { display: block; max-width: 100%; border: 1px solid #ccc; background: #000; }
      dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 14px; margin: 0; }
      dl.facts dt { color: #555; }
      dl.facts dd { margin: 0; }
      .columns { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
      .columns > section { flex: 1 1 420px; }
      #drop { border: 2px dashed #8a9bb0; border-radius: 8px; padding: 28px; text-align: center; background: #fafbfc; }
      #drop.over { background: #e8f0fb; }
      .login { max-width: 420px; margin: 60px auto; }
      .login input[type=password] { width: 100%; box-sizing: border-box; padding: 6px; font-size: 14px; }
    """

    static let template = try! MustacheTemplate(string: """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · lstv-node</title>
    <style>{{{style}}}</style>
    </head>
    <body>
    <header>
      <h1>lstv-node</h1>
      {{#signedIn}}
      <nav><a href="/">Worklist</a><a href="/outbox">Outbox</a><a href="/upload">Upload</a><a href="/report">Cohort report</a></nav>
      <div class="who">{{user}} ({{role}})
        {{#csrf}}<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{.}}"><button type="submit">Sign out</button></form>{{/csrf}}
      </div>
      {{/signedIn}}
    </header>
    <main>
    {{{body}}}
    </main>
    </body>
    </html>
    """)

    static func render(_ frame: Frame) -> String {
        template.render(frame)
    }

    /// Who the frame names as signed in, and the session's CSRF token for the sign-out form.
    struct Viewer {
        var name: String
        var role: Role
        var csrf: String?
    }

    /// A page's body template rendered with its values, inside the frame, as an HTML response.
    static func response(_ body: MustacheTemplate, _ values: Any, title: String, viewer: Viewer?,
                         status: HTTPResponse.Status = .ok) -> Response {
        html(page(body, values, title: title, viewer: viewer), status: status)
    }

    /// The page's HTML text.
    static func page(_ body: MustacheTemplate, _ values: Any, title: String, viewer: Viewer?) -> String {
        render(Frame(title: title, user: viewer?.name, role: viewer?.role.rawValue, csrf: viewer?.csrf, body: body.render(values)))
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
