import Foundation
import GeoRepCore

/// Who else is working, from the heartbeats on the membership exchange. A worker not heard
/// from within `expiry` is gone; one that says it is leaving is gone at once.
actor Membership {
    let me: String
    let expiry: Duration
    private var lastHeard: [String: ContinuousClock.Instant] = [:]

    init(me: String, expiry: Duration) {
        self.me = me
        self.expiry = expiry
    }

    func heard(_ heartbeat: WorkerHeartbeat, leaving: Bool) {
        guard heartbeat.instance != me else { return }
        if leaving { lastHeard.removeValue(forKey: heartbeat.instance) } else { lastHeard[heartbeat.instance] = .now }
    }

    /// The live workers, this one included, sorted.
    func members() -> [String] {
        let now = ContinuousClock.now
        lastHeard = lastHeard.filter { now - $0.value < expiry }
        return ([me] + lastHeard.keys).sorted()
    }
}
