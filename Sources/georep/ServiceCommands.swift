import AMQP
import ArgumentParser
import Foundation
import Gluster
import Hummingbird
import Logging
import Observability
import Persister
import Postgres
import ServiceHTTP
import ServiceLifecycle
import Worker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume commands, run gluster, publish events, monitor sessions; receive glustereventsd webhooks.")

    @OptionGroup var settings: Settings

    @Option(help: "Inventory JSON mapping cluster ids to gluster hosts (env GEOREP_INVENTORY).")
    var inventory: String?

    @Option(help: "Seconds between two status reads of each cluster; 0 disables monitoring (env GEOREP_MONITOR_INTERVAL).")
    var monitorInterval: Double?

    @Option(help: "The gluster program (env GEOREP_GLUSTER, default gluster from PATH or /usr/sbin).")
    var gluster: String?

    @Option(help: "Commands run at once by this worker (env GEOREP_WORKER_CONCURRENCY, default 4).")
    var concurrency: Int?

    @Option(help: "Seconds between two heartbeats to the other workers (env GEOREP_HEARTBEAT_INTERVAL, default 2).")
    var heartbeatInterval: Double?

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.worker")
        guard let path = inventory ?? settings.value(.inventory) else {
            throw ValidationError("no inventory: pass --inventory or set GEOREP_INVENTORY")
        }
        let inventory = try Inventory.load(path: path)
        let amqpURL = try settings.amqp()
        let interval = monitorInterval ?? settings.number(.monitorInterval)
        let snapshotEvery = settings.integer(.snapshotEvery)
        let timeout = settings.number(.glusterTimeout)
        let suspectAfter = settings.number(.glusterSuspectAfter)
        let workers = concurrency ?? settings.integer(.workerConcurrency)
        let heartbeat = heartbeatInterval ?? settings.number(.heartbeatInterval)
        let configuration = WorkerConfiguration(
            amqpURL: amqpURL, inventory: inventory, topology: settings.topology, monitorInterval: interval,
            snapshotEvery: snapshotEvery, glusterTimeout: timeout, glusterProgram: gluster ?? settings.string(.gluster),
            glusterSuspectAfter: suspectAfter, concurrency: workers, heartbeatInterval: .milliseconds(Int(heartbeat * 1000)),
            adminPublishers: settings.adminPublishers, checkpointStallAfter: settings.number(.checkpointStallAfter),
            touchAfterCheckpoint: settings.string(.checkpointTouch).lowercased() != "false")
        var tuned = configuration
        // Tests only, and not a setting: how ClockSkewTests gives two workers clocks 30 s apart.
        if let offset = ProcessInfo.processInfo.environment["GEOREP_TEST_CLOCK_OFFSET"].flatMap(Double.init) {
            tuned.clockOffset = offset
            logger.warning("observation clock offset for tests", metadata: ["seconds": "\(offset)"])
        }
        let worker = WorkerService(configuration: tuned, logger: logger)
        let publisher = ReconnectingPublisher(configuration: try AMQPConfiguration(url: amqpURL), topology: settings.topology,
                                              source: "georep/webhooks/\(configuration.instance)",
                                              name: "georep worker \(configuration.instance) webhooks", logger: logger)
        let tokens = settings.list(.webhookTokens)
        let receiver = WebhookReceiver(tokens: tokens, inventory: inventory, publisher: publisher, logger: logger)
        if tokens.isEmpty { logger.notice("GEOREP_WEBHOOK_TOKENS is not set: webhook requests are refused (401)") }
        logger.notice(configuration.adminPublishers.isEmpty
            ? "GEOREP_AMQP_ADMIN_USERS is not set: commands that change executing, path or access options are refused (option_not_allowed)"
            : "commands that change executing, path or access options are taken from these AMQP users only",
            metadata: configuration.adminPublishers.isEmpty ? [:] : ["admin_users": "\(configuration.adminPublishers.sorted().joined(separator: ","))"])

        let router = Router()
        OpsRoutes.add(to: router, health: worker.health)
        WebhookRoutes.add(to: router, receiver: receiver)
        let listener = try settings.listener(for: .worker)
        let app = Application(router: router, server: GeoRepHTTPServer.builder, configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "georep-worker"),
                              services: [worker], logger: logger)
        logger.info("worker starting", metadata: ["http": "\(listener)", "instance": "\(configuration.instance)"])
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        await publisher.close()
    }
}

struct PersisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persister", abstract: "Consume events and write sessions, brick details and options into PostgreSQL.")

    @OptionGroup var settings: Settings

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.persister")
        let batch = settings.number(.persisterBatch)
        let delay = settings.number(.persisterBatchDelay)
        let configuration = PersisterConfiguration(amqpURL: try settings.amqp(), postgresURL: try settings.postgres(), topology: settings.topology,
                                                   maxBatch: Int(batch), maxBatchDelay: .milliseconds(Int(delay)),
                                                   writers: Int(settings.number(.persisterWriters)))
        let persister = PersisterService(configuration: configuration, logger: logger)
        let router = Router()
        OpsRoutes.add(to: router, health: persister.health)
        let listener = try settings.listener(for: .persister)
        let app = Application(router: router, server: GeoRepHTTPServer.builder, configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "georep-persister"),
                              services: [persister], logger: logger)
        logger.info("persister starting", metadata: ["http": "\(listener)"])
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the numbered SQL migrations of Schemas/sql to PostgreSQL (safe to run concurrently).")

    @OptionGroup var settings: Settings

    @Option(help: "Directory of the numbered .sql files (env GEOREP_SCHEMAS, default Schemas/sql).")
    var schemas: String?

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.migrate")
        let directory = schemas ?? settings.string(.schemas)
        let database = PGConnection(url: try settings.postgres(), name: "migrate", logger: logger)
        let applied = try await Migrator(directory: directory, logger: logger).migrate(database)
        await database.close()
        print(applied.isEmpty ? "schema is up to date" : "applied: \(applied.joined(separator: ", "))")
    }
}
