import Foundation
import Logging

/// Applies numbered SQL migrations (`0001_name.sql`, `0002_…`) from a directory, each once,
/// in one transaction under an advisory lock, recorded in `georep_schema_migrations`.
/// Several processes may run it at once: the lock serialises them and the later ones find
/// nothing left to do.
public struct Migrator: Sendable {
    /// An arbitrary constant that names this service's migration lock.
    static let lockKey = "7305942187"
    public var directory: String
    var logger: Logger

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    public func migrations() throws(PGError) -> [Migration] {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .migration("cannot read \(directory): \(error.localizedDescription); pass --schemas or run from the repository root")
        }
        var result: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            guard let version = Int(file.prefix { $0.isNumber }) else { continue }
            let sql: String
            do { sql = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8) } catch {
                throw .migration("cannot read \(file): \(error.localizedDescription)")
            }
            result.append(Migration(version: version, name: String(file.dropLast(4)), sql: sql))
        }
        let versions = result.map(\.version)
        guard Set(versions).count == versions.count else { throw .migration("two migrations share a version number in \(directory)") }
        return result
    }

    /// Applies what is missing; returns the names applied now.
    public func migrate(_ connection: PGConnection) async throws(PGError) -> [String] {
        let all = try migrations()
        let applied = try await connection.run { (db) throws(PGError) -> [String] in
            try db.transaction { () throws(PGError) -> [String] in
                try db.execute("SET LOCAL client_min_messages = warning")
                try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS georep_schema_migrations (
                        version INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """)
                let done = Set(try db.execute("SELECT version FROM georep_schema_migrations").rows.compactMap { $0[0].flatMap { Int($0) } })
                var now: [String] = []
                for migration in all where !done.contains(migration.version) {
                    try db.execute(migration.sql)
                    try db.execute("INSERT INTO georep_schema_migrations (version, name) VALUES ($1, $2)",
                                   [String(migration.version), migration.name])
                    now.append(migration.name)
                }
                return now
            }
        }
        for name in applied { logger.info("applied migration", metadata: ["migration": "\(name)"]) }
        return applied
    }
}
