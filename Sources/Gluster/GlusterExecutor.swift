import Foundation
import GeoRepCore
import Logging

/// Runs gluster for a cluster: on its first reachable host, locally or over ssh, and turns the
/// answer into typed results or ``GlusterError``s.
public struct GlusterExecutor: Sendable {
    public var inventory: Inventory
    /// Seconds one gluster command may take (status of a large cluster takes a while).
    public var commandTimeout: Double
    /// The gluster program (a path or a name looked up in PATH).
    public var glusterProgram: String
    /// How often a command that found glusterd's cluster lock held is tried again (with backoff).
    public var lockRetries = 6
    var runner = ProcessRunner()
    var logger: Logger
    /// Told of every gluster process that ran (for latency metrics).
    public var observer: (@Sendable (GlusterCall) -> Void)?
    /// Shared by every copy of this executor: reads of a cluster overlap, changes run alone.
    let gate = ClusterGate()

    public init(inventory: Inventory, commandTimeout: Double = 120, glusterProgram: String = "gluster", logger: Logger) {
        self.inventory = inventory
        self.commandTimeout = commandTimeout
        self.glusterProgram = glusterProgram
        self.logger = logger
    }

    // MARK: Typed operations

    public func volumes(cluster: String, volume: String? = nil) async throws(GlusterError) -> [VolumeInfo] {
        let args = try validated { () throws(ValidationError) in try GlusterArguments.volumeInfo(volume) }
        return try await runParsed(cluster: cluster, args) { (out) throws(GlusterError) in
            try GlusterParser.volumes(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    public func pool(cluster: String) async throws(GlusterError) -> [PoolPeer] {
        try await runParsed(cluster: cluster, GlusterArguments.poolList()) { (out) throws(GlusterError) in
            try GlusterParser.pool(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    /// `status` without `detail`: the same sessions and bricks, without the counters.
    public func status(cluster: String, volume: String? = nil, session ref: SessionRef? = nil,
                       volumeIDs: [String: String] = [:]) async throws(GlusterError) -> [ObservedSession] {
        let args = try validated { () throws(ValidationError) in try GlusterArguments.status(volume: volume, session: ref, detail: false) }
        var sessions = try await runParsed(cluster: cluster, args) { (out) throws(GlusterError) in
            try GlusterParser.statusSessions(out.stdout, volumeIDs: volumeIDs, exitCode: out.exitCode, host: out.host)
        }
        if let ref { sessions = sessions.filter { $0.matches(ref) } }
        return sessions
    }

    /// Every session gluster reports for the cluster, one volume, or one session.
    public func statusDetail(cluster: String, volume: String? = nil, session ref: SessionRef? = nil,
                             volumeIDs: [String: String] = [:]) async throws(GlusterError) -> [ObservedSession] {
        let args = try validated { () throws(ValidationError) in try GlusterArguments.statusDetail(volume: volume, session: ref) }
        var sessions = try await runParsed(cluster: cluster, args) { (out) throws(GlusterError) in
            try GlusterParser.statusSessions(out.stdout, volumeIDs: volumeIDs, exitCode: out.exitCode, host: out.host)
        }
        if let ref { sessions = sessions.filter { $0.matches(ref) } }
        return sessions
    }

    public func config(_ ref: SessionRef) async throws(GlusterError) -> [String: String] {
        let args = try validated { () throws(ValidationError) in try GlusterArguments.config(ref) }
        return try await runParsed(cluster: ref.cluster, args) { (out) throws(GlusterError) in
            try GlusterParser.config(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    /// One option's value. gluster answers `config KEY` with an empty `<config/>` in XML mode,
    /// so the whole config is read and the key looked up (dashes and underscores alike).
    public func configValue(_ ref: SessionRef, key: String) async throws(GlusterError) -> String? {
        do { try Validate.configKey(key, field: "key") } catch { throw .invalidInput(error) }
        return try await config(ref)[key.replacingOccurrences(of: "-", with: "_")]
    }

    /// Runs an action's argument vector (from ``GlusterArguments``) and returns gluster's message.
    /// `commandID` travels to a local gluster as `GEOREP_COMMAND_ID` in its environment, for
    /// audit (the stand-in gluster journals it); gluster itself ignores it.
    @discardableResult
    public func action(cluster: String, _ arguments: [String], commandID: UUID? = nil) async throws(GlusterError) -> String {
        let environment = commandID.map { ["GEOREP_COMMAND_ID": $0.uuidString.lowercased()] } ?? [:]
        return try await runParsed(cluster: cluster, arguments, environment: environment) { (out) throws(GlusterError) in
            try GlusterParser.action(out.stdout, stderr: out.stderr, exitCode: out.exitCode, host: out.host)
        }
    }

    // MARK: Running

    struct Output {
        var stdout: String
        var stderr: String
        var exitCode: Int32
        var host: String
    }

    /// Runs and parses, trying again while glusterd reports another transaction holding the
    /// cluster lock (the command did not run, so trying again is safe).
    func runParsed<T>(cluster: String, _ arguments: [String], environment: [String: String] = [:],
                      _ parse: (Output) throws(GlusterError) -> T) async throws(GlusterError) -> T {
        var backoff = Backoff(initial: 0.3, maximum: 4)
        var attempt = 0
        while true {
            do {
                return try parse(try await run(cluster: cluster, arguments, environment: environment))
            } catch .sessionNotFound(let message) where message.hasPrefix(CLIOutput.genericStatusFailure) && attempt < 2 {
                // Ambiguous: a missing session, or a status that lost a race for the lock. Ask again.
                attempt += 1
                try? await Task.sleep(for: .milliseconds(400 * attempt))
            } catch .transactionInProgress where attempt < lockRetries {
                attempt += 1
                logger.debug("gluster cluster lock held; retrying", metadata: ["cluster": "\(cluster)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: .seconds(backoff.next()))
            }
        }
    }

    /// Tries the cluster's hosts in inventory order; moves on only when a host cannot be
    /// reached (the command did not run there), never after gluster itself answered.
    func run(cluster: String, _ arguments: [String], environment: [String: String] = [:]) async throws(GlusterError) -> Output {
        guard let entry = inventory.cluster(cluster), !entry.hosts.isEmpty else { throw .unknownCluster(cluster) }
        let change = GlusterCall.changes(arguments)
        await gate.enter(cluster, change: change)
        defer { gate.leave(cluster, change: change) }
        var lastError = GlusterError.unknownCluster(cluster)
        for host in entry.hosts {
            do {
                return try await run(on: host, arguments, environment: environment)
            } catch where error.tryAnotherHost {
                logger.warning("gluster host unavailable, trying the next one", metadata: [
                    "cluster": "\(cluster)", "host": "\(host.name)", "error": "\(error)",
                ])
                lastError = error
            }
        }
        throw lastError
    }

    func run(on host: Inventory.Host, _ arguments: [String], environment: [String: String] = [:]) async throws(GlusterError) -> Output {
        let argv: [String]
        switch host.transport {
        case .local: argv = [host.gluster ?? glusterProgram] + arguments
        case .ssh: argv = SSHCommand.argv(host: host.name, settings: inventory.ssh ?? SSHSettings(), remote: [host.gluster ?? glusterProgram] + arguments)
        }
        let started = ContinuousClock.now
        let out = try await runner.run(argv, timeout: commandTimeout, environment: host.environmentVariables.merging(environment) { $1 })
        let elapsed = ContinuousClock.now - started
        logger.debug("gluster ran", metadata: [
            "host": "\(host.name)", "transport": "\(host.transport.rawValue)",
            "args": "\(arguments.dropFirst(GlusterArguments.common.count).joined(separator: " "))",
            "exit": "\(out.exitCode)", "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        observer?(GlusterCall(operation: GlusterCall.operation(of: arguments), host: host.name, transport: host.transport.rawValue,
                              seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                              exitCode: out.exitCode))
        if out.timedOut { throw .timeout(host: host.name, seconds: commandTimeout) }
        // ssh's own failures (connection refused, host key mismatch, auth) exit 255.
        if host.transport == .ssh && out.exitCode == 255 {
            throw .hostUnreachable(host: host.name, message: out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if out.stdout.isEmpty && out.exitCode != 0 {
            let failure = CLIOutput.plainTextFailure(stdout: "", stderr: out.stderr, exitCode: out.exitCode, host: host.name)
            if case .hostUnreachable = failure { throw failure }
        }
        return Output(stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode, host: host.name)
    }

    private func validated(_ build: () throws(ValidationError) -> [String]) throws(GlusterError) -> [String] {
        do { return try build() } catch { throw .invalidInput(error) }
    }
}
