import GeoRepCore

/// The argument vectors of every gluster operation the service runs, after `gluster`; only
/// ``GlusterOperation`` uses them.
///
/// Pure and total: each builder validates every name it is given first, so no unchecked
/// string ever becomes an argument. Nothing here is ever joined into a shell line.
enum GlusterArguments {
    /// Flags in front of every command: no prompts, XML answers.
    static let common = ["--mode=script", "--xml"]

    static func volumeInfo(_ volume: String?) throws(ValidationError) -> [String] {
        if let volume { try Validate.volumeName(volume, field: "volume") }
        return common + ["volume", "info"] + (volume.map { [$0] } ?? [])
    }

    static func poolList() -> [String] { common + ["pool", "list"] }

    static func create(_ ref: SessionRef, options: CommandOptions) throws(ValidationError) -> [String] {
        var args = try session(ref) + ["create"]
        if let port = options.sshPort {
            guard (1...65535).contains(port) else {
                throw ValidationError(field: "options.ssh_port", value: String(port), reason: "a TCP port is 1-65535")
            }
            args += ["ssh-port", String(port)]
        }
        if options.pushPem ?? true { args.append("push-pem") }
        if options.noVerify == true { args.append("no-verify") }
        if options.force == true { args.append("force") }
        return args
    }

    /// start, stop, pause or resume, with `force` when asked.
    static func lifecycle(_ verb: GlusterOperation.Lifecycle, _ ref: SessionRef, force: Bool) throws(ValidationError) -> [String] {
        try session(ref) + [verb.rawValue] + (force ? ["force"] : [])
    }

    static func delete(_ ref: SessionRef, resetSyncTime: Bool) throws(ValidationError) -> [String] {
        try session(ref) + ["delete"] + (resetSyncTime ? ["reset-sync-time"] : [])
    }

    /// `status` (or `status detail`) of one session, of a volume's sessions, or of every session.
    static func status(volume: String?, session ref: SessionRef?, detail: Bool) throws(ValidationError) -> [String] {
        let tail = detail ? ["status", "detail"] : ["status"]
        if let ref { return try session(ref) + tail }
        if let volume {
            try Validate.volumeName(volume, field: "volume")
            return common + ["volume", "geo-replication", volume] + tail
        }
        return common + ["volume", "geo-replication"] + tail
    }

    /// `status detail` of one session, of every session of a volume, or of every session the
    /// cluster knows (one call covers them all: monitor per cluster, not per session).
    static func statusDetail(volume: String?, session ref: SessionRef?) throws(ValidationError) -> [String] {
        try status(volume: volume, session: ref, detail: true)
    }

    static func config(_ ref: SessionRef) throws(ValidationError) -> [String] { try session(ref) + ["config"] }

    /// `config KEY VALUE` of an option gsyncd has and lets change, with a value checked for its
    /// form (``GeoRepOption/validate(_:field:)``). Who may is decided before: ``OptionGrant``.
    static func configSet(_ ref: SessionRef, key: String, value: String) throws(ValidationError) -> [String] {
        try Validate.configKey(key, field: "options.key")
        try GeoRepOption.changeable(key, field: "options.key").validate(value, field: "options.value")
        return try session(ref) + ["config", key, value]
    }

    /// `config !KEY`: back to gsyncd.conf's default.
    static func configReset(_ ref: SessionRef, key: String) throws(ValidationError) -> [String] {
        try Validate.configKey(key, field: "options.key")
        _ = try GeoRepOption.changeable(key, field: "options.key")
        return try session(ref) + ["config", "!\(key)"]
    }

    /// `config checkpoint now` or at a given time.
    static func checkpoint(_ ref: SessionRef, at: String?) throws(ValidationError) -> [String] {
        let when = at ?? "now"
        if when != "now" { try Validate.configValue(when, field: "options.checkpoint") }
        return try session(ref) + ["config", "checkpoint", when]
    }

    private static func session(_ ref: SessionRef) throws(ValidationError) -> [String] {
        try ref.validate()
        return common + ["volume", "geo-replication", ref.primaryVolume, ref.secondarySpec]
    }
}
