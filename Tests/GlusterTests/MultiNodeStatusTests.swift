import Foundation
import GeoRepCore
@testable import Gluster
import Testing

/// `status detail` of the multi-node lab (docs/lab.md), recorded from real glusterds: rvol is
/// replica 2 over p1 and p2, its session goes to s1::srvol.
@Suite struct MultiNodeStatusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("MultiNodeLab")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func rvol() throws -> VolumeInfo {
        try #require(try GlusterParser.volumes(try text("volume-info-rvol-p1-glusterd-down.xml")).first { $0.name == "rvol" })
    }

    @Test func bothNodesUpShowOneActiveAndOnePassiveBrick() throws {
        let volume = try Self.rvol()
        let session = try #require(try GlusterParser.statusSessions(try Self.text("status-detail-both-up.xml"), volumeIDs: ["rvol": volume.id]).first)
        #expect(session.bricks.map(\.primaryNode) == ["p1", "p2"])
        #expect(session.bricks.map(\.status) == [.active, .passive])
        #expect(session.status == .active)
        // Nothing is missing, so nothing is added.
        #expect(session.completed(with: volume) == session)
    }

    /// p1's glusterd killed: p2 reports its own Passive brick only. Read alone, a replicating
    /// session would look PASSIVE and p1's brick would vanish; completed with the volume's
    /// bricks, p1's brick is UNKNOWN ("not reported") and the session PARTIAL_FAULTY.
    @Test func aNodeWhoseGlusterdIsDownIsNotReportedAndItsBrickBecomesUnknown() throws {
        let volume = try Self.rvol()
        let session = try #require(try GlusterParser.statusSessions(try Self.text("status-detail-p1-glusterd-down.xml"), volumeIDs: ["rvol": volume.id]).first)
        #expect(session.bricks.map(\.primaryNode) == ["p2"], "gluster's own answer")
        #expect(session.status == .passive, "what the rule makes of gluster's answer alone")
        let completed = session.completed(with: volume)
        #expect(completed.bricks.map(\.primaryNode) == ["p2", "p1"])
        let p1 = try #require(completed.bricks.last)
        #expect(p1.status == .unknown && p1.rawStatus == "not reported")
        #expect(p1.primaryNodeUuid == "59b90f72-38f1-4921-aec3-3b485fd49c50")
        #expect(p1.brickId == StableID.brick(volumeID: volume.id, host: "p1", path: "/bricks/rvol"))
        #expect(completed.status == .partialFaulty)
        // Another volume's bricks are not this session's.
        var other = volume
        other.name = "dvol"
        #expect(session.completed(with: other) == session)
    }

    /// p1, the node of the Active brick, off the network: once p2's glusterd gave up on it
    /// (~15 s with tcp_retries2 = 5), p2 reports its own brick only, already Active: its worker
    /// took over. Completed, p1's brick is UNKNOWN and the session PARTIAL_FAULTY.
    @Test func theActiveNodeUnpluggedLeavesThePassiveBrickActive() throws {
        let volume = try Self.rvol()
        let session = try #require(try GlusterParser.statusSessions(try Self.text("status-detail-p1-unplugged.xml"), volumeIDs: ["rvol": volume.id]).first)
        #expect(session.bricks.map(\.primaryNode) == ["p2"])
        #expect(session.bricks.map(\.status) == [.active])
        let completed = session.completed(with: volume)
        #expect(completed.bricks.map(\.status) == [.active, .unknown])
        #expect(completed.status == .partialFaulty)
    }

    /// s1 off the network: both primary nodes answer, and both workers are Faulty: FAULTY.
    @Test func theSecondaryUnpluggedMakesEveryWorkerFaulty() throws {
        let volume = try Self.rvol()
        let session = try #require(try GlusterParser.statusSessions(try Self.text("status-detail-s1-unplugged.xml"), volumeIDs: ["rvol": volume.id]).first)
        #expect(session.bricks.map(\.primaryNode) == ["p1", "p2"])
        #expect(session.bricks.map(\.status) == [.faulty, .faulty])
        #expect(session.completed(with: volume) == session)
        #expect(session.status == .faulty)
    }

    /// A non-root session (uvol on p1 and p2, distributed, to geoaccount@s1::suvol through s1's
    /// mountbroker): both bricks Active, the account read from the answer. gluster 10.3 leaves
    /// `secondary_node` empty for such a session even while it replicates.
    @Test func aNonRootSessionNamesItsAccountAndLeavesTheSecondaryNodeEmpty() throws {
        let session = try #require(try GlusterParser.statusSessions(try Self.text("status-detail-non-root.xml"), volumeIDs: [:]).first)
        #expect(session.ref(cluster: "pool") == SessionRef(cluster: "pool", primaryVolume: "uvol", secondaryHost: "s1",
                                                          secondaryVolume: "suvol", secondaryUser: "geoaccount"))
        #expect(session.bricks.map(\.primaryNode) == ["p1", "p2"])
        #expect(session.bricks.map(\.status) == [.active, .active])
        #expect(session.bricks.allSatisfy { $0.secondaryUser == "geoaccount" && ($0.secondaryNode ?? "").isEmpty })
        #expect(session.status == .active)
    }
}
