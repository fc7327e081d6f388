import GeoRepCore

/// Builds the `ssh` argument vector that runs gluster on a remote host.
///
/// BatchMode (never a prompt), strict host-key checking against the operator's known_hosts,
/// and a ControlMaster socket per host so that repeated commands reuse one connection.
/// The remote side hands the command to the login shell, so each word is single-quoted;
/// the words were validated before (allow-listed names), the quoting is a second wall.
enum SSHCommand {
    static func argv(host: String, settings: SSHSettings, remote: [String]) -> [String] {
        var args: [String] = [
            "ssh",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=\(settings.connectTimeout ?? 10)",
            "-o", "ServerAliveInterval=15",
        ]
        if settings.reuseConnections ?? true {
            args += [
                "-o", "ControlMaster=auto",
                "-o", "ControlPersist=300",
                "-o", "ControlPath=\(settings.controlDirectory ?? "/tmp")/georep-ssh-%C",
            ]
        } else {
            args += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        }
        if let known = settings.knownHostsFile { args += ["-o", "UserKnownHostsFile=\(known)"] }
        if let key = settings.identityFile { args += ["-i", key, "-o", "IdentitiesOnly=yes"] }
        if let port = settings.port { args += ["-p", String(port)] }
        if let user = settings.user { args += ["-l", user] }
        args += ["--", host]
        args += remote.map(quote)
        return args
    }

    static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
