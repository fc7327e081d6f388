import AMQP
import Foundation
import GeoRepCore
import Logging
import Postgres
import Testing

/// TLS with the stack's own CA for both RabbitMQ and PostgreSQL (`verify-full`), one RabbitMQ user
/// and one PostgreSQL role per service with least privilege, each refused what it must not do,
/// and the services running that way end to end with no secret in their logs.
extension Integration {
@Suite(.serialized) struct SecurityTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger
    let values = ProcessInfo.processInfo.environment

    init() throws { env = try TestEnvironment.load() }

    func setting(_ name: String) throws -> String {
        guard let value = values[name], !value.isEmpty else { throw MissingEnvironment(key: name) }
        return value
    }

    /// `SELECT`s one value on a fresh connection to `url`.
    func query(_ url: String, _ sql: String) async throws -> String? {
        let connection = PGConnection(url: url, name: "security", logger: logger)
        let value: Result<String?, any Error>
        do {
            value = .success(try await connection.run { (db) throws(PGError) in try db.execute(sql).rows.first?[0] ?? nil })
        } catch {
            value = .failure(error)
        }
        await connection.close()
        return try value.get()
    }

    /// A CA of the test's own, which signed nothing the servers present.
    func strangerCA() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("georep-stranger-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let status = runCommand(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=stranger",
                                 "-keyout", dir.appendingPathComponent("ca.key").path, "-out", dir.appendingPathComponent("ca.pem").path])
        #expect(status == 0)
        return dir.appendingPathComponent("ca.pem").path
    }

    @Test func postgresIsReachedOverTLSAndItsCertificateIsVerified() async throws {
        let tls = try setting("GEOREP_PG_TLS_URL")
        #expect(try await query(tls, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "true")
        // A CA that did not sign the server's certificate: refused.
        let stranger = tls.replacingOccurrences(of: #"sslrootcert=[^&]*"#, with: "sslrootcert=\(try strangerCA())", options: .regularExpression)
        await #expect(throws: PGError.self) { _ = try await query(stranger, "SELECT 1") }
        // The right CA, but a name the certificate does not carry: refused too.
        var components = try #require(URLComponents(string: tls))
        components.host = "wrong-name.example"
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "hostaddr", value: "127.0.0.1")]
        do {
            _ = try await query(try #require(components.string), "SELECT 1")
            Issue.record("a certificate for another host name was accepted")
        } catch let error as PGError {
            #expect("\(error)".contains("does not match host name"), "\(error)")
        }
    }

    @Test func postgresRolesAllowOnlyWhatEachServiceNeeds() async throws {
        let database = PGConnection(url: env.postgresURL, name: "security", logger: logger)
        _ = try await Migrator(directory: TestEnvironment.schemasDirectory, logger: logger).migrate(database)
        try await database.run { (db) throws(PGError) in try db.execute("SELECT georep_grant_service_roles()") }
        await database.close()
        let api = try setting("GEOREP_PG_API_URL")
        let persister = try setting("GEOREP_PG_PERSISTER_URL")
        #expect(try await query(api, "SELECT count(*)::text FROM gluster_georep_session") != nil)
        func refused(_ url: String, _ sql: String) async {
            do {
                _ = try await query(url, sql)
                Issue.record("allowed: \(sql)")
            } catch let error as PGError {
                guard case .queryFailed(let state, _, _) = error else { Issue.record("\(error)"); return }
                #expect(state == "42501" || state == "42P01", "\(sql): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
        await refused(api, "INSERT INTO gluster_clusters (cluster_id) VALUES ('api-may-not')")
        await refused(api, "DELETE FROM gluster_georep_session")
        let id = "persister-may-\(UUID().uuidString.prefix(8))"
        #expect(try await query(persister, "INSERT INTO gluster_clusters (cluster_id) VALUES ('\(id)') RETURNING cluster_id") == id)
        #expect(try await query(persister, "DELETE FROM gluster_clusters WHERE cluster_id = '\(id)' RETURNING cluster_id") == id)
        await refused(persister, "DROP TABLE gluster_georep_session")
        await refused(persister, "CREATE TABLE persister_may_not (x int)")
        await refused(persister, "TRUNCATE georep_status_history")
    }


    /// amqps:// as `user`, verified against the stack's CA.
    func amqps(_ user: String, _ password: String) throws -> String {
        "amqps://\(user):\(password)@localhost:5671/georep?cacertfile=\(try setting("GEOREP_TLS_DIR"))/ca.pem"
    }

    @Test(.timeLimit(.minutes(3)))
    func eachRabbitMQUserIsRefusedWhatItMustNotDo() async throws {
        let topology = GeoRepTopology(shards: 2, prefix: "s\(UUID().uuidString.prefix(8).lowercased())")
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep security admin", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let passwords = try makeServiceUsers(topology)
        var failure: Error?
        do {
            func connect(_ role: String) async throws -> AMQPConnection {
                let name = "\(topology.prefix)-\(role)"
                let c = AMQPConnection(configuration: try AMQPConfiguration(url: try amqps(name, try #require(passwords[name]))),
                                       name: "georep security \(role)", logger: logger)
                try await c.open()
                return c
            }
            /// Runs `body` on a fresh connection as `role`; true when the broker refused (403).
            func refused(_ role: String, _ body: (AMQPConnection) async throws -> Void) async throws -> Bool {
                let c = try await connect(role)
                let outcome: Result<Void, any Error>
                do { outcome = .success(try await body(c)) } catch { outcome = .failure(error) }
                await c.close()
                switch outcome {
                case .success: return false
                case .failure(AMQPError.channelClosed(let code, _)), .failure(AMQPError.connectionClosed(let code, _)): return code == 403
                case .failure(is AMQPError): return false
                case .failure(let error): throw error
                }
            }
            let command = try MessageCodec.encode(Command(action: .refresh, session: SessionRef(cluster: "x", primaryVolume: "v", secondaryHost: "h",
                                                                                                secondaryVolume: "s"), sender: "t"), source: "t")
            let props = MessageProperties(contentType: MessageCodec.contentType)
            // The publisher writes commands, nothing else.
            #expect(try await refused("publisher") { try await $0.publish(exchange: topology.commandsExchange, routingKey: "k", body: command, properties: props) } == false)
            #expect(try await refused("publisher") { try await $0.publish(exchange: topology.eventsExchange, routingKey: "georep.x", body: command, properties: props) })
            #expect(try await refused("publisher") { _ = try await $0.consume(queues: [topology.shardQueues[0]], prefetch: 1) })
            // The persister reads its queue and dead-letters, nothing else.
            #expect(try await refused("persister") { _ = try await $0.consume(queues: [topology.persisterQueue], prefetch: 1) } == false)
            #expect(try await refused("persister") { _ = try await $0.consume(queues: [topology.shardQueues[0]], prefetch: 1) })
            #expect(try await refused("persister") { try await $0.publish(exchange: topology.eventsExchange, routingKey: "georep.x", body: command, properties: props) })
            #expect(try await refused("persister") { try await $0.declare(topology.topology) })
            // The API publishes commands and announcements; it reads nothing.
            #expect(try await refused("api") { _ = try await $0.consume(queues: [topology.persisterQueue], prefetch: 1) })
            #expect(try await refused("api") { try await $0.deleteQueue(topology.deadLetterQueue) })
            // A worker cannot take the persister's events.
            #expect(try await refused("worker") { _ = try await $0.consume(queues: [topology.shardQueues[1]], prefetch: 1) } == false)
            #expect(try await refused("worker") { _ = try await $0.consume(queues: [topology.persisterQueue], prefetch: 1) })
        } catch {
            failure = error
        }
        removeServiceUsers(topology)
        await admin.remove(topology.topology)
        await admin.close()
        if let failure { throw failure }
    }

    @Test(.timeLimit(.minutes(5)))
    func theServicesRunWithTheirOwnUsersOverTLSAndLogNoSecret() async throws {
        let lab = try StandinLab(clusters: 1, shards: 2, env: env)
        lab.touchVolumes(["pvol1", "svol1"])
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep security admin", logger: logger)
        try await admin.open()
        try await admin.declare(lab.topology.topology)
        let passwords = try makeServiceUsers(lab.topology)
        let pgPersister = try setting("GEOREP_PG_PERSISTER_URL")
        let pgAPI = try setting("GEOREP_PG_API_URL")
        let token = "sec-\(UUID().uuidString)"
        let port = try freePort()
        // Outside the lab's directory, so that they outlive the test for a look after a failure.
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("georep-security-logs-\(lab.topology.prefix)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var pids: [pid_t] = []
        var failure: Error?
        do {
            func url(_ role: String) throws -> String {
                let name = "\(lab.topology.prefix)-\(role)"
                return try amqps(name, try #require(passwords[name]))
            }
            let common = ["GEOREP_TOPOLOGY_PREFIX": lab.topology.prefix, "GEOREP_SHARDS": "2", "GEOREP_DECLARE_TOPOLOGY": "false",
                          "GEOREP_LOG_LEVEL": "debug"]
            pids.append(try spawnGeorep(["worker"], environment: common.merging([
                "GEOREP_AMQP_URL": try url("worker"), "GEOREP_INVENTORY": lab.inventoryPath, "GEOREP_GLUSTER": StandinLab.standin, "GEOREP_CHECKPOINT_TOUCH": "false",
                "GEOREP_MONITOR_INTERVAL": "1", "GEOREP_HEARTBEAT_INTERVAL": "0.5", "GEOREP_LOG_FORMAT": "json",
            ]) { $1 }, output: logs.appendingPathComponent("worker.log")))
            pids.append(try spawnGeorep(["persister"], environment: common.merging([
                "GEOREP_AMQP_URL": try url("persister"), "GEOREP_PG_URL": pgPersister,
            ]) { $1 }, output: logs.appendingPathComponent("persister.log")))
            pids.append(try spawnGeorep(["api"], environment: common.merging([
                "GEOREP_AMQP_URL": try url("api"), "GEOREP_PG_URL": pgAPI, "GEOREP_HTTP": "127.0.0.1:\(port)", "GEOREP_API_TOKENS": "\(token):write",
            ]) { $1 }, output: logs.appendingPathComponent("api.log")))
            let base = "http://127.0.0.1:\(port)/api/clusters/\(lab.clusters[0])/glustervolumes/pvol1/georeplication-sessions"
            let ready = try await eventually(40) { try await httpStatus("http://127.0.0.1:\(port)/health/ready") == 200 ? true : nil }
            #expect(ready == true, "the API did not become ready with its own users")
            let listed = try await eventually(40) { try await httpStatus(base, token: token) == 200 ? true : nil }
            #expect(listed == true, "the cluster's inventory did not reach the API")
            #expect(try await httpStatus(base, method: "POST", body: #"{"host": "standin", "slavevolume": "svol1"}"#, token: token) == 202)
            let id = SessionRef(cluster: lab.clusters[0], primaryVolume: "pvol1", secondaryHost: "standin", secondaryVolume: "svol1").sessionID
            let created = try await eventually(40) { try await httpStatus("\(base)/\(id.uuidString.lowercased())", token: token) == 200 ? true : nil }
            #expect(created == true, "create through the API, a worker and the persister, each with its own user, did not land")
        } catch {
            failure = error
        }
        for pid in pids { stop(pid) }
        // No password, token or key in any log line, even at debug level.
        let secrets = Array(passwords.values) + [token] + [pgPersister, pgAPI].compactMap { URLComponents(string: $0)?.password }
        for name in ["worker.log", "persister.log", "api.log"] {
            let text = (try? String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)) ?? ""
            #expect(!text.isEmpty, "\(name) is empty")
            for secret in secrets where secret.count >= 8 {
                #expect(!text.contains(secret), "\(name) contains a secret")
            }
        }
        // The worker logged JSON, one object per line, and a command's gluster calls carry its id and session.
        let workerLog = (try? String(contentsOf: logs.appendingPathComponent("worker.log"), encoding: .utf8)) ?? ""
        let objects = workerLog.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!objects.isEmpty && objects.allSatisfy { $0?["ts"] != nil && $0?["level"] != nil && $0?["message"] != nil },
                "not one JSON object per line")
        let glusterDuringCommand = objects.compactMap { $0 }.filter { $0["message"] as? String == "gluster ran" && $0["command_id"] != nil }
        #expect(glusterDuringCommand.contains { ($0["session"] as? String)?.contains("pvol1") == true },
                "no gluster call of the create carried its command id and session")
        removeServiceUsers(lab.topology)
        await lab.tearDown(admin)
        await admin.close()
        if let failure { throw failure }
    }
}
}
