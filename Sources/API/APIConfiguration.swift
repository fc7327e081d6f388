import AMQP
import Foundation
import GeoRepCore

/// What a caller may do: `read` serves GETs; `write` also sends commands; `admin` also changes
/// the geo-replication options gsyncd runs or keeps its state by (``OptionGrant``).
public enum Role: String, Sendable, Comparable, CaseIterable {
    case read
    case write
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }
}

/// The API's settings.
public struct APIConfiguration: Sendable {
    /// Bearer tokens and the role each grants.
    public var tokens: [(token: String, role: Role)]
    public var topology: GeoRepTopology
    /// Prefix of every resource path (`/api`).
    public var basePath: String

    public init(tokens: [(token: String, role: Role)], topology: GeoRepTopology = GeoRepTopology(), basePath: String = "/api") {
        self.tokens = tokens
        self.topology = topology
        self.basePath = basePath
    }

    /// Parses `TOKEN:ROLE,TOKEN:ROLE` (`GEOREP_API_TOKENS`), ROLE `read`, `write` or `admin`; a
    /// token without a role reads only.
    public static func parseTokens(_ text: String) throws -> [(token: String, role: Role)] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard let token = parts.first, token.count >= 8 else {
                throw APIConfigurationError(reason: "each API token has at least 8 characters")
            }
            guard parts.count == 2 else { return (token, .read) }
            guard let role = Role(rawValue: parts[1]) else {
                throw APIConfigurationError(reason: "the role after a token is read, write or admin, not \(parts[1])")
            }
            return (token, role)
        }
    }
}

public struct APIConfigurationError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "GEOREP_API_TOKENS: \(reason)" }
}
