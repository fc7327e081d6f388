import Foundation
import GeoRepCore
import Postgres
import Testing

/// s1, the secondary pool, off the network (issue 17, test 4), seen through the webhooks of
/// every primary node: two real `georep worker` processes whose monitors would not look for ten
/// minutes, registered with p1's and p2's glustereventsd by ops/gluster-pools.sh.
extension Integration.MultiNodeLabTests {
    @Test(.timeLimit(.minutes(12)))
    func theSecondaryOffTheNetworkIsSeenWithinTwoSecondsThroughTheWebhooks() async throws {
        let ref = SessionRef(cluster: "pool", primaryVolume: "rvol", secondaryHost: "s1", secondaryVolume: "srvol")
        Self.removeByHand("rvol", "s1::srvol")
        try Self.freshBricks("rvol")
        let token = "hook-\(UUID().uuidString)"
        // The test's own receiver, registered first: when glustereventsd posted each event.
        let catcher = try WebhookCatcher(port: try freePort())
        var urls = [catcher.url]
        defer {
            for url in urls { Self.pools(["webhook", "del", url]) }
            catcher.stop()
        }
        try #require(Self.pools(["webhook", "add", catcher.url, token]).status == 0)
        try await InProcessServices.with(env, prefix: "w", inventoryPath: env.poolsInventoryPath, worker: false) { services in
            let client = services.client
            var workers: [(pid: pid_t, url: String, log: URL)] = []
            defer { for worker in workers { stop(worker.pid) } }
            for i in 1...2 {
                let port = try freePort()
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("georep-hook-worker\(i)-\(UUID().uuidString.prefix(8)).log")
                let pid = try spawnGeorep(["worker"], environment: [
                    "GEOREP_TOPOLOGY_PREFIX": services.topology.prefix, "GEOREP_SHARDS": "\(services.topology.shards)",
                    "GEOREP_INVENTORY": env.poolsInventoryPath, "GEOREP_MONITOR_INTERVAL": "600", "GEOREP_HEARTBEAT_INTERVAL": "0.5",
                    "GEOREP_HTTP": "198.18.0.1:\(port)", "GEOREP_WEBHOOK_TOKENS": token, "GEOREP_LOG_LEVEL": "info",
                ], output: log)
                workers.append((pid, "http://198.18.0.1:\(port)/webhooks/glusterfs/pool", log))
                let ready = try await eventually(60) { try await httpStatus("http://198.18.0.1:\(port)/health/ready") == 200 ? true : nil }
                try #require(ready == true, "worker \(i) never became ready: \(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self).suffix(1500))")
                try #require(Self.pools(["webhook", "add", workers[i - 1].url, token]).status == 0)
                urls.append(workers[i - 1].url)
            }
            func run(_ action: CommandAction, _ options: CommandOptions = CommandOptions()) async throws {
                let result = try await client.run(Command(action: action, session: ref, options: options, sender: "tests"), timeout: 180)
                #expect(result.outcome == .succeeded, "\(action.rawValue): \(result.message)")
            }
            try await run(.create, CommandOptions(force: true))
            try await run(.start)
            // Active through the webhooks alone (GEOREP_ACTIVE / PASSIVE): no monitor round comes.
            #expect(try await sessionStatus(services.database, ref, in: ["ACTIVE"], seconds: 120) == "ACTIVE",
                    "the session never showed ACTIVE (no monitor round for 600 s: only a webhook could tell)")

            // One event posted to both workers (as glustereventsd does) is one refresh.
            let body = #"{"event": "GEOREP_CHECKPOINT_COMPLETED", "message": {"primary_volume": "rvol", "secondary_host": "s1", "secondary_volume": "srvol", "brick_path": "/bricks/rvol"}, "nodeid": "\#(try Self.glusterdUUID("p1"))", "ts": \#(Int(Date().timeIntervalSince1970))}"#
            let ids = workers.map { worker -> String in
                let reply = runCommandCapturing(["curl", "-s", "--max-time", "10", "-H", "Authorization: Bearer \(token)",
                                                 "-H", "Content-Type: application/json", "--data-binary", body, worker.url]).output
                return reply.split(separator: " ").first { $0.count == 36 && $0.filter { $0 == "-" }.count == 4 }.map(String.init) ?? reply
            }
            #expect(ids.count == 2 && ids[0] == ids[1], "the copies of one event got different refreshes: \(ids)")
            var results = 0
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                      case .commandResult(let result) = event, result.commandId?.uuidString.lowercased() == ids.first else { continue }
                results += 1
            }
            #expect(results == 1, "one webhook event posted to two workers made \(results) refresh results")
            let answered = workers.contains { worker in
                String(decoding: (try? Data(contentsOf: worker.log)) ?? Data(), as: UTF8.self)
                    .split(separator: "\n").contains { $0.contains(ids[0]) && $0.contains("command seen before") }
            }
            #expect(answered, "neither worker answered the second copy from its journal")

            // s1 unplugged: gsyncd's workers go Faulty (~50 s on this lab: its keep-alive), and
            // glustereventsd of p1 and p2 post GEOREP_FAULTY.
            while await client.nextEvent(timeout: 0.2) != nil {}
            let unplugged = Date()
            try #require(Self.pools(["unplug", "s1"]).status == 0)
            var failure: Error?
            do {
                let watcher = RowWatcher(url: env.postgresURL, ref: ref, wanted: ["FAULTY", "PARTIAL_FAULTY"])
                let rowSeen = Task { try await watcher.firstSeen(seconds: 240) }
                var statuses: [(at: Date, change: SessionStatusChanged)] = []
                let end = Date().addingTimeInterval(240)
                while Date() < end, !statuses.contains(where: { $0.change.to == .faulty }) {
                    guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                          case .sessionStatusChanged(let change) = event, change.sessionId == ref.sessionID else { continue }
                    statuses.append((Date(), change))
                }
                let row = try await rowSeen.value
                let first = try #require(statuses.first { [.faulty, .partialFaulty].contains($0.change.to) },
                                         "no Faulty status event within 240 s of the unplug")
                let posted = try #require(catcher.first("GEOREP_FAULTY", after: unplugged), "glustereventsd posted no GEOREP_FAULTY")
                let toEvent = first.at.timeIntervalSince(posted)
                let toRow = try #require(row, "the row never showed FAULTY or PARTIAL_FAULTY").timeIntervalSince(posted)
                print(String(format: "s1 unplugged: GEOREP_FAULTY posted after %.1f s; status event %@ %.2f s and row %.2f s after the post",
                             posted.timeIntervalSince(unplugged), first.change.to.rawValue, toEvent, toRow))
                #expect(toEvent <= 2, "the status event came \(toEvent) s after glustereventsd's post")
                #expect(toRow <= 2, "the row showed it \(toRow) s after glustereventsd's post")
                #expect(first.change.observation.cause.commandId != nil, "the change did not come from a webhook's refresh")
                #expect(statuses.contains { $0.change.to == .faulty }, "the session did not go FAULTY: \(statuses.map { $0.change.to.rawValue })")
            } catch {
                failure = error
            }
            try #require(Self.pools(["plug", "s1"]).status == 0)
            if let failure { throw failure }
            let plugged = Date()
            var back: Date?
            let end = Date().addingTimeInterval(180)
            while Date() < end, back == nil {
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                      case .sessionStatusChanged(let change) = event, change.sessionId == ref.sessionID, change.to == .active else { continue }
                back = Date()
            }
            let active = try #require(back, "the session did not return to ACTIVE within 180 s of s1's return")
            let posted = catcher.first("GEOREP_ACTIVE", after: plugged)
            print(String(format: "s1 back: ACTIVE %.1f s after the plug%@", active.timeIntervalSince(plugged),
                         posted.map { String(format: ", %.2f s after GEOREP_ACTIVE was posted", active.timeIntervalSince($0)) } ?? ""))
            try await run(.stop)
            try await run(.delete, CommandOptions(resetSyncTime: true))   // no stale sync time for the next session on these bricks
        }
    }
}

/// A webhook receiver of the test's own (python3's http.server on the lab's bridge address):
/// when each event was posted, to the millisecond.
struct WebhookCatcher {
    let url: String
    let file: URL
    let process: Process

    init(port: Int) throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-catcher-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        url = "http://198.18.0.1:\(port)/catch"
        let script = """
        import http.server, sys, time
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                with open(sys.argv[2], 'a') as f: f.write('%.3f %s\\n' % (time.time(), body.decode(errors='replace').replace('\\n', ' ')))
                self.send_response(200); self.end_headers()
            def log_message(self, *a): pass
        http.server.HTTPServer(('198.18.0.1', int(sys.argv[1])), H).serve_forever()
        """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, "\(port)", file.path]
        try process.run()
        Thread.sleep(forTimeInterval: 0.5)
    }

    /// When the first `event` after `after` was posted.
    func first(_ event: String, after: Date) -> Date? {
        let text = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let at = Double(line[..<space]), line.contains("\"\(event)\""),
                  at >= after.timeIntervalSince1970 else { continue }
            return Date(timeIntervalSince1970: at)
        }
        return nil
    }

    /// SIGKILL: a child of the test process inherits its ignored SIGTERM (python3 went on).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
    }
}

/// Polls a session's row on a connection of its own: when its status first was one of `wanted`.
struct RowWatcher: Sendable {
    let url: String
    let ref: SessionRef
    let wanted: Set<String>

    func firstSeen(seconds: Double) async throws -> Date? {
        let db = PGConnection(url: url, name: "tests row watcher", logger: TestEnvironment.logger)
        defer { Task { await db.close() } }
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let status = try await sessionRow(db, ref)?["status"], wanted.contains(status) { return Date() }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
