import Foundation
import GeoRepCore
import Testing

@Suite struct CommandPolicyTests {
    let none = CommandOptions()

    @Test func resumeRunsOnlyOnAPausedSession() {
        #expect(CommandPolicy.decide(.resume, current: .paused, options: none, mayHaveRun: false) == .execute)
        guard case .reject(let code, _) = CommandPolicy.decide(.resume, current: .active, options: none, mayHaveRun: false) else {
            Issue.record("a fresh resume of an ACTIVE session must be refused")
            return
        }
        #expect(code == "session_not_paused")
        // A redelivered resume that finds the session running had run before.
        #expect(CommandPolicy.decide(.resume, current: .active, options: none, mayHaveRun: true) == .alreadyDone("already resumed (ACTIVE)"))
        guard case .reject = CommandPolicy.decide(.resume, current: .stopped, options: none, mayHaveRun: true) else {
            Issue.record("resume of a STOPPED session must be refused even when redelivered")
            return
        }
    }

    @Test func deleteNeedsAStoppedSessionUnlessAskedToStopFirst() {
        guard case .reject(let code, _) = CommandPolicy.decide(.delete, current: .active, options: none, mayHaveRun: false) else {
            Issue.record("deleting an ACTIVE session must be refused")
            return
        }
        #expect(code == "session_running")
        #expect(CommandPolicy.decide(.delete, current: .active, options: CommandOptions(stopFirst: true), mayHaveRun: false) == .execute)
        #expect(CommandPolicy.decide(.delete, current: .stopped, options: none, mayHaveRun: false) == .execute)
        #expect(CommandPolicy.decide(.delete, current: nil, options: none, mayHaveRun: false) == .alreadyDone("no such session: nothing to delete"))
    }

    @Test func wantedStatesThatHoldAreSuccessesWithoutRunning() {
        for status in [GeoRepStatus.initializing, .active, .passive, .faulty, .partialFaulty] {
            guard case .alreadyDone = CommandPolicy.decide(.start, current: status, options: none, mayHaveRun: false) else {
                Issue.record("start of a \(status) session should be a no-op success")
                continue
            }
        }
        guard case .alreadyDone = CommandPolicy.decide(.stop, current: .stopped, options: none, mayHaveRun: false) else {
            Issue.record("stop of a stopped session should be a no-op success")
            return
        }
        guard case .alreadyDone = CommandPolicy.decide(.pause, current: .paused, options: none, mayHaveRun: false) else {
            Issue.record("pause of a paused session should be a no-op success")
            return
        }
        #expect(CommandPolicy.decide(.start, current: .notStarted, options: none, mayHaveRun: false) == .execute)
        #expect(CommandPolicy.decide(.start, current: .stopped, options: none, mayHaveRun: false) == .execute)
    }

    @Test func aCommandThatMayHaveRunIsNotAppliedAgain() {
        // create with force runs again when fresh (gluster pushes the keys again), not when it may have run.
        #expect(CommandPolicy.decide(.create, current: .notStarted, options: CommandOptions(force: true), mayHaveRun: false) == .execute)
        guard case .alreadyDone = CommandPolicy.decide(.create, current: .notStarted, options: CommandOptions(force: true), mayHaveRun: true) else {
            Issue.record("a redelivered create of an existing session must not run again")
            return
        }
        // A checkpoint set after the command was sent was its own earlier attempt.
        guard case .alreadyDone = CommandPolicy.decide(.checkpoint, current: .active, options: none, mayHaveRun: true, checkpointSince: true) else {
            Issue.record("a redelivered checkpoint must not set another one")
            return
        }
        #expect(CommandPolicy.decide(.checkpoint, current: .active, options: none, mayHaveRun: true, checkpointSince: false) == .execute)
        #expect(CommandPolicy.decide(.checkpoint, current: .active, options: none, mayHaveRun: false, checkpointSince: true) == .execute)
    }

    @Test func actionsOnAMissingSessionAreRefusedButCreateAndReadsRun() {
        for action in [CommandAction.start, .stop, .pause, .resume, .configSet, .configReset, .checkpoint] {
            guard case .reject(let code, _) = CommandPolicy.decide(action, current: nil, options: none, mayHaveRun: false) else {
                Issue.record("\(action) of a missing session must be refused")
                continue
            }
            #expect(code == "session_not_found")
        }
        for action in [CommandAction.create, .refresh, .discover] {
            #expect(CommandPolicy.decide(action, current: nil, options: none, mayHaveRun: false) == .execute)
        }
        #expect(CommandPolicy.decide(.pause, current: .stopped, options: none, mayHaveRun: false)
            == .reject(code: "session_not_running", message: "the session is STOPPED; only a running session can be paused"))
    }
}

@Suite struct ShardAssignmentTests {
    let workers = (1...5).map { "host\($0)/\(1000 + $0)" }

    @Test func everyShardHasExactlyOneOwnerAndAllAgree() {
        for count in [1, 4, 16, 64] {
            let owned = workers.map { ShardAssignment.shards(of: $0, members: workers, count: count) }
            #expect(owned.reduce(0) { $0 + $1.count } == count)
            #expect(Set(owned.flatMap { $0 }) == Set(0..<count))
            // The order in which a worker lists the others does not matter.
            #expect(ShardAssignment.shards(of: workers[0], members: workers.reversed(), count: count) == owned[0])
        }
    }

    @Test func theLoadIsSpreadAndAJoiningWorkerMovesOnlyWhatItTakes() {
        let count = 64
        let before = Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, ShardAssignment.owner(of: $0, members: workers)!) })
        for worker in workers {
            let n = before.values.filter { $0 == worker }.count
            #expect(n >= 4 && n <= 24, "\(worker) owns \(n) of \(count) shards")
        }
        let joined = workers + ["host9/999"]
        for shard in 0..<count {
            let owner = ShardAssignment.owner(of: shard, members: joined)!
            #expect(owner == before[shard] || owner == "host9/999", "shard \(shard) moved between two old workers")
        }
        #expect(ShardAssignment.owner(of: 3, members: []) == nil)
    }

    @Test func clustersMapToAStableMonitorShard() {
        #expect(ShardAssignment.tickerShard(ofCluster: "lab", count: 8) == ShardAssignment.tickerShard(ofCluster: "lab", count: 8))
        let shards = Set((0..<40).map { ShardAssignment.tickerShard(ofCluster: "cluster\($0)", count: 8) })
        #expect(shards.count >= 6, "40 clusters landed on only \(shards.count) of 8 shards")
    }
}
