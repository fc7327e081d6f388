import Foundation
import Gluster
import Testing

/// `georep turn` gives scripts the turns georep's own processes take on a gluster host.
@Suite struct TurnCommandTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("georep-turns-\(UUID().uuidString)").path

    func turn(_ arguments: [String]) async -> (status: Int32, output: String) {
        await runCommandOffPool([SettingsTests.binary, "turn", "--lock-directory", directory] + arguments)
    }

    @Test func aScriptsReadWaitsForAChangeAndRunsItsProgramWithoutAShell() async throws {
        // Free: runs at once, with the arguments as they are (a `;` is not a shell's).
        let echoed = await turn(["--host", "vm", "--", "echo", "volume", "info;", "rm", "-rf", "/"])
        #expect(echoed.status == 0 && echoed.output.contains("volume info; rm -rf /"), "\(echoed)")
        #expect(await turn(["--host", "vm", "--", "false"]).status == 1)

        // A change of ours holds the host: the script's read gets no turn and runs nothing.
        let change = try await HostLock(directory: directory).acquire(host: "vm", exclusive: true, timeout: 1)
        let marker = directory + "/ran"
        let refused = await turn(["--host", "vm", "--timeout", "1", "--", "touch", marker])
        #expect(refused.status == 75 && refused.output.contains("was not asked"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        // Another host is not held up.
        #expect(await turn(["--host", "p2", "--timeout", "1", "--", "true"]).status == 0)
        change.release()
        #expect(await turn(["--host", "vm", "--timeout", "1", "--", "touch", marker]).status == 0)
        #expect(FileManager.default.fileExists(atPath: marker))

        // A script's change keeps georep's reads out while it runs.
        let script = Task.detached { [self] in await turn(["--host", "vm", "--change", "--", "sleep", "1.5"]) }
        var keptOut = false
        for _ in 0..<100 where !keptOut {
            do {
                try await HostLock(directory: directory).acquire(host: "vm", exclusive: false, timeout: 0.05).release()
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                keptOut = true
            }
        }
        #expect(keptOut, "a read got in while the script's change ran")
        #expect(await script.value.status == 0)
        try await HostLock(directory: directory).acquire(host: "vm", exclusive: false, timeout: 1).release()
    }
}
