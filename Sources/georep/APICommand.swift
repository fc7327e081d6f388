import AMQP
import API
import ArgumentParser
import Hummingbird
import Logging
import Observability
import Postgres
import ServiceHTTP

struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the REST API (sessions, details, options from PostgreSQL; actions become commands).")

    @OptionGroup var settings: Settings

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.api")
        let tokens = try APIConfiguration.parseTokens(settings.string(.apiTokens))
        guard !tokens.isEmpty else {
            throw ValidationError("no API tokens: set GEOREP_API_TOKENS to TOKEN:write,TOKEN:read (every request must carry one)")
        }
        let topology = settings.topology
        let database = PGConnectionPool(url: try settings.postgres(), size: 4, name: "api", logger: logger)
        let publisher = ReconnectingPublisher(configuration: try AMQPConfiguration(url: try settings.amqp()), topology: topology,
                                              source: "georep/api/\(ProcessIdentity.name)", name: "georep api \(ProcessIdentity.name)",
                                              logger: logger)
        let api = GeoRepAPI(configuration: APIConfiguration(tokens: tokens, topology: topology), database: database,
                            publisher: publisher, logger: logger)
        let health = ServiceHealth(dependencies: ["amqp", "postgres"])
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        OpsRoutes.add(to: router, health: health)
        api.addRoutes(to: router)
        let listener = try settings.listener(for: .api)
        let probe = DependencyProbe(health: health, database: database, publisher: publisher, logger: logger)
        let app = Application(router: router, server: GeoRepHTTPServer.builder, configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "georep-api"),
                              services: [probe], logger: logger)
        logger.info("api starting", metadata: ["http": "\(listener)"])
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        await publisher.close()
        await database.close()
    }
}
