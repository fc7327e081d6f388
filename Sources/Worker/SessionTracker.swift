import Foundation
import GeoRepCore
import Gluster

/// What this worker last saw of each session, and the clock that stamps observations.
///
/// Turns fresh observations into events: a status change (from → to) for the session and for
/// each brick that changed, and a snapshot when anything changed or one is due.
actor SessionTracker {
    struct Known {
        var session: SessionRef
        var status: GeoRepStatus
        var bricks: [String: GeoRepStatus]
        /// The bricks' details but for `last_synced`, which moves on every sync: a change here
        /// (crawl status, counters, checkpoint) is worth a snapshot, a newer sync time alone is not.
        var details: [BrickDetail]
    }

    private var known: [UUID: Known] = [:]
    private var clock = ObservationClock()

    func knows(_ id: UUID) -> Bool { known[id] != nil }

    func sessions(cluster: String) -> [SessionRef] { known.values.filter { $0.session.cluster == cluster }.map(\.session) }

    /// Events for one fresh observation of `ref`; `observed == nil` means gluster no longer has it.
    func observe(
        _ ref: SessionRef, observed: ObservedSession?, primaryVolumeId: String?, options: [String: String]?,
        cause: Observation.Cause, forceSnapshot: Bool = false
    ) -> [Event] {
        let observation = clock.next(now: Date(), cause: cause)
        guard let observed else {
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
        known[ref.sessionID] = Known(session: ref, status: status, bricks: brickStatuses, details: details)
        if !events.isEmpty || detailsChanged || forceSnapshot {
            events.append(.sessionSnapshot(SessionSnapshot(
                session: ref, sessionKey: observed.sessionKey, primaryVolumeId: primaryVolumeId,
                secondaryVolumeId: observed.secondaryVolumeId, status: status, bricks: observed.bricks,
                options: options, observation: observation)))
        }
        return events
    }

    /// The cluster could not be asked: every session of it becomes UNKNOWN (once).
    func markUnreachable(cluster: String) -> [Event] {
        var events: [Event] = []
        for (id, entry) in known where entry.session.cluster == cluster && entry.status != .unknown {
            let observation = clock.next(now: Date(), cause: .monitor)
            events.append(.sessionStatusChanged(SessionStatusChanged(session: entry.session, from: entry.status, to: .unknown, observation: observation)))
            known[id]?.status = .unknown
        }
        return events
    }
}
