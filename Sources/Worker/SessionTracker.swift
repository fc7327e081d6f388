import Foundation
import GeoRepCore
import Gluster

/// The last known state of each session: what this worker observed, and what every worker
/// published (learnt from the journal), whichever is newer.
///
/// Turns fresh observations into events: a status change (from → to) for the session and for
/// each brick that changed, and a snapshot when anything changed or one is due. Because it also
/// learns what other workers published, a worker that takes a shard over continues from the
/// last published status instead of announcing every session as new.
actor SessionTracker {
    struct Known {
        var session: SessionRef
        var status: GeoRepStatus
        /// The observation stamp of `status`.
        var seq: Int64
        var bricks: [String: GeoRepStatus]
        /// The bricks' details but for `last_synced`, which moves on every sync: a change here
        /// (crawl status, counters, checkpoint) is worth a snapshot, a newer sync time alone is
        /// not. Nil when only the journal told us about the session.
        var details: [BrickDetail]?
        /// The checkpoint's progress at the last observation (nil: only the journal told us).
        var checkpoint: CheckpointProgress? = nil
    }

    private var known: [UUID: Known] = [:]
    private var clock = ObservationClock()
    /// Consecutive monitor rounds whose status answer was the ambiguous empty one, by cluster.
    private var emptyAnswers: [String: Int] = [:]
    /// The last inventory published for each cluster, to publish again only on a change.
    private var inventories: [String: ([ClusterInventory.Volume], [UUID]?)] = [:]
    /// Which checkpoints to announce as completed or stalled, once each (``CheckpointWatch``).
    private var checkpoints: CheckpointWatch

    /// Seconds added to this machine's wall clock for stamps: how the tests make one worker's
    /// clock disagree with another's (`GEOREP_TEST_CLOCK_OFFSET`); 0 everywhere else.
    private let clockOffset: TimeInterval

    /// `checkpointStallAfter`: seconds without brick progress before a pending checkpoint is
    /// announced as stalled.
    init(checkpointStallAfter: TimeInterval = 600, clockOffset: TimeInterval = 0) {
        checkpoints = CheckpointWatch(stallAfter: checkpointStallAfter)
        self.clockOffset = clockOffset
    }

    /// Counts one more ambiguous empty answer for `cluster`; returns how many in a row.
    func emptyAnswer(cluster: String) -> Int {
        emptyAnswers[cluster, default: 0] += 1
        return emptyAnswers[cluster]!
    }

    func clearEmptyAnswers(cluster: String) { emptyAnswers.removeValue(forKey: cluster) }

    /// A stamp taken before a cluster is read: a session seen by anyone after it is newer than
    /// the inventory, so the inventory cannot make it vanish.
    func stampBeforeReading() -> Observation { clock.next(now: Date().addingTimeInterval(clockOffset), cause: .monitor) }

    /// A cluster inventory event when it differs from the last one published (or when forced).
    func inventory(cluster: String, volumes: [ClusterInventory.Volume], sessionIds: [UUID]?, force: Bool,
                   observation: Observation) -> Event? {
        if !force, let last = inventories[cluster], last.0 == volumes, last.1 == sessionIds { return nil }
        inventories[cluster] = (volumes, sessionIds)
        return .clusterInventory(ClusterInventory(cluster: cluster, volumes: volumes, sessionIds: sessionIds, observation: observation))
    }

    func knows(_ id: UUID) -> Bool { known[id]?.details != nil }

    func status(of id: UUID) -> GeoRepStatus? { known[id]?.status }

    /// The session's status and checkpoint progress as last observed by this worker (nil
    /// status: no such session known).
    func checkpoint(of id: UUID) -> (status: GeoRepStatus?, progress: CheckpointProgress?) {
        (known[id]?.status, known[id]?.checkpoint)
    }

    /// `events` without the checkpoint announcements some worker has made meanwhile (as the
    /// journal, just brought up to now, says).
    func unannounced(_ events: [Event]) -> [Event] {
        events.filter { event in
            switch event {
            case .checkpointCompleted(let e): !checkpoints.announcedCompleted(session: e.sessionId, checkpointTime: e.checkpointTime)
            case .checkpointStalled(let e): !checkpoints.announcedStalled(session: e.sessionId, checkpointTime: e.checkpointTime)
            default: true
            }
        }
    }

    /// How many known sessions of `clusters` are in each status.
    func statusCounts(clusters: Set<String>) -> [GeoRepStatus: Int] {
        Dictionary(grouping: known.values.filter { clusters.contains($0.session.cluster) }, by: \.status).mapValues(\.count)
    }

    func sessions(cluster: String) -> [SessionRef] { known.values.filter { $0.session.cluster == cluster }.map(\.session) }

    /// A stamp for a new observation of `id`, above anything published about it so far (by any
    /// worker: clocks of different machines may disagree a little).
    private func stamp(_ id: UUID, cause: Observation.Cause) -> Observation {
        var observation = clock.next(now: Date().addingTimeInterval(clockOffset), cause: cause)
        if let seq = known[id]?.seq, seq >= observation.seq {
            observation.seq = seq + 1
            clock = ObservationClock(after: observation.seq)
        }
        return observation
    }

    /// Events for one fresh observation of `ref`; `observed == nil` means gluster no longer has it.
    func observe(
        _ ref: SessionRef, observed: ObservedSession?, primaryVolumeId: String?, options: [String: String]?,
        cause: Observation.Cause, forceSnapshot: Bool = false
    ) -> [Event] {
        let observation = stamp(ref.sessionID, cause: cause)
        guard let observed else {
            checkpoints.forget(session: ref.sessionID)
            guard known.removeValue(forKey: ref.sessionID) != nil || cause.commandId != nil else { return [] }
            return [.sessionDeleted(SessionDeleted(session: ref, observation: observation))]
        }
        let status = observed.status
        let previous = known[ref.sessionID]
        var events: [Event] = []
        if previous?.status != status {
            events.append(.sessionStatusChanged(SessionStatusChanged(session: ref, from: previous?.status, to: status, observation: observation)))
        }
        var brickStatuses: [String: GeoRepStatus] = [:]
        for brick in observed.bricks {
            brickStatuses[brick.name] = brick.status
            let before = previous?.bricks[brick.name]
            if before != brick.status {
                events.append(.brickStatusChanged(BrickStatusChanged(
                    session: ref, brickId: brick.brickId, brick: brick.name, from: before, to: brick.status, observation: observation)))
            }
        }
        let details = observed.bricks.map { brick in
            var b = brick
            b.lastSynced = nil
            return b
        }
        let detailsChanged = previous?.details != details
        known[ref.sessionID] = Known(session: ref, status: status, seq: observation.seq, bricks: brickStatuses, details: details,
                                     checkpoint: CheckpointProgress.of(observed.bricks))
        if !events.isEmpty || detailsChanged || forceSnapshot {
            events.append(.sessionSnapshot(SessionSnapshot(
                session: ref, sessionKey: observed.sessionKey, primaryVolumeId: primaryVolumeId,
                secondaryVolumeId: observed.secondaryVolumeId, status: status, bricks: observed.bricks,
                options: options, observation: observation)))
        }
        // Only the monitor announces checkpoints: its caller makes sure no other worker did first.
        if cause == .monitor {
            for announcement in checkpoints.observe(session: ref.sessionID, status: status, bricks: observed.bricks, now: observation.at) {
                switch announcement {
                case .completed(let progress):
                    events.append(.checkpointCompleted(CheckpointCompleted(session: ref, progress: progress, observation: observation)))
                case .stalled(let reason, let progress, let seconds):
                    events.append(.checkpointStalled(CheckpointStalled(session: ref, reason: reason, status: status, progress: progress,
                                                                       stalledSeconds: seconds, observation: observation)))
                }
            }
        }
        return events
    }

    /// The cluster could not be asked: every session of it becomes UNKNOWN (once).
    func markUnreachable(cluster: String) -> [Event] {
        var events: [Event] = []
        for (id, entry) in known where entry.session.cluster == cluster && entry.status != .unknown {
            let observation = stamp(id, cause: .monitor)
            events.append(.sessionStatusChanged(SessionStatusChanged(session: entry.session, from: entry.status, to: .unknown, observation: observation)))
            known[id]?.status = .unknown
            known[id]?.seq = observation.seq
        }
        return events
    }

    /// What a worker (this one or another) published, read back from the journal: newer state wins.
    func learn(_ event: Event) {
        switch event {
        case .sessionStatusChanged(let e):
            learn(e.session, id: e.sessionId, status: e.to, seq: e.observation.seq)
        case .sessionSnapshot(let s):
            // A snapshot moves the session's row in PostgreSQL to its stamp: a worker whose clock is
            // behind must stamp above it too, or the persister keeps the older state (issue 18).
            learn(s.session, id: s.sessionId, status: s.status, seq: s.observation.seq)
        case .brickStatusChanged(let e):
            guard let held = known[e.sessionId], held.seq <= e.observation.seq else { return }
            known[e.sessionId]?.bricks[e.brick] = e.to
        case .sessionDeleted(let e):
            if let held = known[e.sessionId], held.seq < e.observation.seq { known.removeValue(forKey: e.sessionId) }
        case .checkpointCompleted(let e):
            checkpoints.learnCompleted(session: e.sessionId, checkpointTime: e.checkpointTime)
        case .checkpointStalled(let e):
            checkpoints.learnStalled(session: e.sessionId, checkpointTime: e.checkpointTime)
        case .commandResult, .clusterInventory, .commandAccepted, .clusterAvailability, .commandWaiting, .scheduleSet,
             .windowOpened, .windowClosed:
            return
        }
    }

    /// A session's status as of `seq`, unless this worker knows a newer one.
    private func learn(_ session: SessionRef, id: UUID, status: GeoRepStatus, seq: Int64) {
        if let held = known[id] {
            guard held.seq < seq else { return }
            known[id]?.status = status
            known[id]?.seq = seq
        } else {
            known[id] = Known(session: session, status: status, seq: seq, bricks: [:], details: nil)
        }
    }
}
