import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Testing
import Worker

/// The admin grant on the bus, against the real RabbitMQ with one user per service
/// (`ops/rabbitmq/users.sh`): a worker in this process whose gluster is a canary (it leaves a file
/// behind if it ever runs, and then hangs past the worker's timeout), granting executing options to
/// the API's user only.
///
/// - The ordinary publisher's `config.set ssh-command` (and the reset, a forged sender, a message
///   without `user_id`) get `command.rejected` with `option_not_allowed`, are dead-lettered with
///   the reason and the publisher, and no gluster process starts.
/// - The broker refuses a publisher's `user_id` that is not its own: that is what the grant rests on.
/// - The API user's change is granted: gluster runs, and after the timeouts' retries (which the
///   worker republishes under its own user, forwarding the publisher) the result still says whose
///   grant it was.
extension Integration {
@Suite(.serialized) struct AdminGrantBusTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    @Test(.timeLimit(.minutes(3)))
    func onlyAGrantedPublisherChangesAnExecutingOption() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        var topology = GeoRepTopology(shards: 2, retryDelay: 300, prefix: "g\(tag)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-grant-\(tag)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let canary = root.appendingPathComponent("gluster-ran")
        let gluster = root.appendingPathComponent("gluster")
        try "#!/bin/sh\ntouch '\(canary.path)'\nsleep 5\nexit 1\n".write(to: gluster, atomically: true, encoding: .utf8)
        chmod(gluster.path, 0o755)
        let cluster = "gr\(tag)"
        let inventory = Inventory(clusters: [Inventory.Cluster(id: cluster, hosts: [Inventory.Host(name: "granthost", transport: .local)])])
        let ref = SessionRef(cluster: cluster, primaryVolume: "pvol", secondaryHost: "backup", secondaryVolume: "svol")

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep grant tests", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let passwords = try makeServiceUsers(topology)
        func url(_ role: String) throws -> String {
            let name = "\(topology.prefix)-\(role)"
            return "amqp://\(name):\(try #require(passwords[name]))@127.0.0.1:5672/georep"
        }
        // As the services run with their own users: the topology is ops', not theirs to declare.
        topology.declares = false
        let worker = WorkerService(configuration: WorkerConfiguration(
            amqpURL: try url("worker"), inventory: inventory, topology: topology, monitorInterval: 0, glusterTimeout: 1,
            glusterProgram: gluster.path, heartbeatInterval: .milliseconds(500), adminPublishers: ["\(topology.prefix)-api"]), logger: logger)
        let running = Task { try? await worker.run() }
        // Results, the worker's retries and (later) the dead letters, as they come.
        let watcher = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep grant watcher", logger: logger)
        let seen = Seen()
        var pump: Task<Void, Never>?
        var failure: Error?
        do {
            try await watcher.open()
            let stream = try await watcher.deliveries()
            pump = Task {
                do {
                    for try await delivery in stream {
                        try await watcher.ack(delivery)
                        await seen.add(delivery)
                    }
                } catch {}
            }
            let resultsQueue = try await watcher.declareTemporaryQueue(bindings: [(topology.eventsExchange, "georep.command.*")])
            let retriesQueue = try await watcher.declareTemporaryQueue(bindings: [(topology.retryExchange, "#")])
            try await watcher.addConsumer(queue: resultsQueue, prefetch: 100)
            try await watcher.addConsumer(queue: retriesQueue, prefetch: 100)
            func results(of commands: [Command]) async throws -> [UUID: CommandResult] {
                try await eventually(60) { () -> [UUID: CommandResult]? in
                    var found: [UUID: CommandResult] = [:]
                    for delivery in await seen.from(resultsQueue) {
                        if case .commandResult(let result) = try MessageCodec.decodeEvent(delivery.body).event, let id = result.commandId,
                           commands.contains(where: { $0.commandId == id }) {
                            found[id] = result
                        }
                    }
                    return found.count == commands.count ? found : nil
                } ?? [:]
            }

            // The ordinary publisher: its own user_id, which the broker checks.
            let publisherUser = "\(topology.prefix)-publisher"
            let publisher = AMQPConnection(configuration: try AMQPConfiguration(url: try url("publisher")), name: "georep grant publisher", logger: logger)
            try await publisher.open()
            let bus = GeoRepBus(connection: publisher, source: "georep/tests", topology: topology)
            let refused = [
                Command(action: .configSet, session: ref, options: CommandOptions(key: "ssh-command", value: "sh -c id"), sender: "tests"),
                Command(action: .configReset, session: ref, options: CommandOptions(key: "ssh_command"), sender: "tests"),
                // The sender field is the publisher's word, not the broker's: it grants nothing.
                Command(action: .configSet, session: ref, options: CommandOptions(key: "gluster-params", value: "volfile=/tmp/x"),
                        sender: "georep-api (admin token)"),
            ]
            for command in refused { try await bus.send(command) }
            // Without user_id: no one the workers could grant anything to.
            let anonymous = Command(action: .configSet, session: ref, options: CommandOptions(key: "rsync-command", value: "/tmp/x"), sender: "tests")
            try await publisher.publish(exchange: topology.commandsExchange, routingKey: ref.key, body: try MessageCodec.encode(anonymous, source: "tests"),
                                        properties: MessageProperties(contentType: MessageCodec.contentType))
            let rejected = try await results(of: refused + [anonymous])
            #expect(rejected.count == 4, "results: \(rejected)")
            for (id, result) in rejected {
                #expect(result.outcome == .rejected && result.error?.code == "option_not_allowed", "\(id): \(result)")
                #expect(result.grant == nil)
            }
            #expect(rejected[refused[0].commandId]?.message.contains(publisherUser) == true, "\(String(describing: rejected[refused[0].commandId]))")
            #expect(rejected[anonymous.commandId]?.message.contains("no user_id") == true)

            // Dead-lettered like other bad input, with the reason and the publisher.
            let dead = try await eventually(20) { () -> Int? in
                let n = try await admin.messageCount(queue: topology.deadLetterQueue)
                return n >= 4 ? n : nil
            }
            #expect(dead == 4)
            try await watcher.addConsumer(queue: topology.deadLetterQueue, prefetch: 10)
            let letters = try await eventually(20) { () -> [Delivery]? in
                let letters = await seen.from(topology.deadLetterQueue)
                return letters.count >= 4 ? letters : nil
            } ?? []
            #expect(letters.count == 4)
            var publishers: [String] = []
            for letter in letters {
                #expect(letter.properties.header("x-georep-error-code") == .string("option_not_allowed"))
                #expect(letter.properties.userId == nil, "a dead letter keeps no user_id the worker could not publish")
                if case .string(let user) = letter.properties.header("x-georep-publisher") { publishers.append(user) }
            }
            #expect(publishers == [publisherUser, publisherUser, publisherUser], "\(publishers)")
            #expect(!FileManager.default.fileExists(atPath: canary.path), "a refused command started gluster")

            // A user_id that is not the connection's own is the broker's to refuse.
            let forger = AMQPConnection(configuration: try AMQPConfiguration(url: try url("publisher")), name: "georep grant forger", logger: logger)
            try await forger.open()
            await #expect(throws: AMQPError.self) {
                try await forger.publish(exchange: topology.commandsExchange, routingKey: ref.key, body: try MessageCodec.encode(refused[0], source: "tests"),
                                         properties: MessageProperties(contentType: MessageCodec.contentType, userId: "\(topology.prefix)-api"))
            }
            await forger.close()
            await publisher.close()

            // The API's user holds the grant: gluster runs. Each try times out (the canary hangs),
            // so the worker puts the command back under its own user, forwarding the publisher;
            // the grant holds through the retries, and the failed result says whose it was.
            let api = AMQPConnection(configuration: try AMQPConfiguration(url: try url("api")), name: "georep grant api", logger: logger)
            try await api.open()
            let granted = Command(action: .configSet, session: ref, options: CommandOptions(key: "ssh-command", value: "/usr/bin/ssh"),
                                  sender: "georep-api (admin token)")
            try await GeoRepBus(connection: api, source: "georep/tests", topology: topology).send(granted)
            await api.close()
            let outcome = try await results(of: [granted])[granted.commandId]
            #expect(outcome?.outcome == .failed && outcome?.error?.retryable == true, "\(String(describing: outcome))")
            #expect(outcome?.grant == OptionGrant.Record(option: "ssh-command", kind: .executing, value: "/usr/bin/ssh",
                                                          grantedTo: "\(topology.prefix)-api", sender: "georep-api (admin token)"))
            #expect(FileManager.default.fileExists(atPath: canary.path), "the granted command did not reach gluster")
            let retries = await seen.from(retriesQueue)
            #expect(retries.count == 2, "retries: \(retries.count)")
            for retry in retries {
                #expect(retry.properties.userId == "\(topology.prefix)-worker")
                #expect(retry.properties.header("x-georep-publisher") == .string("\(topology.prefix)-api"))
            }
            #expect(try await admin.messageCount(queue: topology.deadLetterQueue) == 0)
        } catch {
            failure = error
        }
        running.cancel()
        _ = await running.result
        pump?.cancel()
        await watcher.close()
        removeServiceUsers(topology)
        await admin.remove(topology.topology)
        await admin.close()
        try? FileManager.default.removeItem(at: root)
        if let failure { throw failure }
    }

}
}

/// Deliveries as a pump hands them over, by queue.
private actor Seen {
    private var deliveries: [Delivery] = []

    func add(_ delivery: Delivery) { deliveries.append(delivery) }
    func from(_ queue: String) -> [Delivery] { deliveries.filter { $0.queue == queue } }
}
