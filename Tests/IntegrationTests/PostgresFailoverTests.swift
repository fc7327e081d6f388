import AMQP
import Foundation
import GeoRepCore
import Logging
import Postgres
import Testing

extension Integration.PersisterTests {
    /// A primary with a synchronous standby (ops/pg-pair.sh; issue 18): the primary's postmaster
    /// killed with -9 while a persister process writes a stream of events, the standby promoted.
    /// Every event the persister acked is on the new primary, none twice, and the API — on the
    /// same libpq host list — answers from the new primary within seconds. A second API with
    /// `target_session_attrs=prefer-standby` reads from the standby and says so in its
    /// readiness, then (its standby promoted) says it reads from a primary.
    @Test(.timeLimit(.minutes(6)))
    func aPrimaryKilledMidStreamLosesNothingAckedAndTheAPIFollowsThePromotion() async throws {
        let pair = StandinLab.repository.appendingPathComponent("ops/pg-pair.sh").path
        #expect(runCommand([pair, "down"]) == 0)
        try #require(runCommand([pair, "up"]) == 0, "ops/pg-pair.sh up failed")
        let url = "postgresql://georep:georep@127.0.0.1:55442,127.0.0.1:55443/georep?target_session_attrs=read-write&connect_timeout=5"
        let database = PGConnection(url: url, name: "failover tests", logger: logger)
        var failure: Error?
        do {
            _ = try await Migrator(directory: TestEnvironment.schemasDirectory, logger: logger).migrate(database)
            try await withTopology { topology, admin in
                let sessions = 20
                try await apply((0..<sessions).map { snapshot(ref(100 + $0), seq: 1, status: .active) }, in: database)
                let events = statusStream(sessions: sessions, perSession: 60, base: 10)
                let (reader, port) = ("read-\(UUID().uuidString)", try freePort())
                let common = ["GEOREP_AMQP_URL": env.amqpURL, "GEOREP_PG_URL": url, "GEOREP_TOPOLOGY_PREFIX": topology.prefix]
                let persister = try spawnGeorep(["persister"], environment: common.merging(["GEOREP_HTTP": "127.0.0.1:\(try freePort())"]) { $1 })
                let api = try spawnGeorep(["api"], environment: common.merging([
                    "GEOREP_HTTP": "127.0.0.1:\(port)", "GEOREP_API_TOKENS": "\(reader):read",
                ]) { $1 })
                let standbyPort = try freePort()
                let standbyAPI = try spawnGeorep(["api"], environment: common.merging([
                    "GEOREP_PG_URL": url.replacingOccurrences(of: "read-write", with: "prefer-standby"),
                    "GEOREP_HTTP": "127.0.0.1:\(standbyPort)", "GEOREP_API_TOKENS": "\(reader):read",
                ]) { $1 })
                defer { stop(persister); stop(api); stop(standbyAPI) }
                let sessionsURL = "http://127.0.0.1:\(port)/api/clusters/\(cluster)/glustervolumes/vol100/georeplication-sessions"
                let before = try await eventually(30) { try await httpStatus(sessionsURL, token: reader) == 200 ? true : nil }
                #expect(before == true, "the API did not answer from the first primary")
                func readsFrom(_ port: Int) -> String? {
                    let ready = runCommandCapturing(["curl", "-s", "--max-time", "5", "http://127.0.0.1:\(port)/health/ready"]).output
                    let object = try? JSONSerialization.jsonObject(with: Data(ready.utf8)) as? [String: Any]
                    return (object?["servers"] as? [String: String])?["postgres"]
                }
                let standbyRead = try await eventually(30) { readsFrom(standbyPort) == "standby 127.0.0.1:55443" ? true : nil }
                #expect(standbyRead == true, "the prefer-standby API says it reads from \(readsFrom(standbyPort) ?? "nothing")")
                #expect(readsFrom(port) == "primary 127.0.0.1:55442", "the read-write API says it reads from \(readsFrom(port) ?? "nothing")")
                let standbySessions = sessionsURL.replacingOccurrences(of: ":\(port)/", with: ":\(standbyPort)/")
                let fromStandby = try await eventually(30) { try await httpStatus(standbySessions, token: reader) == 200 ? true : nil }
                #expect(fromStandby == true, "the prefer-standby API did not answer from the standby")

                let bus = GeoRepBus(connection: admin, source: "tests", topology: topology)
                var failover: Task<Int32, Never>?
                var failedOverAt: Date?
                for (i, event) in events.enumerated() {
                    try await bus.publish(event)
                    if i == events.count / 3 {
                        failover = Task.detached { runCommand([pair, "failover"]) }
                    }
                    if failover != nil { try await Task.sleep(for: .milliseconds(2)) }
                }
                #expect(await failover?.value == 0, "ops/pg-pair.sh failover failed")
                failedOverAt = Date()
                let all = try await eventually(120) { try await historyCount(sessions: sessions, in: database) >= events.count ? true : nil }
                #expect(all == true, "not every event reached the new primary")
                #expect(try await historyCount(sessions: sessions, in: database) == events.count, "every transition exactly once")
                #expect(try await admin.messageCount(queue: topology.persisterQueue) == 0, "events left unacked")
                let server = try await scalar("SELECT pg_is_in_recovery()::text || ' ' || current_setting('port')", in: database)
                #expect(server == "false 55443", "the writes went to \(server ?? "nothing"), not the promoted standby")
                let answered = try await eventually(30) { try await httpStatus(sessionsURL, token: reader) == 200 ? Date() : nil }
                #expect(answered != nil, "the API did not answer from the new primary")
                let promoted = try await eventually(30) { readsFrom(standbyPort) == "primary 127.0.0.1:55443" ? true : nil }
                #expect(promoted == true, "after the promotion the prefer-standby API says \(readsFrom(standbyPort) ?? "nothing")")
                if let answered, let failedOverAt {
                    print("failover: \(events.count) transitions, all stored once on the promoted standby; the API answered "
                          + "\(String(format: "%.1f", answered.timeIntervalSince(failedOverAt))) s after the stream ended")
                }
            }
        } catch {
            failure = error
        }
        await database.close()
        #expect(runCommand([pair, "down"]) == 0)
        if let failure { throw failure }
    }
}
