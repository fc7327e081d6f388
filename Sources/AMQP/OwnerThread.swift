import Foundation

/// The one thread that owns a librabbitmq connection (librabbitmq is not thread-safe).
///
/// Async callers submit jobs and await their results; the thread runs jobs in order and, in
/// between, an idle step (polling for deliveries or servicing heartbeats). A pipe wakes it
/// when a job arrives, so an ack or publish never waits for the idle step's timeout.
/// Blocking happens here, never on Swift's cooperative thread pool.
final class OwnerThread: @unchecked Sendable {
    private let lock = NSLock()
    private var jobs: [() -> Void] = []
    private var stopped = false
    /// True while the thread may be blocked in poll: only then does a new job need a wake-up.
    private var sleeping = false
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var thread: Thread?
    /// Runs on the owner thread whenever no job is pending; gets the wake fd to poll beside its socket.
    var idle: ((_ wakeFD: Int32) -> Void)?

    init(name: String) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        self.thread = thread
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

    func submit(_ job: @escaping () -> Void) {
        let (accepted, needsWake) = lock.withLock { () -> (Bool, Bool) in
            guard !stopped else { return (false, false) }
            jobs.append(job)
            return (true, sleeping)
        }
        if !accepted { job() } else if needsWake { wake() }
    }

    /// Ends the loop after the jobs already submitted.
    func stop() {
        lock.withLock { stopped = true }
        wake()
    }

    /// Marks the thread as about to block; returns false when jobs arrived meanwhile.
    func prepareToSleep() -> Bool {
        lock.withLock {
            guard jobs.isEmpty && !stopped else { return false }
            sleeping = true
            return true
        }
    }

    func awake() { lock.withLock { sleeping = false } }

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
            let (batch, done) = lock.withLock { () -> ([() -> Void], Bool) in
                let b = jobs
                jobs.removeAll()
                return (b, stopped)
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
