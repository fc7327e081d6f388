import Foundation
import Synchronization

/// The one thread that owns a librabbitmq connection (librabbitmq is not thread-safe).
///
/// Async callers submit jobs and await their results; the thread runs jobs in order and, in
/// between, an idle step (polling for deliveries or servicing heartbeats). A pipe wakes it
/// when a job arrives, so an ack or publish never waits for the idle step's timeout.
/// Blocking happens here, never on Swift's cooperative thread pool.
final class OwnerThread: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var stopped = false
        /// True while the thread may be blocked in poll: only then does a new job need a wake-up.
        var sleeping = false
        /// Runs on the owner thread whenever no job is pending; gets the wake fd to poll beside its
        /// socket. Set after the thread starts (the connection that owns it needs `self` first).
        var idle: (@Sendable (_ wakeFD: Int32) -> Void)?
    }

    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    var idle: (@Sendable (_ wakeFD: Int32) -> Void)? {
        get { state.withLock { $0.idle } }
        set { state.withLock { $0.idle = newValue } }
    }

    init(name: String) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        thread.start()
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Runs `body` on the owner thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(AMQPError) -> T) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { continuation in
            submit {
                continuation.resume(returning: Result { () throws(AMQPError) -> T in try body() })
            }
        }
        return try result.get()
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        let (accepted, needsWake) = state.withLock { state -> (Bool, Bool) in
            guard !state.stopped else { return (false, false) }
            state.jobs.append(job)
            return (true, state.sleeping)
        }
        if !accepted { job() } else if needsWake { wake() }
    }

    /// Ends the loop after the jobs already submitted.
    func stop() {
        state.withLock { $0.stopped = true }
        wake()
    }

    /// Marks the thread as about to block; returns false when jobs arrived meanwhile.
    func prepareToSleep() -> Bool {
        state.withLock { state in
            guard state.jobs.isEmpty && !state.stopped else { return false }
            state.sleeping = true
            return true
        }
    }

    func awake() { state.withLock { $0.sleeping = false } }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    private func loop() {
        while true {
            let (batch, done) = state.withLock { state -> ([@Sendable () -> Void], Bool) in
                let b = state.jobs
                state.jobs.removeAll()
                return (b, state.stopped)
            }
            for job in batch { job() }
            if done && batch.isEmpty { break }
            if !batch.isEmpty { continue }
            guard prepareToSleep() else { continue }
            if let idle {
                idle(wakeRead)
            } else {
                var pfd = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, 1000)
            }
            awake()
            drainWake()
        }
    }
}
