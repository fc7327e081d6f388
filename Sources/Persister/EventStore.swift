import Foundation
import GeoRepCore
import Postgres

/// Writes events into the oVirt-shaped tables, a batch per transaction.
///
/// Every write is guarded by the observation stamp, so replays and late events are harmless:
/// applying the same event twice, or an older one after a newer one, leaves the newest state.
/// Status events, the bulk of the traffic, become a few set-based statements per batch
/// (`unnest` of arrays) rather than statements per event.
public struct EventStore: Sendable {
    /// NOTIFY channel that readers can LISTEN on instead of polling.
    public static let notifyChannel = "georep_changes"

    public init() {}

    /// Applies one event inside the caller's transaction.
    public func apply(_ event: Event, in db: PGSession) throws(PGError) {
        _ = try apply(batch: [event], in: db)
    }

    /// Applies a batch inside the caller's transaction and queues one NOTIFY naming the
    /// sessions that changed (delivered on commit). Returns those session ids.
    @discardableResult
    public func apply(batch events: [Event], in db: PGSession) throws(PGError) -> Set<UUID> {
        var pipeline = PGPipeline(db)
        let changed = try write(events, &pipeline)
        try pipeline.flush()
        return changed
    }

    /// Applies a batch in a transaction of its own, committed when this returns (rolled back when
    /// it throws), with the same NOTIFY as ``apply(batch:in:)``.
    ///
    /// The statements travel in pipelines (``PGPipeline``): BEGIN with the first, COMMIT with the
    /// last, and a round trip only where an answer decides what follows (the tombstones and the
    /// winners of the snapshots' upsert). A batch of status changes is one round trip, a batch
    /// with snapshots three, where one statement each took about seventeen.
    @discardableResult
    public func commit(batch events: [Event], in db: PGSession) throws(PGError) -> Set<UUID> {
        var pipeline = PGPipeline(db)
        pipeline.queue("BEGIN")
        do throws(PGError) {
            let changed = try write(events, &pipeline)
            pipeline.queue("COMMIT")
            try pipeline.flush()
            return changed
        } catch {
            // The statement's error is the one to report. A failed ROLLBACK means the connection
            // is gone, and `PGConnection.run` drops a connection that is not OK.
            _ = try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Queues (or runs, where an answer is needed) the batch's statements on `p`; the caller
    /// flushes what is left queued.
    private func write(_ events: [Event], _ p: inout PGPipeline) throws(PGError) -> Set<UUID> {
        var snapshots: [UUID: SessionSnapshot] = [:]
        var optionSnapshots: [UUID: SessionSnapshot] = [:]
        var deletions: [SessionDeleted] = []
        var sessionChanges: [SessionStatusChanged] = []
        var brickChanges: [BrickStatusChanged] = []
        var results: [CommandResult] = []
        var accepted: [CommandAccepted] = []
        var inventories: [String: ClusterInventory] = [:]
        var availability: [String: ClusterAvailability] = [:]
        var completed: [CheckpointCompleted] = [], stalled: [CheckpointStalled] = [], waiting: [CommandWaiting] = []
        var schedules: [ScheduleSet] = [], opened: [SyncWindowOpened] = [], closed: [SyncWindowClosed] = []
        for event in events {
            switch event {
            case .sessionSnapshot(let s):
                // Within a batch only the newest snapshot of a session can win, and apart from it
                // the newest that carries options (a newer one may carry none).
                if s.options != nil, (optionSnapshots[s.sessionId]?.observation.seq ?? .min) < s.observation.seq {
                    optionSnapshots[s.sessionId] = s
                }
                if let held = snapshots[s.sessionId], held.observation.seq >= s.observation.seq { continue }
                snapshots[s.sessionId] = s
            case .sessionDeleted(let e): deletions.append(e)
            case .sessionStatusChanged(let e): sessionChanges.append(e)
            case .brickStatusChanged(let e): brickChanges.append(e)
            case .commandResult(let r): results.append(r)
            case .commandAccepted(let a): accepted.append(a)
            case .clusterInventory(let i):
                if let held = inventories[i.cluster], held.observation.seq >= i.observation.seq { continue }
                inventories[i.cluster] = i
            case .clusterAvailability(let a):
                if let held = availability[a.cluster], held.observedAt >= a.observedAt { continue }
                availability[a.cluster] = a
            case .checkpointCompleted(let e): completed.append(e)
            case .checkpointStalled(let e): stalled.append(e)
            case .commandWaiting(let w): waiting.append(w)
            case .scheduleSet(let e): schedules.append(e)
            case .windowOpened(let e): opened.append(e)
            case .windowClosed(let e): closed.append(e)
            }
        }
        var changed = Set<UUID>()
        for inventory in inventories.values { changed.formUnion(try applyInventory(inventory, &p)) }
        let winners = try applySnapshots(Array(snapshots.values), options: optionSnapshots, &p)
        for deletion in deletions { applyDeleted(deletion, &p) }
        // Every transition goes into the history, in one statement for sessions and bricks.
        var transitions: [Transition] = sessionChanges.map { ($0.sessionId, nil, nil, $0.from, $0.to, $0.observation) }
        transitions += brickChanges.map { ($0.sessionId, $0.brickId, $0.brick, $0.from, $0.to, $0.observation) }
        history(transitions, &p)
        // A session change no newer than a snapshot of its session in this batch cannot move the
        // row (the snapshot, applied first, holds a stamp at least as new, or lost to a newer
        // one): it is recorded in the history but not run through the update.
        applySessionStatuses(sessionChanges.filter { change in
            !(snapshots[change.sessionId].map { $0.observation.seq >= change.observation.seq } ?? false)
        }, &p)
        // Likewise a brick change no newer than a snapshot of its session that won: that snapshot
        // rewrote the brick's row under its own stamp (or deleted it, no longer listing the brick),
        // so the guarded update could not move it. A snapshot that lost wrote no details, and
        // the brick changes beside it still go through the update.
        applyBrickStatuses(brickChanges.filter { change in
            !(winners[change.sessionId].map { $0 >= change.observation.seq } ?? false)
        }, &p)
        applyAccepted(accepted, &p)
        applyResults(results, &p)
        applyAvailability(Array(availability.values), &p)
        if !(completed.isEmpty && stalled.isEmpty && waiting.isEmpty && schedules.isEmpty && opened.isEmpty && closed.isEmpty) {
            // Rare events with statements of their own, run one by one after what is queued.
            try p.flush()
            try CheckpointStore().apply(completed: completed, stalled: stalled, waiting: waiting, p.session)
            try WindowStore().apply(schedules: schedules, opened: opened, closed: closed, p.session)
        }

        changed.formUnion(snapshots.keys)
        deletions.forEach { changed.insert($0.sessionId) }
        sessionChanges.forEach { changed.insert($0.sessionId) }
        brickChanges.forEach { changed.insert($0.sessionId) }
        completed.forEach { changed.insert($0.sessionId) }
        stalled.forEach { changed.insert($0.sessionId) }
        schedules.forEach { changed.insert($0.sessionId) }
        opened.forEach { changed.insert($0.sessionId) }
        closed.forEach { changed.insert($0.sessionId) }
        if !changed.isEmpty { notify(changed, &p) }
        return changed
    }

    // MARK: Snapshots, set-based

    /// The newest snapshot of each session in the batch, applied as a handful of statements for
    /// the lot (a status storm is a quarter snapshots): the same end state as applying them one by
    /// one in stamp order. A tombstone at least as new keeps a snapshot out entirely; the session
    /// row takes a snapshot only when its stamp is newer (the upsert's guard), and only then are
    /// its brick details replaced. Options go by their own stamp (`options_observed_seq`): the
    /// newest snapshot of a session that carries options (`options`, by session) moves it in the
    /// same upsert, whatever the row's own stamp, and only where it moved are the options written.
    /// Returns the stamps of the snapshots that won, by session.
    private func applySnapshots(_ all: [SessionSnapshot], options optionSnapshots: [UUID: SessionSnapshot],
                                _ p: inout PGPipeline) throws(PGError) -> [UUID: Int64] {
        guard !all.isEmpty else { return [:] }
        let dead = try p.execute("SELECT session_id, observed_seq FROM georep_session_tombstones WHERE session_id = ANY($1::uuid[])",
                                  [PGArray.literal(all.map { $0.sessionId.lowercasedString })]).rows
        var tombstones: [UUID: Int64] = [:]
        for row in dead { if let id = row[0].flatMap(UUID.init(uuidString:)), let seq = row[1].flatMap({ Int64($0) }) { tombstones[id] = seq } }
        let snapshots = all.filter { s in tombstones[s.sessionId].map { $0 < s.observation.seq } ?? true }
            .sorted { $0.observation.seq < $1.observation.seq }
        guard !snapshots.isEmpty else { return [:] }
        upsertInventory(snapshots, &p)

        // Options read before the session was deleted do not come back with it.
        var optionStamps: [UUID: Int64] = [:]
        for (id, o) in optionSnapshots where tombstones[id].map({ $0 < o.observation.seq }) ?? true { optionStamps[id] = o.observation.seq }
        var columns = SnapshotColumns()
        // Rows in session order: two writers' transactions then take their row locks in the same
        // order and do not deadlock where their batches share sessions.
        for s in snapshots.sorted(by: { $0.sessionId < $1.sessionId }) {
            columns.append(s, volumeID: uuidValue(s.primaryVolumeId), secondaryHostUUID: uuidValue(s.secondaryHostUuid),
                           secondaryVolumeID: uuidValue(s.secondaryVolumeId), optionsSeq: optionStamps[s.sessionId] ?? 0)
        }
        // Each column moves only when the row's stamp does; the options' stamp only forward. A
        // row comes back when either moved, with both stamps: the row's says whether the snapshot
        // won (one of the same stamp, the same observation, counts as won and writes what it read).
        let rows = try p.execute("""
            INSERT INTO gluster_georep_session AS s
                (session_id, master_volume_id, session_key, slave_host_uuid, slave_host_name, slave_volume_id,
                 slave_volume_name, status, cluster_id, master_volume_name, user_name, observed_seq, observed_at, options_observed_seq, _update_date)
            SELECT i, v, k, hu, h, sv, svn, st, c, pv, u, q, a, oq, now()
            FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::text[], $12::bigint[], $13::timestamptz[], $14::bigint[])
                AS x(i, v, k, hu, h, sv, svn, st, c, pv, u, q, a, oq)
            ON CONFLICT (session_id) DO UPDATE SET
                master_volume_id = CASE WHEN s.observed_seq < EXCLUDED.observed_seq
                    THEN COALESCE(EXCLUDED.master_volume_id, s.master_volume_id) ELSE s.master_volume_id END,
                session_key = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.session_key ELSE s.session_key END,
                slave_host_uuid = CASE WHEN s.observed_seq < EXCLUDED.observed_seq
                    THEN COALESCE(EXCLUDED.slave_host_uuid, s.slave_host_uuid) ELSE s.slave_host_uuid END,
                slave_host_name = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.slave_host_name ELSE s.slave_host_name END,
                slave_volume_id = CASE WHEN s.observed_seq < EXCLUDED.observed_seq
                    THEN COALESCE(EXCLUDED.slave_volume_id, s.slave_volume_id) ELSE s.slave_volume_id END,
                slave_volume_name = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.slave_volume_name ELSE s.slave_volume_name END,
                status = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.status ELSE s.status END,
                user_name = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.user_name ELSE s.user_name END,
                observed_at = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN EXCLUDED.observed_at ELSE s.observed_at END,
                _update_date = CASE WHEN s.observed_seq < EXCLUDED.observed_seq THEN now() ELSE s._update_date END,
                observed_seq = GREATEST(s.observed_seq, EXCLUDED.observed_seq),
                options_observed_seq = GREATEST(s.options_observed_seq, EXCLUDED.options_observed_seq)
            WHERE s.observed_seq < EXCLUDED.observed_seq OR s.options_observed_seq < EXCLUDED.options_observed_seq
            RETURNING session_id, observed_seq, options_observed_seq
            """, binding: columns.parameters).rows
        var winners = Set<UUID>()
        var optionsMoved: [SessionSnapshot] = []
        let bySession = Dictionary(snapshots.map { ($0.sessionId, $0) }, uniquingKeysWith: { $1 })
        for row in rows {
            guard let id = row[0].flatMap(UUID.init(uuidString:)), let s = bySession[id] else { continue }
            if row[1].flatMap({ Int64($0) }) == s.observation.seq { winners.insert(id) }
            if let seq = optionStamps[id], row[2].flatMap({ Int64($0) }) == seq, let o = optionSnapshots[id] { optionsMoved.append(o) }
        }
        writeOptions(optionsMoved, &p)
        // Older snapshots lost to newer state: their details stay as they are.
        let fresh = snapshots.filter { winners.contains($0.sessionId) }.sorted { $0.sessionId < $1.sessionId }
        guard !fresh.isEmpty else { return [:] }
        let stamps = Dictionary(fresh.map { ($0.sessionId, $0.observation.seq) }, uniquingKeysWith: max)

        // Each brick's row is rewritten in place (an update PostgreSQL can keep on its page, no
        // index entries touched) and the rows of bricks a snapshot no longer lists go: the state
        // a delete of all and an insert would leave, at a fraction of the writes.
        var details = DetailColumns()
        var listed = Set<[UUID]>()
        var brickDigests: [String?] = []
        for s in fresh {
            // A brick without an id gets a stable one (a SHA-1): computed once per brick.
            let ids = s.bricks.map { brickID($0, s) }
            brickDigests.append(Self.digest(bricks: Set(ids)))
            for (b, id) in zip(s.bricks, ids) {
                // A brick listed twice: its first row stands (the insert took the first before).
                guard listed.insert([s.sessionId, id]).inserted else { continue }
                details.append(b, of: s, brickID: id, nodeUUID: uuidValue(b.primaryNodeUuid))
            }
        }
        if details.count > 0 {
            p.queue("""
                INSERT INTO gluster_georep_session_details
                    (session_id, master_brick_id, slave_host_uuid, slave_host_name, status, checkpoint_status, crawl_status,
                     files_synced, files_pending, bytes_pending, deletes_pending, files_skipped,
                     last_synced_at, checkpoint_time, checkpoint_completed_time, is_checkpoint_completed,
                     data_pending, meta_pending, entry_pending, failures,
                     master_node, master_node_uuid, master_brick_dir, observed_seq, observed_at, _update_date)
                SELECT b.sid, b.id, NULL, b.slave_host, b.status, b.checkpoint_status, b.crawl_status,
                       b.files_synced, coalesce(b.files_pending, b.data), b.bytes_pending, b.deletes_pending, coalesce(b.files_skipped, b.failures),
                       b.last_synced, b.checkpoint_time, b.checkpoint_done_time, b.checkpoint_done,
                       b.data, b.meta, b.entry, b.failures,
                       b.node, b.node_uuid, b.dir, b.seq, b.at, now()
                FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[],
                            $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[],
                            $11::timestamp[], $12::timestamp[], $13::timestamp[], $14::boolean[], $15::bigint[], $16::bigint[],
                            $17::text[], $18::uuid[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[])
                    AS b(sid, seq, at, id, slave_host, status, checkpoint_status, crawl_status, data, failures,
                         last_synced, checkpoint_time, checkpoint_done_time, checkpoint_done, meta, entry, node, node_uuid, dir,
                         files_synced, files_pending, bytes_pending, deletes_pending, files_skipped)
                ON CONFLICT (session_id, master_brick_id) DO UPDATE SET
                    slave_host_uuid = NULL, slave_host_name = EXCLUDED.slave_host_name, status = EXCLUDED.status,
                    checkpoint_status = EXCLUDED.checkpoint_status, crawl_status = EXCLUDED.crawl_status,
                    files_synced = EXCLUDED.files_synced, files_pending = EXCLUDED.files_pending, bytes_pending = EXCLUDED.bytes_pending,
                    deletes_pending = EXCLUDED.deletes_pending, files_skipped = EXCLUDED.files_skipped,
                    last_synced_at = EXCLUDED.last_synced_at, checkpoint_time = EXCLUDED.checkpoint_time,
                    checkpoint_completed_time = EXCLUDED.checkpoint_completed_time, is_checkpoint_completed = EXCLUDED.is_checkpoint_completed,
                    data_pending = EXCLUDED.data_pending, meta_pending = EXCLUDED.meta_pending, entry_pending = EXCLUDED.entry_pending,
                    failures = EXCLUDED.failures, master_node = EXCLUDED.master_node, master_node_uuid = EXCLUDED.master_node_uuid,
                    master_brick_dir = EXCLUDED.master_brick_dir, observed_seq = EXCLUDED.observed_seq, observed_at = EXCLUDED.observed_at,
                    _update_date = now()
                """, binding: details.parameters)
        }
        // Only where the listed bricks are not those the rows are for (the session row's
        // bricks_digest, moved here) can rows of bricks no longer listed be left.
        p.queue("""
            WITH changed AS (
                UPDATE gluster_georep_session s SET bricks_digest = x.d
                FROM unnest($1::uuid[], $4::text[]) AS x(i, d)
                WHERE s.session_id = x.i AND s.bricks_digest IS DISTINCT FROM x.d
                RETURNING s.session_id
            )
            DELETE FROM gluster_georep_session_details d USING changed WHERE d.session_id = changed.session_id
                AND NOT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::uuid[]) AS n(s, b) WHERE n.s = d.session_id AND n.b = d.master_brick_id)
            """, binding: [.text(PGArray.literal(fresh.map { $0.sessionId.lowercasedString })), .binary(details.columns[0].encoded),
                           .binary(details.columns[3].encoded), .text(PGArray.literal(brickDigests))])
        return stamps
    }

    /// The options of the snapshots whose options stamp moved (``applySnapshots``), where they
    /// differ from those stored (the session row's `options_digest`, moved in the same statement):
    /// options no longer listed are deleted and the listed ones written (an unchanged one is not
    /// written at all).
    private func writeOptions(_ snapshots: [SessionSnapshot], _ p: inout PGPipeline) {
        guard !snapshots.isEmpty else { return }
        var ids: [String?] = [], keys: [String?] = [], values: [String?] = [], digests: [String?] = []
        for s in snapshots {
            let options = (s.options ?? [:]).map { (String($0.key.prefix(64)), $0.value) }.sorted { $0.0 < $1.0 }
            for (key, value) in options {
                ids.append(s.sessionId.lowercasedString)
                keys.append(key)
                values.append(value)
            }
            digests.append(Self.digest(options))
        }
        p.queue("""
            WITH changed AS (
                UPDATE gluster_georep_session s SET options_digest = x.d
                FROM unnest($1::uuid[], $5::text[]) AS x(i, d)
                WHERE s.session_id = x.i AND s.options_digest IS DISTINCT FROM x.d
                RETURNING s.session_id
            ), gone AS (
                DELETE FROM gluster_georep_config c USING changed WHERE c.session_id = changed.session_id
                    AND NOT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::text[]) AS o(s, k) WHERE o.s = c.session_id AND o.k = c.config_key)
            )
            INSERT INTO gluster_georep_config (session_id, config_key, config_value, _update_date)
            SELECT o.s, o.k, o.v, now() FROM unnest($2::uuid[], $3::text[], $4::text[]) AS o(s, k, v) JOIN changed ON changed.session_id = o.s
            ON CONFLICT (session_id, config_key) DO UPDATE SET config_value = EXCLUDED.config_value, _update_date = now()
            WHERE gluster_georep_config.config_value IS DISTINCT FROM EXCLUDED.config_value
            """, [PGArray.literal(snapshots.map { $0.sessionId.lowercasedString }), PGArray.literal(ids), PGArray.literal(keys),
                  PGArray.literal(values), PGArray.literal(digests)])
    }

    /// A session's options as stored (keys sorted), named by a name-based UUID of an
    /// unambiguous spelling of them: equal options, equal digests, in every process.
    static func digest(_ options: [(String, String)]) -> String {
        var text = "options"
        for (key, value) in options { text += "\n\(key.utf8.count):\(key)=\(value.utf8.count):\(value)" }
        return StableID.uuid(name: text).lowercasedString
    }

    /// The set of a session's bricks, named the same way.
    static func digest(bricks: Set<UUID>) -> String {
        StableID.uuid(name: "bricks\n" + bricks.map(\.lowercasedString).sorted().joined(separator: "\n")).lowercasedString
    }

    /// The clusters, primary volumes, their bricks and hosts, as the snapshots show them, taken
    /// in stamp order: where two snapshots disagree (a volume re-created under its name, a host
    /// renamed), the newer one's word stands, as if they had been applied one after the other.
    private func upsertInventory(_ snapshots: [SessionSnapshot], _ p: inout PGPipeline) {
        p.queue("INSERT INTO gluster_clusters (cluster_id) SELECT DISTINCT c FROM unnest($1::text[]) AS c ON CONFLICT DO NOTHING",
                       [PGArray.literal(Array(Set(snapshots.map(\.session.cluster))))])
        var volumes: [String: (cluster: String, name: String)] = [:]   // id → where
        var volumeByName: [[String]: String] = [:]                     // [cluster, name] → id
        var servers: [String: (cluster: String, host: String)] = [:]
        var bricks: [String: (volume: String, server: String?, host: String, dir: String)] = [:]
        for s in snapshots {
            guard let volumeID = uuidOrNil(s.primaryVolumeId) else { continue }
            if let previous = volumeByName[[s.session.cluster, s.session.primaryVolume]], previous != volumeID { volumes[previous] = nil }
            volumeByName[[s.session.cluster, s.session.primaryVolume]] = volumeID
            volumes[volumeID] = (s.session.cluster, s.session.primaryVolume)
            var seen = Set<String>()
            for b in s.bricks {
                // Within a snapshot the first brick naming a host names it; a newer snapshot renames it.
                if let u = uuidOrNil(b.primaryNodeUuid), seen.insert(u).inserted { servers[u] = (s.session.cluster, b.primaryNode) }
                bricks[brickID(b, s).lowercasedString] = (volumeID, uuidOrNil(b.primaryNodeUuid), b.primaryNode, b.primaryBrick)
            }
        }
        guard !volumes.isEmpty else { return }
        let names = volumeByName.sorted { $0.value < $1.value }
        // A volume re-created under the same name has a new UUID: the old one goes.
        p.queue("""
            DELETE FROM gluster_volumes v USING unnest($1::text[], $2::text[], $3::uuid[]) AS n(c, name, id)
            WHERE v.cluster_id = n.c AND v.vol_name = n.name AND v.id <> n.id
            """, [PGArray.literal(names.map { $0.key[0] }), PGArray.literal(names.map { $0.key[1] }), PGArray.literal(names.map(\.value))])
        let vols = volumes.sorted { $0.key < $1.key }
        p.queue("""
            INSERT INTO gluster_volumes (id, cluster_id, vol_name, _update_date)
            SELECT i, c, n, now() FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(i, c, n)
            ON CONFLICT (id) DO UPDATE SET vol_name = EXCLUDED.vol_name, _update_date = now()
            """, [PGArray.literal(vols.map(\.key)), PGArray.literal(vols.map(\.value.cluster)), PGArray.literal(vols.map(\.value.name))])
        if !servers.isEmpty {
            let list = servers.sorted { $0.key < $1.key }
            p.queue("""
                INSERT INTO gluster_server (server_uuid, cluster_id, host_name, _update_date)
                SELECT u, c, h, now() FROM unnest($1::uuid[], $2::text[], $3::text[]) AS s(u, c, h)
                ON CONFLICT (server_uuid) DO UPDATE SET host_name = EXCLUDED.host_name, _update_date = now()
                """, [PGArray.literal(list.map(\.key)), PGArray.literal(list.map(\.value.cluster)), PGArray.literal(list.map(\.value.host))])
        }
        // Bricks of a volume that a newer snapshot replaced went with it.
        let list = bricks.filter { volumes[$0.value.volume] != nil }.sorted { $0.key < $1.key }
        guard !list.isEmpty else { return }
        p.queue("""
            INSERT INTO gluster_volume_bricks (id, volume_id, server_uuid, host_name, brick_dir, _update_date)
            SELECT i, v, u, h, d, now() FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS b(i, v, u, h, d)
            ON CONFLICT (id) DO UPDATE SET server_uuid = EXCLUDED.server_uuid, _update_date = now()
            """, [
                PGArray.literal(list.map(\.key)), PGArray.literal(list.map(\.value.volume)), PGArray.literal(list.map(\.value.server)),
                PGArray.literal(list.map(\.value.host)), PGArray.literal(list.map(\.value.dir)),
            ])
    }

    // MARK: Deletions

    private func applyDeleted(_ e: SessionDeleted, _ p: inout PGPipeline) {
        let id = e.sessionId.lowercasedString
        let seq = String(e.observation.seq)
        p.queue("""
            INSERT INTO georep_session_tombstones (session_id, observed_seq) VALUES ($1, $2)
            ON CONFLICT (session_id) DO UPDATE SET observed_seq = GREATEST(georep_session_tombstones.observed_seq, EXCLUDED.observed_seq),
                deleted_at = now()
            """, [id, seq])
        // Details and options go with the session (ON DELETE CASCADE).
        p.queue("DELETE FROM gluster_georep_session WHERE session_id = $1 AND observed_seq < $2", [id, seq])
    }

    // MARK: Status changes, set-based

    private func applySessionStatuses(_ changes: [SessionStatusChanged], _ p: inout PGPipeline) {
        guard !changes.isEmpty else { return }
        p.queue("""
            UPDATE gluster_georep_session s
            SET status = v.to_status, observed_seq = v.seq, observed_at = v.at, _update_date = now()
            FROM (SELECT DISTINCT ON (id) id, to_status, seq, at
                  FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::timestamptz[]) AS u(id, to_status, seq, at)
                  ORDER BY id, seq DESC) v
            WHERE s.session_id = v.id AND s.observed_seq < v.seq
            """, [
                PGArray.literal(changes.map { $0.sessionId.lowercasedString }), PGArray.literal(changes.map { $0.to.rawValue }),
                PGArray.literal(changes.map { String($0.observation.seq) }), PGArray.literal(changes.map { timestamp($0.observation.at) }),
            ])
    }

    private func applyBrickStatuses(_ changes: [BrickStatusChanged], _ p: inout PGPipeline) {
        let known = changes.filter { $0.brickId != nil }
        guard !known.isEmpty else { return }
        p.queue("""
            UPDATE gluster_georep_session_details d
            SET status = v.to_status, observed_seq = v.seq, observed_at = v.at, _update_date = now()
            FROM (SELECT DISTINCT ON (sid, bid) sid, bid, to_status, seq, at
                  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[]) AS u(sid, bid, to_status, seq, at)
                  ORDER BY sid, bid, seq DESC) v
            WHERE d.session_id = v.sid AND d.master_brick_id = v.bid AND d.observed_seq < v.seq
            """, [
                PGArray.literal(known.map { $0.sessionId.lowercasedString }), PGArray.literal(known.map { $0.brickId!.lowercasedString }),
                PGArray.literal(known.map { $0.to.rawValue }), PGArray.literal(known.map { String($0.observation.seq) }),
                PGArray.literal(known.map { timestamp($0.observation.at) }),
            ])
    }

    private typealias Transition = (session: UUID, brickID: UUID?, brick: String?, from: GeoRepStatus?, to: GeoRepStatus, observation: Observation)

    /// One row per transition, once (a replayed event hits the unique index and is skipped).
    private func history(_ rows: [Transition], _ p: inout PGPipeline) {
        guard !rows.isEmpty else { return }
        // Binary arrays: nothing spelt out here and parsed again by the backend.
        var columns: [PGBinaryArray] = [.uuid, .uuid, .text, .varchar, .varchar, .int8, .timestamptz, .varchar, .uuid].map {
            PGBinaryArray($0, capacity: rows.count)
        }
        for row in rows {
            columns[0].append(uuid: row.session)
            columns[1].append(uuid: row.brickID)
            columns[2].append(text: row.brick)
            columns[3].append(text: row.from?.rawValue)
            columns[4].append(text: row.to.rawValue)
            columns[5].append(row.observation.seq)
            columns[6].append(date: row.observation.at)
            columns[7].append(text: row.observation.cause.commandId == nil ? "monitor" : "command")
            columns[8].append(uuid: row.observation.cause.commandId)
        }
        p.queue("""
            INSERT INTO georep_status_history
                (session_id, master_brick_id, brick_name, from_status, to_status, observed_seq, observed_at, cause, cause_command_id)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::varchar[], $5::varchar[], $6::bigint[], $7::timestamptz[],
                                 $8::varchar[], $9::uuid[])
            ON CONFLICT DO NOTHING
            """, binding: columns.map { .binary($0.encoded) })
    }

    /// One row per cluster; an older observation (a late redelivery) changes nothing.
    private func applyAvailability(_ rows: [ClusterAvailability], _ p: inout PGPipeline) {
        for a in rows {
            // Cannot fail: process ids, kinds, seconds and command lines encode always.
            let stuck = (try? MessageCodec.encoder().encode(a.stuckProcesses)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            p.queue("""
                INSERT INTO georep_cluster_availability (cluster_id, available, host, since, recovered_at, cause, stuck_processes, observed_at)
                VALUES ($1, $2::boolean, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8::timestamptz)
                ON CONFLICT (cluster_id) DO UPDATE SET
                    available = EXCLUDED.available, host = EXCLUDED.host, since = EXCLUDED.since,
                    recovered_at = EXCLUDED.recovered_at, cause = EXCLUDED.cause, stuck_processes = EXCLUDED.stuck_processes,
                    observed_at = EXCLUDED.observed_at, recorded_at = now()
                WHERE georep_cluster_availability.observed_at <= EXCLUDED.observed_at
                """, [a.cluster, a.available ? "true" : "false", String(a.host.prefix(255)), timestamp(a.since),
                      a.recoveredAt.map(timestamp), a.cause, stuck, timestamp(a.observedAt)])
        }
    }

    private func applyAccepted(_ rows: [CommandAccepted], _ p: inout PGPipeline) {
        guard !rows.isEmpty else { return }
        p.queue("""
            INSERT INTO georep_commands (command_id, action, session_id, session_ref, outcome, message, sender, accepted_at)
            SELECT c, a, s, r, 'pending', 'accepted; waiting for a worker', n, t
            FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::text[], $5::varchar[], $6::timestamptz[]) AS x(c, a, s, r, n, t)
            ON CONFLICT (command_id) DO NOTHING
            """, [
                PGArray.literal(rows.map { $0.commandId.lowercasedString }), PGArray.literal(rows.map { String($0.action.prefix(32)) }),
                PGArray.literal(rows.map { $0.sessionId.lowercasedString }), PGArray.literal(rows.map { $0.session.key }),
                PGArray.literal(rows.map { String($0.sender.prefix(128)) }), PGArray.literal(rows.map { timestamp($0.acceptedAt) }),
            ])
    }

    /// A result replaces a pending row; a second result for a command (which the workers never
    /// send, but a replay might) changes nothing. A change made through the admin grant keeps
    /// who held it and what changed (the audit trail of ``OptionGrant``).
    private func applyResults(_ results: [CommandResult], _ p: inout PGPipeline) {
        let rows = results.filter { $0.commandId != nil }
        guard !rows.isEmpty else { return }
        p.queue("""
            INSERT INTO georep_commands (command_id, action, session_id, session_ref, outcome, message, error_code, finished_at,
                                         sender, granted_to, option_name, option_kind, option_value)
            SELECT DISTINCT ON (c) * FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::text[], $5::varchar[], $6::text[],
                                                 $7::varchar[], $8::timestamptz[], $9::varchar[], $10::varchar[], $11::varchar[],
                                                 $12::varchar[], $13::text[]) AS x(c, a, s, r, o, m, e, f, n, g, k, kk, v)
            ON CONFLICT (command_id) DO UPDATE SET
                outcome = EXCLUDED.outcome, message = EXCLUDED.message, error_code = EXCLUDED.error_code,
                finished_at = EXCLUDED.finished_at, recorded_at = now(),
                sender = COALESCE(georep_commands.sender, EXCLUDED.sender), granted_to = EXCLUDED.granted_to,
                option_name = EXCLUDED.option_name, option_kind = EXCLUDED.option_kind, option_value = EXCLUDED.option_value
            WHERE georep_commands.outcome = 'pending'
            """, [
                PGArray.literal(rows.map { $0.commandId!.lowercasedString }), PGArray.literal(rows.map { String($0.action.prefix(32)) }),
                PGArray.literal(rows.map { $0.sessionId?.lowercasedString }), PGArray.literal(rows.map { $0.session?.key }),
                PGArray.literal(rows.map { $0.outcome.rawValue }), PGArray.literal(rows.map(\.message)),
                PGArray.literal(rows.map { $0.error?.code }), PGArray.literal(rows.map { timestamp($0.finishedAt) }),
                PGArray.literal(rows.map { $0.grant.map { String($0.sender.prefix(128)) } }),
                PGArray.literal(rows.map { $0.grant.map { String($0.grantedTo.prefix(255)) } }),
                PGArray.literal(rows.map { $0.grant.map { String($0.option.prefix(64)) } }),
                PGArray.literal(rows.map { $0.grant?.kind.rawValue }), PGArray.literal(rows.map { $0.grant?.value }),
            ])
    }

    // MARK: Cluster inventories

    /// Volumes, bricks and hosts as the cluster has them now; sessions it no longer has are
    /// removed (when the inventory could tell). Returns the sessions removed.
    private func applyInventory(_ i: ClusterInventory, _ p: inout PGPipeline) throws(PGError) -> Set<UUID> {
        let seq = String(i.observation.seq)
        try p.execute("INSERT INTO gluster_clusters (cluster_id) VALUES ($1) ON CONFLICT DO NOTHING", [i.cluster])
        let newer = try p.execute("""
            UPDATE gluster_clusters SET inventory_seq = $2, inventory_at = $3
            WHERE cluster_id = $1 AND (inventory_seq IS NULL OR inventory_seq < $2)
            """, [i.cluster, seq, timestamp(i.observation.at)])
        guard newer.affectedRows == 1 else { return [] }
        let volumes = i.volumes.filter { uuidOrNil($0.id) != nil }
        // Volumes gone, or re-created under the same name (a new id): out, with their bricks.
        try p.execute("DELETE FROM gluster_volumes WHERE cluster_id = $1 AND NOT (id = ANY($2::uuid[]))",
                       [i.cluster, PGArray.literal(volumes.map(\.id))])
        try p.execute("DELETE FROM gluster_volumes v USING unnest($2::uuid[], $3::text[]) AS n(id, name) WHERE v.cluster_id = $1 AND v.vol_name = n.name AND v.id <> n.id",
                       [i.cluster, PGArray.literal(volumes.map(\.id)), PGArray.literal(volumes.map(\.name))])
        try p.execute("""
            INSERT INTO gluster_volumes (id, cluster_id, vol_name, status, _update_date)
            SELECT id, $1, name, status, now() FROM unnest($2::uuid[], $3::text[], $4::text[]) AS v(id, name, status)
            ON CONFLICT (id) DO UPDATE SET vol_name = EXCLUDED.vol_name, status = EXCLUDED.status, _update_date = now()
            """, [i.cluster, PGArray.literal(volumes.map(\.id)), PGArray.literal(volumes.map(\.name)),
                  PGArray.literal(volumes.map { String($0.status.prefix(32)) })])
        let bricks = volumes.flatMap { v in v.bricks.map { (v.id, $0) } }
        let servers = Dictionary(bricks.compactMap { b in uuidOrNil(b.1.hostUuid).map { ($0, b.1.host) } }, uniquingKeysWith: { a, _ in a })
        if !servers.isEmpty {
            try p.execute("""
                INSERT INTO gluster_server (server_uuid, cluster_id, host_name, _update_date)
                SELECT u, $1, h, now() FROM unnest($2::uuid[], $3::text[]) AS s(u, h)
                ON CONFLICT (server_uuid) DO UPDATE SET host_name = EXCLUDED.host_name, _update_date = now()
                """, [i.cluster, PGArray.literal(Array(servers.keys)), PGArray.literal(Array(servers.values))])
        }
        try p.execute("DELETE FROM gluster_volume_bricks b USING gluster_volumes v WHERE b.volume_id = v.id AND v.cluster_id = $1 AND NOT (b.id = ANY($2::uuid[]))",
                       [i.cluster, PGArray.literal(bricks.map { $0.1.id.lowercasedString })])
        if !bricks.isEmpty {
            try p.execute("""
                INSERT INTO gluster_volume_bricks (id, volume_id, server_uuid, host_name, brick_dir, _update_date)
                SELECT i, v, u, h, d, now() FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS b(i, v, u, h, d)
                ON CONFLICT (id) DO UPDATE SET server_uuid = EXCLUDED.server_uuid, _update_date = now()
                """, [PGArray.literal(bricks.map { $0.1.id.lowercasedString }), PGArray.literal(bricks.map(\.0)),
                      PGArray.literal(bricks.map { uuidOrNil($0.1.hostUuid) }), PGArray.literal(bricks.map(\.1.host)),
                      PGArray.literal(bricks.map(\.1.path))])
        }
        guard let present = i.sessionIds else { return [] }
        // Sessions that vanished unwatched: gone, unless seen after this inventory was taken.
        let gone = try p.execute("""
            SELECT session_id FROM gluster_georep_session
            WHERE cluster_id = $1 AND NOT (session_id = ANY($2::uuid[])) AND observed_seq < $3
            """, [i.cluster, PGArray.literal(present.map(\.lowercasedString)), seq]).rows.compactMap { $0[0].flatMap(UUID.init(uuidString:)) }
        guard !gone.isEmpty else { return [] }
        try p.execute("""
            INSERT INTO georep_session_tombstones (session_id, observed_seq)
            SELECT g, $2 FROM unnest($1::uuid[]) AS g
            ON CONFLICT (session_id) DO UPDATE SET observed_seq = GREATEST(georep_session_tombstones.observed_seq, EXCLUDED.observed_seq),
                deleted_at = now()
            """, [PGArray.literal(gone.map(\.lowercasedString)), seq])
        try p.execute("DELETE FROM gluster_georep_session WHERE session_id = ANY($1::uuid[])", [PGArray.literal(gone.map(\.lowercasedString))])
        return Set(gone)
    }

    private func notify(_ sessions: Set<UUID>, _ p: inout PGPipeline) {
        // NOTIFY payloads are limited to 8000 bytes; a very large batch says only how many.
        let ids = sessions.map { "\"\($0.lowercasedString)\"" }
        let payload = ids.count <= 150 ? "{\"sessions\":[\(ids.joined(separator: ","))]}" : "{\"sessions\":\"many\",\"count\":\(ids.count)}"
        p.queue("SELECT pg_notify($1, $2)", [Self.notifyChannel, payload])
    }

    // MARK: Helpers

    func brickID(_ brick: BrickDetail, _ s: SessionSnapshot) -> UUID {
        brick.brickId ?? StableID.brick(volumeID: s.primaryVolumeId ?? s.session.key, host: brick.primaryNode, path: brick.primaryBrick)
    }

    func uuidOrNil(_ text: String?) -> String? { uuidValue(text)?.lowercasedString }

    func uuidValue(_ text: String?) -> UUID? { text.flatMap { UUID(uuidString: $0) } }

    func timestamp(_ date: Date) -> String { Timestamp.format(date) }
}
