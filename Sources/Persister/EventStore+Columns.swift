import Foundation
import GeoRepCore
import Postgres

extension EventStore {
    /// The session rows of a batch's snapshots, column by column, as binary arrays for one
    /// `unnest` upsert.
    struct SnapshotColumns {
        /// session_id, master_volume_id, session_key, slave_host_uuid, slave_host_name, slave_volume_id,
        /// slave_volume_name, status, cluster_id, master_volume_name, user_name, observed_seq, observed_at,
        /// options_observed_seq (0 when the batch brings no options for the session).
        var session: [PGBinaryArray] = [.uuid, .uuid, .text, .uuid, .text, .uuid, .text, .text, .text, .text, .text, .int8, .timestamptz, .int8]
            .map { PGBinaryArray($0) }

        mutating func append(_ s: SessionSnapshot, volumeID: UUID?, secondaryHostUUID: UUID?, secondaryVolumeID: UUID?, optionsSeq: Int64) {
            session[0].append(uuid: s.sessionId)
            session[1].append(uuid: volumeID)
            session[2].append(text: s.sessionKey ?? s.session.key)
            session[3].append(uuid: secondaryHostUUID)
            session[4].append(text: s.session.secondaryHost)
            session[5].append(uuid: secondaryVolumeID)
            session[6].append(text: s.session.secondaryVolume)
            session[7].append(text: s.status.rawValue)
            session[8].append(text: s.session.cluster)
            session[9].append(text: s.session.primaryVolume)
            session[10].append(text: s.session.secondaryUser)
            session[11].append(s.observation.seq)
            session[12].append(date: s.observation.at)
            session[13].append(optionsSeq)
        }

        var parameters: [PGParameter] { session.map { .binary($0.encoded) } }
    }

    /// The brick detail rows of the snapshots that won, column by column, as binary arrays.
    struct DetailColumns {
        var columns: [PGBinaryArray] = [
            .uuid, .int8, .timestamptz, .uuid, .text, .text, .text, .text, .int8, .int8,
            .timestamp, .timestamp, .timestamp, .bool, .int8, .int8, .text, .uuid, .text, .int8, .int8, .int8, .int8, .int8,
        ].map { PGBinaryArray($0) }
        var count: Int { columns[0].count }

        /// `brickID` and `nodeUUID` already read by the store's rules (stable ids, UUIDs or nothing).
        mutating func append(_ b: BrickDetail, of s: SessionSnapshot, brickID: UUID, nodeUUID: UUID?) {
            columns[0].append(uuid: s.sessionId)
            columns[1].append(s.observation.seq)
            columns[2].append(date: s.observation.at)
            columns[3].append(uuid: brickID)
            columns[4].append(text: b.secondaryNode ?? b.secondaryHost ?? s.session.secondaryHost)
            columns[5].append(text: b.status.rawValue)
            columns[6].append(text: b.checkpointStatus)
            columns[7].append(text: b.crawlStatus.map { String($0.prefix(32)) })
            columns[8].append(b.data)
            columns[9].append(b.failures)
            columns[10].append(date: b.lastSynced)
            columns[11].append(date: b.checkpointTime)
            columns[12].append(date: b.checkpointCompletionTime)
            columns[13].append(b.checkpointCompleted)
            columns[14].append(b.meta)
            columns[15].append(b.entry)
            columns[16].append(text: b.primaryNode)
            columns[17].append(uuid: nodeUUID)
            columns[18].append(text: b.primaryBrick)
            // The design's counters: GlusterFS before 3.7 reports them; on newer ones
            // files_pending takes the data operations pending and files_skipped the failures.
            columns[19].append(b.filesSynced)
            columns[20].append(b.filesPending)
            columns[21].append(b.bytesPending)
            columns[22].append(b.deletesPending)
            columns[23].append(b.filesSkipped)
        }

        var parameters: [PGParameter] { columns.map { .binary($0.encoded) } }
    }
}
