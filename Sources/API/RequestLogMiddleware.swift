import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Observability

/// One log line per request (method, path, status, milliseconds, and the command id of an
/// action) and the request metrics.
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        var command: String?
        defer {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            var metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "ms": "\(Int(seconds * 1000))",
            ]
            if let command { metadata["command_id"] = "\(command)" }
            logger.info("request", metadata: metadata)
            GeoRepMetrics.httpRequest(route: Self.route(request.uri.path), status: status, seconds: seconds)
        }
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            command = response.headers[GeoRepAPI.commandHeader]
            return response
        } catch let error as HTTPResponseError {
            status = Int(error.status.code)
            throw error
        }
    }

    /// The path with its ids replaced, so that metrics have few label values.
    static func route(_ path: String) -> String {
        let parts = path.split(separator: "/")
        guard parts.first == "api" else { return path.count <= 32 ? path : "other" }
        var out: [String] = []
        for (i, part) in parts.enumerated() {
            let previous = i > 0 ? parts[i - 1] : ""
            switch previous {
            case "clusters": out.append("{cluster}")
            case "glustervolumes": out.append("{volume}")
            case "georeplication-sessions": out.append("{session}")
            case "commands": out.append("{command}")
            default: out.append(String(part.prefix(32)))
            }
        }
        return "/" + out.joined(separator: "/")
    }
}
