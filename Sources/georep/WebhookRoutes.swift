import Hummingbird
import Worker

/// `POST /webhooks/glusterfs/{cluster}` (and without the cluster when the inventory has one):
/// glustereventsd's webhook, handed to the worker's ``WebhookReceiver``.
enum WebhookRoutes {
    static func add<Context: RequestContext>(to router: Router<Context>, receiver: WebhookReceiver) {
        @Sendable func handle(_ request: Request, _ context: Context, cluster: String?) async throws -> Response {
            let body = try await request.body.collect(upTo: 256 * 1024)
            let reply = await receiver.receive(authorization: request.headers[.authorization], cluster: cluster,
                                               body: Array(buffer: body))
            return Response(status: status(reply.outcome), headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.message + "\n")))
        }
        router.post("/webhooks/glusterfs/:cluster") { request, context in
            try await handle(request, context, cluster: context.parameters.get("cluster"))
        }
        router.post("/webhooks/glusterfs") { request, context in
            try await handle(request, context, cluster: nil)
        }
    }

    /// HTTP's words for what the receiver did.
    static func status(_ outcome: WebhookReceiver.Outcome) -> HTTPResponse.Status {
        switch outcome {
        case .refreshSent: .accepted
        case .refreshScheduled: .accepted
        case .alreadyOnItsWay, .noted: .ok
        case .unauthorized: .unauthorized
        case .unknownCluster: .notFound
        case .badRequest: .badRequest
        case .brokerUnavailable: .serviceUnavailable
        }
    }
}
