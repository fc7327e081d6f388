import Foundation
import GeoRepCore
@testable import API
import Postgres
import Testing

/// The API reads PostgreSQL rows into typed rows (column names only in SessionStore), and
/// renders the design's documents from their fields.
@Suite struct SessionRowsTests {
    let session = UUID(uuidString: "FA8A1487-0000-4000-8000-000000000001")!
    let brick = UUID(uuidString: "0B1C2D3E-0000-4000-8000-000000000002")!

    /// A row as libpq prints it: every value text, NULL as nil.
    func row(_ pairs: KeyValuePairs<String, String?>) -> PGRow {
        PGRow(columns: pairs.map(\.key), values: pairs.map(\.value))
    }

    func row(_ pairs: [(String, String?)]) -> PGRow { PGRow(columns: pairs.map(\.0), values: pairs.map(\.1)) }

    var sessionRow: PGRow {
        row(["session_id": session.lowercasedString, "cluster_id": "lab", "master_volume_id": "ae82cc7c-7c75-4b80-942a-793b95189a0e",
             "master_volume_name": "mvol", "session_key": "k", "slave_host_name": "vm", "slave_host_uuid": nil,
             "slave_volume_name": "svol", "slave_volume_id": nil, "user_name": nil, "status": "ACTIVE",
             "observed_at": "2026-11-24 07:26:43.123456+00"])
    }

    var detailRow: PGRow { row(detailPairs) }

    var detailPairs: [(String, String?)] {
        (["session_id": session.lowercasedString, "master_brick_id": brick.lowercasedString, "master_node": "vm",
             "master_node_uuid": nil, "master_brick_dir": "/data/b1", "slave_host_name": "vm", "status": "ACTIVE",
             "checkpoint_status": "COMPLETED", "crawl_status": "Changelog Crawl", "files_synced": nil, "files_pending": "2",
             "files_skipped": "0", "bytes_pending": nil, "deletes_pending": nil, "data_pending": "2", "meta_pending": "3",
             "entry_pending": "1", "failures": "0", "last_synced_at": "2026-11-23 03:58:02", "checkpoint_time": nil,
             "checkpoint_completed_time": nil, "is_checkpoint_completed": "t"] as KeyValuePairs<String, String?>).map { ($0.key, $0.value) }
    }

    @Test func aSessionAndItsDetailsRenderFromTypedRows() throws {
        let s = try SessionStore.Session(sessionRow)
        #expect(s.id == session && s.cluster == "lab" && s.secondaryUser == nil && s.geoRepStatus == .active)
        #expect(s.observedAt == "2026-11-24T07:26:43.123456Z")  // PostgreSQL's digits kept
        let d = try SessionStore.Detail(detailRow)
        #expect(d.filesPending == 2 && d.bytesPending == nil && d.checkpointCompleted == true)

        let xml = Representation.session(s, details: [d], base: "/api/x").xml()
        for part in ["<georeplication-session href=\"/api/x/\(session.lowercasedString)\" id=\"\(session.lowercasedString)\">",
                     "<host>vm</host>", "<slavevolume>svol</slavevolume>", "<status>ACTIVE</status>",
                     "<master_volume_id>ae82cc7c-7c75-4b80-942a-793b95189a0e</master_volume_id>", "<user_name>root</user_name>",
                     "<observed_at>2026-11-24T07:26:43.123456Z</observed_at>", "<brick id=\"\(brick.lowercasedString)\">vm:/data/b1</brick>",
                     "<filesPending>2</filesPending>", "<filesSynced/>", "<last_synced_at>2026-11-23 03:58:02</last_synced_at>",
                     "<is_checkpoint_completed>true</is_checkpoint_completed>",
                     "<id>\(Representation.detailID(session: session, brick: brick).lowercasedString)</id>"] {
            #expect(xml.contains(part), "\(part) missing from \(xml)")
        }
        #expect(!xml.contains("slave_host_uuid") && !xml.contains("bytes_pending"))  // NULL columns are left out
        let json = Representation.session(s, details: [d], base: "/api/x").json()
        #expect(json.contains(#""filesPending" : 2"#) && json.contains(#""is_checkpoint_completed" : true"#))
    }

    @Test func aCommandRowRendersItsOutcome() throws {
        let record = try SessionStore.CommandRecord(row([
            "action": "stop", "outcome": "succeeded", "message": "session stopped", "error_code": nil,
            "session_id": session.lowercasedString, "session_ref": "lab/mvol->vm::svol",
            "accepted_at": "2026-11-24 07:26:43+00", "finished_at": "2026-11-24 09:26:44+05:30"]))
        let id = UUID()
        let xml = Representation.command(id: id, row: record, session: "/api/s", base: "/api").xml()
        for part in ["<status>succeeded</status>", "<session_id>\(session.lowercasedString)</session_id>",
                     "<accepted_at>2026-11-24T07:26:43Z</accepted_at>", "<finished_at>2026-11-24T09:26:44+05:30</finished_at>",
                     "<georeplication-session href=\"/api/s\" id=\"\(session.lowercasedString)\"/>"] {
            #expect(xml.contains(part), "\(part) missing from \(xml)")
        }
        let pending = Representation.command(id: id, row: nil, session: nil, base: "/api").xml()
        #expect(pending.contains("<status>pending</status>") && !pending.contains("<action>"))
    }

    /// A statement and its reader that disagree fail loudly, not as a silent NULL.
    @Test func aMissingColumnOrAWrongValueIsAnError() {
        #expect(throws: PGError.unreadable(column: "cluster_id", reason: "not in the result (session_id)")) {
            try SessionStore.Session(row(["session_id": session.lowercasedString]))
        }
        #expect(throws: PGError.self) {
            try SessionStore.Detail(row(detailPairs.map { $0.0 == "files_pending" ? ($0.0, "many") : $0 }))
        }
        #expect(throws: PGError.self) { try SessionStore.Option(row(["config_key": nil, "config_value": "3"])) }
    }
}
