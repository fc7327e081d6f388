import AMQP
import Logging
import Observability
import Postgres
import ServiceLifecycle

/// Keeps the API's readiness current: PostgreSQL answers (and says whether it is a primary or a
/// standby) and the publisher is connected (connecting it when it is not), every few seconds.
public struct DependencyProbe: Service {
    let health: ServiceHealth
    let database: PGConnectionPool
    let publisher: ReconnectingPublisher
    let interval: Duration
    let logger: Logger

    public init(health: ServiceHealth, database: PGConnectionPool, publisher: ReconnectingPublisher, interval: Duration = .seconds(3),
                logger: Logger) {
        self.health = health
        self.database = database
        self.publisher = publisher
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // What was last said of each dependency: nil until its first probe (health starts all
        // down, so it cannot tell a first failure from a known one).
        var known: [String: Bool] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var server: String?
            known["postgres"] = await check("postgres", wasUp: known["postgres"]) { () async throws -> Void in
                server = try await database.run { (db) throws(PGError) -> String in
                    try Self.server(of: db.execute(Self.serverQuery).namedRows.first)
                }
            }
            if let server, server != health.servers["postgres"] {
                // With target_session_attrs=prefer-standby the API reads from a standby while
                // one answers; operators see here (and in readiness) which it is.
                logger.notice("the API reads from PostgreSQL's \(server)", metadata: ["server": "\(server)"])
                health.set("postgres", up: true, server: server)
            }
            known["amqp"] = await check("amqp", wasUp: known["amqp"]) { try await publisher.connect() }
            // Only cancellation ends the sleep: the loop's condition then ends the probe.
            try? await Task.sleep(for: interval)
        }
    }

    /// The probe's query: whether the server is a standby, and where it listens.
    static let serverQuery = "SELECT pg_is_in_recovery() AS standby, coalesce(host(inet_server_addr()), 'local socket') AS host, current_setting('port') AS port"

    /// "primary 127.0.0.1:55442" or "standby 127.0.0.1:55443", from ``serverQuery``'s row.
    static func server(of row: PGRow?) throws(PGError) -> String {
        guard let row else { return "unknown server" }
        let role = try row.bool("standby") == true ? "standby" : "primary"
        return "\(role) \(try row.text("host") ?? "?"):\(try row.text("port") ?? "?")"
    }

    /// Sets the dependency's readiness and returns it; says why when it goes down (not every
    /// round while it stays down) and when it is back, and counts every failed probe.
    func check(_ dependency: String, wasUp: Bool?, _ probe: () async throws -> Void) async -> Bool {
        do {
            try await probe()
            if wasUp == false { logger.notice("\(dependency) is reachable again") }
            health.set(dependency, up: true)
            return true
        } catch {
            GeoRepMetrics.dropped(reason: "\(dependency)_probe_failed", role: "api")
            if wasUp != false {
                logger.warning("\(dependency) is unreachable; the API is not ready and answers 503 where it needs it",
                               metadata: ["dependency": "\(dependency)", "error": "\(error)"])
            }
            health.set(dependency, up: false)
            return false
        }
    }
}

extension DependencyProbe: CustomStringConvertible {
    public var description: String { "DependencyProbe" }
}
