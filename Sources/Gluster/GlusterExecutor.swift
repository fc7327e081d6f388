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
    /// Shared by every copy of this executor: which clusters' glusterd does not answer.
    public let health = ClusterHealth()
    /// Which hosts to ask first (a host that did not answer lately goes last).
    public let hostOrder = HostOrder()
    /// Seconds a read may run before the executor looks for a wedged glusterd on its host.
    public var suspectAfter: Double = 20
    /// Seconds the probe of a wedged glusterd may take, and between two probes.
    public var probeTimeout: Double = 10
    public var probeInterval: Double = 10
    /// Where the processes of this machine take turns on each gluster host (``HostLock``); nil: no turns.
    public var lockDirectory: String? = HostLock.defaultDirectory

    public init(inventory: Inventory, commandTimeout: Double = 120, glusterProgram: String = "gluster", logger: Logger) {
        self.inventory = inventory
        self.commandTimeout = commandTimeout
        self.glusterProgram = glusterProgram
        self.logger = logger
    }

    // MARK: Typed operations

    public func volumes(cluster: String, volume: String? = nil) async throws(GlusterError) -> [VolumeInfo] {
        try await runParsed(cluster: cluster, .volumeInfo(volume: volume)) { (out) throws(GlusterError) in
            try GlusterParser.volumes(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    public func pool(cluster: String) async throws(GlusterError) -> [PoolPeer] {
        try await runParsed(cluster: cluster, .poolList) { (out) throws(GlusterError) in
            try GlusterParser.pool(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    /// `status` without `detail`: the same sessions and bricks, without the counters.
    public func status(cluster: String, volume: String? = nil, session ref: SessionRef? = nil,
                       volumeIDs: [String: String] = [:]) async throws(GlusterError) -> [ObservedSession] {
        try await sessions(cluster: cluster, .status(volume: volume, session: ref, detail: false), ref, volumeIDs)
    }

    /// Every session gluster reports for the cluster, one volume, or one session.
    public func statusDetail(cluster: String, volume: String? = nil, session ref: SessionRef? = nil,
                             volumeIDs: [String: String] = [:]) async throws(GlusterError) -> [ObservedSession] {
        try await sessions(cluster: cluster, .status(volume: volume, session: ref, detail: true), ref, volumeIDs)
    }

    private func sessions(cluster: String, _ operation: GlusterOperation, _ ref: SessionRef?,
                          _ volumeIDs: [String: String]) async throws(GlusterError) -> [ObservedSession] {
        let sessions = try await runParsed(cluster: cluster, operation) { (out) throws(GlusterError) in
            try GlusterParser.statusSessions(out.stdout, volumeIDs: volumeIDs, exitCode: out.exitCode, host: out.host)
        }
        guard let ref else { return sessions }
        return sessions.filter { $0.matches(ref) }
    }

    public func config(_ ref: SessionRef) async throws(GlusterError) -> [String: String] {
        try await runParsed(cluster: ref.cluster, .config(ref)) { (out) throws(GlusterError) in
            try GlusterParser.config(out.stdout, exitCode: out.exitCode, host: out.host)
        }
    }

    /// One option's value. gluster answers `config KEY` with an empty `<config/>` in XML mode,
    /// so the whole config is read and the key looked up (dashes and underscores alike).
    public func configValue(_ ref: SessionRef, key: String) async throws(GlusterError) -> String? {
        do { try Validate.configKey(key, field: "key") } catch { throw .invalidInput(error) }
        return try await config(ref)[key.replacingOccurrences(of: "-", with: "_")]
    }

    /// Runs a change (create, start, `config` set, …) on `cluster` and returns gluster's message,
    /// or the operation's own words when gluster says nothing. `commandID` travels to a local
    /// gluster as `GEOREP_COMMAND_ID` in its environment, for audit (the stand-in gluster
    /// journals it); gluster itself ignores it.
    @discardableResult
    public func perform(_ operation: GlusterOperation, cluster: String, commandID: UUID? = nil) async throws(GlusterError) -> String {
        let environment = commandID.map { ["GEOREP_COMMAND_ID": $0.uuidString.lowercased()] } ?? [:]
        let message = try await runParsed(cluster: cluster, operation, environment: environment) { (out) throws(GlusterError) in
            try GlusterParser.action(out.stdout, stderr: out.stderr, exitCode: out.exitCode, host: out.host)
        }
        return message.isEmpty ? operation.doneMessage : message
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
    func runParsed<T>(cluster: String, _ operation: GlusterOperation, environment: [String: String] = [:],
                      _ parse: (Output) throws(GlusterError) -> T) async throws(GlusterError) -> T {
        var backoff = Backoff(initial: 0.3, maximum: 4)
        var attempt = 0
        while true {
            do {
                return try parse(try await run(cluster: cluster, operation, environment: environment))
            } catch .sessionNotFound(let message) where message.hasPrefix(CLIOutput.genericStatusFailure) && attempt < 2 {
                // Ambiguous: a missing session, or a status that lost a race for the lock. Ask again.
                attempt += 1
                await pause(.milliseconds(400 * attempt))
            } catch .transactionInProgress where attempt < lockRetries {
                attempt += 1
                logger.debug("gluster cluster lock held; retrying", metadata: ["cluster": "\(cluster)", "attempt": "\(attempt)"])
                await pause(.seconds(backoff.next()))
            }
        }
    }

    /// Sleeps between two tries; a cancelled task goes on to its next try at once, which fails
    /// or succeeds on its own.
    private func pause(_ duration: Duration) async {
        do { try await Task.sleep(for: duration) } catch { logger.debug("retry pause cancelled", metadata: ["cluster": "-"]) }
    }

    /// Tries the cluster's hosts in inventory order; moves on only when a host cannot be
    /// reached (the command did not run there), never after gluster itself answered. A change
    /// that got no answer (a timeout, a wedged glusterd) may still be running there, so it is not
    /// sent to the next host; a read is.
    ///
    /// A cluster whose glusterd is known to be wedged (``ClusterHealth``) is not asked: the call
    /// fails at once, and a short probe in the background tells when it answers again.
    func run(cluster: String, _ operation: GlusterOperation, environment: [String: String] = [:]) async throws(GlusterError) -> Output {
        guard let entry = inventory.cluster(cluster), !entry.hosts.isEmpty else { throw .unknownCluster(cluster) }
        let arguments: [String]
        do { arguments = try operation.arguments() } catch { throw .invalidInput(error) }
        let change = operation.changesCluster
        guard await gate.enter(cluster, change: change) else { throw .cancelled }
        defer { gate.leave(cluster, change: change) }
        try checkAnswering(cluster, hosts: entry.hosts)
        var lastError = GlusterError.unknownCluster(cluster)
        var unanswered: (host: String, stuck: [StuckProcess])?
        for host in hostOrder.order(cluster, entry.hosts, name: \.name) {
            // A change holds its host's lock itself, so that it can keep it when its outcome is
            // unknown (see below); a read takes it inside `run(on:)`.
            let held = change ? try await HostLock(directory: lockDirectory).acquire(host: host.name, exclusive: true, timeout: commandTimeout) : nil
            do {
                let out = try await run(on: host, operation, arguments, environment: environment,
                                        timeout: commandTimeout, watch: true, locked: change)
                held?.release()
                health.markAnswered(cluster, host: host.name)
                hostOrder.markAnswered(cluster, host: host.name)
                return out
            } catch where error.tryAnotherHost {
                if error.hostDidNotAnswer { hostOrder.markUnanswered(cluster, host: host.name) }
                let unknownOutcome = switch error {
                case .timeout, .managementPlaneWedged: true
                default: false
                }
                if change && unknownOutcome {
                    let stuck = await stuckProcesses(on: host)
                    let cause = StuckProcessScan.cause(stuck, host: host.name, seconds: commandTimeout)
                    health.markWedged(cluster, host: host.name, cause: cause, stuck: stuck)
                    // glusterd's transaction goes on without our CLI (a create mounting volumes
                    // through it): nothing of ours on this machine may call it meanwhile, or that
                    // call is what wedges it. The lock stays held until a probe finds it free.
                    if let held { health.park(held, cluster: cluster) }
                    logger.error("gluster management plane wedged during a change; its outcome is unknown", metadata: [
                        "cluster": "\(cluster)", "host": "\(host.name)", "operation": "\(operation.name)", "cause": "\(cause)",
                    ])
                    throw .managementPlaneWedged(cluster: cluster, host: host.name, cause: cause)
                }
                held?.release()
                logger.warning("gluster host unavailable, trying the next one", metadata: [
                    "cluster": "\(cluster)", "host": "\(host.name)", "error": "\(error)",
                ])
                switch error {
                case .timeout, .managementPlaneWedged:
                    if unanswered == nil { unanswered = (host.name, await stuckProcesses(on: host)) }
                default: break
                }
                lastError = error
            } catch {
                held?.release()
                throw error
            }
        }
        if let unanswered {
            // Every host failed and one of them did not answer at all: its glusterd is wedged.
            let cause = StuckProcessScan.cause(unanswered.stuck, host: unanswered.host, seconds: commandTimeout)
            health.markWedged(cluster, host: unanswered.host, cause: cause, stuck: unanswered.stuck)
            logger.error("gluster management plane wedged", metadata: ["cluster": "\(cluster)", "host": "\(unanswered.host)", "cause": "\(cause)"])
            throw .managementPlaneWedged(cluster: cluster, host: unanswered.host, cause: cause)
        }
        throw lastError
    }

    /// Fails at once while `cluster` is known to be wedged. The first caller after each probe
    /// interval also starts a probe (`volume info`, short timeout) in the background, which ends
    /// the wedge when glusterd answers; nobody waits for it, so a wedged cluster holds up no lane.
    func checkAnswering(_ cluster: String, hosts: [Inventory.Host]) throws(GlusterError) {
        guard let wedge = health.wedge(cluster) else { return }
        if health.claimProbe(cluster, every: .seconds(probeInterval)) {
            let executor = self
            Task { await executor.probe(cluster, hosts: hosts) }
        }
        throw .managementPlaneWedged(cluster: cluster, host: wedge.host, cause: wedge.cause)
    }

    /// Asks each host whether glusterd answers again — but only once no helper of glusterd
    /// (gverify.sh, its mount clients, a hook) runs there: a CLI call that arrives while a mount
    /// waits for its volfile is how glusterd gets wedged in the first place.
    func probe(_ cluster: String, hosts: [Inventory.Host]) async {
        let probe = GlusterOperation.volumeInfo(volume: nil)
        let parked = health.parkedLock(cluster)
        for host in hosts {
            let helpers = await stuckProcesses(on: host, minimumSeconds: 0)
            if !helpers.isEmpty {
                logger.info("glusterd's helpers still run; not asking it yet", metadata: [
                    "cluster": "\(cluster)", "host": "\(host.name)", "helpers": "\(helpers.map { "\($0.kind.rawValue) \($0.pid)" })",
                ])
                continue
            }
            do {
                _ = try await run(on: host, probe, try probe.arguments(), timeout: probeTimeout, watch: false, locked: parked)
                health.markAnswered(cluster, host: host.name)
                logger.notice("gluster management plane answers again", metadata: ["cluster": "\(cluster)", "host": "\(host.name)"])
                return
            } catch {
                logger.info("probe of a wedged glusterd unanswered", metadata: ["cluster": "\(cluster)", "host": "\(host.name)", "error": "\(error)"])
            }
        }
        health.probeFailed(cluster)
    }

    /// `remote` as run on `host`: as it is on this machine, or through ssh.
    func argv(on host: Inventory.Host, _ remote: [String]) -> [String] {
        switch host.transport {
        case .local: remote
        case .ssh: SSHCommand.argv(host: host.name, settings: inventory.ssh ?? SSHSettings(), remote: remote)
        }
    }

    /// glusterd's helpers that have run for long on `host` (empty when `ps` cannot tell).
    func stuckProcesses(on host: Inventory.Host, minimumSeconds: Int? = nil) async -> [StuckProcess] {
        let argv = self.argv(on: host, StuckProcessScan.arguments)
        do {
            let out = try await runner.run(argv, timeout: 15)
            return StuckProcessScan.parse(out.stdout, minimumSeconds: minimumSeconds ?? Int(min(suspectAfter, commandTimeout)))
        } catch {
            logger.warning("cannot read the process table of a gluster host", metadata: ["host": "\(host.name)", "error": "\(error)"])
            return []
        }
    }

    /// Runs one operation on one host. A call still running after ``suspectAfter`` seconds makes
    /// the executor look at the host's processes; if glusterd is waiting for a helper that has
    /// run that long, the call is ended there instead of queueing behind it for the whole
    /// timeout. Ending the CLI does not end glusterd's transaction: a change ended so has an
    /// unknown outcome, which its caller reports (and a redelivery's policy handles).
    func run(on host: Inventory.Host, _ operation: GlusterOperation, _ arguments: [String], environment: [String: String] = [:],
             timeout: Double, watch: Bool, locked: Bool = false) async throws(GlusterError) -> Output {
        let argv = self.argv(on: host, [host.gluster ?? glusterProgram] + arguments)
        // `locked`: the caller holds the host's lock already (a change, or a probe of a wedge a
        // change left).
        let held = locked ? nil : try await HostLock(directory: lockDirectory).acquire(host: host.name, exclusive: operation.changesCluster,
                                                                                          timeout: timeout)
        defer { held?.release() }
        let abort = AbortSignal()
        let suspect = suspectAfter
        let executor = self
        // Looks after `suspect` seconds, then again every quarter of that: a helper that glusterd
        // started after the call may cross the line later.
        let watchdog: Task<[StuckProcess], Never>? = watch && suspect < timeout ? Task {
            do { try await Task.sleep(for: .seconds(suspect)) } catch { return [] }
            while !Task.isCancelled {
                let found = await executor.stuckProcesses(on: host)
                if !found.isEmpty {
                    abort.fire()
                    return found
                }
                do { try await Task.sleep(for: .seconds(max(1, suspect / 4))) } catch { return [] }
            }
            return []
        } : nil
        defer { watchdog?.cancel() }
        let started = ContinuousClock.now
        let out = try await runner.run(argv, timeout: timeout, environment: host.environmentVariables.merging(environment) { $1 },
                                       abort: abort)
        let elapsed = ContinuousClock.now - started
        logger.debug("gluster ran", metadata: [
            "host": "\(host.name)", "transport": "\(host.transport.rawValue)", "operation": "\(operation.name)",
            "exit": "\(out.exitCode)", "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        observer?(GlusterCall(operation: operation.name, host: host.name, transport: host.transport.rawValue,
                              seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                              exitCode: out.exitCode))
        if out.aborted {
            let found = await watchdog?.value ?? []
            throw .managementPlaneWedged(cluster: "", host: host.name, cause: StuckProcessScan.cause(found, host: host.name, seconds: suspect))
        }
        if out.timedOut { throw .timeout(host: host.name, seconds: timeout) }
        // ssh's own failures (connection refused, host key mismatch, auth) exit 255.
        if host.transport == .ssh && out.exitCode == 255 {
            throw .hostUnreachable(host: host.name, message: out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // glusterd down on a host ssh still reaches: the CLI prints "Connection failed. Please
        // check if gluster daemon is operational." on stdout and exits 1, having done nothing, so
        // the next host is asked. (Judged after the loop over hosts, it failed the call without
        // asking p2 when p1's glusterd was killed on the multi-node lab.)
        if out.exitCode != 0 && !out.stdout.hasPrefix("<?xml") {
            let failure = CLIOutput.plainTextFailure(stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode, host: host.name)
            if case .hostUnreachable = failure { throw failure }
        }
        return Output(stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode, host: host.name)
    }
}

extension GlusterExecutor {
    /// Touches `volume`'s root on the first host of `cluster` that answers (``VolumeRootTouch``),
    /// so that every brick records a change after a checkpoint. Holds a shared turn on the host:
    /// the mount asks glusterd for a volfile, which must not queue behind a change.
    public func touchVolumeRoot(cluster: String, volume: String) async throws(GlusterError) {
        guard let entry = inventory.cluster(cluster), !entry.hosts.isEmpty else { throw .unknownCluster(cluster) }
        let touch: VolumeRootTouch
        do { touch = try VolumeRootTouch(volume: volume) } catch { throw .invalidInput(error) }
        try checkAnswering(cluster, hosts: entry.hosts)
        var lastError = GlusterError.unknownCluster(cluster)
        for host in hostOrder.order(cluster, entry.hosts, name: \.name) {
            let held = try await HostLock(directory: lockDirectory).acquire(host: host.name, exclusive: false, timeout: commandTimeout)
            defer { held.release() }
            do {
                try await touchRoot(touch, on: host)
                return
            } catch where error.tryAnotherHost {
                if error.hostDidNotAnswer { hostOrder.markUnanswered(cluster, host: host.name) }
                lastError = error
            }
        }
        throw lastError
    }

    private func touchRoot(_ touch: VolumeRootTouch, on host: Inventory.Host) async throws(GlusterError) {
        func step(_ remote: [String], timeout: Double = 30) async throws(GlusterError) -> Bool {
            let argv = self.argv(on: host, remote)
            let out = try await runner.run(argv, timeout: timeout)
            if out.timedOut { throw .timeout(host: host.name, seconds: timeout) }
            if host.transport == .ssh && out.exitCode == 255 {
                throw .hostUnreachable(host: host.name, message: out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return out.exitCode == 0
        }
        guard try await step(touch.makeMountPoint) else { throw .touchFailed(host: host.name, volume: touch.volume, step: "mkdir") }
        var failure: GlusterError?
        do {
            if try await step(touch.mount, timeout: commandTimeout), try await step(touch.checkMounted) {
                if !(try await step(touch.touch)) { failure = .touchFailed(host: host.name, volume: touch.volume, step: "touch") }
            } else {
                failure = .touchFailed(host: host.name, volume: touch.volume, step: "mount")
            }
        } catch {
            failure = error
        }
        // Unmounted on every path once a mount was tried (a touch that timed out too): a FUSE client
        // left behind is one more client of glusterd, and for a volume glusterd does not serve one
        // that asks for its volfile for ever (seen 2026-11-30: two such clients were left by a chaos
        // run on the stand-in, and the lab's gsyncd stalled afterwards).
        var unmounted = false
        do { unmounted = try await step(touch.unmount) } catch {
            logger.warning("could not unmount the touch's FUSE client", metadata: ["host": "\(host.name)", "volume": "\(touch.volume)", "error": "\(error)"])
        }
        do { _ = try await step(touch.removeMountPoint) } catch {
            logger.debug("could not remove the touch's mount point", metadata: ["host": "\(host.name)", "error": "\(error)"])
        }
        if let failure { throw failure }
        guard unmounted else { throw .touchFailed(host: host.name, volume: touch.volume, step: "umount") }
        logger.debug("volume root touched", metadata: ["host": "\(host.name)", "volume": "\(touch.volume)"])
    }
}
