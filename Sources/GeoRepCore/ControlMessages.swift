import Foundation

/// A worker's sign of life on the membership exchange: every worker hears every other, and from
/// the list of live ones each computes the same shard assignment (``ShardAssignment``).
public struct WorkerHeartbeat: Codable, Hashable, Sendable {
    public static let type = "georep.worker.heartbeat"
    /// The worker's instance name, unique among live workers (`host/pid`).
    public var instance: String
    /// The shards it consumes now.
    public var shards: [Int]
    /// Sent once on a graceful shutdown: the others take its shards over at once.
    public var leaving: Bool?
    public var sentAt: Date

    public init(instance: String, shards: [Int], leaving: Bool? = nil, sentAt: Date = Date()) {
        self.instance = instance
        self.shards = shards
        self.leaving = leaving
        self.sentAt = sentAt
    }
}

/// Put into a shard queue by a worker that hands the shard over: when the worker receives it,
/// every command queued before it has been handled, and holding it unsettled while the consumer
/// is cancelled keeps the next owner from starting before this one has finished.
public struct HandoverMarker: Codable, Hashable, Sendable {
    public static let type = "georep.worker.handover"
    public var instance: String
    public var nonce: UUID

    public init(instance: String, nonce: UUID = UUID()) {
        self.instance = instance
        self.nonce = nonce
    }
}

/// Put into the journal stream by a worker that needs to know it has read everything written
/// before now (when a command is redelivered, to find its earlier result).
public struct JournalMarker: Codable, Hashable, Sendable {
    public static let type = "georep.worker.journal_marker"
    public var instance: String
    public var nonce: UUID

    public init(instance: String, nonce: UUID = UUID()) {
        self.instance = instance
        self.nonce = nonce
    }
}
