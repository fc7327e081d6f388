import Foundation
import Testing

/// The deployment artifacts (systemd units, Kubernetes manifests, KEDA, Prometheus rules, the
/// RabbitMQ definitions) parse and agree with the code: `ops/check-artifacts.py` (PyYAML), which
/// also checks that the metric names, settings and subcommands they use exist.
@Suite struct OpsArtifactsTests {
    @Test func theDeploymentArtifactsAreValidAndConsistent() async throws {
        let (status, output) = await runOffPool(["python3", SchemaConformanceTests.repository.appendingPathComponent("ops/check-artifacts.py").path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("0 problems"), "\(output)")
    }
}
