import Foundation
import Hummingbird

/// The representation a client asked for with `Accept`: XML (the original design's default) or JSON.
enum Format: Sendable {
    case xml
    case json

    /// The best of XML and JSON under `accept`'s media ranges and q-values; XML when the client
    /// states no preference; nil when it accepts neither (406).
    static func negotiate(_ accept: String?) -> Format? {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .xml }
        var xml = -1.0, json = -1.0, xmlSpecific = false, jsonSpecific = false
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") { q = Double(parameter.dropFirst(2)) ?? 0 }
            switch type {
            case "application/xml", "text/xml":
                xml = xmlSpecific ? max(xml, q) : q
                xmlSpecific = true
            case "application/json":
                json = jsonSpecific ? max(json, q) : q
                jsonSpecific = true
            case "*/*", "application/*":
                if !xmlSpecific { xml = max(xml, q) }
                if !jsonSpecific { json = max(json, q) }
            case "text/*":
                if !xmlSpecific { xml = max(xml, q) }
            default:
                continue
            }
        }
        if xml <= 0 && json <= 0 { return nil }
        return json > xml ? .json : .xml
    }

    var contentType: String {
        switch self {
        case .xml: "application/xml; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        }
    }

    func response(_ document: Document, status: HTTPResponse.Status = .ok) -> Response {
        let text = self == .xml ? document.xml() : document.json()
        return Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func fault(_ error: APIError) -> Response {
        var response = response(Representation.fault(error), status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = #"Bearer realm="georep""# }
        return response
    }
}
