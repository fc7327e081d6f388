import CSpawnShim
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process left behind.
public struct ProcessOutput: Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
    /// Ended early because its ``AbortSignal`` fired.
    public var aborted = false
}

/// Ends a running process early: fired from another task, seen by the runner within a second.
public final class AbortSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func fire() { flag.store(true, ordering: .releasing) }

    public var fired: Bool { flag.load(ordering: .acquiring) }
}

/// Runs an argument vector directly with `posix_spawn` (no shell), with a deadline, off the
/// cooperative thread pool.
///
/// The child gets its own process group, so a timeout kills everything it started (a shell
/// wrapper's children too), and only stdin/stdout/stderr: no descriptor of ours (broker or
/// database sockets) leaks into gluster or ssh.
public struct ProcessRunner: Sendable {
    /// Directories searched for bare program names, after `PATH` (gluster lives in /usr/sbin).
    public var extraSearchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    public init() {}

    /// Runs `argv` with this process's environment plus `environment`.
    public func run(_ argv: [String], timeout: Double, environment: [String: String] = [:],
                    abort: AbortSignal? = nil) async throws(GlusterError) -> ProcessOutput {
        guard let program = argv.first, let path = resolve(program) else {
            throw .launchFailed("\(argv.first ?? "(empty)") was not found in PATH")
        }
        let result: Result<ProcessOutput, GlusterError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.runBlocking(path: path, argv: argv, timeout: timeout, environment: environment, abort: abort))
            }
        }
        return try result.get()
    }

    func resolve(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + extraSearchPath {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func runBlocking(path: String, argv: [String], timeout: Double,
                                    environment: [String: String], abort: AbortSignal?) -> Result<ProcessOutput, GlusterError> {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { return .failure(.launchFailed("pipe: \(String(cString: strerror(errno)))")) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        georep_spawn_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv)
        close(out[1])
        close(err[1])
        guard spawned == 0 else {
            close(out[0])
            close(err[0])
            return .failure(.launchFailed("\(path): \(String(cString: strerror(spawned)))"))
        }

        var stdout = [UInt8]()
        var stderr = [UInt8]()
        var open = [out[0]: true, err[0]: true]
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var aborted = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open.values.contains(true) {
            let remaining = deadline.timeIntervalSinceNow
            if !timedOut && (remaining <= 0 || abort?.fired == true) {
                timedOut = true
                aborted = remaining > 0
                kill(-pid, SIGKILL)
            }
            // After a kill, give the pipes a moment: an orphan may hold them, and we do not wait for it.
            let wait = timedOut ? 200 : Int32(min(max(remaining, 0), 1) * 1000)
            var fds = open.filter(\.value).map { pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready == 0 && timedOut { break }
            if ready < 0 && errno != EINTR { break }
            for fd in fds where fd.revents != 0 {
                let n = read(fd.fd, &buffer, buffer.count)
                if n > 0 {
                    if fd.fd == out[0] { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    open[fd.fd] = false
                }
            }
        }
        close(out[0])
        close(err[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return .success(ProcessOutput(exitCode: exitCode, stdout: String(decoding: stdout, as: UTF8.self),
                                      stderr: String(decoding: stderr, as: UTF8.self), timedOut: timedOut,
                                            aborted: aborted))
    }
}
