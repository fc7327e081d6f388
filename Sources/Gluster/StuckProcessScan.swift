import GeoRepCore

/// Reads a gluster host's process table for the helpers glusterd waits for.
///
/// A `create push-pem` runs `gverify.sh` while glusterd holds the volume's lock; gverify
/// FUSE-mounts the primary (`glusterfs -s localhost --volfile-id VOL -l …/gverify-primarymnt.log`)
/// and then the secondary. When glusterd is busy as the mount asks for its volfile, the mount
/// client waits for ever, gverify with it, and every later CLI call queues behind them. Those
/// processes, and hook scripts, are what an operator has to look for: this names them.
enum StuckProcessScan {
    /// `ps` columns without headers: pid, seconds since start, the whole command line.
    static let arguments = ["ps", "-eo", "pid=,etimes=,args="]

    /// glusterd's helpers in `psOutput` that have run at least `minimumSeconds`.
    static func parse(_ psOutput: String, minimumSeconds: Int) -> [StuckProcess] {
        psOutput.split(separator: "\n").compactMap { line -> StuckProcess? in
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count == 3, let pid = Int(fields[0]), let seconds = Int(fields[1]), seconds >= minimumSeconds else { return nil }
            let command = String(fields[2])
            guard let kind = kind(of: command) else { return nil }
            return StuckProcess(pid: pid, kind: kind, seconds: seconds, command: String(command.prefix(300)))
        }
    }

    static func kind(of command: String) -> StuckProcess.Kind? {
        let words = command.split(separator: " ")
        guard let program = words.first?.split(separator: "/").last else { return nil }
        // gverify's own mounts log to gverify-primarymnt.log / gverify-secondarymnt.log (and the
        // older -mastermnt / -slavemnt); an operator's long-lived FUSE mount is not a suspect.
        if program == "glusterfs" && command.contains("--volfile-id") && command.contains("gverify-") { return .mountClient }
        // The script itself, run directly or by a shell: `grep gverify.sh` is not one.
        let shells: Set<Substring> = ["sh", "bash", "dash"]
        let script = shells.contains(program) && words.count > 1 ? words[1] : words[0]
        if script.hasSuffix("/gverify.sh") || script == "gverify.sh" { return .gverify }
        if script.contains("/glusterd/hooks/") { return .hook }
        return nil
    }

    /// What an operator reads: the processes, oldest first, and what to do about them.
    static func cause(_ stuck: [StuckProcess], host: String, seconds: Double) -> String {
        guard !stuck.isEmpty else {
            return "glusterd on \(host) did not answer within \(Int(seconds)) s; no helper process of glusterd (gverify.sh, "
                + "a gverify mount client, a hook script) was seen running for long"
        }
        let seen = stuck.sorted { $0.seconds > $1.seconds }.map { p in
            let what = switch p.kind {
            case .gverify: "gverify.sh"
            case .mountClient: "a FUSE mount client waiting for its volfile"
            case .hook: "a hook script"
            }
            return "\(what) (pid \(p.pid), \(p.seconds) s)"
        }
        let remedy = stuck.contains { $0.kind == .mountClient }
            ? "; ending the waiting mount client frees glusterd (docs/reliability.md, \"A wedged glusterd\")"
            : ""
        return "glusterd on \(host) is waiting for " + seen.joined(separator: ", ") + remedy
    }
}
