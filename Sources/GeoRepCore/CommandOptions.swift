/// The knobs of a command. Every field is optional; a field an action does not use is ignored.
public struct CommandOptions: Codable, Hashable, Sendable {
    /// `force` on create / start / stop / pause / resume.
    public var force: Bool?
    /// `push-pem` on create (default true: the lab and most fleets need it).
    public var pushPem: Bool?
    /// `ssh-port N` on create.
    public var sshPort: Int?
    /// `no-verify` on create.
    public var noVerify: Bool?
    /// `reset-sync-time` on delete.
    public var resetSyncTime: Bool?
    /// On delete: stop the session first when it is running.
    public var stopFirst: Bool?
    /// The option name for config.set / config.reset.
    public var key: String?
    /// The option value for config.set.
    public var value: String?
    /// For checkpoint: `now` (default) or a time gluster accepts.
    public var checkpoint: String?
    /// For checkpoint: seconds to wait for the checkpoint to complete before the result
    /// (``CommandWaiting``), 1 … ``maxWaitSeconds``; nil answers as soon as it is set.
    public var wait: Int?
    /// For schedule: the session's sync windows; empty clears them.
    public var schedule: SyncSchedule?
    /// For refresh: read the status back, not the options. A webhook's refresh for an event
    /// that is not about the config: each gluster call is ~1.3 s over ssh on the multi-node lab,
    /// and the options read made a Faulty session show 2.7 s after glustereventsd's post.
    public var statusOnly: Bool?

    /// The longest wait: well inside the journal's 24 h, which must still hold the wait's record
    /// when it runs out.
    public static let maxWaitSeconds = 43_200

    public init(
        force: Bool? = nil, pushPem: Bool? = nil, sshPort: Int? = nil, noVerify: Bool? = nil,
        resetSyncTime: Bool? = nil, stopFirst: Bool? = nil, key: String? = nil, value: String? = nil,
        checkpoint: String? = nil, wait: Int? = nil, schedule: SyncSchedule? = nil, statusOnly: Bool? = nil
    ) {
        self.force = force
        self.pushPem = pushPem
        self.sshPort = sshPort
        self.noVerify = noVerify
        self.resetSyncTime = resetSyncTime
        self.stopFirst = stopFirst
        self.key = key
        self.value = value
        self.checkpoint = checkpoint
        self.wait = wait
        self.schedule = schedule
        self.statusOnly = statusOnly
    }
}
