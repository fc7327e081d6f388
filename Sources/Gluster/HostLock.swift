import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every process of ours on one machine takes turns on a gluster host: shared for a read,
/// exclusive for a change, with `flock(2)` on a file per host.
///
/// The routing keeps one worker per cluster (``GeoRepCore/CommandRouting``), but not everything
/// that runs gluster here is that worker: a second deployment on another topology (the demo's
/// services while the test suite runs), the tests themselves, `georep-bench`. Any of them
/// reading while another's `create push-pem` mounted volumes through glusterd could wedge it,
/// which is how the lab froze for 13 minutes with the demo's workers polling during the tests.
/// The lock is advisory and local: processes on other machines are kept apart by the routing.
struct HostLock: Sendable {
    /// Where the lock files live; nil turns the lock off.
    var directory: String?

    /// A held lock; give it back with ``release()``.
    struct Held: Sendable {
        fileprivate let fd: Int32

        func release() {
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// Waits for the host's lock up to `timeout` seconds; throws ``GlusterError/timeout(host:seconds:)``
    /// when another process of ours kept it that long. Without a usable directory, runs unlocked.
    func acquire(host: String, exclusive: Bool, timeout: Double) async throws(GlusterError) -> Held {
        guard let directory, let path = Self.path(directory: directory, host: host) else { return Held(fd: -1) }
        mkdir(directory, 0o1777)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { return Held(fd: -1) }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        while flock(fd, operation) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(fd)
                throw .timeout(host: host, seconds: timeout)
            }
            do { try await Task.sleep(for: .milliseconds(25)) } catch {
                close(fd)
                throw .timeout(host: host, seconds: timeout)
            }
        }
        return Held(fd: fd)
    }

    /// `DIR/gluster-HOST.lock`, the host name kept to the characters of a DNS name.
    static func path(directory: String, host: String) -> String? {
        let safe = String(host.lowercased().unicodeScalars.filter { CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789.-_").contains($0) }
            .map(Character.init))
        guard !safe.isEmpty, safe == host.lowercased() else { return nil }
        return "\(directory)/gluster-\(safe).lock"
    }
}
