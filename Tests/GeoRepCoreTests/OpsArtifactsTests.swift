import Foundation
import Testing

/// The deployment artifacts (systemd units, Kubernetes manifests, KEDA, Prometheus rules, the
/// RabbitMQ definitions) parse and agree with the code: `ops/check-artifacts.py` (PyYAML), which
/// also checks that the metric names, settings and subcommands they use exist.
@Suite struct OpsArtifactsTests {
    @Test func theDeploymentArtifactsAreValidAndConsistent() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SchemaConformanceTests.repository.appendingPathComponent("ops/check-artifacts.py").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("0 problems"), "\(output)")
    }
}
