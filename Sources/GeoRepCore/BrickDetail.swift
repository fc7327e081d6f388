import Foundation

/// One primary brick's view of a session, as `status detail` reports it.
///
/// Counters and times are `nil` where gluster says `N/A` or prints nothing. Times are instants
/// (the Gluster parser reads gluster's spelling of them), on the wire RFC 3339 like every time.
public struct BrickDetail: Codable, Hashable, Sendable {
    /// Stable id: ``StableID/brick(volumeID:host:path:)`` (`master_brick_id`).
    public var brickId: UUID?
    public var primaryNode: String
    public var primaryNodeUuid: String?
    public var primaryBrick: String
    public var secondaryUser: String?
    public var secondaryHost: String?
    public var secondaryNode: String?
    public var status: GeoRepStatus
    /// gluster's own word, e.g. `Initializing...`.
    public var rawStatus: String
    public var crawlStatus: String?
    public var entry: Int64?
    public var data: Int64?
    public var meta: Int64?
    public var failures: Int64?
    public var checkpointTime: Date?
    public var checkpointCompleted: Bool?
    public var checkpointCompletionTime: Date?
    public var lastSynced: Date?
    /// The design's own counters, which only GlusterFS before 3.7 reports (`files_syncd`,
    /// `files_pending`, `bytes_pending`, `deletes_pending`, `files_skipped`); nil on newer ones.
    public var filesSynced: Int64?
    public var filesPending: Int64?
    public var bytesPending: Int64?
    public var deletesPending: Int64?
    public var filesSkipped: Int64?

    public init(
        brickId: UUID? = nil, primaryNode: String, primaryNodeUuid: String? = nil, primaryBrick: String,
        secondaryUser: String? = nil, secondaryHost: String? = nil, secondaryNode: String? = nil,
        status: GeoRepStatus, rawStatus: String, crawlStatus: String? = nil,
        entry: Int64? = nil, data: Int64? = nil, meta: Int64? = nil, failures: Int64? = nil,
        checkpointTime: Date? = nil, checkpointCompleted: Bool? = nil,
        checkpointCompletionTime: Date? = nil, lastSynced: Date? = nil,
        filesSynced: Int64? = nil, filesPending: Int64? = nil, bytesPending: Int64? = nil, deletesPending: Int64? = nil,
        filesSkipped: Int64? = nil
    ) {
        self.brickId = brickId
        self.primaryNode = primaryNode
        self.primaryNodeUuid = primaryNodeUuid
        self.primaryBrick = primaryBrick
        self.secondaryUser = secondaryUser
        self.secondaryHost = secondaryHost
        self.secondaryNode = secondaryNode
        self.status = status
        self.rawStatus = rawStatus
        self.crawlStatus = crawlStatus
        self.entry = entry
        self.data = data
        self.meta = meta
        self.failures = failures
        self.checkpointTime = checkpointTime
        self.checkpointCompleted = checkpointCompleted
        self.checkpointCompletionTime = checkpointCompletionTime
        self.lastSynced = lastSynced
        self.filesSynced = filesSynced
        self.filesPending = filesPending
        self.bytesPending = bytesPending
        self.deletesPending = deletesPending
        self.filesSkipped = filesSkipped
    }

    /// The times workers before RFC 3339 ones sent as gluster spells them (`2026-11-23 03:58:02`,
    /// UTC): the decoder still reads them under these keys, and only under these.
    static let glusterTimeKeys: Set<String> = ["lastSynced", "checkpointTime", "checkpointCompletionTime",
                                               "last_synced", "checkpoint_time", "checkpoint_completion_time"]

    /// `host:path`, how gluster names a brick.
    public var name: String { "\(primaryNode):\(primaryBrick)" }

    /// The original design's `checkpoint_status`: `COMPLETED`, `PENDING`, or nil when none is set.
    public var checkpointStatus: String? {
        switch checkpointCompleted {
        case .some(true): "COMPLETED"
        case .some(false): "PENDING"
        case .none: nil
        }
    }
}
