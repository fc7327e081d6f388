import Foundation

/// Decides, from one session's observations over time, when its checkpoint is to be announced
/// as completed or as stalled — each at most once per checkpoint. Pure: the worker feeds it
/// observations and what any worker announced (read back from the journal), and publishes what
/// it returns.
///
/// - **Completed**: the session is ACTIVE and ``CheckpointProgress`` says completed, for a
///   checkpoint not announced yet. A PARTIAL_FAULTY session is not complete: its faulty bricks'
///   data is not on the secondary.
/// - **Stalled**: a pending checkpoint whose Active bricks have not moved (`last_synced`, the
///   counters, which brick completed) for `stallAfter`, or whose session left ACTIVE (stopped,
///   paused, faulty) before completing. UNKNOWN (the cluster could not be asked), INITIALIZING
///   and PASSIVE say nothing.
/// - A completion seen for the first time long after it happened (older than `maxAge` on
///   gluster's own clock, measured against the bricks' `last_synced`) is taken as announced: the
///   journal, which keeps 24 h, would have told us otherwise.
public struct CheckpointWatch: Sendable {
    public enum Announcement: Equatable, Sendable {
        case completed(CheckpointProgress)
        case stalled(CheckpointStalled.Reason, CheckpointProgress, stalledSeconds: Double?)
    }

    struct Moving: Sendable {
        var checkpointTime: String
        var fingerprint: [String]
        var since: Date
    }

    public var stallAfter: TimeInterval
    public var maxAge: TimeInterval
    /// The newest checkpoint announced completed, and stalled, by session.
    private var completed: [UUID: String] = [:]
    private var stalled: [UUID: String] = [:]
    /// The pending checkpoint of each session and since when its bricks have not moved.
    private var moving: [UUID: Moving] = [:]

    public init(stallAfter: TimeInterval = 600, maxAge: TimeInterval = 23 * 3600) {
        self.stallAfter = stallAfter
        self.maxAge = maxAge
    }

    /// What any worker announced (read back from the journal, or just published).
    public mutating func learnCompleted(session: UUID, checkpointTime: String) {
        if completed[session].map({ $0 < checkpointTime }) ?? true { completed[session] = checkpointTime }
    }

    /// A stall any worker announced.
    public mutating func learnStalled(session: UUID, checkpointTime: String) {
        if stalled[session].map({ $0 < checkpointTime }) ?? true { stalled[session] = checkpointTime }
    }

    /// Whether a completion of `checkpointTime` (or a later one) was announced for `session`.
    public func announcedCompleted(session: UUID, checkpointTime: String) -> Bool {
        completed[session].map { $0 >= checkpointTime } ?? false
    }

    /// Whether a stall of `checkpointTime` (or a later one) was announced for `session`.
    public func announcedStalled(session: UUID, checkpointTime: String) -> Bool {
        stalled[session].map { $0 >= checkpointTime } ?? false
    }

    /// The session is gone: forget it.
    public mutating func forget(session: UUID) {
        moving.removeValue(forKey: session)
    }

    /// What to announce for one observation of `session` (not yet marked announced: the caller
    /// learns each announcement once it is published).
    public mutating func observe(session: UUID, status: GeoRepStatus, bricks: [BrickDetail], now: Date) -> [Announcement] {
        let progress = CheckpointProgress.of(bricks)
        switch status {
        case .unknown:
            return []
        case .active:
            break
        case .initializing, .passive:
            // Not replicating yet (or only Passive bricks reported): nothing to say either way.
            return []
        default:
            guard let pending = moving.removeValue(forKey: session), !announcedCompleted(session: session, checkpointTime: pending.checkpointTime),
                  !announcedStalled(session: session, checkpointTime: pending.checkpointTime)
            else { return [] }
            var last = progress
            last.state = .pending
            last.checkpointTime = pending.checkpointTime
            return [.stalled(.sessionNotActive, last, stalledSeconds: now.timeIntervalSince(pending.since))]
        }
        guard let checkpoint = progress.checkpointTime else { return [] }
        if progress.state == .completed {
            let firstSight = moving[session]?.checkpointTime != checkpoint
            moving.removeValue(forKey: session)
            if announcedCompleted(session: session, checkpointTime: checkpoint) { return [] }
            if firstSight, let done = progress.completionTime.flatMap(CheckpointProgress.clockSeconds),
               let synced = progress.oldestLastSynced.flatMap(CheckpointProgress.clockSeconds), synced - done > maxAge {
                learnCompleted(session: session, checkpointTime: checkpoint)
                return []
            }
            return [.completed(progress)]
        }
        let fingerprint = bricks.filter { $0.status == .active }.map {
            "\($0.name)|\($0.checkpointTime.map(Timestamp.format) ?? "")|\($0.checkpointCompleted == true)|\($0.lastSynced.map(Timestamp.format) ?? "")|\($0.entry ?? -1)|\($0.data ?? -1)|\($0.meta ?? -1)"
        }.sorted()
        guard var held = moving[session], held.checkpointTime == checkpoint else {
            moving[session] = Moving(checkpointTime: checkpoint, fingerprint: fingerprint, since: now)
            return []
        }
        if held.fingerprint != fingerprint {
            held.fingerprint = fingerprint
            held.since = now
            moving[session] = held
            return []
        }
        let still = now.timeIntervalSince(held.since)
        guard still >= stallAfter, !announcedStalled(session: session, checkpointTime: checkpoint) else { return [] }
        return [.stalled(.noProgress, progress, stalledSeconds: still)]
    }
}
