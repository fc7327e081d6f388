import AMQP
import Foundation
import GeoRepCore
import Logging
import Persister
import Postgres
import Testing

/// `georep api` over real HTTP (curl, not our client) against the real PostgreSQL and RabbitMQ,
/// with a worker and a persister on a stand-in gluster cluster of the test's own; then
/// schemathesis (from PyPI) against `Schemas/openapi.yaml`.
extension Integration {
@Suite(.serialized) struct APITests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger
    let writer = "writer-\(UUID().uuidString)"
    let reader = "reader-\(UUID().uuidString)"
    let adminToken = "admin-\(UUID().uuidString)"

    init() throws { env = try TestEnvironment.load() }

    /// A running API (and, with `services`, a worker and a persister) on the lab's topology.
    /// `servicePorts`: the worker's and the persister's HTTP ports (else ephemeral).
    func withAPI(_ lab: StandinLab, services: Bool = true, amqpURL: String? = nil, servicePorts: (worker: Int, persister: Int)? = nil,
                 _ body: (_ base: String, _ log: URL) async throws -> Void) async throws {
        let port = try freePort()
        let log = lab.root.appendingPathComponent("api-\(port).log")
        var pids: [pid_t] = []
        if services {
            let http = { (port: Int?) in "127.0.0.1:\(port ?? 0)" }
            // The API's RabbitMQ user (the lab's) holds the admin grant for executing options.
            pids.append(try lab.spawnWorker(extra: ["GEOREP_HTTP": http(servicePorts?.worker),
                                                    "GEOREP_AMQP_ADMIN_USERS": try AMQPConfiguration(url: amqpURL ?? env.amqpURL).user]))
            pids.append(try spawnGeorep(["persister"], environment: ["GEOREP_TOPOLOGY_PREFIX": lab.topology.prefix,
                                                                   "GEOREP_SHARDS": String(lab.topology.shards),
                                                                   "GEOREP_HTTP": http(servicePorts?.persister)]))
        }
        pids.append(try spawnGeorep(["api"], environment: [
            "GEOREP_TOPOLOGY_PREFIX": lab.topology.prefix, "GEOREP_SHARDS": String(lab.topology.shards),
            "GEOREP_HTTP": "127.0.0.1:\(port)", "GEOREP_API_TOKENS": "\(writer):write,\(reader):read,\(adminToken):admin",
            "GEOREP_AMQP_URL": amqpURL ?? env.amqpURL, "GEOREP_LOG_LEVEL": "info",
        ], output: log))
        defer { for pid in pids { stop(pid) } }
        let base = "http://127.0.0.1:\(port)"
        _ = try await eventually(30) { try await httpStatus("\(base)/health/live") == 200 ? true : nil }
        try await body(base, log)
    }

    func get(_ url: String, token: String? = nil, accept: String = "application/json") -> (status: Int, body: String) {
        curl(["-H", "Accept: \(accept)"] + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url])
    }

    func post(_ url: String, token: String?, body: String? = nil, type: String = "application/json", method: String = "POST",
              accept: String = "application/json") -> (status: Int, body: String, headers: String) {
        var argv = ["-X", method, "-H", "Accept: \(accept)", "-D", "-"]
        if let token { argv += ["-H", "Authorization: Bearer \(token)"] }
        if let body { argv += ["-H", "Content-Type: \(type)", "--data-binary", body] }
        let out = curl(argv + [url])
        let parts = out.body.components(separatedBy: "\r\n\r\n")
        return (out.status, parts.dropFirst().joined(separator: "\r\n\r\n"), parts.first ?? "")
    }

    func curl(_ arguments: [String]) -> (status: Int, body: String) {
        let out = runCommandCapturing(["curl", "-s", "--max-time", "20", "-w", "\n%{http_code}"] + arguments).output
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// The sum of the series `name` with at least `labels` in a Prometheus exposition; nil when none.
    func metric(_ exposition: String, _ name: String, _ labels: [String: String]) -> Double? {
        var sum: Double?
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let series = line.split(separator: " ").dropLast().joined(separator: " ")
            guard labels.allSatisfy({ series.contains("\($0.key)=\"\($0.value)\"") }),
                  let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            sum = (sum ?? 0) + value
        }
        return sum
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls a command's resource until it is no longer pending.
    func outcome(_ base: String, _ location: String) async throws -> [String: Any]? {
        try await eventually(60) { () -> [String: Any]? in
            let command = json(get(base + location, token: reader).body)
            return command["status"] as? String == "pending" ? nil : command
        }
    }

    func location(_ headers: String) -> String? {
        headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
            .map { $0.dropFirst("location:".count).trimmingCharacters(in: .whitespaces) }
    }

    @Test(.timeLimit(.minutes(6)))
    func theAPIServesTheOriginalResourcesAndTurnsActionsIntoCommands() async throws {
        let (lab, admin, database) = try await StandinLab.withDatabase(env, name: "api tests")
        let cluster = lab.clusters[0]
        lab.touchVolumes(["pvol1", "svol1", "svol2"])
        let ports = (worker: try freePort(), persister: try freePort())
        var failure: Error?
        do {
            try await withAPI(lab, servicePorts: ports) { base, log in
                let sessions = "\(base)/api/clusters/\(cluster)/glustervolumes/pvol1/georeplication-sessions"
                // Authentication and negotiation.
                #expect(get(sessions).status == 401)
                #expect(get(sessions, token: "not-a-token").status == 401)
                #expect(get(sessions, token: reader, accept: "text/html").status == 406)
                // The cluster and its volumes become known with the first monitor round.
                let listed = try await eventually(30) { () -> String? in
                    let r = get(sessions, token: reader, accept: "application/xml")
                    return r.status == 200 ? r.body : nil
                }
                #expect(listed?.contains("<georeplication-sessions/>") == true, "\(listed ?? "no answer")")
                #expect(get("\(base)/api/clusters/nosuch/glustervolumes/pvol1/georeplication-sessions", token: reader).status == 404)
                #expect(get("\(base)/api/clusters/\(cluster)/glustervolumes/nosuchvol/georeplication-sessions", token: reader).status == 404)
                #expect(get("\(sessions)/\(UUID().uuidString)", token: reader).status == 404)
                // Hostile names: 400 with the reason, never a 5xx.
                for path in ["clusters/a%3Bb/glustervolumes/pvol1", "clusters/\(cluster)/glustervolumes/vol%3Btouch%20%2Ftmp%2Fx",
                             "clusters/\(cluster)/glustervolumes/-x", "clusters/\(cluster)/glustervolumes/%24(id)"] {
                    let r = get("\(base)/api/\(path)/georeplication-sessions", token: reader)
                    #expect(r.status == 400, "\(path): \(r.status) \(r.body)")
                }
                #expect(get("\(sessions)/not-a-uuid", token: reader).status == 400)

                // Create (XML body, the original design's names) → 202, Location → succeeded.
                let xml = "<georeplication-session><host>standin</host><slavevolume>svol1</slavevolume></georeplication-session>"
                #expect(post(sessions, token: reader, body: xml, type: "application/xml").status == 403)
                #expect(post(sessions, token: writer, body: "<georeplication-session><host>x;y</host><slavevolume>s</slavevolume></georeplication-session>",
                             type: "application/xml").status == 400)
                #expect(post(sessions, token: writer, body: "{not json").status == 400)
                let created = post(sessions, token: writer, body: xml, type: "application/xml", accept: "application/xml")
                #expect(created.status == 202, "\(created.body)")
                #expect(created.body.contains("<status>pending</status>"))
                let createdAt = try #require(location(created.headers), "no Location: \(created.headers)")
                #expect(try await outcome(base, createdAt)?["status"] as? String == "succeeded")
                let id = SessionRef(cluster: cluster, primaryVolume: "pvol1", secondaryHost: "standin", secondaryVolume: "svol1").sessionID
                let session = "\(sessions)/\(id.uuidString.lowercased())"
                let shown = try await eventually(30) { () -> [String: Any]? in
                    let r = get(session, token: reader)
                    return r.status == 200 ? json(r.body) : nil
                }
                #expect(shown?["status"] as? String == "NOTSTARTED")
                #expect(shown?["slavevolume"] as? String == "svol1")
                let details = (shown?["session_details"] as? [String: Any])?["session_detail"] as? [[String: Any]]
                #expect(details?.count == 2, "two bricks: \(String(describing: shown))")
                let sessionXML = get(session, token: reader, accept: "application/xml").body
                for element in ["<georeplication-session ", "<host>standin</host>", "<slavevolume>svol1</slavevolume>", "<session_details>",
                                "<session_detail>", "<slaveNode>", "<brick id="] {
                    #expect(sessionXML.contains(element), "missing \(element) in \(sessionXML)")
                }
                let options = try await eventually(30) { () -> [[String: Any]]? in
                    let list = json(get("\(session)/options", token: reader).body)["option"] as? [[String: Any]]
                    return list?.isEmpty == false ? list : nil
                }
                #expect(options?.contains { $0["key"] as? String == "sync_jobs" } == true)
                #expect(get("\(session)/options", token: reader, accept: "application/xml").body.contains("<georeplication_options>"))

                // The stored state decides: resume of a session that is not paused is a 409.
                let resume = post("\(session)/resume", token: writer)
                #expect(resume.status == 409 && json(resume.body)["code"] as? String == "session_not_paused", "\(resume.body)")
                #expect(post("\(session)/frobnicate", token: writer).status == 404)
                let start = post("\(session)/start", token: writer, body: #"{"force": false}"#)
                #expect(start.status == 202)
                #expect(try await outcome(base, try #require(location(start.headers)))?["status"] as? String == "succeeded")
                let active = try await eventually(30) { json(get(session, token: reader).body)["status"] as? String == "ACTIVE" ? true : nil }
                #expect(active == true)
                // The bricks' status moves with the status event, their crawl status with the next
                // snapshot: a slow host can serve the row between the two.
                let crawling = try await eventually(30) { () -> Bool? in
                    get(session, token: reader, accept: "application/xml").body.contains("<crawl_status>Changelog Crawl</crawl_status>") ? true : nil
                }
                #expect(crawling == true, "no brick in Changelog Crawl: \(get(session, token: reader, accept: "application/xml").body)")
                let set = post("\(session)/setoption", token: writer, body: #"<action><option name="sync-jobs" value="5"/></action>"#,
                               type: "application/xml")
                #expect(set.status == 202)
                #expect(try await outcome(base, try #require(location(set.headers)))?["status"] as? String == "succeeded")
                let five = try await eventually(30) { () -> Bool? in
                    let list = json(get("\(session)/options", token: reader).body)["option"] as? [[String: Any]] ?? []
                    return list.contains { $0["key"] as? String == "sync_jobs" && $0["value"] as? String == "5" } ? true : nil
                }
                #expect(five == true)
                // A checkpoint with wait: a wait out of bounds is a 400; a good one stays pending until the
                // checkpoint completed, and the session then shows its last checkpoint.
                for bad in [#"{"wait": 0}"#, #"{"wait": 43201}"#, #"{"wait": "soon"}"#] {
                    let r = post("\(session)/checkpoint", token: writer, body: bad)
                    #expect(r.status == 400, "\(bad): \(r.status) \(r.body)")
                }
                let checkpoint = post("\(session)/checkpoint", token: writer, body: #"{"checkpoint": "now", "wait": 60}"#)
                #expect(checkpoint.status == 202, "\(checkpoint.body)")
                let waited = try await outcome(base, try #require(location(checkpoint.headers)))
                #expect(waited?["status"] as? String == "succeeded", "\(String(describing: waited))")
                let last = try await eventually(30) { () -> [String: Any]? in
                    json(get(session, token: reader).body)["last_checkpoint"] as? [String: Any]
                }
                #expect(last?["status"] as? String == "COMPLETED", "\(String(describing: last))")
                let lastXML = get(session, token: reader, accept: "application/xml").body.components(separatedBy: "<last_checkpoint>").last ?? ""
                #expect(lastXML.prefix(200).contains("<status>COMPLETED</status>"), "\(lastXML)")
                // A nightly window: a bad one is a 400; a good one reaches the session's view through
                // the worker (georep.session.schedule.set) and the persister, with its next window.
                for bad in [#"{"daily": {"at": "25:00", "minutes": 60}}"#, #"{"daily": {"at": "02:00"}}"#, "{}",
                            #"{"window": {"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T01:00:00Z"}}"#] {
                    let r = post("\(session)/schedule", token: writer, body: bad)
                    #expect(r.status == 400, "\(bad): \(r.status) \(r.body)")
                }
                // Six hours from now, so that the window is never open as the test runs (at 02:01
                // a window of 02:00 was the current one, not the next: CI, 2026-12-01).
                let hour = (Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour! + 6) % 24
                let at = String(format: "%02d:00", hour)
                let nightly = post("\(session)/schedule", token: writer, body: #"{"daily": {"at": ""# + at + #"", "minutes": 90}}"#)
                #expect(nightly.status == 202, "\(nightly.body)")
                #expect(try await outcome(base, try #require(location(nightly.headers)))?["status"] as? String == "succeeded")
                let scheduled = try await eventually(30) { () -> [String: Any]? in
                    json(get(session, token: reader).body)["sync_schedule"] as? [String: Any]
                }
                let next = scheduled?["next_window"] as? [String: Any]
                let nextStart = (next?["start"] as? String).flatMap(Timestamp.parse)
                #expect(nextStart.map { Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: $0).hour } == hour,
                        "\(String(describing: scheduled))")
                let inADay = nextStart.map { $0 > Date() && $0 < Date().addingTimeInterval(86_400) }
                #expect(inADay == true)
                #expect((scheduled?["daily"] as? [String: Any])?["minutes"] as? Int == 90)
                // A list of windows in one request (JSON), beside the daily one; a bad item is a 400.
                let badList = post("\(session)/schedule", token: writer, body: #"{"windows": [{"start": "2030-01-01T02:00:00Z"}]}"#)
                #expect(badList.status == 400, "\(badList.body)")
                let windowList = post("\(session)/schedule", token: writer, body: #"{"daily": {"at": ""# + at + #"", "minutes": 90}, "windows": ["#
                                  + #"{"start": "2030-01-01T02:00:00Z", "end": "2030-01-01T03:00:00Z"}, "#
                                  + #"{"start": "2030-01-02T02:00:00Z", "end": "2030-01-02T03:00:00Z"}]}"#)
                #expect(windowList.status == 202, "\(windowList.body)")
                #expect(try await outcome(base, try #require(location(windowList.headers)))?["status"] as? String == "succeeded")
                let twoWindows = try await eventually(30) { () -> Bool? in
                    ((json(get(session, token: reader).body)["sync_schedule"] as? [String: Any])?["windows"] as? Int) == 2 ? true : nil
                }
                #expect(twoWindows == true, "the two listed windows are not on the session")
                let cleared = post("\(session)/schedule", token: writer, body: #"<action><clear>true</clear></action>"#, type: "application/xml")
                #expect(cleared.status == 202, "\(cleared.body)")
                let unscheduled = try await eventually(30) { () -> Bool? in
                    json(get(session, token: reader).body)["sync_schedule"] == nil ? true : nil
                }
                #expect(unscheduled == true, "the cleared schedule is still shown")
                // An admin token's change of an option gsyncd runs: the worker grants it (the API's
                // RabbitMQ user is listed), gluster applies it, and the history says whose grant it was.
                let ssh = post("\(session)/setoption", token: adminToken, body: #"{"option": {"name": "ssh-command", "value": "/usr/bin/ssh"}}"#)
                #expect(ssh.status == 202, "\(ssh.body)")
                let sshAt = try #require(location(ssh.headers))
                #expect(try await outcome(base, sshAt)?["status"] as? String == "succeeded")
                let sshID = try #require(sshAt.split(separator: "/").last.map(String.init))
                let history = try await eventually(30) { () -> [String?]? in
                    try await database.run { (db) throws(PGError) -> [String?]? in
                        try db.execute("""
                            SELECT granted_to, option_name, option_kind, option_value, sender FROM georep_commands
                            WHERE command_id = $1 AND granted_to IS NOT NULL
                            """, [sshID]).rows.first
                    }
                }
                #expect(history == [try AMQPConfiguration(url: env.amqpURL).user, "ssh-command", "executing", "/usr/bin/ssh", "georep-api (admin token)"],
                        "\(String(describing: history))")
                // A running session is not deleted without stop_first.
                #expect(post(session, token: writer, method: "DELETE").status == 409)
                let deleted = post("\(session)?stop_first=true", token: writer, method: "DELETE")
                #expect(deleted.status == 202)
                #expect(try await outcome(base, try #require(location(deleted.headers)))?["status"] as? String == "succeeded")
                let gone = try await eventually(30) { get(session, token: reader).status == 404 ? true : nil }
                #expect(gone == true)

                // Request logs carry the command id of an action.
                let command = try #require(location(deleted.headers)?.split(separator: "/").last.map(String.init))
                let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                #expect(logText.contains("command_id=\(command)"), "the request log does not name the command")
                #expect(!logText.contains(writer) && !logText.contains(reader), "a token appeared in the log")

                // What each process did shows on its /metrics.
                let worker = get("http://127.0.0.1:\(ports.worker)/metrics", accept: "text/plain").body
                let persister = get("http://127.0.0.1:\(ports.persister)/metrics", accept: "text/plain").body
                let api = get("\(base)/metrics", accept: "text/plain").body
                for (action, outcome, count) in [("create", "succeeded", 1.0), ("start", "succeeded", 1), ("config.set", "succeeded", 2), ("delete", "succeeded", 1),
                                                 ("checkpoint", "succeeded", 1), ("schedule", "succeeded", 3)] {
                    #expect(metric(worker, "georep_commands_total", ["action": action, "outcome": outcome]) == count, "\(action) in \(worker)")
                }
                #expect(metric(worker, "georep_gluster_cli_seconds_count", ["operation": "create", "transport": "local"]) == 1)
                #expect((metric(worker, "georep_gluster_cli_seconds_count", ["operation": "status-detail", "transport": "local"]) ?? 0) >= 4)
                #expect(metric(worker, "georep_command_overhead_seconds_count", [:]) == 9)  // six commands and three schedules
                #expect((metric(worker, "georep_events_published_total", ["type": "georep.command.succeeded"]) ?? 0) >= 4)
                #expect(metric(worker, "georep_worker_shards", [:]) == 2)
                #expect(metric(worker, "georep_sessions", ["status": "ACTIVE"]) != nil)
                #expect((metric(persister, "georep_persister_batch_size_count", [:]) ?? 0) >= 1)
                #expect(metric(persister, "georep_persister_lag_seconds", [:]) != nil)
                #expect((metric(api, "georep_http_request_seconds_count", ["status": "202"]) ?? 0) >= 4)
            }

            // Broker down: actions answer 503 (nothing was sent), reads keep working, not ready.
            try await withAPI(lab, services: false, amqpURL: "amqp://georep:georep@127.0.0.1:1/georep") { base, _ in
                let sessions = "\(base)/api/clusters/\(cluster)/glustervolumes/pvol1/georeplication-sessions"
                #expect(get(sessions, token: reader).status == 200)
                let refused = post(sessions, token: writer, body: #"{"host": "standin", "slavevolume": "svol2"}"#)
                #expect(refused.status == 503 && json(refused.body)["code"] as? String == "broker_unavailable", "\(refused.body)")
                let notReady = try await eventually(15) { try await httpStatus("\(base)/health/ready") == 503 ? true : nil }
                #expect(notReady == true)
            }
        } catch {
            failure = error
        }
        await lab.tearDown(admin, database: database)
        await admin.close()
        if let failure { throw failure }
    }

    /// Options gsyncd runs or keeps its state by need an admin token: a write token gets a 403 for
    /// each and nothing reaches RabbitMQ; an admin token's change is published under the API's
    /// AMQP user (which the workers grant by) and logged with the token's role.
    @Test(.timeLimit(.minutes(4)))
    func executingOptionsNeedAnAdminTokenAndAWriteTokenPublishesNothing() async throws {
        let (lab, admin, database) = try await StandinLab.withDatabase(env, name: "api grant tests")
        let cluster = lab.clusters[0]
        let ref = SessionRef(cluster: cluster, primaryVolume: "mvol", secondaryHost: "standin", secondaryVolume: "svol")
        try await database.run { (db) throws(PGError) in
            try db.transaction { () throws(PGError) in
                _ = try EventStoreFixture.apply(ref, in: db)
            }
        }
        let labUser = try AMQPConfiguration(url: env.amqpURL).user
        var failure: Error?
        do {
            try await withAPI(lab, services: false) { base, log in
                let session = "\(base)/api/clusters/\(cluster)/glustervolumes/mvol/georeplication-sessions/\(ref.sessionID.uuidString.lowercased())"
                _ = try await eventually(30) { get(session, token: reader).status == 200 ? true : nil }
                func queued() async throws -> Int {
                    var n = 0
                    for queue in lab.topology.shardQueues { n += try await admin.messageCount(queue: queue) }
                    return n
                }
                func value(_ option: GeoRepOption) -> String {
                    switch option.form {
                    case .directory: "/usr/local/sbin"
                    case .program: "/usr/bin/ssh"
                    default: "x"
                    }
                }
                func code(_ answer: (status: Int, body: String, headers: String)) -> String { json(answer.body)["code"] as? String ?? "-" }
                // Every option that needs the grant, set (XML, as oVirt sends it) and reset (JSON), by its
                // name of today and GlusterFS 7's.
                let needGrant = GeoRepOption.all.filter { $0.kind.needsGrant }
                #expect(needGrant.count >= 20)
                for option in needGrant {
                    for name in [option.name] + option.aliases {
                        let set = post("\(session)/setoption", token: writer,
                                       body: #"<action><option name="\#(name)" value="\#(value(option))"/></action>"#, type: "application/xml")
                        #expect(set.status == 403 && code(set) == "option_not_allowed", "set \(name): \(set.status) \(set.body)")
                        let reset = post("\(session)/resetoption", token: writer, body: #"{"option": {"name": "\#(name)"}}"#)
                        #expect(reset.status == 403 && code(reset) == "option_not_allowed", "reset \(name): \(reset.status) \(reset.body)")
                    }
                }
                // The issue's own request: a write token, a command for gsyncd to run.
                let issue = post("\(session)/setoption", token: writer, body: #"<action><option name="ssh-command" value="sh -c id"/></action>"#,
                                 type: "application/xml")
                #expect(issue.status == 403, "\(issue.body)")
                #expect(json(issue.body)["detail"].map { "\($0)" }?.contains("admin role") == true, "\(issue.body)")
                #expect(post("\(session)/setoption", token: reader, body: #"{"option": {"name": "ssh-command", "value": "ssh"}}"#).status == 403)
                // Unknown and fixed options are no one's: 400.
                for name in ["frobnicate", "pid-file", "log_file", "master-bricks"] {
                    let r = post("\(session)/setoption", token: adminToken, body: #"{"option": {"name": "\#(name)", "value": "1"}}"#)
                    #expect(r.status == 400 && code(r) == "invalid_value", "\(name): \(r.status) \(r.body)")
                }
                #expect(try await queued() == 0, "a refused option change was published")

                // Tuning is the write role's; an executing option is the admin role's.
                let tuning = post("\(session)/setoption", token: writer, body: #"{"option": {"name": "sync-jobs", "value": "5"}}"#)
                #expect(tuning.status == 202, "\(tuning.body)")
                let granted = post("\(session)/setoption", token: adminToken, body: #"<action><option name="ssh-command" value="sh -c id"/></action>"#,
                                   type: "application/xml")
                #expect(granted.status == 202, "\(granted.body)")
                let reset = post("\(session)/resetoption", token: adminToken, body: #"{"option": {"name": "ssh-options"}}"#)
                #expect(reset.status == 202, "\(reset.body)")
                let published = try await eventually(10) { () -> Int? in
                    let n = try await queued()
                    return n >= 3 ? n : nil
                }
                #expect(published == 3, "published: \(String(describing: published))")

                // Published under the API's AMQP user, with the token's role as the sender.
                let peek = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep api grant peek", logger: logger)
                try await peek.open()
                var commands: [(Command, String?)] = []
                for try await delivery in try await peek.consume(queues: lab.topology.shardQueues, prefetch: 10) {
                    commands.append((try MessageCodec.decodeCommand(delivery.body), delivery.properties.userId))
                    if commands.count == 3 { break }
                }
                await peek.close()
                let ssh = try #require(commands.first { $0.0.options.key == "ssh-command" })
                #expect(ssh.1 == labUser, "user_id \(String(describing: ssh.1))")
                #expect(ssh.0.sender == "georep-api (admin token)")
                #expect(commands.first { $0.0.options.key == "sync-jobs" }?.0.sender == "georep-api (write token)")

                // The audit line: at notice level, with the role and the AMQP user.
                let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                let audit = logText.split(separator: "\n").filter { $0.contains("admin grant") }
                #expect(audit.count == 2, "\(audit)")
                #expect(audit.allSatisfy { $0.contains("notice") && $0.contains("token_role=admin") && $0.contains("amqp_user=\(labUser)") }, "\(audit)")
                #expect(audit.contains { $0.contains("option=ssh-command") && $0.contains("sh -c id") })
                #expect(!logText.contains(adminToken) && !logText.contains(writer), "a token appeared in the log")
            }
        } catch {
            failure = error
        }
        await lab.tearDown(admin, database: database)
        await admin.close()
        if let failure { throw failure }
    }

    @Test(.timeLimit(.minutes(8)))
    func schemathesisFindsNoServerErrorAndNothingThatContradictsTheSpec() async throws {
        // The API alone on a topology of its own (no worker: generated commands are never run),
        // with a session of its own in PostgreSQL for the generator to find.
        let (lab, admin, database) = try await StandinLab.withDatabase(env, name: "schemathesis", migrate: false)
        let cluster = lab.clusters[0]
        let ref = SessionRef(cluster: cluster, primaryVolume: "mvol", secondaryHost: "standin", secondaryVolume: "svol")
        try await database.run { (db) throws(PGError) in
            try db.transaction { () throws(PGError) in
                _ = try EventStoreFixture.apply(ref, in: db)
            }
        }
        var failure: Error?
        do {
            try await withAPI(lab, services: false) { base, _ in
                let spec = StandinLab.repository.appendingPathComponent("Schemas/openapi.yaml").path
                // The document's examples name the lab; point them at this test's cluster and session.
                var text = try String(contentsOfFile: spec, encoding: .utf8)
                text = text.replacingOccurrences(of: "      example: lab\n", with: "      example: \(cluster)\n")
                text = text.replacingOccurrences(of: "      schema: {type: string, format: uuid}\n    force:",
                                                 with: "      schema: {type: string, format: uuid}\n      example: \(ref.sessionID.uuidString.lowercased())\n    force:")
                let copy = lab.root.appendingPathComponent("openapi.yaml")
                try text.write(to: copy, atomically: true, encoding: .utf8)
                let run = runCommandCapturing([
                    "schemathesis", "run", copy.path, "--url", base, "-H", "Authorization: Bearer \(writer)",
                    "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                    "--max-examples", "40", "--seed", "1", "--no-color",
                ])
                let summary = run.output.split(separator: "\n").filter { $0.contains("generated") || $0.contains("failed") || $0.contains("passed") }
                print("schemathesis: \(summary.joined(separator: " | "))")
                #expect(run.status == 0, "schemathesis found problems:\n\(run.output.suffix(4000))")
            }
        } catch {
            failure = error
        }
        await lab.tearDown(admin, database: database)
        await admin.close()
        if let failure { throw failure }
    }
}
}

/// A session written straight into PostgreSQL (through the persister's own store), for tests
/// that need one without a worker.
enum EventStoreFixture {
    static func apply(_ ref: SessionRef, in db: PGSession) throws(PGError) -> Set<UUID> {
        let volumeID = UUID().uuidString.lowercased()
        let observation = Observation(seq: 10, at: Date(), cause: .monitor)
        let bricks = ["/bricks/b1", "/bricks/b2"].map { path in
            BrickDetail(brickId: StableID.brick(volumeID: volumeID, host: "standin", path: path), primaryNode: "standin", primaryBrick: path,
                        secondaryHost: ref.secondaryHost, status: .active, rawStatus: "Active", crawlStatus: "Changelog Crawl",
                        entry: 0, data: 0, meta: 0, failures: 0)
        }
        return try EventStore().apply(batch: [
            .clusterInventory(ClusterInventory(cluster: ref.cluster, volumes: [
                ClusterInventory.Volume(id: volumeID, name: ref.primaryVolume, status: "Started",
                                        bricks: bricks.map { ClusterInventory.Brick(id: $0.brickId!, host: "standin", path: $0.primaryBrick, hostUuid: nil) }),
            ], sessionIds: nil, observation: observation)),
            .sessionSnapshot(SessionSnapshot(session: ref, sessionKey: nil, primaryVolumeId: volumeID, secondaryVolumeId: nil, status: .active,
                                             bricks: bricks, options: ["sync_jobs": "3", "use_meta_volume": "false"], observation: observation)),
        ], in: db)
    }
}
