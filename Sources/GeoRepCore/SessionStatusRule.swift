/// The one rule that turns the statuses of a session's bricks into the session's status.
///
/// In order, the first that applies wins:
/// 1. no brick reported, or the host could not be asked → `UNKNOWN`
/// 2. any brick `FAULTY` → `FAULTY` when all are, else `PARTIAL_FAULTY`
/// 3. any brick `INITIALIZING` → `INITIALIZING`
/// 4. any brick `ACTIVE` and the rest `ACTIVE` or `PASSIVE` → `ACTIVE`
///    (a replica set has one active and some passive workers; that is healthy)
/// 5. all bricks share one status → that status (`PASSIVE`, `PAUSED`, `STOPPED`, `NOTSTARTED`, `UNKNOWN`)
/// 6. a mixture with at least one `ACTIVE` or `PASSIVE` brick → `PARTIAL_FAULTY`
///    (some workers replicate, others do not: the session is degraded)
/// 7. any other mixture → `UNKNOWN` (typically a transition caught half-way; the next read settles it)
public enum SessionStatusRule {
    public static func sessionStatus(
        brickStatuses: [GeoRepStatus], hostReachable: Bool = true
    ) -> GeoRepStatus {
        guard hostReachable, let first = brickStatuses.first else { return .unknown }
        let faulty = brickStatuses.filter { $0 == .faulty || $0 == .partialFaulty }.count
        if faulty > 0 { return faulty == brickStatuses.count ? .faulty : .partialFaulty }
        if brickStatuses.contains(.initializing) { return .initializing }
        let replicating = brickStatuses.filter { $0 == .active || $0 == .passive }.count
        if brickStatuses.contains(.active) && replicating == brickStatuses.count { return .active }
        if brickStatuses.allSatisfy({ $0 == first }) { return first }
        if replicating > 0 { return .partialFaulty }
        return .unknown
    }
}
