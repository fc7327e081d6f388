import GeoRepCore

/// The argument vectors of every gluster operation the service runs, after `gluster`.
///
/// Pure and total: each builder validates every name it is given first, so no unchecked
/// string ever becomes an argument. Nothing here is ever joined into a shell line.
public enum GlusterArguments {
    /// Flags in front of every command: no prompts, XML answers.
    public static let common = ["--mode=script", "--xml"]

    public static func volumeInfo(_ volume: String?) throws(ValidationError) -> [String] {
        if let volume { try Validate.volumeName(volume, field: "volume") }
        return common + ["volume", "info"] + (volume.map { [$0] } ?? [])
    }

    public static func poolList() -> [String] { common + ["pool", "list"] }

    public static func create(_ ref: SessionRef, options: CommandOptions) throws(ValidationError) -> [String] {
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
    public static func lifecycle(_ verb: String, _ ref: SessionRef, force: Bool) throws(ValidationError) -> [String] {
        guard ["start", "stop", "pause", "resume"].contains(verb) else {
            throw ValidationError(field: "action", value: verb, reason: "one of start, stop, pause, resume")
        }
        return try session(ref) + [verb] + (force ? ["force"] : [])
    }

    public static func delete(_ ref: SessionRef, resetSyncTime: Bool) throws(ValidationError) -> [String] {
        try session(ref) + ["delete"] + (resetSyncTime ? ["reset-sync-time"] : [])
    }

    /// `status` (or `status detail`) of one session, of a volume's sessions, or of every session.
    public static func status(volume: String?, session ref: SessionRef?, detail: Bool) throws(ValidationError) -> [String] {
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
    public static func statusDetail(volume: String?, session ref: SessionRef?) throws(ValidationError) -> [String] {
        try status(volume: volume, session: ref, detail: true)
    }

    public static func config(_ ref: SessionRef) throws(ValidationError) -> [String] { try session(ref) + ["config"] }

    /// `config KEY VALUE` of an option gsyncd has and lets change, with a value checked for its
    /// form (``GeoRepOption/validate(_:field:)``). Who may is decided before: ``OptionGrant``.
    public static func configSet(_ ref: SessionRef, key: String, value: String) throws(ValidationError) -> [String] {
        try Validate.configKey(key, field: "options.key")
        try GeoRepOption.changeable(key, field: "options.key").validate(value, field: "options.value")
        return try session(ref) + ["config", key, value]
    }

    /// `config !KEY`: back to gsyncd.conf's default.
    public static func configReset(_ ref: SessionRef, key: String) throws(ValidationError) -> [String] {
        try Validate.configKey(key, field: "options.key")
        _ = try GeoRepOption.changeable(key, field: "options.key")
        return try session(ref) + ["config", "!\(key)"]
    }

    /// `config checkpoint now` or at a given time.
    public static func checkpoint(_ ref: SessionRef, at: String?) throws(ValidationError) -> [String] {
        let when = at ?? "now"
        if when != "now" { try Validate.configValue(when, field: "options.checkpoint") }
        return try session(ref) + ["config", "checkpoint", when]
    }

    private static func session(_ ref: SessionRef) throws(ValidationError) -> [String] {
        try ref.validate()
        return common + ["volume", "geo-replication", ref.primaryVolume, ref.secondarySpec]
    }
}
