import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The fields of a request body, XML or JSON, flattened: `force`, `host`, `option.name`, ….
///
/// XML: the root's child elements, and `<option name="…" value="…"/>` or
/// `<option><name>…</name><value>…</value></option>` as oVirt's setoption takes it.
/// JSON: the top-level keys, `{"option": {"name": …, "value": …}}`, and arrays of such objects as
/// `key.0.inner`, `key.1.inner`, … with `key.count` (`{"windows": [{"start": …, "end": …}, …]}`).
/// An empty body has no fields.
struct RequestFields: Sendable {
    var values: [String: String] = [:]

    subscript(_ key: String) -> String? { values[key] }

    /// The first of `keys` that is present.
    func first(_ keys: String...) -> String? { keys.lazy.compactMap { values[$0] }.first }

    /// A boolean field: absent is nil; `true`/`false` (any case), `1`/`0`; anything else is an error.
    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let text = values[key] else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .badRequest("\(key) must be true or false, not \"\(text.prefix(40))\"")
        }
    }

    static func parse(_ body: [UInt8], contentType: String?) throws(APIError) -> RequestFields {
        let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = trimmed.first else { return RequestFields() }
        let type = (contentType ?? "").lowercased()
        if type.contains("xml") || (!type.contains("json") && first == UInt8(ascii: "<")) { return try xml(Array(trimmed)) }
        return try json(Array(trimmed))
    }

    static func json(_ body: [UInt8]) throws(APIError) -> RequestFields {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw .badRequest("the body is not a JSON object")
        }
        var fields = RequestFields()
        for (key, value) in object {
            if let nested = value as? [String: Any] {
                for (inner, v) in nested { if let text = scalar(v) { fields.values["\(key).\(inner)"] = text } }
            } else if let list = value as? [Any] {
                guard list.count <= maxListItems else { throw .badRequest("\(key) has \(list.count) items; at most \(maxListItems)") }
                fields.values["\(key).count"] = String(list.count)
                for (i, item) in list.enumerated() {
                    guard let nested = item as? [String: Any] else { throw .badRequest("\(key) must be a list of objects") }
                    for (inner, v) in nested { if let text = scalar(v) { fields.values["\(key).\(i).\(inner)"] = text } }
                }
            } else if let text = scalar(value) {
                fields.values[key] = text
            } else if !(value is NSNull) {
                throw .badRequest("\(key) must be a string, number or boolean")
            }
        }
        return fields
    }

    /// The longest list a body may carry (a schedule's windows: SyncSchedule takes up to 500).
    static let maxListItems = 500

    static func scalar(_ value: Any) -> String? {
        if let s = value as? String { return s }
        if let n = value as? NSNumber {
            // JSON true/false arrive as NSNumbers of ObjC type "c".
            return String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : n.stringValue
        }
        return nil
    }

    static func xml(_ body: [UInt8]) throws(APIError) -> RequestFields {
        let collector = Collector()
        let parser = XMLParser(data: Data(body))
        parser.shouldResolveExternalEntities = false
        parser.delegate = collector
        guard parser.parse(), collector.depth == 0 else {
            throw .badRequest("the body is not well-formed XML: \(parser.parserError.map { "\($0.localizedDescription)" } ?? "unexpected end")")
        }
        return RequestFields(values: collector.values)
    }

    /// Reads elements at depth 2 (the root's children) and 3 (an `<option>`'s children).
    private final class Collector: NSObject, XMLParserDelegate {
        var values: [String: String] = [:]
        var path: [String] = []
        var text = ""
        var depth: Int { path.count }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            path.append(name)
            text = ""
            if path.count == 2 {
                for (key, value) in attributes { values["\(name).\(key)"] = value }
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if path.count == 2, values[name] == nil, !value.isEmpty { values[name] = value }
            if path.count == 3 { values["\(path[1]).\(name)"] = value }
            path.removeLast()
            text = ""
        }
    }
}
