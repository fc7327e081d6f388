import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Testing

/// glustereventsd → the worker's webhook → an immediate refresh: a session paused and resumed
/// with the gluster CLI, outside the service, shows up as status events within seconds although
/// the worker's monitor would not look for minutes.
extension Integration {
@Suite(.serialized) struct WebhookTests {
    @Test(.timeLimit(.minutes(6)))
    func glustereventsdWebhooksTriggerARefreshOfTheSessionTheyName() async throws {
        let env = try TestEnvironment.load()
        let logger = TestEnvironment.logger
        let topology = GeoRepTopology(shards: 2, prefix: "h\(UUID().uuidString.prefix(8).lowercased())")
        let token = "hook-\(UUID().uuidString)"
        let port = try freePort()
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "svol3")
        let gluster = GlusterExecutor(inventory: try Inventory.load(path: env.inventoryPath), logger: logger)
        func cli(_ operation: GlusterOperation) async throws { try await gluster.perform(operation, cluster: "lab") }

        // A clean slate, then a running session made with the CLI.
        try? await cli(.lifecycle(.stop, ref, force: true))
        try? await cli(.delete(ref, resetSyncTime: true))
        try await cli(.create(ref, CommandOptions(force: true)))
        try await cli(.lifecycle(.start, ref, force: false))

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep webhook tests", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: topology, watchEvents: true, logger: logger)
        let worker = try spawnGeorep(["worker"], environment: [
            "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": "2", "GEOREP_MONITOR_INTERVAL": "600",
            "GEOREP_HTTP": "127.0.0.1:\(port)", "GEOREP_WEBHOOK_TOKENS": "other-token, \(token)", "GEOREP_HEARTBEAT_INTERVAL": "0.5",
        ])
        let url = "http://127.0.0.1:\(port)/webhooks/glusterfs/lab"
        var failure: Error?
        do {
            let ready = try await eventually(30) { try await httpStatus("http://127.0.0.1:\(port)/health/ready") == 200 ? true : nil }
            #expect(ready == true, "the worker never became ready")

            // Authentication: no token, a wrong one → 401; glustereventsd's own test request → 200.
            #expect(try await httpStatus(url, method: "POST", body: "{}") == 401)
            #expect(try await httpStatus(url, method: "POST", body: "{}", token: "wrong") == 401)
            let added = runCommandCapturing([StandinLab.repository.appendingPathComponent("ops/lab-webhook.sh").path, "add", url, token])
            #expect(added.status == 0, "ops/lab-webhook.sh add failed: \(added.output)")
            let test = runCommandCapturing(["gluster-eventsapi", "webhook-test", url, "-t", token])
            #expect(test.output.contains("OK"), "webhook-test: \(test.output)")

            // Paused with the CLI: the PAUSED status arrives through the webhook.
            try await cli(.lifecycle(.pause, ref, force: true))
            let paused = try await waitForStatus(client, ref, .paused, seconds: 60)
            #expect(paused?.observation.cause.commandId != nil, "the PAUSED status did not come from a webhook's refresh")
            try await cli(.lifecycle(.resume, ref, force: true))
            let resumed = try await waitForStatus(client, ref, nil, seconds: 60)
            #expect(resumed != nil && resumed?.to != .paused, "no status change after the resume: \(String(describing: resumed))")
        } catch {
            failure = error
        }
        _ = runCommand([StandinLab.repository.appendingPathComponent("ops/lab-webhook.sh").path, "del", url])
        stop(worker)
        await client.close()
        await admin.remove(topology.topology)
        await admin.close()
        try? await cli(.lifecycle(.stop, ref, force: true))
        try? await cli(.delete(ref, resetSyncTime: true))
        if let failure { throw failure }
    }

    /// The next status change of `ref` (to `status`, or to anything when nil).
    func waitForStatus(_ client: CommandClient, _ ref: SessionRef, _ status: GeoRepStatus?, seconds: Double) async throws -> SessionStatusChanged? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                  case .sessionStatusChanged(let change) = event, change.sessionId == ref.sessionID else { continue }
            if status == nil || change.to == status { return change }
        }
        return nil
    }
}
}

/// A TCP port nobody listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The HTTP status of one request (curl, so that the test's client is not ours).
func httpStatus(_ url: String, method: String = "GET", body: String? = nil, token: String? = nil,
                headers: [String] = []) async throws -> Int {
    var argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "--max-time", "10"]
    if let token { argv += ["-H", "Authorization: Bearer \(token)"] }
    for header in headers { argv += ["-H", header] }
    if let body { argv += ["-H", "Content-Type: application/json", "--data-binary", body] }
    argv.append(url)
    return Int(runCommandCapturing(argv).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}
