import AMQP
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GeoRepCore
import Logging
import Postgres
import Testing

/// What users and operators see, against the real RabbitMQ and PostgreSQL with a worker on the
/// stand-in gluster (never the lab): the design's XML read by element names, one spelling of
/// every id across event, row and API, the create's answer naming its session, the subscriber
/// example, `georep status --json`, and HTTP/1.0 answered and closed.
extension Integration {
@Suite(.serialized) struct OperatorViewTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger
    let writer = "writer-\(UUID().uuidString)"
    let reader = "reader-\(UUID().uuidString)"

    init() throws { env = try TestEnvironment.load() }

    @Test(.timeLimit(.minutes(6)))
    func usersSeeTheDesignsXMLOneSpellingOfEveryIdAndTheFleet() async throws {
        let (lab, admin, database) = try await StandinLab.withDatabase(env, name: "operator view tests")
        let cluster = lab.clusters[0]
        lab.touchVolumes(["pvol1", "svol1"])
        var pids: [pid_t] = []
        var subscriber: Process?
        var watch: Process?
        var failure: Error?
        do {
            let apiPort = try freePort(), workerPort = try freePort()
            pids.append(try lab.spawnWorker(extra: ["GEOREP_HTTP": "127.0.0.1:\(workerPort)"]))
            pids.append(try spawnGeorep(["persister"], environment: ["GEOREP_TOPOLOGY_PREFIX": lab.topology.prefix,
                                                                   "GEOREP_SHARDS": String(lab.topology.shards)]))
            pids.append(try spawnGeorep(["api"], environment: [
                "GEOREP_TOPOLOGY_PREFIX": lab.topology.prefix, "GEOREP_SHARDS": String(lab.topology.shards),
                "GEOREP_HTTP": "127.0.0.1:\(apiPort)", "GEOREP_API_TOKENS": "\(writer):write,\(reader):read",
            ]))
            let base = "http://127.0.0.1:\(apiPort)"
            _ = try await eventually(30) { try await httpStatus("\(base)/health/live") == 200 ? true : nil }
            _ = try await eventually(30) { try await httpStatus("http://127.0.0.1:\(workerPort)/health/live") == 200 ? true : nil }

            // HTTP/1.0 (ApacheBench, probes) is answered and the connection closed; HTTP/1.1 and an
            // HTTP/1.0 keep-alive keep it; Connection: close closes it. On the API and on a worker.
            for port in [apiPort, workerPort] {
                let r10 = rawHTTP(port: port, requests: ["GET /health/live HTTP/1.0\r\n\r\n"])
                #expect(r10.statusLines == ["HTTP/1.1 200 OK"] && r10.closed, "HTTP/1.0 on \(port): \(r10)")
                #expect(r10.headers.contains("connection: close"), "HTTP/1.0 on \(port): \(r10)")
                let r11 = rawHTTP(port: port, requests: ["GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"])
                #expect(r11.statusLines.count == 2 && !r11.closed, "HTTP/1.1 on \(port): \(r11)")
                let keep = rawHTTP(port: port, requests: ["GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                                                          "GET /health/live HTTP/1.0\r\n\r\n"])
                #expect(keep.statusLines.count == 2 && keep.closed, "HTTP/1.0 keep-alive on \(port): \(keep)")
                let close = rawHTTP(port: port, requests: ["GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
                #expect(close.statusLines.count == 1 && close.closed, "Connection: close on \(port): \(close)")
            }

            // The subscriber example, bound before anything happens.
            let output = lab.root.appendingPathComponent("watch.jsonl")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            watcher.arguments = ["python3", StandinLab.repository.appendingPathComponent("examples/watch_status.py").path,
                                 "--bricks", "--json", "--exchange", "\(lab.topology.prefix).events"]
            watcher.environment = ProcessInfo.processInfo.environment.merging(["GEOREP_AMQP_URL": env.amqpURL]) { $1 }
            let handle = try FileHandle(forWritingTo: output)
            watcher.standardOutput = handle
            let errors = Pipe()
            watcher.standardError = errors
            try watcher.run()
            subscriber = watcher
            // It says when it is bound.
            let bound = try await eventually(20) { () -> Bool? in
                errors.fileHandleForReading.availableData.isEmpty ? nil : true
            }
            #expect(bound == true, "watch_status.py did not start")

            // Create through the API; its command resource then links the session it made.
            let sessions = "\(base)/api/clusters/\(cluster)/glustervolumes/pvol1/georeplication-sessions"
            let created = curl(["-X", "POST", "-D", "-", "-H", "Authorization: Bearer \(writer)", "-H", "Accept: application/json",
                                "-H", "Content-Type: application/json", "--data-binary", #"{"host": "standin", "slavevolume": "svol1"}"#, sessions])
            let ref = SessionRef(cluster: cluster, primaryVolume: "pvol1", secondaryHost: "standin", secondaryVolume: "svol1")
            let id = ref.sessionID.uuidString.lowercased()
            #expect(created.body.contains(#""session_id" : "\#(id)""#), "the 202 names the session id: \(created.body)")
            let commandPath = try #require(created.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }?
                .dropFirst("location:".count).trimmingCharacters(in: .whitespaces))
            let done = try await eventually(60) { () -> [String: Any]? in
                let command = json(get(base + commandPath).body)
                return command["status"] as? String == "pending" ? nil : command
            }
            #expect(done?["status"] as? String == "succeeded", "\(String(describing: done))")
            let linked = (done?["georeplication-session"] as? [String: Any])?["href"] as? String
            let volumeID = try #require(try await database.run { (db) throws(PGError) in
                try db.execute("SELECT master_volume_id::text FROM gluster_georep_session WHERE session_id = $1", [id]).rows.first?[0] ?? nil
            })
            #expect(linked == "/api/clusters/\(cluster)/glustervolumes/\(volumeID)/georeplication-sessions/\(id)", "\(String(describing: done))")
            #expect(get("\(base)\(linked ?? "/none")").status == 200)

            // georep status --watch (piped: plain views one after another) redraws on the changes.
            let watchOutput = lab.root.appendingPathComponent("status-watch.txt")
            _ = FileManager.default.createFile(atPath: watchOutput.path, contents: nil)
            watch = try spawnGeorepProcess(["status", "--watch", "--cluster", cluster], environment: [:], output: watchOutput)
            // Its first view before the start: a watch that came up late on a busy machine drew
            // ACTIVE first and never showed NOTSTARTED (a CI run).
            let firstView = try await eventually(20) { () -> Bool? in
                ((try? String(contentsOf: watchOutput, encoding: .utf8)) ?? "").contains("NOTSTARTED") ? true : nil
            }
            #expect(firstView == true, "georep status --watch drew no first view with the session NOTSTARTED")

            let start = curl(["-X", "POST", "-H", "Authorization: Bearer \(writer)", "\(sessions)/\(id)/start"])
            #expect(start.status == 202, "\(start.body)")
            let active = try await eventually(40) { json(get("\(sessions)/\(id)").body)["status"] as? String == "ACTIVE" ? true : nil }
            #expect(active == true)
            let redrawn = try await eventually(20) { () -> String? in
                let text = (try? String(contentsOf: watchOutput, encoding: .utf8)) ?? ""
                return text.contains("NOTSTARTED") && text.contains("pvol1 → root@standin::svol1  ACTIVE") ? text : nil
            }
            #expect(redrawn != nil, "georep status --watch did not redraw from NOTSTARTED to ACTIVE")

            // One spelling of every id: the subscriber's event, the row and the API agree byte for byte.
            let events = try await eventually(30) { () -> [[String: Any]]? in
                let lines = ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n")
                let parsed = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                let types = Set(parsed.compactMap { $0["type"] as? String })
                return types.isSuperset(of: ["georep.session.status_changed", "georep.brick.status_changed"])
                    && parsed.contains { (($0["data"] as? [String: Any])?["to"] as? String) == "ACTIVE" } ? parsed : nil
            }
            let change = try #require(events?.first { $0["type"] as? String == "georep.session.status_changed" }?["data"] as? [String: Any],
                                      "the subscriber saw no session change")
            let brickChange = try #require(events?.first { $0["type"] as? String == "georep.brick.status_changed" }?["data"] as? [String: Any])
            let eventSession = try #require(change["session_id"] as? String)
            let eventBrick = try #require(brickChange["brick_id"] as? String)
            let rows = try await database.run { (db) throws(PGError) in
                (try db.execute("SELECT session_id::text FROM gluster_georep_session WHERE session_id::text = $1", [eventSession]).rows.count,
                 try db.execute("SELECT master_brick_id::text FROM gluster_georep_session_details WHERE master_brick_id::text = $1",
                                [eventBrick]).rows.count)
            }
            #expect(eventSession == id)
            #expect(rows.0 == 1 && rows.1 == 1, "the event's ids match no row without folding case: \(eventSession) \(eventBrick)")
            let shown = get("\(sessions)/\(id)", accept: "application/xml").body
            let parsed = DesignXML.parse(shown)
            #expect(parsed.root?.children.first?.name == "id" && parsed.root?.children.first?.text == eventSession, "\(shown)")
            #expect(parsed.root?.descendants("brick").contains { $0.attributes["id"] == eventBrick } == true, "\(shown)")

            // A client written from the design's XML reads it by element names.
            let root = try #require(parsed.root, "not XML: \(shown)")
            #expect(root.name == "georeplication-session")
            #expect(root.children.prefix(4).map(\.name) == ["id", "host", "slavevolume", "status"], "\(root.children.map(\.name))")
            #expect(root.child("host")?.text == "standin" && root.child("slavevolume")?.text == "svol1" && root.child("status")?.text == "ACTIVE")
            let details = root.child("session_details")?.children ?? []
            #expect(details.count == 2, "\(shown)")
            for detail in details {
                #expect(detail.name == "session_detail")
                #expect(detail.children.prefix(9).map(\.name) == ["id", "brick", "slaveNode", "status", "checkpoint_status", "crawl_status",
                                                                  "filesSkipped", "filesPending", "filesSynced"], "\(detail.children.map(\.name))")
                #expect(UUID(uuidString: detail.child("id")?.text ?? "") != nil && detail.child("id")?.text == detail.child("id")?.text.lowercased())
                #expect(detail.child("status")?.text == "ACTIVE" || detail.child("status")?.text == "PASSIVE")
            }
            #expect(Set(details.compactMap { $0.child("id")?.text }).count == 2, "each detail has its own id")
            let optionsXML = get("\(sessions)/\(id)/options", accept: "application/xml").body
            let options = DesignXML.parse(optionsXML).root?.children ?? []
            #expect(options.count >= 2, "\(optionsXML)")
            #expect(options.allSatisfy { $0.children.map(\.name) == ["id", "key", "value"] }, "\(optionsXML)")
            let optionIDs = options.compactMap { $0.child("id")?.text }
            #expect(Set(optionIDs).count == options.count && !optionIDs.contains(id), "options keyed by id stay apart: \(optionIDs)")

            // A result sent to reply_to names the session by its id (the pika example, a client not ours).
            let replied = runCommandCapturing(["python3", StandinLab.repository.appendingPathComponent("examples/publish_and_wait.py").path,
                                               "refresh", cluster, "pvol1", "standin", "svol1"],
                                              environment: ["GEOREP_AMQP_URL": env.amqpURL, "GEOREP_WAIT": "60",
                                                            "GEOREP_COMMANDS_EXCHANGE": "\(lab.topology.prefix).commands"])
            #expect(replied.status == 0 && replied.output.contains(#""session_id": "\#(id)""#), "\(replied.output)")

            // georep status --json against the rows.
            let status = runCommandCapturing([StandinLab.repository.appendingPathComponent(".build/debug/georep").path,
                                              "status", "--json", "--cluster", cluster])
            #expect(status.status == 0, "\(status.output)")
            let fleet = json(status.output)
            let clusters = fleet["clusters"] as? [[String: Any]] ?? []
            #expect(clusters.count == 1 && clusters.first?["cluster"] as? String == cluster, "\(status.output)")
            let listed = (clusters.first?["sessions"] as? [[String: Any]])?.first
            #expect(listed?["session_id"] as? String == id)
            #expect(listed?["status"] as? String == "ACTIVE")
            #expect(listed?["secondary"] as? String == "root@standin::svol1")
            let bricks = listed?["bricks"] as? [String: Int] ?? [:]
            #expect(bricks.values.reduce(0, +) == 2, "\(status.output)")
            #expect((listed?["last_command"] as? [String: Any])?["action"] as? String == "refresh", "the refresh just sent: \(status.output)")
            let plain = runCommandCapturing([StandinLab.repository.appendingPathComponent(".build/debug/georep").path, "status", "--cluster", cluster])
            #expect(plain.output.contains("pvol1 → root@standin::svol1") && plain.output.contains("ACTIVE") && !plain.output.contains("\u{1B}["),
                    "piped output is plain: \(plain.output)")
        } catch {
            failure = error
        }
        if let watch, watch.isRunning { watch.terminate(); kill(watch.processIdentifier, SIGKILL); watch.waitUntilExit() }
        if let subscriber, subscriber.isRunning {
            // SIGTERM ends the example (it handles it); SIGKILL if it has not gone within 10 s.
            subscriber.terminate()
            if try await eventually(10, { subscriber.isRunning ? nil : true }) == nil { kill(subscriber.processIdentifier, SIGKILL) }
            subscriber.waitUntilExit()
            #expect(subscriber.terminationStatus == 0, "watch_status.py did not end cleanly on SIGTERM")
        }
        for pid in pids { stop(pid) }
        await lab.tearDown(admin, database: database)
        await admin.close()
        if let failure { throw failure }
    }

    func get(_ url: String, accept: String = "application/json") -> (status: Int, body: String) {
        curl(["-H", "Accept: \(accept)", "-H", "Authorization: Bearer \(reader)", url])
    }

    func curl(_ arguments: [String]) -> (status: Int, body: String) {
        let out = runCommandCapturing(["curl", "-s", "--max-time", "20", "-w", "\n%{http_code}"] + arguments).output
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Sends `requests` one after another on one raw TCP connection (a client that is not ours:
    /// Python's socket module) and reports the status lines, the headers seen, and whether the
    /// server closed the connection within 3 s of the last answer.
    func rawHTTP(port: Int, requests: [String]) -> (statusLines: [String], headers: String, closed: Bool) {
        let script = """
            import json, re, socket, sys, time
            requests = json.loads(sys.argv[2])
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
            data = b""
            for r in requests:
                s.sendall(r.encode())
                deadline = time.time() + 3
                want = data.count(b"HTTP/1.") + 1
                while data.count(b"HTTP/1.") < want or not data.endswith(b"}"):
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
            closed = False
            try:
                s.settimeout(3)
                closed = s.recv(65536) == b""
            except socket.timeout:
                closed = False
            except ConnectionResetError:
                closed = True
            text = data.decode("latin-1")
            print(json.dumps({"status": re.findall(r"HTTP/1\\.[01] [0-9]{3}[^\\r]*", text), "headers": text.lower(), "closed": closed}))
            """
        let encoded = String(decoding: (try? JSONSerialization.data(withJSONObject: requests)) ?? Data("[]".utf8), as: UTF8.self)
        let out = runCommandCapturing(["python3", "-c", script, String(port), encoded]).output
        let result = json(out.split(separator: "\n").last.map(String.init) ?? "")
        return (result["status"] as? [String] ?? ["no answer: \(out)"], result["headers"] as? String ?? "", result["closed"] as? Bool ?? false)
    }
}
}

/// A small DOM from Foundation's XMLParser: what a client written from the design would use.
final class DesignXML: NSObject, XMLParserDelegate {
    final class Element {
        let name: String
        let attributes: [String: String]
        var children: [Element] = []
        var text = ""

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }

        func child(_ name: String) -> Element? { children.first { $0.name == name } }
        func descendants(_ name: String) -> [Element] { children.flatMap { ($0.name == name ? [$0] : []) + $0.descendants(name) } }
    }

    private var stack: [Element] = []
    private(set) var root: Element?

    static func parse(_ text: String) -> DesignXML {
        let document = DesignXML()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = document
        if !parser.parse() { document.root = nil }
        return document
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let element = Element(name: name, attributes: attributes)
        if let parent = stack.last { parent.children.append(element) } else { root = element }
        stack.append(element)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last?.text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if let last = stack.popLast() { last.text = last.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
