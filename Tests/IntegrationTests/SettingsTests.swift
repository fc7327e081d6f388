import Foundation
import Testing

/// Settings are read once at start and checked: a bad value or an unreadable config file stops
/// the process with a message naming the setting, before it connects anywhere.
///
/// Serialized, and each `georep` waited for off the shared pool: cases side by side, each holding
/// a pool thread while its processes ran, held both of a 2-core machine's and delayed the timers
/// of the unit tests running beside them (BatcherTests waited seconds for a 50 ms delay).
@Suite(.serialized) struct SettingsTests {
    static var binary: String {
        URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/georep").path
    }

    /// Runs `georep ARGS` with only `environment` (no GEOREP_* from the caller), waiting on a
    /// thread of its own rather than one of the pool the other tests' tasks run on.
    func georep(_ arguments: [String], _ environment: [String: String]) async -> (status: Int32, output: String) {
        await runCommandOffPool([Self.binary] + arguments, environment: environment,
                                inheriting: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GEOREP_") })
    }

    @Test(arguments: [
        ("GEOREP_SHARDS", "four", "GEOREP_SHARDS=four: must be a whole number of at least 1"),
        ("GEOREP_SHARDS", "0", "GEOREP_SHARDS=0: must be a whole number of at least 1"),
        ("GEOREP_MONITOR_INTERVAL", "-1", "GEOREP_MONITOR_INTERVAL=-1: must be a number of at least 0"),
        ("GEOREP_GLUSTER_TIMEOUT", "0", "GEOREP_GLUSTER_TIMEOUT=0: must be a number above 0"),
        ("GEOREP_DECLARE_TOPOLOGY", "yes", "GEOREP_DECLARE_TOPOLOGY=yes: must be true or false"),
        ("GEOREP_LOG_LEVEL", "loud", "GEOREP_LOG_LEVEL=loud: must be one of"),
        ("GEOREP_HTTP", "localhost:http", "GEOREP_HTTP=localhost:http: must be host:port"),
    ])
    func aBadValueStopsTheProcess(setting: String, value: String, message: String) async {
        for command in [["settings"], ["worker", "--inventory", "/nonexistent"], ["persister"]] {
            let (status, output) = await georep(command, [setting: value, "GEOREP_AMQP_URL": "amqp://u:p@127.0.0.1:1/v"])
            #expect(status != 0, "georep \(command[0]) accepted \(setting)=\(value)")
            #expect(output.contains(message), "georep \(command[0]): \(output)")
        }
    }

    @Test func anUnreadableConfigFileStopsTheProcess() async {
        let (status, output) = await georep(["settings"], ["GEOREP_CONFIG": "/nonexistent/georep.env"])
        #expect(status != 0)
        #expect(output.contains("cannot read the config file /nonexistent/georep.env"), "\(output)")
    }

    /// Every service stops on it before connecting anywhere (the URLs point at nothing that
    /// answers, so a service that went on would hang or fail differently), also when the path
    /// names a directory.
    @Test(arguments: ["/nonexistent/georep.env", "/tmp"])
    func everyServiceStopsOnAnUnreadableConfigFile(path: String) async {
        for command in [["worker", "--inventory", "/nonexistent"], ["persister"], ["api"]] {
            let (status, output) = await georep(command, ["GEOREP_CONFIG": path, "GEOREP_AMQP_URL": "amqp://u:p@127.0.0.1:1/v",
                                                    "GEOREP_PG_URL": "postgresql://u:p@127.0.0.1:1/db"])
            #expect(status != 0, "georep \(command[0]) went on with GEOREP_CONFIG=\(path)")
            #expect(output.contains("cannot read the config file \(path) (GEOREP_CONFIG)"), "georep \(command[0]): \(output)")
        }
    }

    /// A line that sets nothing stops the process with its line number; `export NAME=value`
    /// (a file the shell sources too) is read as NAME=value.
    @Test func aConfigLineThatSetsNothingStopsTheProcessAndExportIsRead() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-settings-\(UUID().uuidString).env")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# shards\nexport GEOREP_SHARDS=8\n".write(to: file, atomically: true, encoding: .utf8)
        let read = await georep(["settings"], ["GEOREP_CONFIG": file.path])
        #expect(read.status == 0 && read.output.contains("GEOREP_SHARDS=8"), "\(read.output)")
        try "GEOREP_SHARDS=8\n\nGEOREP_LOG_LEVEL debug\n".write(to: file, atomically: true, encoding: .utf8)
        let typo = await georep(["settings"], ["GEOREP_CONFIG": file.path])
        #expect(typo.status != 0)
        #expect(typo.output.contains("line 3: expected NAME=value, not \"GEOREP_LOG_LEVEL debug\""), "\(typo.output)")
    }

    /// A bad value in the file is named like one in the environment.
    @Test func aBadValueInTheConfigFileStopsTheProcess() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-settings-\(UUID().uuidString).env")
        try "GEOREP_SHARDS=four\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = await georep(["persister"], ["GEOREP_CONFIG": file.path, "GEOREP_AMQP_URL": "amqp://u:p@127.0.0.1:1/v"])
        #expect(status != 0)
        #expect(output.contains("GEOREP_SHARDS=four: must be a whole number of at least 1"), "\(output)")
    }

    @Test func aConfigFileAndTheEnvironmentAreReadAndSecretsHidden() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-settings-\(UUID().uuidString).env")
        try "# a comment\nGEOREP_SHARDS=8\nGEOREP_AMQP_URL='amqp://u:secret@h/v'\nGEOREP_LOG_LEVEL=debug\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = await georep(["settings"], ["GEOREP_CONFIG": file.path, "GEOREP_LOG_LEVEL": "notice"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("GEOREP_SHARDS=8"))
        #expect(output.contains("GEOREP_LOG_LEVEL=notice"), "the environment wins over the file")
        #expect(output.contains("GEOREP_AMQP_URL=(set, hidden)") && !output.contains("secret"))
        #expect(output.contains("GEOREP_MONITOR_INTERVAL=(default)"))
    }
}
