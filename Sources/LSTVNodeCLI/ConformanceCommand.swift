import ArgumentParser
import DICOM

struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Print the SOP classes and transfer syntaxes the listener accepts (Markdown, the README's table).")

    func run() throws {
        print(Conformance.markdown(), terminator: "")
    }
}
