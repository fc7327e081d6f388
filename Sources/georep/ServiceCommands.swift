import AMQP
import ArgumentParser
import Foundation
import Gluster
import Logging
import Persister
import Postgres
import ServiceLifecycle
import Worker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Consume commands, run gluster, publish events, monitor sessions.")

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
        let logger = settings.logger("georep.worker")
        let env = settings.env
        guard let path = inventory ?? env["GEOREP_INVENTORY"] else {
            throw ValidationError("no inventory: pass --inventory or set GEOREP_INVENTORY")
        }
        let configuration = WorkerConfiguration(
            amqpURL: try settings.amqp(), inventory: try Inventory.load(path: path), topology: settings.topology,
            monitorInterval: monitorInterval ?? env["GEOREP_MONITOR_INTERVAL"].flatMap { Double($0) } ?? 15,
            glusterProgram: gluster ?? env["GEOREP_GLUSTER"] ?? "gluster",
            concurrency: concurrency ?? env["GEOREP_WORKER_CONCURRENCY"].flatMap { Int($0) } ?? 4,
            heartbeatInterval: .milliseconds(Int((heartbeatInterval ?? env["GEOREP_HEARTBEAT_INTERVAL"].flatMap { Double($0) } ?? 2) * 1000)))
        let group = ServiceGroup(
            services: [WorkerService(configuration: configuration, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

struct PersisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persister", abstract: "Consume events and write sessions, brick details and options into PostgreSQL.")

    @OptionGroup var settings: Settings

    func run() async throws {
        let logger = settings.logger("georep.persister")
        let configuration = PersisterConfiguration(amqpURL: try settings.amqp(), postgresURL: try settings.postgres(), topology: settings.topology)
        let group = ServiceGroup(
            services: [PersisterService(configuration: configuration, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the numbered SQL migrations of Schemas/sql to PostgreSQL (safe to run concurrently).")

    @OptionGroup var settings: Settings

    @Option(help: "Directory of the numbered .sql files (env GEOREP_SCHEMAS, default Schemas/sql).")
    var schemas: String?

    func run() async throws {
        let logger = settings.logger("georep.migrate")
        let directory = schemas ?? settings.env["GEOREP_SCHEMAS"] ?? "Schemas/sql"
        let database = PGConnection(url: try settings.postgres(), name: "migrate", logger: logger)
        let applied = try await Migrator(directory: directory, logger: logger).migrate(database)
        await database.close()
        print(applied.isEmpty ? "schema is up to date" : "applied: \(applied.joined(separator: ", "))")
    }
}
