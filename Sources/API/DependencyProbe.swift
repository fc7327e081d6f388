import AMQP
import Observability
import Postgres
import ServiceLifecycle

/// Keeps the API's readiness current: PostgreSQL answers `SELECT 1` and the publisher is connected
/// (connecting it when it is not), every few seconds.
public struct DependencyProbe: Service {
    let health: ServiceHealth
    let database: PGConnectionPool
    let publisher: ReconnectingPublisher
    let interval: Duration

    public init(health: ServiceHealth, database: PGConnectionPool, publisher: ReconnectingPublisher, interval: Duration = .seconds(3)) {
        self.health = health
        self.database = database
        self.publisher = publisher
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pg = (try? await database.run { (db) throws(PGError) in try db.execute("SELECT 1") }) != nil
            health.set("postgres", up: pg)
            let amqp = (try? await publisher.connect()) != nil
            health.set("amqp", up: amqp)
            try? await Task.sleep(for: interval)
        }
    }
}

extension DependencyProbe: CustomStringConvertible {
    public var description: String { "DependencyProbe" }
}
