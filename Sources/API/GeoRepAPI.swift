import AMQP
import Foundation
import GeoRepCore
import HTTPTypes
import Hummingbird
import Logging
import Observability
import Postgres

/// The HTTP API of the original design, served from PostgreSQL; actions become commands.
///
/// - `GET  {base}/clusters/{cluster}/glustervolumes/{volume}/georeplication-sessions` — a volume's sessions
/// - `POST …/georeplication-sessions` — create (body: a georeplication-session)
/// - `GET  …/georeplication-sessions/{session}` — one session with its `session_details`
/// - `GET  …/georeplication-sessions/{session}/options` — its config options
/// - `POST …/georeplication-sessions/{session}/{start|stop|pause|resume|delete|setoption|resetoption|checkpoint|schedule|refresh}`
/// - `DELETE …/georeplication-sessions/{session}` — delete
/// - `GET  {base}/commands/{command}` — an action's state: pending, then succeeded, failed or rejected
///
/// XML by default and for `Accept: application/xml`, JSON for `application/json`. `{volume}` is
/// the gluster volume UUID or its name; `{session}` the session id.
public struct GeoRepAPI: Sendable {
    let configuration: APIConfiguration
    let store: SessionStore
    let publisher: ReconnectingPublisher
    let recent = RecentCommands()
    let logger: Logger

    public init(configuration: APIConfiguration, database: PGConnectionPool, publisher: ReconnectingPublisher, logger: Logger) {
        self.configuration = configuration
        self.store = SessionStore(pool: database)
        self.publisher = publisher
        self.logger = logger
    }

    static let actions: Set<String> = ["start", "stop", "pause", "resume", "delete", "setoption", "resetoption", "checkpoint", "schedule",
                                       "refresh"]

    public func addRoutes(to router: Router<APIRequestContext>) {
        let base = configuration.basePath
        let api = router.group(RouterPath(base)).add(middleware: AuthMiddleware(tokens: configuration.tokens))
        let sessions = "clusters/:cluster/glustervolumes/:volume/georeplication-sessions"
        api.get(RouterPath(sessions)) { request, context in
            try await serve(request, context) { format in try await listSessions(request, context, format) }
        }
        api.post(RouterPath(sessions)) { request, context in
            try await serve(request, context) { format in try await createSession(request, context, format) }
        }
        api.get(RouterPath("\(sessions)/:session")) { request, context in
            try await serve(request, context) { format in try await showSession(request, context, format) }
        }
        api.delete(RouterPath("\(sessions)/:session")) { request, context in
            try await serve(request, context) { format in try await act("delete", request, context, format) }
        }
        api.get(RouterPath("\(sessions)/:session/options")) { request, context in
            try await serve(request, context) { format in try await showOptions(request, context, format) }
        }
        api.post(RouterPath("\(sessions)/:session/:action")) { request, context in
            try await serve(request, context) { format in
                let action = parameter(context, "action") ?? ""
                guard Self.actions.contains(action) else {
                    throw APIError.notFound("no action \"\(ValidationError.printable(action))\"; actions: \(Self.actions.sorted().joined(separator: ", "))")
                }
                return try await act(action, request, context, format)
            }
        }
        api.get("commands/:command") { request, context in
            try await serve(request, context) { format in try await showCommand(request, context, format) }
        }
    }

    // MARK: Handlers

    func listSessions(_ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        let (cluster, volume) = try await resolveVolume(context)
        let rows = try await store.sessions(cluster: cluster, volume: volume.name)
        return format.response(Representation.sessions(rows, base: sessionsPath(cluster, volume)))
    }

    func showSession(_ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        let (cluster, volume, id, row) = try await resolveSession(context)
        let details = try await store.details(of: id)
        let checkpoint = try await store.lastCheckpoint(of: id)
        let stored = try await store.schedule(of: id)
        var schedule: SyncSchedule?
        if let stored {
            do { schedule = try MessageCodec.decoder().decode(SyncSchedule.self, from: Data(stored.json.utf8)) } catch {
                logger.warning("cannot read a stored sync schedule; the session is shown without it",
                               metadata: ["session_id": "\(id.lowercasedString)", "error": "\(error)"])
                GeoRepMetrics.dropped(reason: "unreadable_schedule", role: "api")
            }
        }
        let windows = Representation.syncSchedule(schedule, setAt: stored?.setAt, last: try await store.lastWindow(of: id))
        return format.response(Representation.session(row, details: details, lastCheckpoint: checkpoint, syncSchedule: windows,
                                                      base: sessionsPath(cluster, volume)))
    }

    func showOptions(_ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        let (_, _, id, _) = try await resolveSession(context)
        return format.response(Representation.options(try await store.options(of: id), session: id))
    }

    func showCommand(_ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        let text = parameter(context, "command") ?? ""
        guard let id = UUID(uuidString: text) else { throw APIError.badRequest("a command id is a UUID, not \"\(ValidationError.printable(text))\"") }
        let row = try await store.command(id)
        let issuedHere = await recent.knows(id)
        guard row != nil || issuedHere else { throw APIError.notFound("no command \(id.uuidString.lowercased())") }
        var session: String?
        if row?.outcome == "succeeded", let sessionID = row?.session, let stored = try await store.session(sessionID) {
            let volume = stored.primaryVolumeID?.lowercasedString ?? stored.primaryVolume
            session = "\(configuration.basePath)/clusters/\(stored.cluster)/glustervolumes/\(volume)/georeplication-sessions/\(sessionID.lowercasedString)"
        }
        return format.response(Representation.command(id: id, row: row, session: session, base: configuration.basePath))
    }

    func createSession(_ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        try requireWrite(context)
        let (cluster, volume) = try await resolveVolume(context)
        let fields = try await body(request)
        guard let host = fields.first("host", "slave_host_name", "secondary_host") else {
            throw APIError.badRequest("the session needs its secondary host (host or slave_host_name)")
        }
        guard let secondaryVolume = fields.first("slavevolume", "slave_volume_name", "secondary_volume") else {
            throw APIError.badRequest("the session needs its secondary volume (slavevolume or slave_volume_name)")
        }
        var sshPort: Int?
        if let port = fields["ssh_port"] {
            guard let n = Int(port) else { throw APIError.badRequest("ssh_port must be a number, not \"\(port.prefix(20))\"") }
            sshPort = n
        }
        let ref = SessionRef(cluster: cluster, primaryVolume: volume.name, secondaryHost: host, secondaryVolume: secondaryVolume,
                             secondaryUser: fields.first("user_name", "secondary_user"))
        let options = CommandOptions(force: try fields.bool("force"), pushPem: try fields.bool("push_pem"), sshPort: sshPort,
                                     noVerify: try fields.bool("no_verify"))
        return try await submit(Command(action: .create, session: ref, options: options, sender: sender(context)), context, current: nil,
                                exists: try await store.session(ref.sessionID, cluster: cluster, volume: volume.name) != nil, format)
    }

    func act(_ action: String, _ request: Request, _ context: APIRequestContext, _ format: Format) async throws -> Response {
        try requireWrite(context)
        let (_, _, _, row) = try await resolveSession(context)
        var fields = try await body(request)
        for (key, value) in request.uri.queryParameters { fields.values[String(key)] = String(value) }
        guard let host = row.secondaryHost, let secondaryVolume = row.secondaryVolume else {
            throw APIError(.conflict, code: "incomplete_session", "the stored session lacks its names; wait for the next snapshot")
        }
        let ref = SessionRef(cluster: row.cluster, primaryVolume: row.primaryVolume, secondaryHost: host, secondaryVolume: secondaryVolume,
                             secondaryUser: row.secondaryUser)
        var options = CommandOptions(force: try fields.bool("force"))
        let commandAction: CommandAction
        switch action {
        case "start": commandAction = .start
        case "stop": commandAction = .stop
        case "pause": commandAction = .pause
        case "resume": commandAction = .resume
        case "refresh": commandAction = .refresh
        case "delete":
            commandAction = .delete
            options.stopFirst = try fields.bool("stop_first")
            options.resetSyncTime = try fields.bool("reset_sync_time")
        case "setoption":
            commandAction = .configSet
            options.key = fields.first("option.name", "option.key", "name", "key")
            options.value = fields.first("option.value", "value")
            guard options.key != nil, options.value != nil else {
                throw APIError.badRequest("setoption needs the option's name and value: <action><option name=\"sync-jobs\" value=\"4\"/></action>")
            }
        case "resetoption":
            commandAction = .configReset
            options.key = fields.first("option.name", "option.key", "name", "key")
            guard options.key != nil else { throw APIError.badRequest("resetoption needs the option's name: <action><option name=\"sync-jobs\"/></action>") }
        case "checkpoint":
            commandAction = .checkpoint
            options.checkpoint = fields.first("checkpoint", "time")
            if let wait = fields.first("wait") {
                guard let seconds = Int(wait), (1...CommandOptions.maxWaitSeconds).contains(seconds) else {
                    throw APIError.badRequest("wait is the seconds to wait for the checkpoint to complete: 1-\(CommandOptions.maxWaitSeconds)")
                }
                options.wait = seconds
            }
        case "schedule":
            commandAction = .schedule
            options.schedule = try Self.schedule(fields)
        default:
            throw APIError.notFound("no action \(action)")
        }
        let current = row.geoRepStatus
        return try await submit(Command(action: commandAction, session: ref, options: options, sender: sender(context)), context,
                                current: current, exists: true, format)
    }

    /// A `schedule` action's body: a daily window (`daily.at` `HH:MM` UTC, `daily.minutes`),
    /// explicit windows (`window.start`/`window.end`, RFC 3339, or in JSON a list
    /// `windows: [{start, end}, …]`), or both; `clear=true` clears the schedule.
    static func schedule(_ fields: RequestFields) throws(APIError) -> SyncSchedule {
        if try fields.bool("clear") == true { return SyncSchedule() }
        var schedule = SyncSchedule()
        if let at = fields.first("daily.at") {
            guard let minutes = fields.first("daily.minutes").flatMap({ Int($0) }) else {
                throw .badRequest("a daily window needs its length: daily.minutes (1-\(SyncSchedule.maxMinutes))")
            }
            schedule.daily = .init(at: at, minutes: minutes)
        }
        if let start = fields.first("window.start") {
            guard let from = Timestamp.parse(start), let to = fields.first("window.end").flatMap(Timestamp.parse) else {
                throw .badRequest("a window is window.start and window.end, both RFC 3339 times")
            }
            schedule.windows = [.init(start: from, end: to)]
        }
        for i in 0..<(fields["windows.count"].flatMap { Int($0) } ?? 0) {
            guard let from = fields["windows.\(i).start"].flatMap(Timestamp.parse), let to = fields["windows.\(i).end"].flatMap(Timestamp.parse) else {
                throw .badRequest("windows[\(i)] is {\"start\": …, \"end\": …}, both RFC 3339 times")
            }
            schedule.windows.append(.init(start: from, end: to))
        }
        guard !schedule.isEmpty else {
            throw .badRequest(#"schedule needs a window: {"daily": {"at": "02:00", "minutes": 60}}, {"windows": [{"start": …, "end": …}, …]}, or {"clear": true}"#)
        }
        return schedule
    }

    /// Checks the command (its names, the caller's grant for the option it changes, the stored
    /// state), publishes it and answers 202 with where to follow it.
    func submit(_ command: Command, _ context: APIRequestContext, current: GeoRepStatus?, exists: Bool, _ format: Format) async throws -> Response {
        do { try command.validate() } catch { throw APIError.invalid(error) }
        let role = context.role ?? .read
        let granted: GeoRepOption?
        switch OptionGrant.decide(command, admin: role >= .admin, from: .api(role: role.rawValue)) {
        case .allow: granted = nil
        case .granted(let option): granted = option
        case .refuse(let error): throw APIError(.forbidden, code: error.code, error.message)
        }
        if exists || command.action == .create {
            let stored = exists ? (current ?? .unknown) : nil
            if case .reject(let code, let message) = CommandPolicy.decide(command.action, current: stored, options: command.options, mayHaveRun: false) {
                throw APIError(.conflict, code: code, message)
            }
        }
        do {
            try await publisher.sendAndAnnounce(command)
        } catch {
            logger.warning("cannot publish a command", metadata: ["error": "\(error)", "command_id": "\(command.commandId.uuidString.lowercased())"])
            throw APIError(.serviceUnavailable, code: "broker_unavailable", "RabbitMQ is unavailable; nothing was sent, try again")
        }
        await recent.add(command.commandId)
        let id = command.commandId.uuidString.lowercased()
        logger.info("command accepted", metadata: ["command_id": "\(id)", "action": "\(command.action.rawValue)", "session": "\(command.session.key)"])
        if let granted {
            let amqpUser = await publisher.configuration.user
            // The audit trail; the command's sender names the role too, so the history keeps it.
            logger.notice("admin grant: changing a geo-replication option gsyncd runs or keeps its state by", metadata: [
                "command_id": "\(id)", "session": "\(command.session.key)", "action": "\(command.action.rawValue)",
                "option": "\(command.options.key ?? granted.name)", "option_kind": "\(granted.kind.rawValue)",
                "value": "\(command.action == .configSet ? ValidationError.printable(command.options.value ?? "") : "(reset)")",
                "token_role": "\(role.rawValue)", "amqp_user": "\(amqpUser)",
            ])
        }
        var response = format.response(Representation.accepted(command, base: configuration.basePath), status: .accepted)
        response.headers[.location] = "\(configuration.basePath)/commands/\(id)"
        response.headers[Self.commandHeader] = id
        return response
    }

    static let commandHeader = HTTPField.Name("X-Georep-Command-Id")!

    // MARK: Resolving the path

    func resolveVolume(_ context: APIRequestContext) async throws -> (String, SessionStore.Volume) {
        let cluster = parameter(context, "cluster") ?? ""
        let volume = parameter(context, "volume") ?? ""
        do { try Validate.clusterID(cluster, field: "cluster") } catch { throw APIError.invalid(error) }
        if UUID(uuidString: volume) == nil {
            do { try Validate.volumeName(volume, field: "volume") } catch { throw APIError.invalid(error) }
        }
        guard try await store.clusterExists(cluster) else { throw APIError.notFound("no cluster \"\(cluster)\"") }
        guard let found = try await store.volume(cluster: cluster, idOrName: volume) else {
            throw APIError.notFound("cluster \(cluster) has no volume \"\(volume)\"")
        }
        return (cluster, found)
    }

    func resolveSession(_ context: APIRequestContext) async throws -> (String, SessionStore.Volume, UUID, SessionStore.Session) {
        let (cluster, volume) = try await resolveVolume(context)
        let text = parameter(context, "session") ?? ""
        guard let id = UUID(uuidString: text) else {
            throw APIError.badRequest("a session id is a UUID, not \"\(ValidationError.printable(text))\"")
        }
        guard let row = try await store.session(id, cluster: cluster, volume: volume.name) else {
            throw APIError.notFound("volume \(volume.name) of cluster \(cluster) has no session \(id.uuidString.lowercased())")
        }
        return (cluster, volume, id, row)
    }

    func sessionsPath(_ cluster: String, _ volume: SessionStore.Volume) -> String {
        "\(configuration.basePath)/clusters/\(cluster)/glustervolumes/\(volume.id ?? volume.name)/georeplication-sessions"
    }

    // MARK: Plumbing

    func requireWrite(_ context: APIRequestContext) throws {
        guard let role = context.role, role >= .write else {
            throw APIError(.forbidden, code: "read_only", "this token may read only; actions need a token with the write role")
        }
    }

    /// The API and the caller's role, as the command's sender: the command history keeps it.
    func sender(_ context: APIRequestContext) -> String { "georep-api (\((context.role ?? .read).rawValue) token)" }

    /// A path parameter, percent-decoded (`vol%3Bx` is `vol;x`, which validation then refuses).
    func parameter(_ context: APIRequestContext, _ name: String) -> String? {
        context.parameters.get(name).map { $0.removingPercentEncoding ?? $0 }
    }

    func body(_ request: Request) async throws -> RequestFields {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 64 * 1024) } catch {
            throw APIError(.contentTooLarge, code: "too_large", "request bodies are at most 64 KiB")
        }
        return try RequestFields.parse(Array(buffer: buffer), contentType: request.headers[.contentType])
    }

    /// Negotiates the format, runs `body`, and turns every failure into a fault in that format:
    /// a client error for bad input, 503 when the database or broker is away, never a crash.
    func serve(_ request: Request, _ context: APIRequestContext, _ body: (Format) async throws -> Response) async throws -> Response {
        guard let format = Format.negotiate(request.headers[.accept]) else {
            return Format.json.fault(APIError(.notAcceptable, code: "not_acceptable", "this API answers application/xml or application/json"))
        }
        do {
            return try await body(format)
        } catch let error as APIError {
            return format.fault(error)
        } catch let error as PGError where error.isConnectionLoss {
            logger.warning("PostgreSQL unavailable", metadata: ["error": "\(error)"])
            return format.fault(APIError(.serviceUnavailable, code: "database_unavailable", "PostgreSQL is unavailable; try again"))
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return format.fault(APIError(.internalServerError, code: "internal", "the request failed; the server's log says why"))
        }
    }
}

/// Commands accepted by this process lately: pending before the persister has recorded them.
actor RecentCommands {
    private var accepted: [UUID: ContinuousClock.Instant] = [:]

    func add(_ id: UUID) {
        let now = ContinuousClock.now
        if accepted.count > 10_000 { accepted = accepted.filter { now - $0.value < .seconds(600) } }
        accepted[id] = now
    }

    func knows(_ id: UUID) -> Bool { accepted[id] != nil }
}
