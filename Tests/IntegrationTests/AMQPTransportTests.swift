import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Synchronization
import Testing
import Worker

extension Integration {
/// The transport against the real RabbitMQ, each test on a topology of its own (own prefix),
/// removed afterwards.
@Suite(.serialized) struct AMQPTransportTests {
    let env: TestEnvironment
    let amqp: AMQPConfiguration
    let logger = TestEnvironment.logger

    init() throws {
        env = try TestEnvironment.load()
        amqp = try AMQPConfiguration(url: env.amqpURL)
    }

    func connection(_ name: String) async throws -> AMQPConnection {
        let c = AMQPConnection(configuration: amqp, name: "georep tests \(name)", logger: logger)
        try await c.open()
        return c
    }

    /// Declares a fresh topology, runs `body`, then deletes everything it declared.
    func withTopology(shards: Int = 4, deliveryLimit: Int = 5, _ body: (GeoRepTopology, AMQPConnection) async throws -> Void) async throws {
        let topology = GeoRepTopology(shards: shards, deliveryLimit: deliveryLimit, retryDelay: 1000,
                                      prefix: "t\(UUID().uuidString.prefix(8).lowercased())")
        let admin = try await connection("admin")
        try await admin.declare(topology.topology)
        do { try await body(topology, admin) } catch {
            await cleanup(topology)
            await admin.close()
            throw error
        }
        await cleanup(topology)
        await admin.close()
    }

    func cleanup(_ topology: GeoRepTopology) async {
        guard let c = try? await connection("cleanup") else { return }
        for q in topology.topology.queues { try? await c.deleteQueue(q.name) }
        for e in topology.topology.exchanges { try? await c.deleteExchange(e.name) }
        await c.close()
    }

    func props(_ id: String) -> MessageProperties { MessageProperties(contentType: "text/plain", messageId: id) }

    @Test func aConfirmMeansTheBrokerHoldsTheMessage() async throws {
        try await withTopology { topology, admin in
            let publisher = try await connection("publisher")
            for i in 1...3 {
                try await publisher.publish(exchange: topology.eventsExchange, routingKey: "georep.test", body: Array("m\(i)".utf8), properties: props("m\(i)"))
                // Returned means confirmed: the message is in the queue now, not eventually.
                #expect(try await admin.messageCount(queue: topology.persisterQueue) == i)
            }
            await #expect(throws: AMQPError.unroutable(exchange: topology.eventsExchange, routingKey: "nobody.listens", reason: "NO_ROUTE")) {
                try await publisher.publish(exchange: topology.eventsExchange, routingKey: "nobody.listens", body: [1], properties: props("x"))
            }
            // The connection survives an unroutable message.
            try await publisher.publish(exchange: topology.eventsExchange, routingKey: "georep.test", body: [2], properties: props("y"))
            #expect(try await admin.messageCount(queue: topology.persisterQueue) == 4)
            await publisher.close()
        }
    }

    @Test func anUnackedMessageOfAKilledConsumerGoesToAnother() async throws {
        try await withTopology { topology, _ in
            let publisher = try await connection("publisher")
            try await publisher.publish(exchange: topology.eventsExchange, routingKey: "georep.test", body: Array("only".utf8), properties: props("only"))
            let first = try await connection("first consumer")
            var firstStream = try await first.consume(queues: [topology.persisterQueue], prefetch: 1).makeAsyncIterator()
            let got = try #require(try await firstStream.next())
            #expect(got.redelivered == false)
            await first.abort()  // dies before its ack

            let second = try await connection("second consumer")
            var secondStream = try await second.consume(queues: [topology.persisterQueue], prefetch: 1).makeAsyncIterator()
            let again = try #require(try await secondStream.next())
            #expect(again.body == got.body)
            #expect(again.properties.messageId == "only")
            #expect(again.redelivered)
            try await second.ack(again)
            await second.close()
            await publisher.close()
        }
    }

    @Test func pastTheDeliveryLimitAMessageIsDeadLetteredWithItsReason() async throws {
        try await withTopology(shards: 1, deliveryLimit: 2) { topology, admin in
            let publisher = try await connection("publisher")
            try await publisher.publish(exchange: topology.commandsExchange, routingKey: "lab/mvol/root@vm::svol", body: Array("poison".utf8), properties: props("poison"))
            let consumer = try await connection("consumer")
            var stream = try await consumer.consume(queues: topology.shardQueues, prefetch: 1).makeAsyncIterator()
            var deliveries = 0
            while deliveries < 10, try await admin.messageCount(queue: topology.deadLetterQueue) == 0 {
                if deliveries == 3 { try await Task.sleep(for: .milliseconds(200)); continue }
                guard let d = try await stream.next() else { break }
                deliveries += 1
                try await consumer.reject(d, requeue: true)  // a worker that crashes on it, again and again
            }
            #expect(deliveries == 3, "delivery limit 2: the third delivery is the last")
            let deadReader = try await connection("dead reader")
            var dead = try await deadReader.consume(queues: [topology.deadLetterQueue], prefetch: 1).makeAsyncIterator()
            let poisoned = try #require(try await dead.next())
            #expect(poisoned.body == Array("poison".utf8))
            guard case .array(let deaths) = poisoned.properties.header("x-death"), case .table(let death) = deaths.first else {
                Issue.record("no x-death header: \(poisoned.properties.headers)")
                return
            }
            #expect(death.first { $0.0 == "reason" }?.1 == .string("delivery_limit"))
            try await deadReader.ack(poisoned)

            // Our own dead-lettering (bad input) carries the reason in headers.
            let bus = GeoRepBus(connection: publisher, source: "tests", topology: topology)
            try await bus.deadLetter(poisoned, from: topology.shardQueues[0], code: "unknown_action", reason: "unknown action \"frobnicate\"")
            let reasoned = try #require(try await dead.next())
            #expect(reasoned.properties.header("x-georep-error-code") == .string("unknown_action"))
            #expect(reasoned.properties.header("x-georep-reason") == .string("unknown action \"frobnicate\""))
            try await deadReader.ack(reasoned)
            await deadReader.close()
            await consumer.close()
            await publisher.close()
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func threeConsumersKeepEachSessionsOrderAndNeverOverlap() async throws {
        try await withTopology(shards: 4) { topology, _ in
            let sessions = (0..<50).map { "lab/vol\($0)/root@vm::svol" }
            let ledger = OrderLedger()
            let consumers = try await (0..<3).asyncMap { try await connection("consumer \($0)") }
            var tasks: [Task<Void, Error>] = []
            for (index, consumer) in consumers.enumerated() {
                let stream = try await consumer.consume(queues: topology.shardQueues, prefetch: 1)
                tasks.append(Task {
                    for try await d in stream {
                        let text = String(decoding: d.body, as: UTF8.self)
                        let parts = text.split(separator: "|")
                        let session = String(parts[0])
                        let seq = Int(parts[1])!
                        await ledger.begin(session: session, seq: seq, consumer: index)
                        try await Task.sleep(for: .microseconds(Int.random(in: 0...1500)))
                        await ledger.end(session: session)
                        try await consumer.ack(d)
                    }
                })
            }
            let publisher = try await connection("publisher")
            for i in 0..<1000 {
                let session = sessions[i % sessions.count]
                try await publisher.publish(exchange: topology.commandsExchange, routingKey: session,
                                            body: Array("\(session)|\(i / sessions.count)".utf8), properties: props("\(i)"))
            }
            let done = try await eventually(120) { await ledger.count >= 1000 ? true : nil }
            for t in tasks { t.cancel() }
            for c in consumers { await c.close() }
            await publisher.close()
            let count = await ledger.count
            let violations = await ledger.violations
            let perConsumer = await ledger.perConsumer
            #expect(done == true, "processed \(count) of 1000")
            #expect(violations.isEmpty, "\(violations.prefix(5))")
            #expect(count == 1000)
            print("per-session order held for 1000 commands over 50 sessions; work per consumer: \(perConsumer)")
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBrokerRestartMidStreamLosesNothingConfirmed() async throws {
        try await withTopology { topology, _ in
            let received = ReceivedIDs()
            let supervisor = ConnectionSupervisor(configuration: amqp, name: "georep tests restart consumer",
                                                  topology: topology.topology, logger: logger)
            let stopFlag = StopFlag()
            let consumerTask = Task {
                await supervisor.run(shouldStop: { stopFlag.isSet }) { consumer, _ in
                    let stream = try await consumer.consume(queues: [topology.persisterQueue], prefetch: 50)
                    for try await d in stream {
                        await received.add(d.properties.messageId ?? "")
                        try await consumer.ack(d)
                    }
                }
            }
            var confirmed: [String] = []
            var publisher = try await connection("restart publisher")
            var restart: Task<Int32, Never>?
            var backoff = Backoff(initial: 0.2, maximum: 2)
            var losses = 0
            var i = 0
            let deadline = Date().addingTimeInterval(180)
            while i < 400 && Date() < deadline {
                if i == 100 && restart == nil {
                    restart = Task.detached { restartService("rabbitmq") }
                }
                do {
                    try await publisher.publish(exchange: topology.eventsExchange, routingKey: "georep.test", body: Array("\(i)".utf8), properties: props("msg-\(i)"))
                    confirmed.append("msg-\(i)")
                    i += 1
                    backoff.reset()
                } catch let error as AMQPError where error.isConnectionLoss {
                    // Not confirmed: publish it again on a new connection (at-least-once).
                    losses += 1
                    await publisher.close()
                    try await Task.sleep(for: .seconds(backoff.next()))
                    publisher = AMQPConnection(configuration: amqp, name: "georep tests restart publisher", logger: logger)
                    try? await publisher.open()
                }
                // Slow down after the restart is asked for, until the broker has really gone away,
                // so that the restart lands in the middle of the stream.
                if i > 100 && losses == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            let restartStatus = await restart?.value
            #expect(restartStatus == 0, "ops/restart.sh rabbitmq failed")
            #expect(confirmed.count == 400)
            #expect(losses > 0, "the broker restart did not interrupt the stream")
            let all = try await eventually(120) { await received.contains(all: confirmed) ? true : nil }
            stopFlag.set()
            consumerTask.cancel()
            await publisher.close()
            let missing = await received.missing(from: confirmed)
            let deliveries = await received.count
            #expect(all == true, "\(missing.count) confirmed messages never arrived, e.g. \(missing.prefix(5))")
            print("broker restart: \(confirmed.count) confirmed, \(losses) failed publishes retried, \(deliveries) deliveries (duplicates allowed), missing \(missing.count)")
        }
    }

    @Test func amqpsVerifiesTheBrokerAgainstTheCA() async throws {
        let env = ProcessInfo.processInfo.environment
        let url = try #require(env["GEOREP_AMQPS_URL"], "GEOREP_AMQPS_URL is not set: run ops/test.sh")
        let tls = try #require(env["GEOREP_TLS_DIR"])
        let secure = try AMQPConfiguration(url: url)
        #expect(secure.tls?.caCertificateFile == "\(tls)/ca.pem")
        try await withTopology { topology, admin in
            // With the stack's CA (and, the second time, a client certificate too): a confirmed publish.
            for config in [secure, try AMQPConfiguration(url: url + "&certfile=\(tls)/client.pem&keyfile=\(tls)/client.key")] {
                let c = AMQPConnection(configuration: config, name: "georep tests tls", logger: logger)
                try await c.open()
                try await c.publish(exchange: topology.eventsExchange, routingKey: "georep.tls", body: [1], properties: props("tls"))
                await c.close()
            }
            #expect(try await admin.messageCount(queue: topology.persisterQueue) == 2)
        }
        // A CA that did not sign the broker's certificate: refused at the handshake.
        let foreign = try AMQPConfiguration(url: url.replacingOccurrences(of: "\(tls)/ca.pem", with: "/etc/ssl/certs/ca-certificates.crt"))
        await expectRefused(foreign, "a foreign CA was accepted", saying: "peer cert verification failed")
        // The same broker under a name its certificate does not carry (the lab host name, also
        // 127.0.0.1): refused by host name verification, though the TCP connection is made.
        let wrongName = try AMQPConfiguration(url: url.replacingOccurrences(of: "@localhost:", with: "@\(self.env.labHost):"))
        await expectRefused(wrongName, "host name verification let \(self.env.labHost) through", saying: "hostname verification failed")
        // A client certificate that cannot be read: a clear error, not a crash.
        let missing = try AMQPConfiguration(url: url + "&certfile=/nonexistent.pem&keyfile=/nonexistent.key")
        await expectRefused(missing, "opened with a missing client certificate", saying: "/nonexistent.pem")
    }

    /// Opening with `configuration` fails, and its error says `saying`; `otherwise` is the issue recorded if it opens.
    func expectRefused(_ configuration: AMQPConfiguration, _ otherwise: String, saying: String) async {
        let connection = AMQPConnection(configuration: configuration, name: "georep tests tls refused", logger: logger)
        do {
            try await connection.open()
            Issue.record(Comment(rawValue: otherwise))
        } catch {
            #expect(error.description.contains(saying), "\(error)")
        }
        await connection.close()
    }

    /// A URL list as for a cluster (issue 18), on the one broker: a node that does not answer
    /// (port 1) beside the live one. The connection goes to the live node whichever comes first,
    /// and after the broker drops it, the next open starts with the other node and still gets up.
    @Test func aListOfNodeURLsConnectsToTheNodeThatAnswersAndMovesOnAfterALoss() async throws {
        let live = try #require(amqp.nodes.first)
        let dead = env.amqpURL.replacingOccurrences(of: "@\(live.host):\(live.port)/", with: "@127.0.0.1:1/")
        try #require(dead != env.amqpURL, "cannot make a dead node's URL from \(amqp.redacted)")
        try await withTopology { topology, admin in
            for (order, urls) in [("dead first", [dead, env.amqpURL]), ("live first", [env.amqpURL, dead])] {
                let config = try AMQPConfiguration(url: urls.joined(separator: ","))
                #expect(config.nodes.count == 2 && config.nodes.contains(live), "\(config.nodes)")
                let name = "georep tests cluster list \(UUID().uuidString.prefix(8))"
                let c = AMQPConnection(configuration: config, name: name, logger: logger)
                try await c.open()
                #expect(c.node == live, "\(order): connected to \(String(describing: c.node))")
                try await c.publish(exchange: topology.eventsExchange, routingKey: "georep.list", body: [1], properties: props("1"))
                // The broker drops the connection, as a dying node would.
                let listed = runCommandCapturing(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"])
                let pid = try #require(listed.output.split(separator: "\n").first { $0.contains(name) }?.split(separator: "\t").first,
                                       "\(order): our connection is not listed: \(listed.output.prefix(500))")
                #expect(runCommand(["rabbitmqctl", "-q", "close_connection", String(pid), "node lost (test)"]) == 0)
                let lost = try await eventually(10) { () -> Bool? in
                    do {
                        try await c.publish(exchange: topology.eventsExchange, routingKey: "georep.list", body: [2], properties: props("2"))
                        return nil
                    } catch { return true }
                }
                #expect(lost == true, "\(order): the dropped connection still published")
                try await c.open()
                #expect(c.node == live, "\(order): reconnected to \(String(describing: c.node))")
                try await c.publish(exchange: topology.eventsExchange, routingKey: "georep.list", body: [3], properties: props("3"))
                await c.close()
            }
            #expect(try await admin.messageCount(queue: topology.persisterQueue) == 4)
        }
        // A list whose URLs differ in more than host and port is refused, with the reason.
        let other = env.amqpURL.replacingOccurrences(of: "://", with: "://someoneelse")
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "\(env.amqpURL),\(other)") }
    }

    @Test func heartbeatsKeepAnIdleConnectionOpen() async throws {
        // heartbeat=1: the broker closes a connection after two silent seconds unless heartbeats flow.
        let config = try AMQPConfiguration(url: env.amqpURL + "?heartbeat=1")
        #expect(config.heartbeat == 1)
        try await withTopology { topology, admin in
            let idle = AMQPConnection(configuration: config, name: "georep tests heartbeat", logger: logger)
            try await idle.open()
            try await Task.sleep(for: .seconds(5))
            #expect(idle.isOpen)
            try await idle.publish(exchange: topology.eventsExchange, routingKey: "georep.hb", body: [1], properties: props("hb"))
            #expect(try await admin.messageCount(queue: topology.persisterQueue) == 1)
            await idle.close()
        }
    }

    @Test func aRetriedCommandComesBackToItsShardAfterTheDelay() async throws {
        try await withTopology(shards: 4) { topology, admin in
            let publisher = try await connection("publisher")
            let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")
            let key = CommandRouting.routingKey(for: ref)
            try await publisher.publish(exchange: topology.commandsExchange, routingKey: key, body: Array("cmd".utf8), properties: props("cmd"))
            let consumer = try await connection("consumer")
            var stream = try await consumer.consume(queues: topology.shardQueues, prefetch: 1).makeAsyncIterator()
            let first = try #require(try await stream.next())
            let bus = GeoRepBus(connection: publisher, source: "tests", topology: topology)
            let sent = Date()
            try await bus.retryLater(first, session: ref, attempt: 1)
            try await consumer.ack(first)
            let again = try #require(try await stream.next())
            let waited = Date().timeIntervalSince(sent)
            #expect(again.body == first.body)
            #expect(again.queue == first.queue, "a retried command returns to its own shard")
            #expect(again.properties.intHeader("x-georep-attempt") == 1)
            #expect(waited >= 0.9 && waited < 10, "retry delay 1 s, came back after \(waited) s")
            try await consumer.ack(again)
            await consumer.close()
            await publisher.close()
        }
    }

    @Test func thePikaExampleGetsItsResult() async throws {
        let inventory = try Inventory.load(path: env.inventoryPath)
        let worker = WorkerService(configuration: WorkerConfiguration(amqpURL: env.amqpURL, inventory: inventory, monitorInterval: 0),
                                   logger: logger)
        let task = Task { try? await worker.run() }
        defer { task.cancel() }
        let script = URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/publish_and_wait.py").path
        let (status, output) = runCommandCapturing(["python3", script, "refresh", "lab", "mvol", env.labHost, "svol"],
                                                   environment: ["GEOREP_AMQP_URL": env.amqpURL, "GEOREP_WAIT": "60"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("\"outcome\": \"succeeded\""), "\(output)")
    }

    @Test func theDefinitionsFileIsTheCodesTopologyAndImports() throws {
        let root = URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("ops/rabbitmq/definitions.json")
        let committed = try String(contentsOf: file, encoding: .utf8)
        #expect(committed == (try GeoRepTopology().topology.definitionsJSON(vhost: "georep")),
                "ops/rabbitmq/definitions.json is stale: regenerate it with `georep topology > ops/rabbitmq/definitions.json`")
        #expect(runCommand(["rabbitmqctl", "-q", "import_definitions", file.path]) == 0)
    }
}
}

actor OrderLedger {
    private var inFlight: Set<String> = []
    private var last: [String: Int] = [:]
    private(set) var violations: [String] = []
    private(set) var count = 0
    private(set) var perConsumer: [Int: Int] = [:]

    func begin(session: String, seq: Int, consumer: Int) {
        if inFlight.contains(session) { violations.append("\(session) handled twice at once") }
        inFlight.insert(session)
        let expected = (last[session] ?? -1) + 1
        if seq != expected { violations.append("\(session): got \(seq), expected \(expected)") }
        last[session] = seq
        perConsumer[consumer, default: 0] += 1
    }

    func end(session: String) {
        inFlight.remove(session)
        count += 1
    }
}

actor ReceivedIDs {
    private var ids: Set<String> = []
    private(set) var count = 0
    func add(_ id: String) { ids.insert(id); count += 1 }
    func contains(all: [String]) -> Bool { all.allSatisfy(ids.contains) }
    func missing(from all: [String]) -> [String] { all.filter { !ids.contains($0) } }
}

/// Set once by one task, read by others.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

func runCommand(_ argv: [String]) -> Int32 { runCommandCapturing(argv).status }

/// Runs `argv` (looked up in PATH) with `environment` on top of `inheriting`; stdout and stderr together.
func runCommandCapturing(_ argv: [String], environment: [String: String] = [:],
                         inheriting: [String: String] = ProcessInfo.processInfo.environment) -> (status: Int32, output: String) {
    spawnAndWait("/usr/bin/env", argv, environment: inheriting.merging(environment) { $1 }, capture: true)
}

/// ``runCommandCapturing(_:environment:inheriting:)`` waited for on a thread of its own, not one of
/// the two pool threads of a 2-core machine that every other test's tasks and timers need.
func runCommandOffPool(_ argv: [String], environment: [String: String] = [:],
                       inheriting: [String: String] = ProcessInfo.processInfo.environment) async -> (status: Int32, output: String) {
    await withCheckedContinuation { done in
        DispatchQueue.global().async { done.resume(returning: runCommandCapturing(argv, environment: environment, inheriting: inheriting)) }
    }
}

func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
