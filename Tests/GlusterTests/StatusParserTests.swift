import Foundation
import GeoRepCore
@testable import Gluster
import Testing

@Suite struct StatusParserTests {
    let volumeIDs = ["mvol": "ae82cc7c-7c75-4b80-942a-793b95189a0e"]

    @Test func recordedFilesArePresent() {
        #expect(RecordedOutput.allFiles.count >= 30, "expected the recorded gluster 10.3 files in \(RecordedOutput.directory.path)")
    }

    @Test func activeSessionDetail() throws {
        let out = try RecordedOutput.load("status-detail-active.xml")
        let sessions = try GlusterParser.statusSessions(out.text, volumeIDs: volumeIDs, exitCode: out.exitCode)
        #expect(sessions.count == 1)
        let s = try #require(sessions.first)
        #expect(s.primaryVolume == "mvol")
        #expect(s.secondaryHost == "vm")
        #expect(s.secondaryVolume == "svol")
        #expect(s.secondaryUser == nil)
        #expect(s.secondaryVolumeId == "1206df1f-fc7b-4864-ba0c-3e08aa3892d7")
        #expect(s.sessionKey == "7be8d38a-8d56-484f-bc15-48d6c08a17f2:ssh://vm::svol:1206df1f-fc7b-4864-ba0c-3e08aa3892d7")
        #expect(s.status == .active)
        #expect(s.bricks.map(\.primaryBrick) == ["/data/b1", "/data/b2"])
        let b = s.bricks[0]
        #expect(b.status == .active)
        #expect(b.rawStatus == "Active")
        #expect(b.crawlStatus == "Changelog Crawl")
        #expect(b.entry == 0 && b.data == 0 && b.meta == 0 && b.failures == 0)
        #expect(b.secondaryNode == nil)  // an empty element
        #expect(b.checkpointCompleted == nil)  // N/A
        #expect(b.lastSynced == utc("2026-11-23T03:58:02Z"))  // gluster's XML times are UTC
        #expect(b.primaryNodeUuid == "7be8d38a-8d56-484f-bc15-48d6c08a17f2")
        #expect(b.brickId == StableID.brick(volumeID: volumeIDs["mvol"]!, host: "vm", path: "/data/b1"))
        #expect(b.brickId != s.bricks[1].brickId)
    }

    @Test(arguments: [
        ("status-detail-paused.xml", GeoRepStatus.paused), ("status-detail-stopped.xml", .stopped),
        ("status-detail-active.xml", .active), ("status-detail-checkpoint.xml", .active),
        ("status-detail-checkpoint-done.xml", .active), ("status-session.xml", .active),
    ])
    func sessionStatusFromRecordedDetail(file: String, expected: GeoRepStatus) throws {
        let out = try RecordedOutput.load(file)
        let sessions = try GlusterParser.statusSessions(out.text, exitCode: out.exitCode)
        #expect(sessions.first?.status == expected)
    }

    @Test func pausedBricksHaveNoCounters() throws {
        let out = try RecordedOutput.load("status-detail-paused.xml")
        let b = try #require(try GlusterParser.statusSessions(out.text).first?.bricks.first)
        #expect(b.entry == nil && b.data == nil && b.crawlStatus == nil && b.secondaryNode == nil && b.lastSynced == nil)
    }

    @Test func checkpointCompletion() throws {
        let done = try RecordedOutput.load("status-detail-checkpoint-done.xml")
        let b = try #require(try GlusterParser.statusSessions(done.text).first?.bricks.first)
        #expect(b.checkpointCompleted == true)
        #expect(b.checkpointStatus == "COMPLETED")
        #expect(b.checkpointTime == utc("2026-11-23T04:01:15Z"))
        #expect(b.checkpointCompletionTime == utc("2026-11-23T04:02:05Z"))
        let pending = try RecordedOutput.load("status-detail-checkpoint.xml")
        let p = try #require(try GlusterParser.statusSessions(pending.text).first?.bricks.first)
        #expect(p.checkpointCompleted == false)
        #expect(p.checkpointStatus == "PENDING")
    }

    @Test func allSessionsAnswerWithSSHPrefixAndOpErrstr() throws {
        // opRet 0 with opErrstr "primary not found", and `ssh://` in <secondary>: still a success.
        let out = try RecordedOutput.load("status-all.xml")
        let sessions = try GlusterParser.statusSessions(out.text, exitCode: out.exitCode)
        #expect(sessions.count == 1)
        #expect(sessions[0].secondaryHost == "vm")
        #expect(sessions[0].bricks.allSatisfy { $0.secondaryHost == "vm" })
    }

    @Test func volumeStatusListsEverySessionOfTheVolume() throws {
        let out = try RecordedOutput.load("status-vol.xml")
        let sessions = try GlusterParser.statusSessions(out.text, exitCode: out.exitCode)
        #expect(!sessions.isEmpty)
        #expect(sessions.allSatisfy { $0.primaryVolume == "mvol" })
    }

    @Test(arguments: ["err-status-nosuch.xml", "err-status-novol.xml"])
    func plainTextStatusFailureIsNotFound(file: String) throws {
        let out = try RecordedOutput.load(file)
        #expect(out.exitCode == 2)
        #expect(throws: GlusterError.self) { try GlusterParser.statusSessions(out.text, exitCode: out.exitCode) }
        do { _ = try GlusterParser.statusSessions(out.text, exitCode: out.exitCode) } catch {
            #expect(error.code == "session_not_found")
        }
    }

    /// The parser hands on instants or nothing: what is not a time gluster prints (or a date that
    /// does not exist) is nil, as `N/A` is, so no consumer has to know gluster's spelling.
    @Test(arguments: ["2026-11-23 03:58:02", "2026-02-31 10:00:00", "2026-11-23T03:58:02", "yesterday", "2026-11-23 03:58", "2026-11-23 3:58:02"])
    func timesAreInstantsOrNothing(text: String) throws {
        let xml = Self.gluster7Detail.replacingOccurrences(of: "<last_synced>2020-01-02 03:04:05</last_synced>",
                                                           with: "<last_synced>\(text)</last_synced>")
        let brick = try #require(try GlusterParser.statusSessions(xml).first?.bricks.first)
        #expect(brick.lastSynced == (text == "2026-11-23 03:58:02" ? utc("2026-11-23T03:58:02Z") : nil))
    }

    func utc(_ rfc3339: String) -> Date? { Timestamp.parse(rfc3339) }

    @Test func glusterSevenGenerationIsRead() throws {
        let sessions = try GlusterParser.statusSessions(Self.gluster7Detail, volumeIDs: ["mastervol": "0e4a7d7e-2d0d-4f3a-9a51-111111111111"])
        #expect(sessions.count == 2)
        let first = sessions[0]
        #expect(first.primaryVolume == "mastervol")
        #expect(first.secondaryUser == "geoaccount")
        #expect(first.secondaryHost == "slave1.example.com")
        #expect(first.secondaryVolume == "slavevol")
        #expect(first.secondaryVolumeId == "9f7c0a1e-5b8e-4f26-8b43-2a0d2c7e6f10")
        #expect(first.bricks.map(\.status) == [.active, .passive])
        #expect(first.status == .active)
        #expect(first.bricks[0].primaryNode == "node1")
        #expect(first.bricks[0].secondaryNode == "slave1.example.com")
        #expect(first.bricks[0].data == 12 && first.bricks[0].failures == 1)
        #expect(first.bricks[1].primaryNodeUuid == "2b9a4c1d-0000-4000-8000-000000000002")
        #expect(first.bricks[0].lastSynced == utc("2020-01-02T03:04:05Z"))
        #expect(first.bricks[0].checkpointTime == utc("2020-01-02T03:00:00Z"))
        #expect(first.bricks[0].checkpointCompletionTime == nil && first.bricks[1].lastSynced == nil)  // N/A
        #expect(sessions[1].status == .partialFaulty)
        #expect(sessions[1].bricks.map(\.status) == [.faulty, .initializing])
    }

    /// GlusterFS 7-style `status detail` with master_/slave_ names, two volumes' worth of
    /// sessions and lower-case statuses, written from the element names of that generation.
    static let gluster7Detail = StatusAnswer.xml(volumes: """
            <volume>
              <name>mastervol</name>
              <sessions>
                <session>
                  <session_slave>2b9a4c1d-0000-4000-8000-000000000001:ssh://geoaccount@slave1.example.com::slavevol:9f7c0a1e-5b8e-4f26-8b43-2a0d2c7e6f10</session_slave>
                  <pair>
                    <master_node>node1</master_node>
                    <master_brick>/bricks/b1</master_brick>
                    <slave_user>geoaccount</slave_user>
                    <slave>geoaccount@slave1.example.com::slavevol</slave>
                    <slave_node>slave1.example.com</slave_node>
                    <status>active</status>
                    <crawl_status>Hybrid Crawl</crawl_status>
                    <entry>4</entry>
                    <data>12</data>
                    <meta>0</meta>
                    <failures>1</failures>
                    <checkpoint_completed>No</checkpoint_completed>
                    <master_node_uuid>2b9a4c1d-0000-4000-8000-000000000001</master_node_uuid>
                    <last_synced>2020-01-02 03:04:05</last_synced>
                    <checkpoint_time>2020-01-02 03:00:00</checkpoint_time>
                    <checkpoint_completion_time>N/A</checkpoint_completion_time>
                  </pair>
                  <pair>
                    <master_node>node2</master_node>
                    <master_brick>/bricks/b1</master_brick>
                    <slave_user>geoaccount</slave_user>
                    <slave>geoaccount@slave1.example.com::slavevol</slave>
                    <slave_node>N/A</slave_node>
                    <status>PASSIVE</status>
                    <crawl_status>N/A</crawl_status>
                    <entry>N/A</entry>
                    <data>N/A</data>
                    <meta>N/A</meta>
                    <failures>N/A</failures>
                    <checkpoint_completed>N/A</checkpoint_completed>
                    <master_node_uuid>2b9a4c1d-0000-4000-8000-000000000002</master_node_uuid>
                    <last_synced>N/A</last_synced>
                    <checkpoint_time>N/A</checkpoint_time>
                    <checkpoint_completion_time>N/A</checkpoint_completion_time>
                  </pair>
                </session>
              </sessions>
            </volume>
            <volume>
              <name>othervol</name>
              <sessions>
                <session>
                  <session_slave>2b9a4c1d-0000-4000-8000-000000000001:ssh://slave2::backup:3c1d0a1e-5b8e-4f26-8b43-2a0d2c7e6f99</session_slave>
                  <pair>
                    <master_node>node1</master_node>
                    <master_brick>/bricks/o1</master_brick>
                    <slave_user>root</slave_user>
                    <slave>slave2::backup</slave>
                    <slave_node/>
                    <status>Faulty</status>
                    <crawl_status>N/A</crawl_status>
                  </pair>
                  <pair>
                    <master_node>node2</master_node>
                    <master_brick>/bricks/o1</master_brick>
                    <slave_user>root</slave_user>
                    <slave>slave2::backup</slave>
                    <slave_node/>
                    <status>Initializing...</status>
                    <crawl_status>N/A</crawl_status>
                  </pair>
                </session>
              </sessions>
            </volume>
        """)
}
