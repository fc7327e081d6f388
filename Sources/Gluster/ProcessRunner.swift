import Foundation

/// What a finished process left behind.
public struct ProcessOutput: Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

/// Runs an argument vector directly (execve through Foundation's Process: no shell), with a
/// deadline, off the cooperative thread pool.
public struct ProcessRunner: Sendable {
    /// Directories searched for bare program names, after `PATH` (gluster lives in /usr/sbin).
    public var extraSearchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    public init() {}

    public func run(_ argv: [String], timeout: Double) async throws(GlusterError) -> ProcessOutput {
        guard let program = argv.first, let url = resolve(program) else {
            throw .launchFailed("\(argv.first ?? "(empty)") was not found in PATH")
        }
        let result: Result<ProcessOutput, GlusterError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.runBlocking(url: url, arguments: Array(argv.dropFirst()), timeout: timeout))
            }
        }
        return try result.get()
    }

    func resolve(_ program: String) -> URL? {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + extraSearchPath {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    private static func runBlocking(url: URL, arguments: [String], timeout: Double) -> Result<ProcessOutput, GlusterError> {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure(.launchFailed("\(url.path): \(error.localizedDescription)")) }

        let reads = DispatchGroup()
        let collected = Collected()
        reads.enter()
        DispatchQueue.global().async { collected.setOut(out.fileHandleForReading.readDataToEndOfFile()); reads.leave() }
        reads.enter()
        DispatchQueue.global().async { collected.setErr(err.fileHandleForReading.readDataToEndOfFile()); reads.leave() }

        let pid = process.processIdentifier
        let killer = DispatchWorkItem {
            guard process.isRunning else { return }
            collected.markTimedOut()
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { if process.isRunning { kill(pid, SIGKILL) } }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        _ = reads.wait(timeout: .now() + 5)
        let (o, e, timedOut) = collected.values
        return .success(ProcessOutput(
            exitCode: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self), timedOut: timedOut))
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private var timedOut = false

    func setOut(_ d: Data) { lock.withLock { out = d } }
    func setErr(_ d: Data) { lock.withLock { err = d } }
    func markTimedOut() { lock.withLock { timedOut = true } }
    var values: (Data, Data, Bool) { lock.withLock { (out, err, timedOut) } }
}
