import Foundation
import GeoRepCore

extension EventStore {
    /// The session rows of a batch's snapshots, column by column, for one `unnest` upsert.
    struct SnapshotColumns {
        /// session_id, master_volume_id, session_key, slave_host_uuid, slave_host_name, slave_volume_id,
        /// slave_volume_name, status, cluster_id, master_volume_name, user_name, observed_seq, observed_at,
        /// options_observed_seq (0 when the batch brings no options for the session).
        var session: [[String?]] = Array(repeating: [], count: 14)

        mutating func append(_ s: SessionSnapshot, volumeID: String?, secondaryHostUUID: String?, secondaryVolumeID: String?, timestamp: String,
                             optionsSeq: Int64) {
            let row: [String?] = [
                s.sessionId.lowercasedString, volumeID, s.sessionKey ?? s.session.key, secondaryHostUUID, s.session.secondaryHost, secondaryVolumeID,
                s.session.secondaryVolume, s.status.rawValue, s.session.cluster, s.session.primaryVolume, s.session.secondaryUser,
                String(s.observation.seq), timestamp, String(optionsSeq),
            ]
            for (i, value) in row.enumerated() { session[i].append(value) }
        }
    }

    /// The brick detail rows of the snapshots that won, column by column.
    struct DetailColumns {
        var columns: [[String?]] = Array(repeating: [], count: 24)
        var count: Int { columns[0].count }

        /// `brickID`, `nodeUUID` and the times already read by the store's rules (stable ids, UUIDs
        /// or nothing, gluster's local time or nothing).
        mutating func append(_ b: BrickDetail, of s: SessionSnapshot, brickID: String, nodeUUID: String?, lastSynced: String?,
                             checkpointTime: String?, checkpointDone: String?, timestamp: String) {
            let row: [String?] = [
                s.sessionId.lowercasedString, String(s.observation.seq), timestamp, brickID,
                b.secondaryNode ?? b.secondaryHost ?? s.session.secondaryHost, b.status.rawValue, b.checkpointStatus,
                b.crawlStatus.map { String($0.prefix(32)) }, b.data.map(String.init), b.failures.map(String.init),
                lastSynced, checkpointTime, checkpointDone, b.checkpointCompleted.map { $0 ? "true" : "false" },
                b.meta.map(String.init), b.entry.map(String.init), b.primaryNode, nodeUUID, b.primaryBrick,
                // The design's counters: GlusterFS before 3.7 reports them; on newer ones
                // files_pending takes the data operations pending and files_skipped the failures.
                b.filesSynced.map(String.init), b.filesPending.map(String.init), b.bytesPending.map(String.init),
                b.deletesPending.map(String.init), b.filesSkipped.map(String.init),
            ]
            for (i, value) in row.enumerated() { columns[i].append(value) }
        }
    }
}
