import Foundation
import GeoRepCore
@testable import Worker
import Testing

/// Who is working, from heartbeats: this worker always, others until silent or leaving.
@Suite struct MembershipTests {
    @Test func othersJoinLeaveAndExpire() async throws {
        let membership = Membership(me: "b/1", expiry: .milliseconds(300))
        #expect(await membership.members() == ["b/1"])
        await membership.heard(WorkerHeartbeat(instance: "a/1", shards: []), leaving: false)
        await membership.heard(WorkerHeartbeat(instance: "c/1", shards: [0]), leaving: false)
        await membership.heard(WorkerHeartbeat(instance: "b/1", shards: []), leaving: true)  // its own: ignored
        #expect(await membership.members() == ["a/1", "b/1", "c/1"])
        await membership.heard(WorkerHeartbeat(instance: "c/1", shards: [], leaving: true), leaving: true)
        #expect(await membership.members() == ["a/1", "b/1"])
        try await Task.sleep(for: .milliseconds(400))
        #expect(await membership.members() == ["b/1"], "a worker silent past the expiry is gone")
    }

    /// The members' list is what every worker computes the same assignment from.
    @Test func theAssignmentFollowsTheMembers() async {
        let membership = Membership(me: "w1", expiry: .seconds(10))
        await membership.heard(WorkerHeartbeat(instance: "w2", shards: []), leaving: false)
        let members = await membership.members()
        let mine = ShardAssignment.shards(of: "w1", members: members, count: 8)
        let theirs = ShardAssignment.shards(of: "w2", members: members, count: 8)
        #expect(mine.isDisjoint(with: theirs) && mine.union(theirs) == Set(0..<8))
    }
}
