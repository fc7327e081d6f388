import CLibPQ
import Foundation

/// Statements that go to PostgreSQL together, in one round trip (libpq's pipeline mode), in the
/// order they were queued.
///
/// A transaction of a dozen statements that need no answer from each other costs one round trip
/// instead of a dozen; on a busy machine each round trip is two context switches and a wait for
/// the scheduler, which cost more than most of the statements themselves.
///
/// `queue` only records a statement; `execute` sends everything queued and the statement given,
/// and returns that statement's result (for a statement whose answer decides what comes next);
/// `flush` sends what is queued. As with single statements, the first statement PostgreSQL refuses
/// is thrown; the statements queued after it are not run (PostgreSQL skips them up to the
/// pipeline's end), so inside a transaction the transaction is aborted as it would be otherwise.
public struct PGPipeline {
    /// The session the statements go to, for statements run one by one between pipelines.
    public let session: PGSession
    private var queued: [(sql: String, parameters: [PGParameter])] = []

    public init(_ session: PGSession) { self.session = session }

    /// Statements waiting to be sent.
    public var pending: Int { queued.count }

    /// Records a statement to be sent with the next `execute` or `flush`.
    public mutating func queue(_ sql: String, _ parameters: [String?] = []) {
        queued.append((sql, parameters.map(PGParameter.text)))
    }

    /// ``queue(_:_:)`` with parameters that may be binary.
    public mutating func queue(_ sql: String, binding parameters: [PGParameter]) {
        queued.append((sql, parameters))
    }

    /// Sends the queued statements and this one in one round trip; returns this one's result.
    @discardableResult
    public mutating func execute(_ sql: String, _ parameters: [String?] = []) throws(PGError) -> PGResult {
        try execute(sql, binding: parameters.map(PGParameter.text))
    }

    /// ``execute(_:_:)`` with parameters that may be binary.
    @discardableResult
    public mutating func execute(_ sql: String, binding parameters: [PGParameter]) throws(PGError) -> PGResult {
        queued.append((sql, parameters))
        let statements = queued
        queued.removeAll()
        return try session.pipeline(statements).last!
    }

    /// Sends the queued statements (nothing when none is queued).
    public mutating func flush() throws(PGError) {
        guard !queued.isEmpty else { return }
        let statements = queued
        queued.removeAll()
        try session.pipeline(statements)
    }
}

extension PGSession {
    /// Runs `statements` in order in one round trip (libpq pipeline mode) and returns their
    /// results; throws the first statement's error PostgreSQL gave (the ones after it are skipped).
    ///
    /// The connection stays in blocking mode: everything is sent before any result is read, which
    /// is safe because what our statements return is small (command tags and a column of ids);
    /// statements returning many rows should not go through here.
    @discardableResult
    public func pipeline(_ statements: [(sql: String, parameters: [PGParameter])]) throws(PGError) -> [PGResult] {
        if statements.count == 1 { return [try execute(statements[0].sql, binding: statements[0].parameters)] }
        guard !statements.isEmpty else { return [] }
        guard PQenterPipelineMode(conn) == 1 else { throw .connectionLost(errorMessage()) }
        // A statement with parameters is prepared the first time this connection sees it (the
        // prepare travels in the same pipeline) and only executed after that: parsing and
        // planning were a fifth of the persister's backend time.
        enum Sent { case prepare(name: String, sql: String), statement(sql: String) }
        var sent: [Sent] = []
        var preparing: [String: String] = [:]
        for statement in statements {
            let ok: Bool
            if let prepared, !statement.parameters.isEmpty {
                var name = prepared.names[statement.sql] ?? preparing[statement.sql]
                if name == nil {
                    let fresh = prepared.nextName()
                    guard PQsendPrepare(conn, fresh, statement.sql, 0, nil) == 1 else { throw .connectionLost(errorMessage()) }
                    sent.append(.prepare(name: fresh, sql: statement.sql))
                    preparing[statement.sql] = fresh
                    name = fresh
                }
                ok = sendPrepared(name!, statement.parameters)
            } else {
                ok = send(statement.sql, statement.parameters)
            }
            // A send fails only when the connection does (the statements are well-formed);
            // `PGConnection.run` drops a connection that reports a loss.
            guard ok else { throw .connectionLost(errorMessage()) }
            sent.append(.statement(sql: statement.sql))
        }
        guard PQpipelineSync(conn) == 1 else { throw .connectionLost(errorMessage()) }
        var results: [PGResult] = []
        results.reserveCapacity(statements.count)
        var failure: PGError?
        for item in sent {
            // Each statement's results end with a NULL; a statement skipped after an error
            // reports PGRES_PIPELINE_ABORTED.
            var outcome = PGResult(columns: [], rows: [], affectedRows: 0)
            var prepareOK = false
            let sql: String
            switch item {
            case .prepare(_, let text): sql = text
            case .statement(let text): sql = text
            }
            while let result = PQgetResult(conn) {
                if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                    PQclear(result)
                    continue
                }
                do throws(PGError) {
                    outcome = try PGResult.take(result, conn: conn, sql: sql)
                    prepareOK = true
                } catch {
                    if failure == nil { failure = error }
                }
            }
            switch item {
            // Only a prepare PostgreSQL confirmed is used again (one skipped after an error was not made).
            case .prepare(let name, let text): if prepareOK { prepared?.names[text] = name }
            case .statement: results.append(outcome)
            }
        }
        // The sync point; a connection that broke meanwhile gives nothing here.
        guard let sync = PQgetResult(conn) else { throw failure ?? .connectionLost(errorMessage()) }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced, PQexitPipelineMode(conn) == 1 else { throw failure ?? .connectionLost(errorMessage()) }
        if let failure { throw failure }
        return results
    }

    private func sendPrepared(_ name: String, _ parameters: [PGParameter]) -> Bool {
        PGParameter.withLibPQArrays(parameters) { values, lengths, formats in
            PQsendQueryPrepared(conn, name, Int32(parameters.count), values, lengths, formats, 0) == 1
        }
    }

    private func send(_ sql: String, _ parameters: [PGParameter]) -> Bool {
        PGParameter.withLibPQArrays(parameters) { values, lengths, formats in
            PQsendQueryParams(conn, sql, Int32(parameters.count), nil, values, lengths, formats, 0) == 1
        }
    }

    private func errorMessage() -> String {
        String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The statements prepared on one connection, by their SQL. Used only on the connection's queue
/// (like the connection itself), hence a plain class.
final class PGPreparedStatements {
    var names: [String: String] = [:]
    private var counter = 0

    /// A name no statement of this connection has.
    func nextName() -> String {
        counter += 1
        return "georep_p\(counter)"
    }

    /// A new connection has none.
    func removeAll() { names.removeAll() }
}
