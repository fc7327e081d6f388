import Foundation

/// CPU time taken on this machine between two readings of /proc, by who took it: the persister
/// process, PostgreSQL's processes, RabbitMQ's Erlang VM, everything else, and idle.
///
/// Exists because a rate alone did not say why the persister stopped at about half of its
/// 50,000 events/s target (issue 19): the split per event shows which process the machine's two
/// cores went to, so a run tells whether there is any CPU left to win.
struct CPUAccount {
    /// CPU seconds by part, and the machine's idle seconds (all cores).
    struct Reading {
        var seconds: [Part: Double] = [:]
        var idle = 0.0
    }

    enum Part: String, CaseIterable {
        case persister = "persister"
        case postgres = "PostgreSQL"
        case rabbit = "RabbitMQ"
        case rest = "everything else"
    }

    let persisterPID: Int32
    /// /proc/stat counts idle in clock ticks.
    private let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))

    func read() -> Reading {
        var reading = Reading()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry) else { continue }
            reading.seconds[part(pid: pid, cmdline: Self.cmdline(of: entry)), default: 0] += CPUTimes(pid: pid).own
        }
        if let line = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first {
            let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            if fields.count > 4 { reading.idle = Double(fields[3] + fields[4]) / hertz }
        }
        return reading
    }

    /// Microseconds of CPU per event, by part (idle included), between two readings. Processes
    /// that ended in between are not counted: the measured stretch starts none and ends none.
    func perEvent(from start: Reading, to end: Reading, events: Int) -> [(name: String, micros: Double)] {
        let scale = 1_000_000 / Double(max(events, 1))
        var out = Part.allCases.map { part in
            (part.rawValue, max(0, (end.seconds[part] ?? 0) - (start.seconds[part] ?? 0)) * scale)
        }
        out.append(("idle", max(0, end.idle - start.idle) * scale))
        return out
    }

    private func part(pid: Int32, cmdline: String) -> Part {
        if pid == persisterPID { return .persister }
        if cmdline.hasPrefix("postgres") || cmdline.contains("/bin/postgres") { return .postgres }
        if cmdline.contains("beam.smp") { return .rabbit }
        return .rest
    }

    private static func cmdline(of pid: String) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
