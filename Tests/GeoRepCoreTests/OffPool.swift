import Foundation

/// Runs `argv` (looked up in PATH) to its end and returns its status and output (stdout, and
/// stderr when `stderr`), waited for on a thread of its own: a test that waits on one of the two
/// pool threads of a 2-core machine delays every timer of the unit tests beside it (BatcherTests
/// and GateTests missed theirs in a full run).
func runOffPool(_ argv: [String], stderr: Bool = true) async -> (status: Int32, output: String) {
    await withCheckedContinuation { done in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = argv
            let pipe = Pipe()
            process.standardOutput = pipe
            if stderr { process.standardError = pipe }
            do { try process.run() } catch {
                done.resume(returning: (-1, "\(error)"))
                return
            }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            done.resume(returning: (process.terminationStatus, output))
        }
    }
}
