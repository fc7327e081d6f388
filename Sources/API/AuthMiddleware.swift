import GeoRepCore
import Hummingbird

/// Every API request carries `Authorization: Bearer TOKEN`; the token decides the role (read,
/// write or admin). Tokens are compared in constant time; a missing or unknown one is a 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let tokens: BearerTokens<Role>

    init(tokens: [(token: String, role: Role)]) {
        self.tokens = BearerTokens(tokens.map { ($0.token, $0.role) })
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

    /// The role of the presented token (the highest, should one token be listed twice).
    func role(for header: String?) -> Role? { tokens.grants(forHeader: header).max() }
}
