import Foundation

/// CPU time taken on this machine between two readings of /proc, by who took it: the persister
/// process, PostgreSQL's processes, RabbitMQ's Erlang VM, everything else, and idle.
///
/// Exists because a rate alone did not say why the persister stopped at about half of its
/// 50,000 events/s target (issue 19): the split per event shows which process the machine's two
/// cores went to, so a run tells whether there is any CPU left to win.
struct CPUAccount {
    /// Clock ticks by part, and the machine's idle ticks (all cores).
    struct Reading {
        var ticks: [Part: Int] = [:]
        var idle = 0
    }

    enum Part: String, CaseIterable {
        case persister = "persister"
        case postgres = "PostgreSQL"
        case rabbit = "RabbitMQ"
        case rest = "everything else"
    }

    let persisterPID: Int32
    private let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))

    func read() -> Reading {
        var reading = Reading()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let ticks = Self.ticks(of: entry) else { continue }
            reading.ticks[part(pid: pid, cmdline: Self.cmdline(of: entry)), default: 0] += ticks
        }
        if let line = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first {
            let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            if fields.count > 4 { reading.idle = fields[3] + fields[4] }
        }
        return reading
    }

    /// Microseconds of CPU per event, by part (idle included), between two readings. Processes
    /// that ended in between are not counted: the measured stretch starts none and ends none.
    func perEvent(from start: Reading, to end: Reading, events: Int) -> [(name: String, micros: Double)] {
        let scale = 1_000_000 / hertz / Double(max(events, 1))
        var out = Part.allCases.map { part in
            (part.rawValue, Double(max(0, (end.ticks[part] ?? 0) - (start.ticks[part] ?? 0))) * scale)
        }
        out.append(("idle", Double(max(0, end.idle - start.idle)) * scale))
        return out
    }

    private func part(pid: Int32, cmdline: String) -> Part {
        if pid == persisterPID { return .persister }
        if cmdline.hasPrefix("postgres") || cmdline.contains("/bin/postgres") { return .postgres }
        if cmdline.contains("beam.smp") { return .rabbit }
        return .rest
    }

    /// utime + stime of a process, from /proc/PID/stat (fields after the command's parenthesis).
    private static func ticks(of pid: String) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    private static func cmdline(of pid: String) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
