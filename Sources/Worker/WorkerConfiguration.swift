import AMQP
import Gluster

/// Settings of a worker.
public struct WorkerConfiguration: Sendable {
    public var amqpURL: String
    public var inventory: Inventory
    public var topology: GeoRepTopology
    /// Seconds between two reads of every session of a cluster (one gluster call per cluster).
    public var monitorInterval: Double
    /// A full snapshot of every session every this many monitor rounds, even without change.
    public var snapshotEvery: Int
    /// Seconds one gluster command may take.
    public var glusterTimeout: Double
    /// Seconds a read may run before the worker looks for a wedged glusterd on its host.
    public var glusterSuspectAfter: Double
    /// The gluster program (path or name in PATH).
    public var glusterProgram: String
    /// Tries of a command that fails transiently before it is reported failed.
    public var maxAttempts: Int
    /// Commands this worker runs at once (one per shard at most).
    public var concurrency: Int
    /// How often workers tell each other they are alive; one silent for three is gone.
    public var heartbeatInterval: Duration
    /// AMQP users whose commands may change executing, path and access options (``OptionGrant``);
    /// empty: no one on the bus may.
    public var adminPublishers: Set<String>
    /// Seconds a pending checkpoint's Active bricks may not move before it is announced stalled.
    public var checkpointStallAfter: Double
    /// While a `checkpoint` with `wait` is pending on a cluster, its ticker sends it an extra
    /// monitor tick this often, so the result follows the completion within seconds.
    public var waitTickInterval: Duration
    /// Touch the primary volume's root after a checkpoint is set (``GlusterExecutor/touchVolumeRoot(cluster:volume:)``).
    public var touchAfterCheckpoint: Bool
    /// Seconds added to the wall clock for observation stamps; tests only (`GEOREP_TEST_CLOCK_OFFSET`).
    public var clockOffset: Double = 0
    public var instance: String

    public init(amqpURL: String, inventory: Inventory, topology: GeoRepTopology = GeoRepTopology(), monitorInterval: Double = 15,
                snapshotEvery: Int = 20, glusterTimeout: Double = 120, glusterProgram: String = "gluster",
                glusterSuspectAfter: Double = 20, maxAttempts: Int = 3, concurrency: Int = 4, heartbeatInterval: Duration = .seconds(2),
                adminPublishers: Set<String> = [], checkpointStallAfter: Double = 600, waitTickInterval: Duration = .seconds(3),
                touchAfterCheckpoint: Bool = true, instance: String = ProcessIdentity.name) {
        self.amqpURL = amqpURL
        self.inventory = inventory
        self.topology = topology
        self.monitorInterval = monitorInterval
        self.snapshotEvery = snapshotEvery
        self.glusterTimeout = glusterTimeout
        self.glusterProgram = glusterProgram
        self.glusterSuspectAfter = glusterSuspectAfter
        self.maxAttempts = maxAttempts
        self.concurrency = concurrency
        self.heartbeatInterval = heartbeatInterval
        self.adminPublishers = adminPublishers
        self.checkpointStallAfter = checkpointStallAfter
        self.waitTickInterval = waitTickInterval
        self.touchAfterCheckpoint = touchAfterCheckpoint
        self.instance = instance
    }
}
