import Foundation
import Hummingbird

/// The request context of the API: who is asking (after authentication) and how to answer.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``.
    public var role: Role?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Request bodies of the API are small; a bigger one is refused before it is read.
    public var maxUploadSize: Int { 64 * 1024 }
}
