/// What went wrong talking to PostgreSQL.
public enum PGError: Error, Equatable, Sendable, CustomStringConvertible {
    case connectionFailed(String)
    /// The server refused a statement; `sqlState` is PostgreSQL's five-character code.
    case queryFailed(sqlState: String, message: String, statement: String)
    /// The connection broke during a statement (server restart, network); reconnect and retry.
    case connectionLost(String)
    case migration(String)
    /// A row lacks a column its reader expects, or holds a value not of the column's type: the
    /// statement and the reader disagree (a bug to fix, not a state to retry).
    case unreadable(column: String, reason: String)

    /// Reconnecting and retrying may help.
    public var isConnectionLoss: Bool {
        switch self {
        case .connectionFailed, .connectionLost: true
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions.
        case .queryFailed(let state, _, _): state.hasPrefix("08") || state.hasPrefix("57P")
        case .migration, .unreadable: false
        }
    }

    /// The transaction lost to another one (a deadlock, a serialization failure, a lock it could
    /// not get): the same statements may well succeed when run again.
    public var isContention: Bool {
        guard case .queryFailed(let state, _, _) = self else { return false }
        // 40P01 deadlock_detected, 40001 serialization_failure, 55P03 lock_not_available.
        return state == "40P01" || state == "40001" || state == "55P03"
    }

    public var description: String {
        switch self {
        case .connectionFailed(let m): "cannot connect to PostgreSQL: \(m)"
        case .queryFailed(let state, let m, let sql): "PostgreSQL refused a statement (SQLSTATE \(state)): \(m) [\(sql.prefix(120))]"
        case .connectionLost(let m): "lost the PostgreSQL connection: \(m)"
        case .migration(let m): "migration failed: \(m)"
        case .unreadable(let column, let reason): "cannot read column \(column) of a PostgreSQL row: \(reason)"
        }
    }
}
