/// One gluster process that ran: what it did, where, and how long it took.
public struct GlusterCall: Sendable {
    /// `status-detail`, `start`, `config-set`, `volume-info`, …
    public var operation: String
    public var host: String
    /// `local` or `ssh`.
    public var transport: String
    public var seconds: Double
    public var exitCode: Int32

    /// Whether an argument vector from ``GlusterArguments`` changes the cluster (else it reads).
    static func changes(_ arguments: [String]) -> Bool {
        ["create", "start", "stop", "pause", "resume", "delete", "config-set", "config-reset", "checkpoint"].contains(operation(of: arguments))
    }

    /// A short name for an argument vector from ``GlusterArguments``.
    static func operation(of arguments: [String]) -> String {
        let words = Array(arguments.drop { $0.hasPrefix("--") })
        if words.starts(with: ["volume", "info"]) { return "volume-info" }
        if words.starts(with: ["pool", "list"]) { return "pool-list" }
        if let i = words.firstIndex(of: "status") { return i + 1 < words.count && words[i + 1] == "detail" ? "status-detail" : "status" }
        if let i = words.firstIndex(of: "config") {
            switch words.count - i - 1 {
            case 0: return "config"
            case 1: return words[i + 1].hasPrefix("!") ? "config-reset" : "config-get"
            default: return words[i + 1] == "checkpoint" ? "checkpoint" : "config-set"
            }
        }
        for verb in ["create", "start", "stop", "pause", "resume", "delete"] where words.contains(verb) { return verb }
        return "other"
    }
}
