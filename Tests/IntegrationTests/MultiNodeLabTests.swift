import Foundation
import GeoRepCore
import Gluster
import Logging
import Postgres
import Testing

/// The multi-node lab (ops/gluster-pools.sh; issue 17): a primary pool of p1 and p2 with the
/// replica-2 volume rvol and the distributed dvol, a secondary pool s1, each host in its own
/// network and mount namespaces, the worker reaching the primary pool over ssh.
extension Integration {
@Suite(.serialized) struct MultiNodeLabTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger
    static let script = StandinLab.repository.appendingPathComponent("ops/gluster-pools.sh").path

    init() throws { env = try TestEnvironment.load() }

    /// `ops/gluster-pools.sh ARGS…`: its status and output.
    @discardableResult
    static func pools(_ arguments: [String]) -> (status: Int32, output: String) {
        runCommandCapturing([script] + arguments)
    }

    /// A command on a lab host (its namespaces), which must succeed.
    @discardableResult
    static func on(_ host: String, _ arguments: [String]) throws -> String {
        let run = pools(["exec", host] + arguments)
        try #require(run.status == 0, "\(arguments.joined(separator: " ")) on \(host) failed: \(run.output.suffix(1500))")
        return run.output
    }

    /// glusterd's own id of a host (`/var/lib/glusterd/glusterd.info`).
    static func glusterdUUID(_ host: String) throws -> String {
        let info = try on(host, ["cat", "/var/lib/glusterd/glusterd.info"])
        let line = try #require(info.split(separator: "\n").first { $0.hasPrefix("UUID=") })
        return String(line.dropFirst("UUID=".count)).lowercased()
    }

    /// A session of the pools as gluster has it, removed (stopped first) if it exists.
    static func removeByHand(_ primary: String, _ secondary: String) {
        for verb in [["stop", "force"], ["delete", "reset-sync-time"]] {
            pools(["exec", "p1", "gluster", "--mode=script", "volume", "geo-replication", primary, secondary] + verb)
        }
    }

    /// A fresh brick process for each brick of `volume`: a worker of a session started again on
    /// the same bricks sat in "Changelog Crawl" and synced nothing until its brick restarted
    /// (docs/lab.md, "Quirks"). A volume with no session running may be stopped and started.
    static func freshBricks(_ volume: String) throws { try restartVolume(volume, through: [script, "exec", "p1"]) }

    /// create (push-pem from p1 to s1 over ssh) and start through the service: each replica set
    /// shows one Active and one Passive brick, the session is ACTIVE, PostgreSQL holds both
    /// nodes' bricks with their own node name and glusterd id, and a file written through a FUSE
    /// mount on p1 reaches s1's brick, content and all. Then p1's glusterd dies and comes back.
    @Test(.timeLimit(.minutes(12)))
    func aReplicaPairIsActiveAndPassiveAndItsFilesReachTheSecondaryPool() async throws {
        let ref = SessionRef(cluster: "pool", primaryVolume: "rvol", secondaryHost: "s1", secondaryVolume: "srvol")
        Self.removeByHand("rvol", "s1::srvol")
        try Self.freshBricks("rvol")
        let ids = ["p1": try Self.glusterdUUID("p1"), "p2": try Self.glusterdUUID("p2")]
        try await InProcessServices.with(env, prefix: "m", inventoryPath: env.poolsInventoryPath) { services in
            let client = services.client
            func run(_ action: CommandAction, _ options: CommandOptions = CommandOptions()) async throws {
                let result = try await client.run(Command(action: action, session: ref, options: options, sender: "tests"), timeout: 180)
                #expect(result.outcome == .succeeded, "\(action.rawValue): \(result.message)")
            }
            func status(_ wanted: Set<String>, seconds: Double = 120) async throws -> String? {
                try await sessionStatus(services.database, ref, in: wanted, seconds: seconds)
            }
            try await run(.create, CommandOptions(force: true))
            let name = "probe-\(UUID().uuidString.prefix(8).lowercased())"
            let content = "written on p1 through FUSE at \(Date())"
            try Self.on("p1", ["bash", "-ec", "mkdir -p /mnt/rvol; mount -t glusterfs p1:/rvol /mnt/rvol; "
                                          + "printf '%s' \"$1\" > /mnt/rvol/\(name); umount /mnt/rvol", "write", content])
            try await run(.start)
            #expect(try await status(["ACTIVE"], seconds: 180) == "ACTIVE", "the session never became ACTIVE")
            let bricks = try await eventually(120, every: 1) { () -> [[String: String]]? in
                let rows = try await brickRows(services.database, ref)
                return Set(rows.compactMap { $0["status"] }) == ["ACTIVE", "PASSIVE"] ? rows : nil
            }
            let rows = try #require(bricks, "the replica pair never showed one ACTIVE and one PASSIVE brick in PostgreSQL")
            #expect(rows.count == 2)
            #expect(Set(rows.compactMap { $0["master_node"] }) == ["p1", "p2"], "\(rows)")
            for row in rows {
                let node = row["master_node"] ?? "?"
                #expect(row["master_node_uuid"]?.lowercased() == ids[node], "\(node)'s brick row has glusterd id \(row["master_node_uuid"] ?? "none")")
                #expect(row["master_brick_dir"] == "/bricks/rvol")
            }
            print("replica pair: " + rows.map { "\($0["master_node"] ?? "?") \($0["status"] ?? "?")" }.sorted().joined(separator: ", "))

            // Data, not only entries: the file written on p1 before the start arrived on s1's
            // brick with its content (the first crawl's; live changelogs are less dependable on
            // this lab: docs/lab.md, "Quirks").
            let arrived = try await eventually(120, every: 2) { () -> Bool? in
                let read = Self.pools(["exec", "s1", "cat", "/bricks/srvol/\(name)"])
                return read.status == 0 && read.output == content ? true : nil
            }
            #expect(arrived == true, "\(name) did not reach s1's brick with its content within 120 s")

            // p1's glusterd killed (its brick and gsyncd worker go on): a command goes through
            // p2, and the monitor goes on through p2. gluster's answer from p2 then lists p2's
            // Passive brick only (Tests/GlusterTests/MultiNodeLab/status-detail-p1-glusterd-down.xml);
            // p1's brick is kept as UNKNOWN ("not reported"), and the rule makes the session
            // PARTIAL_FAULTY: degraded, not a healthy PASSIVE.
            try #require(Self.pools(["kill", "p1", "glusterd"]).status == 0)
            var failure: Error?
            do {
                try await run(.configSet, CommandOptions(key: "sync-jobs", value: "4"))
                let stored = try await eventually(60, every: 1) { () -> Bool? in
                    try await optionValue(services.database, ref, "sync_jobs") == "4" ? true : nil
                }
                #expect(stored == true, "the option set through p2 was not read back and stored")
                #expect(try await status(["PARTIAL_FAULTY"], seconds: 60) == "PARTIAL_FAULTY", "the session did not go PARTIAL_FAULTY with p1 unreported")
                // p2's worker stays Passive for a while (seen 3 s after the kill), then may take
                // over as Active (seen within a minute); either way p1's brick is UNKNOWN.
                let degraded = try await brickRows(services.database, ref)
                    .reduce(into: [String: String]()) { $0[$1["master_node"] ?? "?"] = $1["status"] }
                #expect(degraded["p1"] == "UNKNOWN" && ["PASSIVE", "ACTIVE"].contains(degraded["p2"] ?? ""),
                        "brick rows with p1's glusterd down: \(degraded)")
                print("p1's glusterd down: " + degraded.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                      + "; session PARTIAL_FAULTY")
            } catch {
                failure = error
            }
            try #require(Self.pools(["start", "p1"]).status == 0, "p1's glusterd did not start again")
            if let failure { throw failure }
            #expect(try await status(["ACTIVE"], seconds: 120) == "ACTIVE", "the session did not return to ACTIVE once p1's glusterd was back")
            let back = try await eventually(60, every: 1) { () -> Set<String>? in
                let statuses = Set(try await brickRows(services.database, ref).compactMap { $0["status"] })
                return statuses == ["ACTIVE", "PASSIVE"] ? statuses : nil
            }
            #expect(back != nil, "the bricks did not return to one ACTIVE and one PASSIVE")

            try await run(.stop)
            try await run(.delete)
            #expect(try await status(["none"], seconds: 60) == "none")
        }
    }


    /// A session made with the gluster CLI on p1, outside the service, is discovered over ssh;
    /// its deletion by hand is seen too.
    @Test(.timeLimit(.minutes(5)))
    func aSessionMadeByHandOnThePrimaryPoolIsDiscoveredAndItsDeletionSeen() async throws {
        let ref = SessionRef(cluster: "pool", primaryVolume: "dvol", secondaryHost: "s1", secondaryVolume: "sdvol")
        Self.removeByHand("dvol", "s1::sdvol")
        try await InProcessServices.with(env, prefix: "n", inventoryPath: env.poolsInventoryPath) { services in
            func status(_ wanted: Set<String>, seconds: Double) async throws -> String? {
                try await sessionStatus(services.database, ref, in: wanted, seconds: seconds)
            }
            try Self.on("p1", ["gluster", "--mode=script", "volume", "geo-replication", "dvol", "s1::sdvol", "create", "push-pem", "force"])
            #expect(try await status(["NOTSTARTED", "CREATED"], seconds: 60) != nil, "the session made by hand on p1 was not discovered")
            let row = try await sessionRow(services.database, ref)
            #expect(row?["cluster_id"] == "pool" && row?["slave_host_name"] == "s1", "\(String(describing: row))")
            #expect(try await brickRows(services.database, ref).count == 2, "dvol's two bricks (p1 and p2) are not both stored")
            Self.removeByHand("dvol", "s1::sdvol")
            #expect(try await status(["none"], seconds: 60) == "none", "the deletion made by hand was not seen")
        }
    }
}
}
