import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Gluster
import Logging
import Postgres

/// Malformed and hostile commands into a worker, and hostile names into the HTTP API: every
/// message must be dead-lettered with a reason, no process may crash, no gluster process may
/// start (the worker's gluster is a canary that leaves a file behind if it is ever run), and no
/// shell may ever see a name (names carry `touch` injections whose files must never appear).
/// Among them, changes of the options gsyncd runs (`ssh-command`, `rsync-options`, …) from a
/// publisher and a write token without the admin grant: refused, never run.
struct FuzzRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Hostile and malformed commands and HTTP requests: all refused with a reason, no crash, no gluster process.")

    @Option(help: "Messages sent to the worker.") var messages = 10_000
    @Option(help: "HTTP requests sent to the API.") var requests = 2_000
    @Option(help: "Random seed.") var seed: UInt64 = 42

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let amqpURL = env["GEOREP_AMQP_URL"], let pgURL = env["GEOREP_PG_URL"] else {
            throw ValidationError("set GEOREP_AMQP_URL and GEOREP_PG_URL (source /var/lib/georep/stack.env)")
        }
        let georep = try BenchSupport.georepPath()
        var logger = Logger(label: "georep.fuzz")
        logger.logLevel = .critical
        let tag = UUID().uuidString.prefix(8).lowercased()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-fuzz-\(tag)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let canary = root.appendingPathComponent("gluster-ran")
        let pwned = "/tmp/georep-pwned-\(tag)"
        // The worker's gluster: any run of it is a failure of this test.
        let fakeGluster = root.appendingPathComponent("gluster")
        try "#!/bin/sh\ntouch '\(canary.path)'\nexit 1\n".write(to: fakeGluster, atomically: true, encoding: .utf8)
        chmod(fakeGluster.path, 0o755)
        let cluster = "fuzz\(tag)"
        let inventory = Inventory(clusters: [Inventory.Cluster(id: cluster, hosts: [Inventory.Host(name: "fuzzhost", transport: .local)])])
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let inventoryPath = root.appendingPathComponent("inventory.json").path
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: inventoryPath))
        let topology = GeoRepTopology(shards: 4, prefix: "fuzz\(tag)")

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep fuzz", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let rejectedQueue = try await admin.declareTemporaryQueue(bindings: [(topology.eventsExchange, "georep.command.rejected")])
        let fleet = Fleet(georep: georep, logs: root, environment: [
            "GEOREP_AMQP_URL": amqpURL, "GEOREP_PG_URL": pgURL, "GEOREP_INVENTORY": inventoryPath, "GEOREP_GLUSTER": fakeGluster.path, "GEOREP_CHECKPOINT_TOUCH": "false",
            "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": "4", "GEOREP_MONITOR_INTERVAL": "0",
            "GEOREP_HEARTBEAT_INTERVAL": "0.5", "GEOREP_HTTP": "127.0.0.1:0", "GEOREP_LOG_LEVEL": "error",
        ])
        defer { fleet.stopAll() }
        let worker = try fleet.spawn(["worker"])
        try await Task.sleep(for: .seconds(2))

        var generator = HostileMessages(seed: seed, cluster: cluster, pwned: pwned)
        var sent = 0
        var kinds: [String: Int] = [:]
        while sent < messages {
            var batch: [OutgoingMessage] = []
            for _ in 0..<min(250, messages - sent) {
                let (kind, body, key) = generator.next()
                kinds[kind, default: 0] += 1
                batch.append(OutgoingMessage(exchange: topology.commandsExchange, routingKey: key, body: body,
                                             properties: MessageProperties(contentType: MessageCodec.contentType)))
            }
            try await admin.publish(batch)
            sent += batch.count
        }
        print("fuzz: \(sent) messages sent: \(kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")

        let deadline = Date().addingTimeInterval(Double(messages) / 20 + 60)
        var dead = 0
        while Date() < deadline {
            dead = try await admin.messageCount(queue: topology.deadLetterQueue)
            if dead >= messages { break }
            try await Task.sleep(for: .seconds(1))
        }
        // Every dead letter says why.
        let reader = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep fuzz reader", logger: logger)
        try await reader.open()
        var codes: [String: Int] = [:]
        var withoutReason = 0
        var read = 0
        if dead > 0 {
            for try await delivery in try await reader.consume(queues: [topology.deadLetterQueue], prefetch: 1000) {
                read += 1
                if case .string(let code) = delivery.properties.header("x-georep-error-code"),
                   case .string(let reason) = delivery.properties.header("x-georep-reason"), !reason.isEmpty {
                    codes[code, default: 0] += 1
                } else {
                    withoutReason += 1
                }
                if read % 500 == 0 || read == dead { try await reader.ackAll(upTo: delivery) }
                if read >= dead { break }
            }
        }
        let rejectedEvents = try await admin.messageCount(queue: rejectedQueue)
        await reader.close()
        let workerAlive = worker.isRunning
        for crash in fleet.crashes() { print("crash: \(crash)") }
        print("dead-lettered \(dead) of \(sent) (\(String(format: "%.1f", 100 * Double(dead) / Double(max(1, sent))))%), \(withoutReason) without a reason; rejected events \(rejectedEvents)")
        print("by code: \(codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")

        // The same hostile names through the HTTP API.
        let api = try await probeAPI(georep: georep, amqpURL: amqpURL, pgURL: pgURL, topology: topology, cluster: cluster, pwned: pwned,
                                     logs: root, logger: logger)
        let glusterRan = FileManager.default.fileExists(atPath: canary.path)
        let injected = FileManager.default.fileExists(atPath: pwned)
        print("worker alive: \(workerAlive); gluster processes started: \(glusterRan ? "YES" : "0"); injection canary: \(injected ? "PRESENT" : "absent")")
        print("HTTP: \(api.sent) hostile requests: \(api.clientErrors) answered 4xx, \(api.serverErrors) 5xx, \(api.other) other; API alive: \(api.alive)")

        await admin.remove(topology.topology)
        await admin.close()
        let ok = dead == sent && withoutReason == 0 && workerAlive && !glusterRan && !injected
            && api.serverErrors == 0 && api.other == 0 && api.alive
        print(ok ? "fuzz: PASS" : "fuzz: FAIL")
        if !ok { throw ExitCode(1) }
    }

    func probeAPI(georep: String, amqpURL: String, pgURL: String, topology: GeoRepTopology, cluster: String, pwned: String,
                  logs: URL, logger: Logger) async throws -> (sent: Int, clientErrors: Int, serverErrors: Int, other: Int, alive: Bool) {
        // A cluster and volume the API knows, so that hostile names also reach the deeper checks.
        let database = PGConnection(url: pgURL, name: "fuzz", logger: logger)
        // And a session, so that a write token's option changes reach the grant check.
        let session = SessionRef(cluster: cluster, primaryVolume: "mvol", secondaryHost: "backup", secondaryVolume: "svol")
        try await database.run { (db) throws(PGError) in
            try db.execute("INSERT INTO gluster_clusters (cluster_id) VALUES ($1) ON CONFLICT DO NOTHING", [cluster])
            try db.execute("INSERT INTO gluster_volumes (id, cluster_id, vol_name) VALUES ($1, $2, 'mvol') ON CONFLICT DO NOTHING",
                           [UUID().uuidString, cluster])
            try db.execute("""
                INSERT INTO gluster_georep_session (session_id, session_key, slave_host_name, slave_volume_name, status, cluster_id,
                                                   master_volume_name, observed_seq, observed_at)
                VALUES ($1, $2, 'backup', 'svol', 'ACTIVE', $3, 'mvol', 1, now()) ON CONFLICT DO NOTHING
                """, [session.sessionID.uuidString, session.key, cluster])
        }
        let port = Int.random(in: 20_000..<40_000)
        let token = "fuzz-\(UUID().uuidString)"
        let fleet = Fleet(georep: georep, logs: logs, environment: [
            "GEOREP_AMQP_URL": amqpURL, "GEOREP_PG_URL": pgURL, "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": "4",
            "GEOREP_HTTP": "127.0.0.1:\(port)", "GEOREP_API_TOKENS": "\(token):write", "GEOREP_LOG_LEVEL": "error",
        ])
        let api = try fleet.spawn(["api"])
        defer {
            fleet.stopAll()
        }
        try await Task.sleep(for: .seconds(2))
        var generator = HostileMessages(seed: seed &+ 1, cluster: cluster, pwned: pwned)
        var counts = (sent: 0, client: 0, server: 0, other: 0)
        let base = "http://127.0.0.1:\(port)/api/clusters"
        for i in 0..<requests {
            let name = generator.hostileName()
            let option = generator.grantedOption()
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x"
            let (url, method, body): (String, String, String?) = switch i % 6 {
            case 0: ("\(base)/\(encoded)/glustervolumes/mvol/georeplication-sessions", "GET", nil)
            case 1: ("\(base)/\(cluster)/glustervolumes/\(encoded)/georeplication-sessions", "GET", nil)
            case 2: ("\(base)/\(cluster)/glustervolumes/mvol/georeplication-sessions/\(encoded)/start", "POST", nil)
            case 3: ("\(base)/\(cluster)/glustervolumes/mvol/georeplication-sessions", "POST",
                     String(decoding: (try? JSONSerialization.data(withJSONObject: ["host": name, "slavevolume": "svol"])) ?? Data(), as: UTF8.self))
            case 4: ("\(base)/\(cluster)/glustervolumes/mvol/georeplication-sessions", "POST",
                     String(decoding: (try? JSONSerialization.data(withJSONObject: ["host": "backup", "slavevolume": name, "user_name": name])) ?? Data(),
                            as: UTF8.self))
            default:
                // A write token asking gsyncd to run something: 403, or 400 for a hostile name or value.
                ("\(base)/\(cluster)/glustervolumes/mvol/georeplication-sessions/\(session.sessionID.uuidString.lowercased())/setoption", "POST",
                 String(decoding: (try? JSONSerialization.data(withJSONObject: ["option": ["name": option.0, "value": option.1]])) ?? Data(),
                        as: UTF8.self))
            }
            let status = httpStatus(url, method: method, body: body, token: token)
            counts.sent += 1
            switch status {
            case 400..<500: counts.client += 1
            case 500..<600: counts.server += 1; print("  \(status) for \(method) \(url) \(body ?? "")")
            default: counts.other += 1; print("  \(status) for \(method) \(url) \(body ?? "")")
            }
        }
        let alive = api.isRunning
        try await database.run { (db) throws(PGError) in
            try db.execute("DELETE FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_volumes WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_clusters WHERE cluster_id = $1", [cluster])
        }
        await database.close()
        return (counts.sent, counts.client, counts.server, counts.other, alive)
    }

    /// One request with curl (a client that is not ours); its HTTP status, 0 when none came.
    func httpStatus(_ url: String, method: String, body: String?, token: String) -> Int {
        var argv = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "-X", method, "-H", "Authorization: Bearer \(token)"]
        if let body { argv += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = argv + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 0 }
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}

/// Generates malformed and hostile command messages, deterministically from a seed. None of them
/// is a valid command for a known cluster, so none may start a gluster process.
struct HostileMessages {
    var rng: SplitMix
    let cluster: String
    let pwned: String

    init(seed: UInt64, cluster: String, pwned: String) {
        rng = SplitMix(seed: seed)
        self.cluster = cluster
        self.pwned = pwned
    }

    mutating func hostileName() -> String {
        let names = [
            "vol;touch \(pwned)", "$(touch \(pwned))", "`touch \(pwned)`", "--help", "-x", "vol\ntouch \(pwned)", "vol&&touch \(pwned)",
            "vol|touch \(pwned)", "../../etc/passwd", "vol name", "vol\u{0}x", String(repeating: "a", count: 300), "vol'\"", "ｖｏｌ",
            "vol$IFS", "*", "vol>\(pwned)", "", "--config=/etc/shadow", "root@host::vol", "vol\u{202E}x", "%s%n", "vol\\x",
        ]
        return names[Int(rng.next() % UInt64(names.count))]
    }

    /// An option change only the admin grant allows (or a hostile spelling of one), with a value
    /// that would run something if it ever reached gsyncd.
    mutating func grantedOption() -> (String, String) {
        let options = [
            ("ssh-command", "sh -c 'touch \(pwned)'"), ("ssh_command", "/bin/sh"), ("rsync-command", "/bin/sh -c id"),
            ("rsync-options", "-e 'sh -c touch \(pwned)'"), ("ssh-options", "-oProxyCommand=touch \(pwned)"),
            ("ssh-options-tar", "-oLocalCommand=id"), ("tar-command", "/bin/sh"), ("gluster-command", "/tmp/gluster"),
            ("gluster-command-dir", "/tmp"), ("slave-gluster-command-dir", "/tmp"), ("remote-gsyncd", "/bin/sh"),
            ("gluster-params", "volfile=/tmp/x"), ("secondary-gluster-params", "log-file=/etc/passwd"), ("gluster-cli-options", "--glusterd-sock=/tmp/x"),
            ("meta-volume-mnt", "/"), ("glusterd-workdir", "/tmp"), ("allow-network", "0.0.0.0/0"), ("isolated-slaves", "x"),
            ("ssh-command", ""), ("ssh-command", "-oProxyCommand=id"), ("gluster-command-dir", "tmp"), ("Ssh-Command", "sh"),
            ("ssh-command ", "sh"), ("pid-file", "/tmp/x"), ("ssh-commandx", "sh"), ("ssh-command", "sh\ntouch \(pwned)"),
        ]
        return options[Int(rng.next() % UInt64(options.count))]
    }

    /// (kind, body, routing key)
    mutating func next() -> (String, [UInt8], String) {
        let kind = Int(rng.next() % 10)
        let id = UUID().uuidString.lowercased()
        func envelope(_ type: String, _ data: Any) -> [UInt8] {
            let object: [String: Any] = ["specversion": "1.0", "id": id, "source": "fuzz", "type": type, "data": data]
            return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }
        func session(_ field: String, _ value: String) -> [String: Any] {
            var s: [String: Any] = ["cluster": cluster, "primary_volume": "mvol", "secondary_host": "backup", "secondary_volume": "svol"]
            s[field] = value
            return s
        }
        switch kind {
        case 0:
            let garbage = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let samples: [[UInt8]] = [garbage, [], Array("{".utf8), Array("{\"specversion\": \"1.0\"".utf8), Array("nul\u{0}l".utf8)]
            return ("not JSON", samples[Int(rng.next() % UInt64(samples.count))], "fuzz")
        case 1:
            let samples = ["[]", "42", "\"text\"", "null", "true", "[{\"data\": {}}]"]
            return ("not an object", Array(samples[Int(rng.next() % UInt64(samples.count))].utf8), "fuzz")
        case 2:
            let samples: [[String: Any]] = [["data": [:]], ["specversion": "0.3", "id": id, "source": "f", "type": "georep.command.start", "data": [:]],
                                            ["specversion": "1.0", "id": id, "source": "f", "type": "com.example.other", "data": [:]],
                                            ["specversion": 1, "id": 2, "source": [], "type": "georep.command.start"]]
            let body = (try? JSONSerialization.data(withJSONObject: samples[Int(rng.next() % UInt64(samples.count))])) ?? Data()
            return ("not an envelope", Array(body), "fuzz")
        case 3:
            let samples: [Any] = [["command_id": 7, "action": "start", "session": session("cluster", cluster)],
                                  ["command_id": id, "action": "start", "session": "lab/mvol/vm::svol"],
                                  ["command_id": id, "action": "start", "session": session("cluster", cluster), "options": ["force", true]],
                                  ["command_id": id, "action": ["start"], "session": session("cluster", cluster)],
                                  ["command_id": id, "session": session("cluster", cluster)]]
            return ("wrong types", envelope("georep.command.start", samples[Int(rng.next() % UInt64(samples.count))]), "fuzz")
        case 4:
            let actions = ["frobnicate", "start; touch \(pwned)", "", "START", "stop\n", "créer", "config.set.extra", "--force", String(repeating: "x", count: 100)]
            let action = actions[Int(rng.next() % UInt64(actions.count))]
            return ("unknown action", envelope("georep.command.\(action)", ["command_id": id, "action": action, "session": session("cluster", cluster)]), "fuzz")
        case 5:
            let fields = ["cluster", "primary_volume", "secondary_host", "secondary_volume", "secondary_user"]
            let field = fields[Int(rng.next() % UInt64(fields.count))]
            var name = hostileName()
            if name == "" || (field == "secondary_user" && name == "root") { name = "-x" }
            let s = session(field, name)
            // A routing key is an AMQP short string (at most 255 bytes).
            return ("hostile name", envelope("georep.command.start", ["command_id": id, "action": "start", "session": s]),
                    String("\(s["cluster"] ?? "")/x".utf8.prefix(200)) ?? "x")
        case 6:
            let options: [[String: Any]] = [["key": hostileName(), "value": "4"], ["key": "sync-jobs", "value": "-\(hostileName())"],
                                            ["key": "sync-jobs", "value": "a\nb"], ["key": "sync-jobs"], ["ssh_port": 70000], ["ssh_port": -1],
                                            ["key": "sync-jobs", "value": String(repeating: "v", count: 2000)]]
            let option = options[Int(rng.next() % UInt64(options.count))]
            let action = option["ssh_port"] != nil ? "create" : "config.set"
            return ("hostile option", envelope("georep.command.\(action)", ["command_id": id, "action": action, "session": session("cluster", cluster),
                                                                           "options": option]), "fuzz")
        case 8:
            // A well-formed change of an option gsyncd runs, from a publisher without the grant.
            let (key, value) = grantedOption()
            let reset = rng.next() % 4 == 0
            let action = reset ? "config.reset" : "config.set"
            return ("option needing the grant", envelope("georep.command.\(action)", [
                "command_id": id, "action": action, "session": session("cluster", cluster),
                "options": reset ? ["key": key] : ["key": key, "value": value],
            ]), "\(cluster)/mvol/backup::svol")
        case 7:
            let huge = String(repeating: "h", count: 300 * 1024)
            return ("huge", envelope("georep.command.start", ["command_id": id, "action": "start", "session": session("secondary_volume", huge)]), "fuzz")
        default:
            // Well-formed, but for a cluster no inventory has.
            return ("unknown cluster", envelope("georep.command.start", ["command_id": id, "action": "start",
                                                                         "session": session("cluster", "nowhere-\(rng.next() % 100)")]), "fuzz")
        }
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
