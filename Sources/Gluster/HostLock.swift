import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every process of ours on one machine takes turns on a gluster host: shared for a read,
/// exclusive for a change, with `flock(2)` on files per host.
///
/// The routing keeps one worker per cluster (``GeoRepCore/CommandRouting``), but not everything
/// that runs gluster here is that worker: a second deployment on another topology (the demo's
/// services while the test suite runs), the tests themselves, `georep-bench`. Any of them
/// reading while another's `create push-pem` mounted volumes through glusterd could wedge it,
/// which is how the lab froze for 13 minutes with the demo's workers polling during the tests.
/// The lock is advisory and local: processes on other machines are kept apart by the routing.
///
/// The turns are fair to changes. A bare `flock` is not: reads from two deployments overlapped
/// without a gap, and a `create` of the test suite waited 120 s for a turn it never got (CI,
/// stop 23). So everyone first passes a turnstile (`gluster-HOST.turn`, exclusive, held for a
/// moment); a change keeps it until the reads already in have finished, so reads that arrive
/// after it wait behind it. Holding the turnstile for a whole call (`flock TURN flock -s LOCK
/// gluster …`) is not enough for others: blocking `flock` waiters are woken the instant it is
/// free and beat a poller every time, so two such loops kept a change out for minutes in the
/// wedge bench. Scripts take their turns with `georep turn` instead.
public struct HostLock: Sendable {
    /// Where every process of ours takes its turns.
    public static let defaultDirectory = "/run/lock/georep"
    /// Where the lock files live; nil turns the lock off.
    public var directory: String?
    /// How often a waiter tries again.
    var poll: Duration = .milliseconds(20)

    public init(directory: String? = HostLock.defaultDirectory) {
        self.directory = directory
    }

    /// A held lock: given back by ``release()``, or when the last reference to it goes.
    ///
    /// A lock kept for a change whose outcome is unknown (``ClusterHealth``) used to outlive the
    /// executor that kept it: nothing was left to probe glusterd and give it back, and the open
    /// descriptor held the host for the rest of the process. The likeliest reading of CI stop 29,
    /// where the tests' in-process workers come and go in one process and every later call on
    /// `vm` was refused as `host_busy`. A process that exits gives its locks back; a dropped
    /// holder now does too.
    public final class Held: Sendable {
        private let descriptor: Mutex<Int32>

        fileprivate init(fd: Int32) { descriptor = Mutex(fd) }

        fileprivate var fd: Int32 { descriptor.withLock { $0 } }

        /// Gives the lock back; a second call does nothing (the descriptor is not closed twice).
        public func release() {
            let fd = descriptor.withLock { fd in
                defer { fd = -1 }
                return fd
            }
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
        }

        deinit { release() }
    }

    /// Waits for the host's lock up to `timeout` seconds; throws ``GlusterError/hostBusy(host:seconds:)``
    /// when other processes of ours kept it that long (nothing was run). Without a usable
    /// directory, runs unlocked.
    public func acquire(host: String, exclusive: Bool, timeout: Double) async throws(GlusterError) -> Held {
        guard let directory, let base = Self.path(directory: directory, host: host) else { return Held(fd: -1) }
        if access(directory, W_OK) != 0 { mkdir(directory, 0o1777) }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        guard let turnstile = open(base: base, suffix: ".turn") else { return Held(fd: -1) }
        defer { turnstile.release() }
        try await wait(turnstile.fd, LOCK_EX, until: deadline, host: host, timeout: timeout)
        guard let lock = open(base: base, suffix: ".lock") else { return Held(fd: -1) }
        do {
            try await wait(lock.fd, exclusive ? LOCK_EX : LOCK_SH, until: deadline, host: host, timeout: timeout)
        } catch {
            lock.release()
            throw error
        }
        return lock
    }

    private func open(base: String, suffix: String) -> Held? {
        let fd = Glibc.open(base + suffix, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        return fd >= 0 ? Held(fd: fd) : nil
    }

    private func wait(_ fd: Int32, _ operation: Int32, until deadline: ContinuousClock.Instant, host: String,
                      timeout: Double) async throws(GlusterError) {
        while flock(fd, operation | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                throw .hostBusy(host: host, seconds: timeout)
            }
            do { try await Task.sleep(for: poll) } catch { throw .cancelled }
        }
    }

    /// `DIR/gluster-HOST`, to which `.lock` and `.turn` are added; the host name kept to the
    /// characters of a DNS name.
    static func path(directory: String, host: String) -> String? {
        let safe = String(host.lowercased().unicodeScalars.filter { CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789.-_").contains($0) }
            .map(Character.init))
        guard !safe.isEmpty, safe == host.lowercased() else { return nil }
        return "\(directory)/gluster-\(safe)"
    }
}
