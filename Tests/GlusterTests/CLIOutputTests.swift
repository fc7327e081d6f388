import Foundation
import GeoRepCore
@testable import Gluster
import Testing

@Suite struct CLIOutputTests {
    @Test(arguments: ["create.xml", "err-create-exists.xml", "start.xml", "stop.xml", "pause.xml", "resume.xml", "delete.xml",
                      "config-set.xml", "config-reset.xml", "checkpoint-set.xml", "err-stop-already.xml"])
    func successfulActions(file: String) throws {
        let out = try RecordedOutput.load(file)
        _ = try GlusterParser.action(out.text, exitCode: out.exitCode)
    }

    @Test(arguments: [
        ("err-start-already.xml", "already_started"),
        ("err-pause-already.xml", "already_paused"),
        ("err-start-nosuch.xml", "session_not_found"),
        ("err-delete-nosuch.xml", "session_not_found"),
        ("err-delete-running.xml", "still_active"),
        ("err-create-novol.xml", "secondary_unavailable"),
    ])
    func failuresAreTyped(file: String, code: String) throws {
        let out = try RecordedOutput.load(file)
        #expect(out.exitCode == 0, "with --xml gluster exits 0 on these failures")
        do {
            try GlusterParser.action(out.text, exitCode: out.exitCode)
            Issue.record("\(file) parsed as a success")
        } catch {
            #expect(error.code == code, "\(file): \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    @Test func pauseOnStoppedReportsSuccessButSaysNotSetUp() throws {
        // A gluster quirk: opRet 0. The worker must read the message, not only opRet.
        let out = try RecordedOutput.load("err-pause-stopped.xml")
        let message = try GlusterParser.action(out.text, exitCode: out.exitCode)
        #expect(GlusterError.notRunning(after: "pause", message: message)?.code == "not_running")
        #expect(GlusterError.notRunning(after: "pause", message: "") == nil)
    }

    @Test func stopOfStoppedSessionSaysNotSetUp() throws {
        let out = try RecordedOutput.load("err-stop-already.xml")
        #expect(try GlusterParser.action(out.text, exitCode: out.exitCode) == "geo-replication is not set up")
    }

    @Test func everyRecordedFileParsesOrFailsTyped() throws {
        for file in RecordedOutput.allFiles {
            let out = try RecordedOutput.load(file)
            do { _ = try GlusterParser.action(out.text, exitCode: out.exitCode) } catch {
                #expect(error.code != "unparseable_output", "\(file) was not understood: \(error)")
            }
        }
    }

    @Test func garbageKeepsTheRawText() {
        do {
            try GlusterParser.action("Segmentation fault (core dumped)", exitCode: 139)
            Issue.record("accepted garbage")
        } catch {
            guard case .unparseable(let raw) = error else { Issue.record("wrong error \(error)"); return }
            #expect(raw.contains("Segmentation fault"))
            #expect(error.errorInfo.detail?.contains("Segmentation fault") == true)
        }
    }

    @Test func glusterdDownIsUnreachable() {
        let error = CLIOutput.plainTextFailure(stdout: "Connection failed. Please check if gluster daemon is operational.",
                                               stderr: "", exitCode: 1, host: "vm")
        #expect(error.code == "host_unreachable")
        #expect(error.retryable)
    }

    @Test func configAll() throws {
        let out = try RecordedOutput.load("config-all.xml")
        let options = try GlusterParser.config(out.text, exitCode: out.exitCode)
        #expect(options["sync_jobs"] == "3")
        #expect(options["gluster_params"] == "aux-gfid-mount acl")
        #expect(options["allow_network"] == "")
        #expect(options.count > 50)
        let set = try RecordedOutput.load("checkpoint-set.xml")
        #expect(try GlusterParser.config(set.text).isEmpty, "a set answer's <message> is not an option")
    }

    @Test func volumeInfoAndPool() throws {
        let info = try RecordedOutput.load("volume-info.xml")
        let volumes = try GlusterParser.volumes(info.text)
        #expect(volumes.map(\.name) == ["mvol", "svol"])
        #expect(volumes[0].id == "ae82cc7c-7c75-4b80-942a-793b95189a0e")
        #expect(volumes[0].bricks.map(\.path) == ["/data/b1", "/data/b2"])
        #expect(volumes[0].bricks[0].host == "vm")
        let pool = try GlusterParser.pool(try RecordedOutput.load("pool-list.xml").text)
        #expect(pool == [PoolPeer(uuid: "7be8d38a-8d56-484f-bc15-48d6c08a17f2", hostname: "localhost", connected: true)])
    }
}
