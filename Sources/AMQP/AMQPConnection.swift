import CRabbitMQ
import CRabbitMQShim
import Foundation
import Logging

/// One connection to RabbitMQ with one channel, owned by one thread.
///
/// Use one connection to publish (publisher confirms) and another to consume: a publish waits
/// for its confirm frame, which must not be interleaved with deliveries.
///
/// `@unchecked Sendable` because it wraps librabbitmq's connection state, a C handle that is not
/// thread-safe: every field marked below is touched only by jobs on the ``OwnerThread``, which
/// runs one at a time; `isOpen` is the one value other threads read, behind its own lock.
public final class AMQPConnection: @unchecked Sendable {
    public let configuration: AMQPConfiguration
    /// Shown in the management UI and `rabbitmqctl list_connections`, e.g. `georep worker vm/1234 consumer`.
    public let name: String
    private let owner: OwnerThread
    private let logger: Logger
    // Owned by the owner thread only.
    private var state: amqp_connection_state_t?
    private var confirming = false
    private var nextPublishTag: UInt64 = 1
    private var sink: DeliverySink?
    private let channel: amqp_channel_t = 1
    /// The node of ``AMQPConfiguration/nodes`` to try first: after a loss, the one after the lost one.
    private var firstNode = 0
    private var connectedNode: Int?
    private let openLock = NSLock()
    private var openFlag = false
    private var openNode: AMQPConfiguration.Node?
    /// Whether the connection is up, readable from any thread.
    public var isOpen: Bool { openLock.withLock { openFlag } }
    /// The node of a cluster the connection is up to, readable from any thread.
    public var node: AMQPConfiguration.Node? { openLock.withLock { openFlag ? openNode : nil } }

    public init(configuration: AMQPConfiguration, name: String, logger: Logger) {
        self.configuration = configuration
        self.name = name
        self.logger = logger
        self.owner = OwnerThread(name: "amqp \(name)")
        owner.idle = { [unowned self] wakeFD in self.idleStep(wakeFD: wakeFD) }
    }

    deinit { owner.stop() }

    // MARK: Lifecycle

    /// Opens the socket (TLS for amqps), logs in and opens the channel.
    public func open() async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in try self.openOnOwner() }
    }

    /// Closes politely; safe to call twice. Pending consumers' streams finish.
    public func close() async {
        // `teardown` throws nothing: the `try?` only meets `run`'s signature.
        _ = try? await owner.run { [self] () throws(AMQPError) in self.teardown(error: nil, polite: true) }
        owner.stop()
    }

    private func openOnOwner() throws(AMQPError) {
        teardown(error: nil, polite: false)
        let c = configuration
        // A cluster: the first node that takes the connection, starting after the one lost last.
        var conn: amqp_connection_state_t?
        var lastError = AMQPError.notConnected
        for step in 0..<c.nodes.count {
            let index = (firstNode + step) % c.nodes.count
            do {
                conn = try connect(to: c.nodes[index])
                connectedNode = index
                break
            } catch {
                if c.nodes.count > 1 {
                    logger.warning("RabbitMQ node did not take the connection; trying the next", metadata: [
                        "node": "\(c.nodes[index])", "connection": "\(name)", "error": "\(error)",
                    ])
                }
                lastError = error
            }
        }
        guard let conn else { throw lastError }
        var tv = timeval(tv_sec: c.timeout, tv_usec: 0)
        _ = amqp_set_rpc_timeout(conn, &tv)
        let strings = CStrings()
        var properties = strings.table([
            ("connection_name", .string(name)),
            ("product", .string("georep")),
            ("capabilities", .table([("publisher_confirms", .bool(true)), ("consumer_cancel_notify", .bool(true))])),
        ])
        let reply = georep_amqp_login_plain(conn, c.vhost, 0, 131_072, Int32(c.heartbeat), &properties, c.user, c.password)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            let reason = Self.describe(reply)
            amqp_destroy_connection(conn)
            throw .loginFailed(reason: reason)
        }
        state = conn
        _ = amqp_channel_open(conn, channel)
        try check("channel.open")
        openLock.withLock { (openFlag, openNode) = (true, connectedNode.map { c.nodes[$0] }) }
        nextPublishTag = 1
        confirming = false
        logger.info("connected to RabbitMQ", metadata: [
            "url": "\(c.redacted)", "node": "\(connectedNode.map { "\(c.nodes[$0])" } ?? "-")", "connection": "\(name)",
        ])
    }

    /// A new connection whose socket (TLS for amqps) is open to `node`, not yet logged in.
    private func connect(to node: AMQPConfiguration.Node) throws(AMQPError) -> amqp_connection_state_t {
        guard let conn = amqp_new_connection() else { throw .library(operation: "new connection", reason: "out of memory") }
        let c = configuration
        let socket: OpaquePointer?
        if let tls = c.tls {
            socket = amqp_ssl_socket_new(conn)
            guard let socket else { amqp_destroy_connection(conn); throw .library(operation: "TLS socket", reason: "cannot create") }
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
            if let ca = tls.caCertificateFile, amqp_ssl_socket_set_cacert(socket, ca) != AMQP_STATUS_OK.rawValue {
                amqp_destroy_connection(conn)
                throw .connectionFailed(host: node.host, port: node.port, reason: "cannot read CA file \(ca)")
            }
            if let cert = tls.certificateFile, let key = tls.keyFile,
               amqp_ssl_socket_set_key(socket, cert, key) != AMQP_STATUS_OK.rawValue {
                amqp_destroy_connection(conn)
                throw .connectionFailed(host: node.host, port: node.port, reason: "cannot read client certificate \(cert) / key \(key)")
            }
        } else {
            socket = amqp_tcp_socket_new(conn)
        }
        var tv = timeval(tv_sec: c.timeout, tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, node.host, Int32(node.port), &tv)
        guard rc == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(conn)
            throw .connectionFailed(host: node.host, port: node.port, reason: String(cString: amqp_error_string2(rc)))
        }
        return conn
    }

    private func teardown(error: AMQPError?, polite: Bool) {
        openLock.withLock { openFlag = false }
        if error != nil, let lost = connectedNode {
            // Lost, not closed: the reconnect starts with another node of the cluster.
            firstNode = (lost + 1) % max(1, configuration.nodes.count)
        }
        connectedNode = nil
        if let conn = state {
            if polite {
                _ = amqp_channel_close(conn, channel, Int32(AMQP_REPLY_SUCCESS))
                _ = amqp_connection_close(conn, Int32(AMQP_REPLY_SUCCESS))
            }
            amqp_destroy_connection(conn)
            state = nil
        }
        if let sink {
            sink.finish(error)
            self.sink = nil
        }
    }

    // MARK: Topology

    public func declare(_ topology: Topology) async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in
            let conn = try self.connected()
            for exchange in topology.exchanges {
                let s = CStrings()
                _ = amqp_exchange_declare(conn, channel, s.bytes(exchange.name), s.bytes(exchange.type), 0, 1, 0,
                                          exchange.isInternal ? 1 : 0, s.table(exchange.arguments))
                try check("exchange.declare \(exchange.name)")
            }
            for queue in topology.queues {
                let s = CStrings()
                _ = amqp_queue_declare(conn, channel, s.bytes(queue.name), 0, queue.durable ? 1 : 0, queue.exclusive ? 1 : 0,
                                       queue.autoDelete ? 1 : 0, s.table(queue.arguments))
                try check("queue.declare \(queue.name)")
            }
            for binding in topology.bindings {
                let s = CStrings()
                _ = amqp_queue_bind(conn, channel, s.bytes(binding.queue), s.bytes(binding.exchange), s.bytes(binding.routingKey), amqp_empty_table)
                try check("queue.bind \(binding.queue) to \(binding.exchange)")
            }
        }
    }

    /// Declares a server-named, exclusive, auto-delete queue bound to `exchange` with each key;
    /// returns its name. For watchers such as the demo and callers waiting for replies.
    public func declareTemporaryQueue(bindings: [(exchange: String, routingKey: String)]) async throws(AMQPError) -> String {
        let keys = bindings.map { [$0.exchange, $0.routingKey] }
        return try await owner.run { [self] () throws(AMQPError) -> String in
            let conn = try self.connected()
            let s = CStrings()
            guard let ok = amqp_queue_declare(conn, channel, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table) else {
                try check("queue.declare (temporary)")
                throw .library(operation: "queue.declare", reason: "no reply")
            }
            let queue = String(amqpBytes: ok.pointee.queue)
            for pair in keys {
                _ = amqp_queue_bind(conn, channel, s.bytes(queue), s.bytes(pair[0]), s.bytes(pair[1]), amqp_empty_table)
                try check("queue.bind \(queue)")
            }
            return queue
        }
    }

    /// Messages ready in `queue` (a passive declare: fails if the queue does not exist).
    public func messageCount(queue: String) async throws(AMQPError) -> Int {
        try await owner.run { [self] () throws(AMQPError) -> Int in
            let conn = try self.connected()
            let s = CStrings()
            guard let ok = amqp_queue_declare(conn, channel, s.bytes(queue), 1, 0, 0, 0, amqp_empty_table) else {
                try check("queue.declare passive \(queue)")
                throw .library(operation: "queue.declare", reason: "no reply")
            }
            return Int(ok.pointee.message_count)
        }
    }

    public func deleteQueue(_ queue: String) async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in
            let s = CStrings()
            _ = amqp_queue_delete(try self.connected(), channel, s.bytes(queue), 0, 0)
            try check("queue.delete \(queue)")
        }
    }

    public func deleteExchange(_ exchange: String) async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in
            let s = CStrings()
            _ = amqp_exchange_delete(try self.connected(), channel, s.bytes(exchange), 0)
            try check("exchange.delete \(exchange)")
        }
    }

    /// Deletes every queue and exchange of `topology` (those that exist; errors are ignored):
    /// for tests and runs that made a topology of their own.
    public func remove(_ topology: Topology) async {
        for queue in topology.queues { try? await deleteQueue(queue.name) }
        for exchange in topology.exchanges { try? await deleteExchange(exchange.name) }
    }

    /// Drops the socket without closing the channel or connection, as a killed process would:
    /// the broker requeues what was delivered and not acked.
    public func abort() async {
        // `teardown` throws nothing: the `try?` only meets `run`'s signature.
        _ = try? await owner.run { [self] () throws(AMQPError) in self.teardown(error: .notConnected, polite: false) }
        owner.stop()
    }

    // MARK: Publishing

    /// Publishes one persistent message and returns once the broker has confirmed it
    /// (publisher confirms). With `mandatory`, a message no queue takes is an error.
    public func publish(exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties,
                        mandatory: Bool = true) async throws(AMQPError) {
        try await publish([OutgoingMessage(exchange: exchange, routingKey: routingKey, body: body, properties: properties,
                                           mandatory: mandatory)])
    }

    /// Publishes messages back to back and returns once the broker has confirmed every one:
    /// one round trip for the lot instead of one per message. Any nack or return fails the call
    /// (some of the messages may have been taken: callers resend, consumers are idempotent).
    public func publish(_ messages: [OutgoingMessage]) async throws(AMQPError) {
        guard !messages.isEmpty else { return }
        try await owner.run { [self] () throws(AMQPError) in
            let conn = try self.connected()
            if !self.confirming {
                _ = amqp_confirm_select(conn, self.channel)
                try self.check("confirm.select")
                self.confirming = true
            }
            let first = self.nextPublishTag
            for message in messages { try self.send(conn, message) }
            try self.awaitConfirms(conn: conn, tags: first...(self.nextPublishTag - 1), messages: messages)
        }
    }

    private func send(_ conn: amqp_connection_state_t, _ message: OutgoingMessage) throws(AMQPError) {
        let s = CStrings()
        let properties = message.properties
        var props = amqp_basic_properties_t()
        var flags: amqp_flags_t = 0
        for (property, field, flag) in MessageProperties.textFields {
            if let v = properties[keyPath: property] { props[keyPath: field] = s.bytes(v); flags |= amqp_flags_t(flag) }
        }
        if !properties.headers.isEmpty { props.headers = s.table(properties.headers); flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) }
        props.delivery_mode = properties.persistent ? 2 : 1
        flags |= amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        props.timestamp = UInt64(Date().timeIntervalSince1970)
        flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
        props._flags = flags

        let rc = amqp_basic_publish(conn, channel, s.bytes(message.exchange), s.bytes(message.routingKey), message.mandatory ? 1 : 0, 0,
                                    &props, s.bytes(message.body))
        guard rc == AMQP_STATUS_OK.rawValue else { throw fail(.library(operation: "basic.publish", reason: String(cString: amqp_error_string2(rc)))) }
        nextPublishTag += 1
    }

    /// Reads frames until the broker has acked every tag in `tags` (acks may come singly, as
    /// `multiple`, and in any order); a nack, or a basic.return (unroutable), fails the lot.
    private func awaitConfirms(conn: amqp_connection_state_t, tags: ClosedRange<UInt64>, messages: [OutgoingMessage]) throws(AMQPError) {
        var outstanding = Set(tags)
        var returned: (exchange: String, routingKey: String, reason: String)?
        let deadline = Date().addingTimeInterval(Double(max(configuration.timeout, 30)))
        while !outstanding.isEmpty {
            var frame = amqp_frame_t()
            var tv = timeval(tv_sec: 1, tv_usec: 0)
            let rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue {
                if Date() > deadline { throw fail(.library(operation: "publish confirm", reason: "no confirm within the timeout")) }
                continue
            }
            guard rc == AMQP_STATUS_OK.rawValue else {
                throw fail(.library(operation: "publish confirm", reason: String(cString: amqp_error_string2(rc))))
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case georep_method_basic_ack:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                if ack.multiple != 0 { outstanding = outstanding.filter { $0 > ack.delivery_tag } } else { outstanding.remove(ack.delivery_tag) }
            case georep_method_basic_nack:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                let index = Int(nack.delivery_tag &- tags.lowerBound)
                let message = messages.indices.contains(index) ? messages[index] : messages[0]
                throw AMQPError.nacked(exchange: message.exchange, routingKey: message.routingKey)
            case georep_method_basic_return:
                let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                returned = (String(amqpBytes: ret.exchange), String(amqpBytes: ret.routing_key), String(amqpBytes: ret.reply_text))
                var message = amqp_message_t()
                let read = amqp_read_message(conn, channel, &message, 0)
                if read.reply_type == AMQP_RESPONSE_NORMAL { amqp_destroy_message(&message) }
            case georep_method_channel_close, georep_method_connection_close:
                throw fail(closeError(method))
            default:
                continue
            }
        }
        if let returned { throw AMQPError.unroutable(exchange: returned.exchange, routingKey: returned.routingKey, reason: returned.reason) }
    }

    // MARK: Consuming

    /// Starts consuming `queues` with manual acks and at most `prefetch` unsettled deliveries
    /// per queue. The stream ends with an error when the connection is lost.
    public func consume(queues: [String], prefetch: UInt16) async throws(AMQPError) -> AsyncThrowingStream<Delivery, Error> {
        let stream = try await deliveries()
        for queue in queues { try await addConsumer(queue: queue, prefetch: prefetch) }
        return stream
    }

    /// The connection's one stream of deliveries, for every consumer it has now or adds later.
    /// Call once per connection; it ends with an error when the connection is lost.
    public func deliveries() async throws(AMQPError) -> AsyncThrowingStream<Delivery, Error> {
        let (stream, continuation) = AsyncThrowingStream<Delivery, Error>.makeStream(bufferingPolicy: .unbounded)
        try await owner.run { [self] () throws(AMQPError) in
            _ = try self.connected()
            guard self.sink == nil else { throw .library(operation: "deliveries", reason: "the connection already has a delivery stream") }
            self.sink = .single(continuation)
        }
        return stream
    }

    /// Starts consuming `queues` like ``consume(queues:prefetch:)``, but hands deliveries over in
    /// arrays: everything librabbitmq has already read from the socket, up to `maxBatch`, in one
    /// element. At tens of thousands of deliveries a second, one continuation resume (and one
    /// actor hop in the consumer) per delivery was the persister's ceiling; per array it is not.
    public func consumeBatches(queues: [String], prefetch: UInt16, maxBatch: Int = 256) async throws(AMQPError)
        -> AsyncThrowingStream<[Delivery], Error> {
        let (stream, continuation) = AsyncThrowingStream<[Delivery], Error>.makeStream(bufferingPolicy: .unbounded)
        let limit = max(1, maxBatch)
        try await owner.run { [self] () throws(AMQPError) in
            _ = try self.connected()
            guard self.sink == nil else { throw .library(operation: "deliveries", reason: "the connection already has a delivery stream") }
            self.sink = .batches(continuation, maxBatch: limit)
        }
        for queue in queues { try await addConsumer(queue: queue, prefetch: prefetch) }
        return stream
    }

    /// Adds a consumer on `queue` (manual acks, at most `prefetch` unsettled deliveries for it)
    /// whose deliveries go to ``deliveries()``. The consumer tag is `tag`, by default the queue's
    /// name, so that a delivery says where it came from. `arguments` are the consumer's, e.g.
    /// `x-stream-offset` for a stream queue.
    public func addConsumer(queue: String, prefetch: UInt16, tag: String? = nil,
                            arguments: [(String, AMQPValue)] = []) async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in
            let conn = try self.connected()
            guard self.sink != nil else { throw .library(operation: "basic.consume", reason: "call deliveries() first") }
            // Without `global`, the limit applies to each consumer started after it.
            _ = amqp_basic_qos(conn, channel, 0, prefetch, 0)
            try check("basic.qos")
            let s = CStrings()
            _ = amqp_basic_consume(conn, channel, s.bytes(queue), s.bytes(tag ?? queue), 0, 0, 0, s.table(arguments))
            try check("basic.consume \(queue)")
        }
    }

    /// Cancels the consumer `tag`: no new deliveries for it once this returns. Deliveries it
    /// already handed over stay unsettled until acked or rejected.
    public func cancelConsumer(tag: String) async throws(AMQPError) {
        try await owner.run { [self] () throws(AMQPError) in
            let s = CStrings()
            _ = amqp_basic_cancel(try self.connected(), channel, s.bytes(tag))
            try check("basic.cancel \(tag)")
        }
    }

    /// Acks a delivery. basic.ack has no reply in AMQP, so this queues it on the owner thread and
    /// returns at once; if the connection is lost first, the broker redelivers the message and
    /// the consumer's stream ends with the error.
    public func ack(_ delivery: Delivery) async throws(AMQPError) {
        try submitAck(delivery, multiple: false)
    }

    /// Acks every unsettled delivery up to and including `delivery` in one frame (`multiple`).
    public func ackAll(upTo delivery: Delivery) async throws(AMQPError) {
        try submitAck(delivery, multiple: true)
    }

    /// ``ackAll(upTo:)`` without suspending: the ack is queued on the owner thread before this
    /// returns, so acks queued under a caller's lock reach the broker in that lock's order.
    public func queueAckAll(upTo delivery: Delivery) throws(AMQPError) {
        try submitAck(delivery, multiple: true)
    }

    private func submitAck(_ delivery: Delivery, multiple: Bool) throws(AMQPError) {
        guard isOpen else { throw .notConnected }
        let tag = delivery.deliveryTag
        owner.submit { [self] in
            guard let conn = state else { return }
            let rc = amqp_basic_ack(conn, channel, tag, multiple ? 1 : 0)
            if rc != AMQP_STATUS_OK.rawValue { _ = fail(.library(operation: "basic.ack", reason: String(cString: amqp_error_string2(rc)))) }
        }
    }

    /// Rejects a delivery: back to its queue with `requeue`, otherwise to the queue's dead-letter exchange.
    public func reject(_ delivery: Delivery, requeue: Bool) async throws(AMQPError) {
        let tag = delivery.deliveryTag
        try await owner.run { [self] () throws(AMQPError) in
            let rc = amqp_basic_reject(try self.connected(), channel, tag, requeue ? 1 : 0)
            guard rc == AMQP_STATUS_OK.rawValue else { throw fail(.library(operation: "basic.reject", reason: String(cString: amqp_error_string2(rc)))) }
        }
    }

    /// The owner thread's idle step: wait for the socket or a job, then read one delivery.
    /// Always entering librabbitmq at least once a second also services heartbeats.
    private func idleStep(wakeFD: Int32) {
        guard let conn = state else {
            var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 1000)
            return
        }
        if amqp_data_in_buffer(conn) == 0 && amqp_frames_enqueued(conn) == 0 {
            var fds = [pollfd(fd: amqp_get_sockfd(conn), events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 1000)
            if fds[1].revents != 0 && fds[0].revents == 0 { return }
        }
        switch sink {
        case .single(let continuation)?:
            amqp_maybe_release_buffers(conn)
            if let delivery = readDelivery(conn, waitMicroseconds: 20_000) { continuation.yield(delivery) }
        case .batches(let continuation, let maxBatch)?:
            amqp_maybe_release_buffers(conn)
            guard let first = readDelivery(conn, waitMicroseconds: 20_000) else { return }
            var batch = [first]
            // Then whatever is already read and buffered, without waiting for the socket.
            while batch.count < maxBatch, let current = state, amqp_data_in_buffer(current) != 0 || amqp_frames_enqueued(current) != 0,
                  let next = readDelivery(current, waitMicroseconds: 0) {
                batch.append(next)
            }
            continuation.yield(batch)
        case nil:
            serviceIdleFrame(conn)
        }
    }

    /// One delivery, or nil when none came within the wait or a frame other than a delivery came
    /// (a close tears the connection down and finishes the sink).
    private func readDelivery(_ conn: amqp_connection_state_t, waitMicroseconds: Int) -> Delivery? {
        var envelope = amqp_envelope_t()
        var tv = timeval(tv_sec: 0, tv_usec: waitMicroseconds)
        let reply = amqp_consume_message(conn, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            return Self.delivery(from: envelope)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // Not a delivery: a close, a cancel, or an ack meant for nobody.
            var frame = amqp_frame_t()
            guard amqp_simple_wait_frame(conn, &frame) == AMQP_STATUS_OK.rawValue else {
                _ = fail(.library(operation: "read frame", reason: "socket error"))
                return nil
            }
            if frame.frame_type == UInt8(AMQP_FRAME_METHOD),
               frame.payload.method.id == georep_method_channel_close || frame.payload.method.id == georep_method_connection_close {
                _ = fail(closeError(frame.payload.method))
            }
            return nil
        default:
            _ = fail(.library(operation: "basic.consume", reason: Self.describe(reply)))
            return nil
        }
    }

    /// For a connection that does not consume: read what arrived (a close, a heartbeat) and let
    /// librabbitmq send heartbeats that are due.
    private func serviceIdleFrame(_ conn: amqp_connection_state_t) {
        var frame = amqp_frame_t()
        var tv = timeval(tv_sec: 0, tv_usec: 1000)
        let rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv)
        if rc == AMQP_STATUS_TIMEOUT.rawValue { return }
        guard rc == AMQP_STATUS_OK.rawValue else {
            _ = fail(.library(operation: "read frame", reason: String(cString: amqp_error_string2(rc))))
            return
        }
        if frame.frame_type == UInt8(AMQP_FRAME_METHOD),
           frame.payload.method.id == georep_method_channel_close || frame.payload.method.id == georep_method_connection_close {
            _ = fail(closeError(frame.payload.method))
        }
    }

    /// Reads the properties field by field rather than through ``MessageProperties/textFields``
    /// (as `send` writes them): this runs for every delivery, and key-path access costs more.
    private static func delivery(from e: amqp_envelope_t) -> Delivery {
        let p = e.message.properties
        func has(_ flag: Int32) -> Bool { p._flags & amqp_flags_t(flag) != 0 }
        let props = MessageProperties(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? String(amqpBytes: p.content_type) : nil,
            messageId: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? String(amqpBytes: p.message_id) : nil,
            correlationId: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? String(amqpBytes: p.correlation_id) : nil,
            replyTo: has(AMQP_BASIC_REPLY_TO_FLAG) ? String(amqpBytes: p.reply_to) : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? String(amqpBytes: p.type) : nil,
            appId: has(AMQP_BASIC_APP_ID_FLAG) ? String(amqpBytes: p.app_id) : nil,
            expiration: has(AMQP_BASIC_EXPIRATION_FLAG) ? String(amqpBytes: p.expiration) : nil,
            userId: has(AMQP_BASIC_USER_ID_FLAG) ? String(amqpBytes: p.user_id) : nil,
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) && p.delivery_mode == 2,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? readTable(p.headers) : [])
        let body = e.message.body.len > 0 && e.message.body.bytes != nil
            ? [UInt8](UnsafeRawBufferPointer(start: e.message.body.bytes, count: e.message.body.len)) : []
        return Delivery(body: body, exchange: String(amqpBytes: e.exchange), routingKey: String(amqpBytes: e.routing_key),
                        deliveryTag: e.delivery_tag, redelivered: e.redelivered != 0,
                        consumerTag: String(amqpBytes: e.consumer_tag), properties: props)
    }

    // MARK: Errors

    private func connected() throws(AMQPError) -> amqp_connection_state_t {
        guard let state else { throw .notConnected }
        return state
    }

    /// Checks the last RPC; a failure leaves the connection unusable, so it is torn down.
    private func check(_ operation: String) throws(AMQPError) {
        guard let conn = state else { throw .notConnected }
        let reply = amqp_get_rpc_reply(conn)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return
        case AMQP_RESPONSE_SERVER_EXCEPTION: throw fail(closeError(reply.reply))
        default: throw fail(.library(operation: operation, reason: Self.describe(reply)))
        }
    }

    /// Records a fatal error: the connection is dropped and consumers see the error.
    private func fail(_ error: AMQPError) -> AMQPError {
        logger.warning("RabbitMQ connection lost", metadata: ["connection": "\(name)", "error": "\(error)"])
        teardown(error: error, polite: false)
        return error
    }

    private func closeError(_ method: amqp_method_t) -> AMQPError {
        if method.id == georep_method_channel_close, let d = method.decoded {
            let m = d.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return .channelClosed(code: Int(m.reply_code), text: String(amqpBytes: m.reply_text))
        }
        if method.id == georep_method_connection_close, let d = method.decoded {
            let m = d.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return .connectionClosed(code: Int(m.reply_code), text: String(amqpBytes: m.reply_text))
        }
        return .library(operation: "rpc", reason: "unexpected method \(method.id)")
    }

    private static func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return "ok"
        case AMQP_RESPONSE_NONE: return "no reply (missing RPC reply type)"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return String(cString: amqp_error_string2(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == georep_method_connection_close, let d = reply.reply.decoded {
                let m = d.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "server closed the connection (\(m.reply_code)): \(String(amqpBytes: m.reply_text))"
            }
            if reply.reply.id == georep_method_channel_close, let d = reply.reply.decoded {
                let m = d.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "server closed the channel (\(m.reply_code)): \(String(amqpBytes: m.reply_text))"
            }
            return "server exception (method \(reply.reply.id))"
        default: return "unknown reply type"
        }
    }
}

/// Where a consuming connection's owner thread puts deliveries: one by one, or in arrays.
private enum DeliverySink {
    case single(AsyncThrowingStream<Delivery, Error>.Continuation)
    case batches(AsyncThrowingStream<[Delivery], Error>.Continuation, maxBatch: Int)

    func finish(_ error: AMQPError?) {
        switch self {
        case .single(let c): if let error { c.finish(throwing: error) } else { c.finish() }
        case .batches(let c, _): if let error { c.finish(throwing: error) } else { c.finish() }
        }
    }
}
