import Foundation
import Testing

/// The README's settings table lists every setting `georep settings` knows, so the one documented
/// list cannot fall behind the code.
extension Integration {
@Suite struct DocumentationTests {
    @Test func theReadmeListsEverySetting() throws {
        let binary = StandinLab.repository.appendingPathComponent(".build/debug/georep").path
        let out = runCommandCapturing([binary, "settings"]).output
        let names = out.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("GEOREP_"), let eq = line.firstIndex(of: "=") else { return nil }
            return String(line[..<eq])
        }
        #expect(names.count >= 15, "georep settings printed \(out)")
        let readme = try String(contentsOf: StandinLab.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for name in names {
            #expect(readme.contains("| `\(name)` |"), "README.md's settings table lacks \(name)")
        }
    }
}
}
