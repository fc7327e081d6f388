import GeoRepCore
@testable import Gluster
import Testing

@Suite struct ArgumentsTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")

    @Test func vectorsAreExact() throws {
        #expect(try GlusterArguments.create(ref, options: CommandOptions(force: true)) ==
                ["--mode=script", "--xml", "volume", "geo-replication", "mvol", "vm::svol", "create", "push-pem", "force"])
        let user = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol", secondaryUser: "geo")
        #expect(try GlusterArguments.create(user, options: CommandOptions(pushPem: false, sshPort: 2222, noVerify: true)) ==
                ["--mode=script", "--xml", "volume", "geo-replication", "mvol", "geo@vm::svol", "create", "ssh-port", "2222", "no-verify"])
        #expect(try GlusterArguments.lifecycle(.stop, ref, force: true).suffix(2) == ["stop", "force"])
        #expect(try GlusterArguments.delete(ref, resetSyncTime: true).suffix(2) == ["delete", "reset-sync-time"])
        #expect(try GlusterArguments.configReset(ref, key: "sync-jobs").suffix(2) == ["config", "!sync-jobs"])
        #expect(try GlusterArguments.checkpoint(ref, at: nil).suffix(3) == ["config", "checkpoint", "now"])
        #expect(try GlusterArguments.statusDetail(volume: nil, session: nil) == ["--mode=script", "--xml", "volume", "geo-replication", "status", "detail"])
    }

    @Test(arguments: ["vol;touch /tmp/x", "--help", "-x", "a\nb", "$(id)", "`id`"])
    func hostileNamesNeverBecomeArguments(name: String) {
        let bad = SessionRef(cluster: "lab", primaryVolume: name, secondaryHost: "vm", secondaryVolume: "svol")
        #expect(throws: ValidationError.self) { try GlusterArguments.lifecycle(.start, bad, force: false) }
        let badHost = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: name, secondaryVolume: "svol")
        #expect(throws: ValidationError.self) { try GlusterArguments.create(badHost, options: CommandOptions()) }
        #expect(throws: ValidationError.self) { try GlusterArguments.configSet(ref, key: name, value: "1") }
    }

    @Test func sshVectorQuotesRemoteWordsAndPinsHostKeys() {
        let argv = SSHCommand.argv(host: "vm", settings: SSHSettings(user: "root", identityFile: "/k", knownHostsFile: "/kh", port: 22),
                                   remote: ["gluster", "--xml", "it's"])
        #expect(argv.first == "ssh")
        #expect(argv.contains("StrictHostKeyChecking=yes"))
        #expect(argv.contains("BatchMode=yes"))
        #expect(argv.contains("UserKnownHostsFile=/kh"))
        #expect(argv.contains("ControlMaster=auto"))
        let dash = argv.firstIndex(of: "--")!
        #expect(argv[dash + 1] == "vm")
        #expect(Array(argv[(dash + 2)...]) == ["'gluster'", "'--xml'", "'it'\\''s'"])
    }
}
