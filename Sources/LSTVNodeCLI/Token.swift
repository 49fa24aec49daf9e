import ArgumentParser
import Web

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bearer tokens of the web face.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new random token: prints it once, and the line for `http.tokens` (only its SHA-256 is kept).")
        @Option(help: "A name for the token (who or what uses it).") var name: String
        @Option(help: "viewer (read) or admin (also retry and resend).") var role: String = Role.viewer.rawValue

        func run() throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be \(Role.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--name: letters, digits, - _ . only")
            }
            let token = TokenStore.newToken()
            print("token (shown once; give it to \(name)): \(token)")
            print("add under http.tokens in the node's configuration:")
            print("    - {name: \(name), role: \(role.rawValue), sha256: \(TokenStore.sha256(token))}")
        }
    }
}
