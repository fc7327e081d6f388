import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability
import Synchronization

/// Touches a session's primary volume after its checkpoint is set, and again while a wait for
/// it is pending, at most once an ``interval`` per primary volume (``VolumeRootTouch`` says why: a brick
/// nothing is written to never completes a checkpoint). `schedule_georep.py` does the same
/// after it sets a checkpoint and on every round the checkpoint has not completed.
///
/// A failed touch is logged, never the command's failure: the checkpoint is set either way, and
/// a brick that gets a write completes it then.
final class CheckpointTouch: Sendable {
    let gluster: GlusterExecutor
    let enabled: Bool
    let interval: TimeInterval
    let logger: Logger
    /// By cluster and primary volume: one touch serves every session of the volume.
    private let lastTouch = Mutex<[String: Date]>([:])

    init(gluster: GlusterExecutor, enabled: Bool, interval: TimeInterval = 30, logger: Logger) {
        self.gluster = gluster
        self.enabled = enabled
        self.interval = interval
        self.logger = logger
    }

    /// Touches `ref`'s primary volume unless it was touched less than ``interval`` ago (`force`:
    /// anyway). `settle`: seconds to let pass first — a touch in the checkpoint's own second may
    /// land in a changelog that does not count as after it (seen on the lab: the first touch
    /// did nothing, the next one completed the checkpoint).
    func touch(_ ref: SessionRef, force: Bool = false, settle: Double = 0) async {
        guard enabled else { return }
        if settle > 0 {
            do { try await Task.sleep(for: .seconds(settle)) } catch { return }  // cancelled: the worker is stopping
        }
        let now = Date()
        let volume = "\(ref.cluster)/\(ref.primaryVolume)"
        let due = lastTouch.withLock { last -> Bool in
            if !force, let previous = last[volume], now.timeIntervalSince(previous) < interval { return false }
            last[volume] = now
            return true
        }
        guard due else { return }
        do {
            try await gluster.touchVolumeRoot(cluster: ref.cluster, volume: ref.primaryVolume)
            logger.info("primary volume root touched for the checkpoint", metadata: ["session": "\(ref.key)"])
        } catch {
            logger.warning("could not touch the primary volume for the checkpoint", metadata: [
                "session": "\(ref.key)", "code": "\(error.code)", "error": "\(error)",
            ])
            GeoRepMetrics.dropped(reason: "checkpoint_touch_failed", role: "worker")
        }
    }
}
