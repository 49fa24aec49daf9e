import Mustache

/// `GET /login`: the sign-in form (a bearer token, made at first start or by `lstv-node token create`).
struct LoginPage {
    var problem: String?

    static let template = try! MustacheTemplate(string: """
    <section class="login">
      <h2>Sign in</h2>
      <p class="muted">With an access token: the admin token printed at the node's first start, or one made by <code>lstv-node token create</code>.</p>
      {{#problem}}<p class="error" id="login-problem">{{.}}</p>{{/problem}}
      <form method="post" action="/login">
        <p><label>Token<br><input type="password" name="token" autocomplete="current-password" required autofocus></label></p>
        <p><button type="submit">Sign in</button></p>
      </form>
    </section>
    """)
}

/// An error shown as a page: what went wrong, in words.
struct ProblemPage {
    var message: String

    static let template = try! MustacheTemplate(string: """
    <section><h2>Cannot show this</h2><p class="error" id="problem">{{message}}</p><p><a href="/">Back to the worklist</a></p></section>
    """)
}
