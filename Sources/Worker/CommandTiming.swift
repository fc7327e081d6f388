import Foundation
import Synchronization

/// How long one command's handling took and how much of that its gluster processes took: the
/// difference is the worker's own overhead (decoding, policy, parsing, publishing with confirms,
/// acking). Set as a task-local while a command runs, so the gluster executor's observer can add
/// to it without the handler threading it through every call.
final class CommandTiming: Sendable {
    @TaskLocal static var current: CommandTiming?

    let started = ContinuousClock.now
    /// Seconds and count of the command's gluster processes.
    private let gluster = Mutex((seconds: 0.0, calls: 0))

    func addGluster(seconds: Double) {
        gluster.withLock {
            $0.seconds += seconds
            $0.calls += 1
        }
    }

    /// Wall time since the command was taken, and gluster's share of it, in seconds.
    var figures: (elapsed: Double, gluster: Double, calls: Int) {
        let d = ContinuousClock.now - started
        let elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return gluster.withLock { (elapsed, $0.seconds, $0.calls) }
    }

    /// `elapsed_ms`, `gluster_ms`, `overhead_ms` and `gluster_calls` for a log line.
    var metadata: [String: String] {
        let f = figures
        return [
            "elapsed_ms": String(format: "%.3f", f.elapsed * 1000), "gluster_ms": String(format: "%.3f", f.gluster * 1000),
            "overhead_ms": String(format: "%.3f", max(0, f.elapsed - f.gluster) * 1000), "gluster_calls": String(f.calls),
        ]
    }
}
