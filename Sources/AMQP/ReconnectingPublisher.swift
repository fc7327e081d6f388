import GeoRepCore
import Logging

/// A publish-only connection that opens itself on first use and again after it was lost:
/// for processes that publish now and then (the HTTP API, the webhook receiver) rather than in a
/// supervised loop. A publish that meets a dead connection is tried once more on a new one.
public actor ReconnectingPublisher {
    public let configuration: AMQPConfiguration
    public let topology: GeoRepTopology
    public let source: String
    let name: String
    let logger: Logger
    private var connection: AMQPConnection?

    public init(configuration: AMQPConfiguration, topology: GeoRepTopology, source: String, name: String, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.source = source
        self.name = name
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
        await connection?.close()
        connection = nil
    }

    private func bus() async throws -> GeoRepBus {
        if let connection, connection.isOpen {
            return GeoRepBus(connection: connection, source: source, topology: topology)
        }
        await connection?.close()
        let fresh = AMQPConnection(configuration: configuration, name: name, logger: logger)
        connection = fresh
        try await fresh.open()
        try await fresh.declare(topology.declarations)
        return GeoRepBus(connection: fresh, source: source, topology: topology)
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
