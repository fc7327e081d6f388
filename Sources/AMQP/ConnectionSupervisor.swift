import GeoRepCore
import Logging

/// Keeps a service connected: opens a consumer and a publisher connection, declares the
/// topology, runs the service's body, and when the body ends with an error (a lost broker,
/// a restart) closes both and starts again after a capped, jittered backoff. Unacked
/// deliveries of the lost connection are redelivered by the broker, so nothing is lost.
public struct ConnectionSupervisor: Sendable {
    public let configuration: AMQPConfiguration
    /// Names the process in connection names, e.g. `georep worker vm/1234`.
    public let name: String
    public let topology: Topology
    let logger: Logger
    /// Told `true` when a round's connections are up, `false` when they are lost (for readiness
    /// and reconnect metrics).
    let onConnection: @Sendable (Bool) -> Void
    /// False for a reader that never publishes: one connection, handed to the body as both.
    let publishes: Bool

    public init(configuration: AMQPConfiguration, name: String, topology: Topology, publishes: Bool = true, logger: Logger,
                onConnection: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.configuration = configuration
        self.name = name
        self.topology = topology
        self.publishes = publishes
        self.logger = logger
        self.onConnection = onConnection
    }

    /// Runs until `shouldStop` says so after a round (graceful shutdown, cancellation).
    public func run(shouldStop: @Sendable () -> Bool,
                    _ body: @Sendable (_ consumer: AMQPConnection, _ publisher: AMQPConnection) async throws -> Void) async {
        var backoff = Backoff()
        while !shouldStop() {
            var opened: [AMQPConnection] = []
            do {
                // The publisher first, undeclared: the consumer's declaration covers both.
                let publisher = publishes ? try await open(role: "publish", declaring: false) : nil
                if let publisher { opened.append(publisher) }
                let consumer = try await open(role: publishes ? "consume" : nil)
                opened.append(consumer)
                backoff.reset()
                onConnection(true)
                try await body(consumer, publisher ?? consumer)
            } catch {
                if !shouldStop() { logger.warning("\(name) interrupted; reconnecting", metadata: ["error": "\(error)"]) }
            }
            onConnection(false)
            for connection in opened { await connection.close() }
            if shouldStop() { break }
            do { try await Task.sleep(for: .seconds(backoff.next())) } catch { break }
        }
    }

    /// One connection of this process, open and (unless `declaring` is false) with the topology
    /// declared: how every round starts, and what ``ReconnectingPublisher`` opens on demand.
    /// `role` is added to the connection's name (`georep worker vm/1234 publish`). A connection
    /// that fails half-way is closed before the error is thrown.
    public func open(role: String? = nil, declaring: Bool = true) async throws(AMQPError) -> AMQPConnection {
        let connection = AMQPConnection(configuration: configuration, name: role.map { "\(name) \($0)" } ?? name, logger: logger)
        do {
            try await connection.open()
            if declaring { try await connection.declare(topology) }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }
}
