/// The bearer tokens a service accepts and what each grants (the API's roles; the webhook's
/// plain "may post"): one check for every HTTP side that takes `Authorization: Bearer TOKEN`.
///
/// Every configured token is compared, in time that depends only on the presented length, so a
/// caller learns nothing from how long a refusal took.
public struct BearerTokens<Grant: Sendable>: Sendable {
    private let tokens: [(token: [UInt8], grant: Grant)]

    public init(_ tokens: [(token: String, grant: Grant)]) {
        self.tokens = tokens.filter { !$0.token.isEmpty }.map { (Array($0.token.utf8), $0.grant) }
    }

    public var isEmpty: Bool { tokens.isEmpty }

    /// What the token in an `Authorization` header grants (empty: none, or no such token).
    public func grants(forHeader header: String?) -> [Grant] {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return [] }
        let presented = Array(header.dropFirst(7).utf8)
        var granted: [Grant] = []
        for (token, grant) in tokens where ConstantTime.equal(presented, token) { granted.append(grant) }
        return granted
    }
}
