import Foundation
import Testing

/// One recorded gluster answer from `../shared/gluster-10.3/` (or `GEOREP_GLUSTER_FIXTURES`):
/// stdout+stderr, with the recorder's trailing `rc=N` line split off as the exit status.
struct RecordedOutput {
    var text: String
    var exitCode: Int32

    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["GEOREP_GLUSTER_FIXTURES"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/gluster-10.3")
    }

    static func load(_ name: String) throws -> RecordedOutput {
        let raw = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        var lines = raw.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let last = lines.last, last.hasPrefix("rc="), let rc = Int32(last.dropFirst(3)) else {
            throw RecordedError(name: name)
        }
        return RecordedOutput(text: lines.dropLast().joined(separator: "\n"), exitCode: rc)
    }

    static var allFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".xml") }.sorted()
    }
}

struct RecordedError: Error { var name: String }
