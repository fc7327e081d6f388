import GeoRepCore
import Hummingbird

/// Every API request carries `Authorization: Bearer TOKEN`; the token decides the role (read,
/// write or admin). Tokens are compared in constant time; a missing or unknown one is a 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let tokens: [(token: [UInt8], role: Role)]

    init(tokens: [(token: String, role: Role)]) {
        self.tokens = tokens.map { (Array($0.token.utf8), $0.role) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let role = role(for: request.headers[.authorization]) else {
            let format = Format.negotiate(request.headers[.accept]) ?? .json
            return format.fault(APIError(.unauthorized, code: "unauthorized", "send Authorization: Bearer <token> with a token of this API"))
        }
        var context = context
        context.role = role
        return try await next(request, context)
    }

    /// The role of the presented token; every configured token is compared, whatever matches.
    func role(for header: String?) -> Role? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let presented = Array(header.dropFirst(7).utf8)
        var granted: Role?
        for (token, role) in tokens where ConstantTime.equal(presented, token) {
            granted = max(granted ?? role, role)
        }
        return granted
    }
}
