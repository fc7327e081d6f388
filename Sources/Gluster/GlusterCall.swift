/// One gluster process that ran: what it did, where, and how long it took.
public struct GlusterCall: Sendable {
    /// ``GlusterOperation/name``: `status-detail`, `start`, `config-set`, `volume-info`, …
    public var operation: String
    public var host: String
    /// `local` or `ssh`.
    public var transport: String
    public var seconds: Double
    public var exitCode: Int32
}
