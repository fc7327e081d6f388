import Foundation

/// Reads gluster's `--xml` envelope (`<cliOutput><opRet/><opErrno/><opErrstr/>…`).
///
/// With `--xml` the exit status is 0 for most failures, so `opRet` decides; a few failures
/// (status of a missing session or volume) print plain text and exit 2 instead.
enum CLIOutput {
    static func parse(stdout: String, stderr: String, exitCode: Int32, host: String) throws(GlusterError) -> XMLNode {
        let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("<"), let root = XMLNode.parse(Data(trimmed.utf8)), root.name == "cliOutput" else {
            throw plainTextFailure(stdout: trimmed, stderr: stderr, exitCode: exitCode, host: host)
        }
        let opRet = Int(root.value("opRet") ?? "") ?? (exitCode == 0 ? 0 : -1)
        let opErrno = Int(root.value("opErrno") ?? "") ?? 0
        let opErrstr = root.value("opErrstr") ?? ""
        guard opRet == 0 else {
            throw GlusterError.classify(opRet: opRet, opErrno: opErrno, message: opErrstr.isEmpty ? "no message (opRet \(opRet))" : opErrstr)
        }
        return root
    }

    /// gluster prints only "geo-replication command failed" both for a session or volume it does
    /// not know and when a status read lost a race for the cluster lock.
    static let genericStatusFailure = "gluster knows no such geo-replication session or volume"

    static func plainTextFailure(stdout: String, stderr: String, exitCode: Int32, host: String) -> GlusterError {
        let text = [stdout, stderr.trimmingCharacters(in: .whitespacesAndNewlines)].filter { !$0.isEmpty }.joined(separator: "\n")
        let lower = text.lowercased()
        if lower.contains("connection failed") || lower.contains("is glusterd running") || lower.contains("gluster daemon is operational") {
            return .hostUnreachable(host: host, message: text)
        }
        if lower.contains("another transaction is in progress") { return .transactionInProgress(message: text) }
        if lower.contains("does not exist") {
            return lower.hasPrefix("volume") ? .volumeNotFound(message: text) : .sessionNotFound(message: text)
        }
        // What gluster 10 prints for `status` of a session or volume it does not know.
        if lower == "geo-replication command failed" && exitCode != 0 {
            return .sessionNotFound(message: CLIOutput.genericStatusFailure + " (it printed \"\(text)\", exit status \(exitCode)).")
        }
        return .unparseable(raw: text.isEmpty ? "(no output, exit status \(exitCode))" : "\(text) (exit status \(exitCode))")
    }
}
