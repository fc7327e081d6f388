import Foundation
import GeoRepCore
import Gluster
import Testing

/// The design's per-brick counters (`filesSynced`, `filesPending`, `filesSkipped`, bytes and
/// deletes pending) come from GlusterFS before 3.7, which reported them; newer versions do not.
@Suite struct DesignCountersTests {
    @Test func olderGlusterCountersAreRead() throws {
        let sessions = try GlusterParser.statusSessions(Self.olderDetail, volumeIDs: ["mastervol": "0e4a7d7e-2d0d-4f3a-9a51-111111111111"])
        let brick = try #require(sessions.first?.bricks.first)
        #expect(brick.filesSynced == 1200 && brick.filesPending == 7 && brick.bytesPending == 4096
                && brick.deletesPending == 2 && brick.filesSkipped == 3, "\(brick)")
        #expect(brick.status == .active)
        // Not reported (N/A) stays unknown, never zero.
        let second = try #require(sessions.first?.bricks.dropFirst().first)
        #expect(second.filesSynced == nil && second.filesPending == nil && second.filesSkipped == nil)
    }

    @Test func newerGlusterHasNoneOfThem() throws {
        let sessions = try GlusterParser.statusSessions(StatusParserTests.gluster7Detail, volumeIDs: [:])
        for brick in sessions.flatMap(\.bricks) {
            #expect(brick.filesSynced == nil && brick.filesPending == nil && brick.bytesPending == nil
                    && brick.deletesPending == nil && brick.filesSkipped == nil)
        }
    }

    /// `status detail` of the 3.5/3.6 generation: master_/slave_ names and the files_* counters.
    static let olderDetail = StatusAnswer.xml(volumes: """
            <volume>
              <name>mastervol</name>
              <sessions>
                <session>
                  <session_slave>2b9a4c1d-0000-4000-8000-000000000001:ssh://slave1.example.com::slavevol</session_slave>
                  <pair>
                    <master_node>node1</master_node>
                    <master_brick>/bricks/b1</master_brick>
                    <slave>slave1.example.com::slavevol</slave>
                    <status>Active</status>
                    <checkpoint_status>N/A</checkpoint_status>
                    <crawl_status>Changelog Crawl</crawl_status>
                    <files_syncd>1200</files_syncd>
                    <files_pending>7</files_pending>
                    <bytes_pending>4096</bytes_pending>
                    <deletes_pending>2</deletes_pending>
                    <files_skipped>3</files_skipped>
                    <master_node_uuid>2b9a4c1d-0000-4000-8000-000000000001</master_node_uuid>
                  </pair>
                  <pair>
                    <master_node>node2</master_node>
                    <master_brick>/bricks/b1</master_brick>
                    <slave>slave1.example.com::slavevol</slave>
                    <status>Passive</status>
                    <checkpoint_status>N/A</checkpoint_status>
                    <crawl_status>N/A</crawl_status>
                    <files_syncd>N/A</files_syncd>
                    <files_pending>N/A</files_pending>
                    <bytes_pending>N/A</bytes_pending>
                    <deletes_pending>N/A</deletes_pending>
                    <files_skipped>N/A</files_skipped>
                    <master_node_uuid>2b9a4c1d-0000-4000-8000-000000000002</master_node_uuid>
                  </pair>
                </session>
              </sessions>
            </volume>
        """)
}
