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
            let consumer = AMQPConnection(configuration: configuration, name: publishes ? "\(name) consume" : name, logger: logger)
            let publisher = publishes ? AMQPConnection(configuration: configuration, name: "\(name) publish", logger: logger) : consumer
            do {
                if publishes { try await publisher.open() }
                try await consumer.open()
                try await consumer.declare(topology)
                backoff.reset()
                onConnection(true)
                try await body(consumer, publisher)
            } catch {
                if !shouldStop() { logger.warning("\(name) interrupted; reconnecting", metadata: ["error": "\(error)"]) }
            }
            onConnection(false)
            await consumer.close()
            if publishes { await publisher.close() }
            if shouldStop() { break }
            do { try await Task.sleep(for: .seconds(backoff.next())) } catch { break }
        }
    }
}
