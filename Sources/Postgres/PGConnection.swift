import CLibPQ
import Foundation
import Logging

/// One libpq connection, owned by a serial queue (libpq connections are not thread-safe and
/// block): async callers hand it a closure that runs there with synchronous access.
///
/// `@unchecked Sendable` because it wraps libpq's `PGconn *`: `conn` is read and written only by
/// blocks on `queue`, which runs one at a time; everything else is immutable.
public final class PGConnection: @unchecked Sendable {
    public let url: String
    private let queue: DispatchQueue
    private let logger: Logger
    private var conn: OpaquePointer?
    /// The statements prepared on `conn` (pipelines prepare theirs once per connection); a new
    /// connection starts with none.
    private let prepared = PGPreparedStatements()

    /// `url` is a libpq connection string or URI, e.g. `postgresql://user:pw@127.0.0.1:5432/db`.
    public init(url: String, name: String = "georep", logger: Logger) {
        self.url = url
        self.logger = logger
        self.queue = DispatchQueue(label: "pg \(name)")
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Runs `body` on the connection's queue, connecting first when needed.
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws(PGError) -> T) async throws(PGError) -> T {
        let result: Result<T, PGError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(PGError) -> T in
                    let session = PGSession(conn: try self.connectedOnQueue(), prepared: self.prepared)
                    do throws(PGError) { return try body(session) } catch {
                        if error.isConnectionLoss || PQstatus(session.conn) != CONNECTION_OK { self.dropOnQueue() }
                        throw error
                    }
                })
            }
        }
        return try result.get()
    }

    public func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async { self.dropOnQueue(); c.resume() }
        }
    }

    private func connectedOnQueue() throws(PGError) -> OpaquePointer {
        if let conn, PQstatus(conn) == CONNECTION_OK { return conn }
        dropOnQueue()
        guard let c = PQconnectdb(url) else { throw .connectionFailed("out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(c)
            throw .connectionFailed(message)
        }
        conn = c
        logger.debug("connected to PostgreSQL")
        return c
    }

    private func dropOnQueue() {
        if let conn { PQfinish(conn) }
        conn = nil
        prepared.removeAll()
    }
}

/// Synchronous access to a connection, valid only inside ``PGConnection/run(_:)``.
///
/// `@unchecked Sendable` so that the closure given to `run` may take it; it carries the raw
/// `PGconn *` and must never leave that closure (the queue's serial order is what protects it).
public struct PGSession: @unchecked Sendable {
    let conn: OpaquePointer
    /// The connection's prepared statements, for ``pipeline(_:)``; nil: none are prepared.
    var prepared: PGPreparedStatements? = nil

    /// Runs one statement with text parameters (`$1`, `$2`, …; nil is SQL NULL).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PGError) -> PGResult {
        try execute(sql, binding: parameters.map(PGParameter.text))
    }

    /// ``execute(_:_:)`` with parameters that may be binary.
    @discardableResult
    public func execute(_ sql: String, binding parameters: [PGParameter]) throws(PGError) -> PGResult {
        let result: OpaquePointer? = parameters.isEmpty
            ? PQexec(conn, sql)
            : PGParameter.withLibPQArrays(parameters) { values, lengths, formats in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, lengths, formats, 0)
            }
        return try PGResult.take(result, conn: conn, sql: sql)
    }

    /// `COPY table (columns) FROM STDIN` with rows in text format (nil is NULL); returns the
    /// rows copied. The fastest way into PostgreSQL: the benchmark's upper limit.
    @discardableResult
    public func copyIn(_ sql: String, rows: [[String?]]) throws(PGError) -> Int {
        try PGResult.take(PQexec(conn, sql), conn: conn, sql: sql)
        var chunk = ""
        chunk.reserveCapacity(1 << 16)
        func flush() throws(PGError) {
            guard !chunk.isEmpty else { return }
            let rc = chunk.withCString { PQputCopyData(conn, $0, Int32(strlen($0))) }
            guard rc == 1 else { throw .connectionLost(String(cString: PQerrorMessage(conn))) }
            chunk.removeAll(keepingCapacity: true)
        }
        for row in rows {
            for (i, value) in row.enumerated() {
                if i > 0 { chunk += "\t" }
                guard let value else { chunk += "\\N"; continue }
                for ch in value.unicodeScalars {
                    switch ch {
                    case "\\": chunk += "\\\\"
                    case "\t": chunk += "\\t"
                    case "\n": chunk += "\\n"
                    case "\r": chunk += "\\r"
                    default: chunk.unicodeScalars.append(ch)
                    }
                }
            }
            chunk += "\n"
            if chunk.utf8.count > 60_000 { try flush() }
        }
        try flush()
        guard PQputCopyEnd(conn, nil) == 1 else { throw .connectionLost(String(cString: PQerrorMessage(conn))) }
        let result = try PGResult.take(PQgetResult(conn), conn: conn, sql: sql)
        while let extra = PQgetResult(conn) { PQclear(extra) }
        return result.affectedRows
    }

    /// Waits up to `timeout` seconds for a NOTIFY on a channel this session LISTENs on.
    public func nextNotification(timeout: Double) throws(PGError) -> (channel: String, payload: String)? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard PQconsumeInput(conn) == 1 else {
                throw .connectionLost(String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if let note = PQnotifies(conn) {
                defer { PQfreemem(note) }
                return (String(cString: note.pointee.relname), String(cString: note.pointee.extra))
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, Int32(min(remaining, 1) * 1000))
        }
    }

    /// Runs `body` between BEGIN and COMMIT; any error rolls back.
    public func transaction<T>(_ body: () throws(PGError) -> T) throws(PGError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // The body's error is the one to report. A failed ROLLBACK means the connection is
            // gone, and `run` drops a connection that is not OK: nothing stays half-done.
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A statement's rows as text (libpq's text format), column names, and affected row count.
public struct PGResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    public var affectedRows: Int

    /// The value of `column` in row `row`.
    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    static func take(_ result: OpaquePointer?, conn: OpaquePointer, sql: String) throws(PGError) -> PGResult {
        guard let result else {
            throw .connectionLost(String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN else {
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            if state.isEmpty && PQstatus(conn) != CONNECTION_OK { throw .connectionLost(message) }
            throw .queryFailed(sqlState: state, message: message, statement: sql)
        }
        // A COPY in progress has columns without names and no rows.
        if status == PGRES_COPY_IN { return PGResult(columns: [], rows: [], affectedRows: 0) }
        let fields = Int(PQnfields(result))
        let tuples = Int(PQntuples(result))
        let columns = (0..<fields).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(tuples)
        for r in 0..<tuples {
            rows.append((0..<fields).map { f in
                PQgetisnull(result, Int32(r), Int32(f)) != 0 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(f)))
            })
        }
        return PGResult(columns: columns, rows: rows, affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }
}
