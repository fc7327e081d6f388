import CSpawnShim
import Foundation
import Gluster
import Logging
import Testing

/// Every integration suite nests in this one, one test at a time: they share one broker, one
/// database and one gluster lab, and some restart the broker.
@Suite(.serialized) struct Integration {}

/// The real services the integration tests talk to, from the environment that
/// `ops/test.sh` sets up (it sources `/var/lib/georep/stack.env`). A missing variable is a
/// failure with instructions, never a silent skip.
struct TestEnvironment {
    var amqpURL: String
    var postgresURL: String
    var inventoryPath: String
    var labHost: String
    /// The multi-node lab's inventory (ops/gluster-pools.sh): the primary pool p1 + p2 over ssh.
    var poolsInventoryPath: String

    static func load() throws -> TestEnvironment {
        let env = ProcessInfo.processInfo.environment
        func need(_ key: String) throws -> String {
            guard let value = env[key], !value.isEmpty else {
                throw MissingEnvironment(key: key)
            }
            return value
        }
        return TestEnvironment(amqpURL: try need("GEOREP_AMQP_URL"), postgresURL: try need("GEOREP_PG_URL"),
                               inventoryPath: try need("GEOREP_INVENTORY"), labHost: try need("GEOREP_LAB_HOST"),
                               poolsInventoryPath: try need("GEOREP_POOLS_INVENTORY"))
    }

    static var schemasDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Schemas/sql").path
    }

    static var logger: Logger {
        var logger = Logger(label: "georep.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["GEOREP_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .notice
        return logger
    }
}

struct MissingEnvironment: Error, CustomStringConvertible {
    var key: String
    var description: String { "\(key) is not set: run the tests with ops/test.sh, which starts RabbitMQ, PostgreSQL and the gluster lab" }
}

/// Polls `body` until it returns a value or `seconds` pass.
func eventually<T>(_ seconds: Double, every interval: Double = 0.5, _ body: () async throws -> T?) async throws -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if let value = try await body() { return value }
        try await Task.sleep(for: .seconds(interval))
    } while Date() < deadline
    return nil
}

/// `ops/restart.sh SERVICE` (postgres or rabbitmq): restarts it in place; returns the exit status.
func restartService(_ service: String) -> Int32 {
    let root = URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
    return runWithoutPipes(root.appendingPathComponent("ops/restart.sh").path, [service])
}

/// Runs `program` to its end with no pipe of ours: a server it starts (a restarted broker, a
/// FUSE client) keeps whatever descriptors it was given, and a reader of its output would wait
/// forever. Returns the exit status (-1 when it cannot start).
func runWithoutPipes(_ program: String, _ arguments: [String]) -> Int32 {
    spawnAndWait(program, arguments, environment: nil, capture: false).status
}

/// Runs `program` with `arguments` to its end through posix_spawn and waitpid, not Foundation's
/// Process: its waitUntilExit missed the exit of a child now and then once a test had reaped one
/// of its processes itself (a `mount` and an `ops/pg-pair.sh` left as zombies, the test waiting
/// for minutes). `capture`: stdout and stderr together, else both to /dev/null; stdin is
/// /dev/null, and no other descriptor of ours (broker and database sockets) reaches the child.
func spawnAndWait(_ program: String, _ arguments: [String], environment: [String: String]?, capture: Bool) -> (status: Int32, output: String) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipeFDs: [Int32] = [-1, -1]
    if capture {
        guard pipe(&pipeFDs) == 0 else { return (-1, "pipe: \(String(cString: strerror(errno)))") }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
    } else {
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
    }
    georep_spawn_addclosefrom(&actions, 3)
    let cArgs = ([program] + arguments).map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    let cEnv = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer { cEnv?.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = cEnv.map { env in env.withUnsafeBufferPointer { posix_spawn(&pid, program, &actions, nil, cArgs, UnsafeMutablePointer(mutating: $0.baseAddress)) } }
        ?? posix_spawn(&pid, program, &actions, nil, cArgs, environ)
    if capture { close(pipeFDs[1]) }
    guard spawned == 0 else {
        if capture { close(pipeFDs[0]) }
        return (-1, "\(program): \(String(cString: strerror(spawned)))")
    }
    var output = [UInt8]()
    if capture {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(pipeFDs[0], &buffer, buffer.count)
            if n > 0 { output += buffer[0..<n] } else if n == 0 || errno != EINTR { break }
        }
        close(pipeFDs[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return (-1, String(decoding: output, as: UTF8.self)) }
    }
    return ((status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F), String(decoding: output, as: UTF8.self))
}
