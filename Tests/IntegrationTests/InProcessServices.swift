import AMQP
import Foundation
import GeoRepCore
import Gluster
import Persister
import Postgres
import Worker

/// A worker and a persister running in the test's own process against the real lab, on a
/// topology of the test's own (a demo's services on the same machine never take its commands),
/// with a migrated database connection and a client that sees every event.
struct InProcessServices {
    let topology: GeoRepTopology
    let inventory: Inventory
    let database: PGConnection
    let client: CommandClient
    private let services: Task<Void, Never>

    /// Runs `body` with the services, and stops them afterwards whatever happened.
    /// `prefix`: the first letter of the topology's name, to tell the tests' queues apart;
    /// `inventoryPath`: another inventory than the lab's (the multi-node lab's); `worker`: false
    /// when the test runs its own `georep worker` processes on the topology.
    static func with(_ env: TestEnvironment, prefix: String, inventoryPath: String? = nil, worker: Bool = true,
                     _ body: (InProcessServices) async throws -> Void) async throws {
        let services = try await start(env, prefix: prefix, inventoryPath: inventoryPath ?? env.inventoryPath, runsWorker: worker)
        do {
            try await body(services)
        } catch {
            try? await services.stop(env)
            throw error
        }
        try await services.stop(env)
    }

    private static func start(_ env: TestEnvironment, prefix: String, inventoryPath: String, runsWorker: Bool) async throws -> InProcessServices {
        let logger = TestEnvironment.logger
        let database = PGConnection(url: env.postgresURL, name: "tests", logger: logger)
        _ = try await Migrator(directory: TestEnvironment.schemasDirectory, logger: logger).migrate(database)
        let inventory = try Inventory.load(path: inventoryPath)
        let topology = GeoRepTopology(prefix: "\(prefix)\(UUID().uuidString.prefix(8).lowercased())")
        let worker = WorkerService(configuration: WorkerConfiguration(amqpURL: env.amqpURL, inventory: inventory, topology: topology,
                                                                      monitorInterval: 3, heartbeatInterval: .milliseconds(500)),
                                   logger: logger)
        let persister = PersisterService(configuration: PersisterConfiguration(amqpURL: env.amqpURL, postgresURL: env.postgresURL,
                                                                               topology: topology),
                                         logger: logger)
        let services = Task {
            await withTaskGroup(of: Void.self) { group in
                if runsWorker { group.addTask { try? await worker.run() } }
                group.addTask { try? await persister.run() }
            }
        }
        do {
            let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: topology,
                                                         watchEvents: true, logger: logger)
            return InProcessServices(topology: topology, inventory: inventory, database: database, client: client, services: services)
        } catch {
            services.cancel()
            await database.close()
            throw error
        }
    }

    /// Stops the services, closes the connections and removes the topology.
    private func stop(_ env: TestEnvironment) async throws {
        await client.close()
        services.cancel()
        _ = await services.result
        await database.close()
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep tests cleanup",
                                   logger: TestEnvironment.logger)
        try await admin.open()
        await admin.remove(topology.topology)
        await admin.close()
    }
}
