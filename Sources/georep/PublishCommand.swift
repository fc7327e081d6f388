import AMQP
import ArgumentParser
import Foundation
import GeoRepCore

/// The session a shell command names, as options.
struct SessionOptions: ParsableArguments {
    @Option(help: "Cluster id of the primary volume, as in the inventory.")
    var cluster: String = "lab"

    @Option(help: "Primary volume.")
    var primary: String = "mvol"

    @Option(help: "Secondary as gluster spells it: HOST::VOLUME or USER@HOST::VOLUME.")
    var secondary: String

    func ref() throws -> SessionRef {
        guard let spec = SessionRef.parseSecondary(secondary) else {
            throw ValidationError("--secondary must look like HOST::VOLUME or USER@HOST::VOLUME, not \(secondary)")
        }
        return SessionRef(cluster: cluster, primaryVolume: primary, secondaryHost: spec.host, secondaryVolume: spec.volume,
                          secondaryUser: spec.user)
    }
}

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Send one command and wait for its result event.",
        discussion: """
            Actions: \(CommandAction.allCases.map(\.rawValue).joined(separator: ", ")).
            Example: georep publish start --secondary vm::svol
            A nightly window: georep publish schedule --secondary vm::svol --daily 02:00 --minutes 90
            With --raw FILE the file's bytes are sent as they are (to see how bad input is rejected).
            """)

    @OptionGroup var settings: Settings

    @Argument(help: "The action.")
    var action: String?

    @OptionGroup var session: SessionOptions

    @Flag(help: "force (create, start, stop, pause, resume).") var force = false
    @Flag(help: "Do not push the pem keys on create.") var noPushPem = false
    @Option(help: "ssh port for create.") var sshPort: Int?
    @Flag(help: "reset-sync-time on delete.") var resetSyncTime = false
    @Flag(help: "Stop the session first on delete.") var stopFirst = false
    @Option(help: "Option name for config.set / config.reset.") var key: String?
    @Option(help: "Option value for config.set.") var value: String?
    @Option(help: "Checkpoint time, default now.") var checkpoint: String?
    @Option(help: """
        Seconds to wait for the result; 0 does not wait (default 180). For checkpoint, also how long the \
        checkpoint may take to complete: its result comes when it completed or the time ran out.
        """) var wait: Double?
    @Option(help: "Send this file's bytes as the command, unchecked.") var raw: String?
    @Option(help: "schedule: a daily window's start, HH:MM in UTC (with --minutes).") var daily: String?
    @Option(help: "schedule: the daily window's length in minutes.") var minutes: Int?
    @Option(help: "schedule: one window, START/END in RFC 3339 (repeat for more).") var window: [String] = []
    @Flag(help: "schedule: clear the session's schedule.") var clear = false

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.publish")
        let client = try await CommandClient.connect(url: try settings.amqp(), source: "georep/cli/\(ProcessIdentity.name)",
                                                     topology: settings.topology, watchEvents: false, logger: logger)
        let wait = self.wait ?? 180
        if let raw {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: raw)))
            try await client.sendRaw(bytes, routingKey: "raw")
            if wait > 0, let reply = await client.nextEvent(timeout: wait), case .success(let (_, event)) = reply,
               case .commandResult(let result) = event {
                try printJSON(result)
                await client.close()
                if result.outcome != .succeeded { throw ExitCode(2) }
                return
            }
            await client.close()
            return
        }
        guard let actionName = action, let action = CommandAction(rawValue: actionName) else {
            throw ValidationError("unknown action \(action ?? "(none)"); one of \(CommandAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let options = CommandOptions(
            force: force ? true : nil, pushPem: noPushPem ? false : nil, sshPort: sshPort, resetSyncTime: resetSyncTime ? true : nil,
            stopFirst: stopFirst ? true : nil, key: key, value: value, checkpoint: checkpoint,
            wait: action == .checkpoint ? self.wait.flatMap { $0 > 0 ? Int($0.rounded(.up)) : nil } : nil,
            schedule: action == .schedule ? try schedule() : nil)
        let command = Command(action: action, session: try session.ref(), options: options, sender: "georep-cli")
        do { try command.validate() } catch { throw ValidationError(error.description) }
        print("sending \(action.rawValue) for \(command.session) as command \(command.commandId.uuidString.lowercased())")
        guard wait > 0 else {
            try await client.send(command)
            await client.close()
            return
        }
        // A checkpoint's wait runs on the workers: give its result a minute beyond it to arrive.
        let result = try await client.run(command, timeout: options.wait.map { Double($0) + 60 } ?? wait)
        try printJSON(result)
        await client.close()
        if result.outcome != .succeeded { throw ExitCode(2) }
    }
}

extension PublishCommand {
    /// The schedule `--daily`/`--minutes`, `--window` and `--clear` describe.
    func schedule() throws -> SyncSchedule {
        if clear { return SyncSchedule() }
        var schedule = SyncSchedule()
        if let daily {
            guard let minutes else { throw ValidationError("--daily needs --minutes, the window's length") }
            schedule.daily = .init(at: daily, minutes: minutes)
        }
        for text in window {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let start = Timestamp.parse(parts[0]), let end = Timestamp.parse(parts[1]) else {
                throw ValidationError("--window is START/END in RFC 3339, e.g. 2026-12-01T02:00:00Z/2026-12-01T03:00:00Z; not \(text)")
            }
            schedule.windows.append(.init(start: start, end: end))
        }
        guard !schedule.isEmpty else { throw ValidationError("schedule needs --daily with --minutes, --window, or --clear") }
        return schedule
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = MessageCodec.encoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
