import Foundation
import Testing

/// The fault runs of `docs/reliability.md`, smaller: the chaos run (kills and restarts under
/// load; nothing lost, nothing done twice, PostgreSQL equal to gluster) and the fuzz run
/// (hostile input: all dead-lettered with a reason, no crash, no gluster process). The full-size
/// runs are the same commands with their defaults.
extension Integration {
@Suite(.serialized) struct FaultRunTests {
    func bench(_ arguments: [String]) -> (status: Int32, output: String) {
        let binary = StandinLab.repository.appendingPathComponent(".build/debug/georep-bench").path
        return runCommandCapturing([binary] + arguments)
    }

    @Test(.timeLimit(.minutes(10)))
    func chaosLosesNothingAndDoesNothingTwice() throws {
        _ = try TestEnvironment.load()
        let run = bench(["chaos", "--commands", "800", "--sessions", "80", "--clusters", "4", "--workers", "3",
                         "--worker-kills", "6", "--persister-kills", "2", "--rabbit-restarts", "1", "--postgres-restarts", "1",
                         "--time-limit", "480"])
        print(run.output.split(separator: "\n").filter { !$0.hasPrefix("  ") }.joined(separator: "\n"))
        #expect(run.status == 0, "\(run.output.suffix(3000))")
        #expect(run.output.contains("chaos: PASS"))
        #expect(run.output.contains("0 missing, 0 with more than one result event"))
        #expect(run.output.contains("0 of them twice"))
        #expect(run.output.contains(", 0 differences"))
    }

    @Test(.timeLimit(.minutes(10)))
    func hostileInputIsAllRefusedWithAReason() throws {
        _ = try TestEnvironment.load()
        let run = bench(["fuzz", "--messages", "1500", "--requests", "300"])
        print(run.output)
        #expect(run.status == 0, "\(run.output.suffix(3000))")
        #expect(run.output.contains("dead-lettered 1500 of 1500 (100.0%), 0 without a reason"))
        #expect(run.output.contains("gluster processes started: 0; injection canary: absent"))
        #expect(run.output.contains("300 answered 4xx, 0 5xx"))
    }
}
}
