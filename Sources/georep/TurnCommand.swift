import ArgumentParser
import Foundation
import Gluster

/// `georep turn --host vm -- gluster volume info`: runs a program in this machine's turn on a
/// gluster host, the turn georep's own processes take (``HostLock``): shared for a read, alone
/// with `--change`.
///
/// For operators' scripts and exporters on the workers' machine: a `gluster` call that arrives
/// while a `create push-pem` mounts volumes through glusterd is what wedges it (issue 15). The
/// program is started with its argument vector, never through a shell.
struct TurnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turn",
        abstract: "Runs a program (gluster …) in this machine's turn on a gluster host, as georep's processes take it.",
        discussion: """
            Reads share the host; a change (--change) runs alone. The exit status is the program's; \
            75 when no turn came within --timeout seconds (nothing was run).
            """)

    @Option(help: "The gluster host, as the inventory names it.") var host: String
    @Flag(help: "The program changes the cluster: wait until it runs alone.") var change = false
    @Option(help: "Seconds to wait for the turn.") var timeout: Double = 120
    @Option(help: "Where georep's processes take their turns.") var lockDirectory = HostLock.defaultDirectory
    @Flag(help: "Say on stderr how long the turn took to come.") var reportWait = false
    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments, after --.") var command: [String]

    func run() async throws {
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = argv.first, !program.isEmpty else { throw ValidationError("name the program to run after --") }
        let held: HostLock.Held
        let asked = ContinuousClock.now
        do {
            held = try await HostLock(directory: lockDirectory).acquire(host: host, exclusive: change, timeout: timeout)
        } catch {
            FileHandle.standardError.write(Data("georep turn: \(error)\n".utf8))
            throw ExitCode(75)  // EX_TEMPFAIL: try again later
        }
        defer { held.release() }
        if reportWait {
            let waited = ContinuousClock.now - asked
            let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
            FileHandle.standardError.write(Data("georep turn: waited \(String(format: "%.2f", seconds)) s\n".utf8))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")  // PATH lookup, no shell
        process.arguments = argv
        do { try process.run() } catch {
            throw ValidationError("cannot run \(program): \(error)")
        }
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal { throw ExitCode(128 + process.terminationStatus) }
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }
}
