import GeoRepCore
import Logging

/// A publish-only connection that opens itself on first use and again after it was lost:
/// for processes that publish now and then (the HTTP API, the webhook receiver) rather than in a
/// supervised loop. A publish that meets a dead connection is tried once more on a new one.
///
/// Connections are opened by a ``ConnectionSupervisor`` (the same naming, opening and topology
/// declaration as every other connection), but not in its loop, on purpose: a request is waiting
/// here. The loop's backoff would keep a publish after a broker restart failing (503) until
/// its next round although the broker is back, and a publish-only connection only notices
/// that it was lost when it publishes, so a supervised body would have nothing to wait on.
/// Reconnecting when a request needs the connection is this type's whole policy.
public actor ReconnectingPublisher {
    public let configuration: AMQPConfiguration
    public let topology: GeoRepTopology
    public let source: String
    let supervisor: ConnectionSupervisor
    let logger: Logger
    private var connection: AMQPConnection?
    private var opening: Task<AMQPConnection, Error>?

    public init(configuration: AMQPConfiguration, topology: GeoRepTopology, source: String, name: String, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.source = source
        self.supervisor = ConnectionSupervisor(configuration: configuration, name: name, topology: topology.declarations,
                                               publishes: false, logger: logger)
        self.logger = logger
    }

    /// Whether the last attempt left a connection open.
    public var isConnected: Bool { connection?.isOpen ?? false }

    /// Opens the connection (and declares the topology) if it is not open; for readiness checks.
    public func connect() async throws {
        _ = try await bus()
    }

    /// Sends a command to its session's shard, confirmed by the broker.
    public func send(_ command: Command, replyTo: String? = nil) async throws {
        try await withRetry { bus in try await bus.send(command, replyTo: replyTo) }
    }

    /// Sends a command and then announces it with `georep.command.accepted`, confirmed together
    /// (in that order: an announcement is never published for a command that was not).
    public func sendAndAnnounce(_ command: Command) async throws {
        try await withRetry { bus in
            try await bus.connection.publish([try bus.message(command), try bus.message(.commandAccepted(CommandAccepted(command: command)), correlationId: nil)])
        }
    }

    public func close() async {
        // One still being opened is closed once open; its error, if it fails, went to the request
        // that waits for it, so nothing is dropped here.
        if let opening, let pending = try? await opening.value { await pending.close() }
        await connection?.close()
        connection = nil
    }

    private func bus() async throws -> GeoRepBus {
        if let connection, connection.isOpen {
            return GeoRepBus(connection: connection, source: source, topology: topology)
        }
        // Requests that arrive while a connection is being opened wait for that one: each
        // opening its own would leave all but the last unclosed. The task runs on this actor
        // (it is created here), so it alone installs the connection it opened.
        let task: Task<AMQPConnection, Error>
        if let opening {
            task = opening
        } else {
            let stale = connection
            connection = nil
            task = Task {
                defer { self.opening = nil }
                await stale?.close()
                let fresh = try await self.supervisor.open()
                self.connection = fresh
                return fresh
            }
            opening = task
        }
        return GeoRepBus(connection: try await task.value, source: source, topology: topology)
    }

    private func withRetry(_ body: (GeoRepBus) async throws -> Void) async throws {
        do {
            try await body(try await bus())
        } catch let error as AMQPError where error.isConnectionLoss {
            logger.warning("publish failed on a lost connection; reconnecting once", metadata: ["error": "\(error)"])
            await connection?.close()
            connection = nil
            try await body(try await bus())
        }
    }
}
