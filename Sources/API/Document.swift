import Foundation
import GeoRepCore

/// A response document, rendered as XML (the original design's element names) or as JSON (the
/// same names; repeated elements become arrays, a collection's items always do).
struct Document: Sendable {
    enum Value: Sendable {
        case string(String)
        case int(Int64)
        case bool(Bool)
    }

    var name: String
    var attributes: [(String, String)] = []
    var value: Value?
    var children: [Document] = []
    /// The children are a list (`<session_details>` of `<session_detail>`): always an array in JSON.
    var isCollection = false
    /// The name of a collection's items (its JSON key, also when it is empty).
    var itemName: String?

    init(_ name: String, attributes: [(String, String)] = [], value: Value? = nil, children: [Document] = [], isCollection: Bool = false,
         itemName: String? = nil) {
        self.name = name
        self.attributes = attributes
        self.value = value
        self.children = children
        self.isCollection = isCollection
        self.itemName = itemName
    }

    /// A leaf element, or nothing when the value is nil (a NULL column is left out).
    static func leaf(_ name: String, _ text: String?) -> Document? { text.map { Document(name, value: .string($0)) } }
    static func leaf(_ name: String, _ number: Int64?) -> Document? { number.map { Document(name, value: .int($0)) } }
    static func leaf(_ name: String, _ flag: Bool?) -> Document? { flag.map { Document(name, value: .bool($0)) } }
    /// An id, lower case as everywhere (``UUID/lowercasedString``).
    static func leaf(_ name: String, _ id: UUID?) -> Document? { leaf(name, id?.lowercasedString) }

    /// An element the design always shows: empty (`<name/>`, JSON null) when the value is nil.
    static func element(_ name: String, _ text: String?) -> Document { leaf(name, text) ?? Document(name) }
    static func element(_ name: String, _ number: Int64?) -> Document { leaf(name, number) ?? Document(name) }

    // MARK: XML

    func xml() -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        write(into: &out, indent: "")
        return out
    }

    private func write(into out: inout String, indent: String) {
        out += "\(indent)<\(name)"
        for (key, value) in attributes { out += " \(key)=\"\(Self.escape(value))\"" }
        if children.isEmpty {
            if let value {
                out += ">\(Self.escape(value.text))</\(name)>\n"
            } else {
                out += "/>\n"
            }
            return
        }
        out += ">\n"
        for child in children { child.write(into: &out, indent: indent + "  ") }
        out += "\(indent)</\(name)>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Characters XML 1.0 cannot carry at all are replaced.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    // MARK: JSON

    /// The document as a JSON object: `{name: …}` for a single element, `{item: […]}` for a collection.
    func jsonObject() -> Any {
        if isCollection {
            return [itemName ?? children.first?.name ?? "item": children.map { $0.jsonValue() }]
        }
        return jsonValue()
    }

    private func jsonValue() -> Any {
        if children.isEmpty && attributes.isEmpty { return value?.json ?? NSNull() }
        var object: [String: Any] = [:]
        for (key, value) in attributes { object[key] = value }
        if let value { object["value"] = value.json }
        if isCollection {
            object[itemName ?? children.first?.name ?? "item"] = children.map { $0.jsonValue() }
            return object
        }
        for (childName, group) in Dictionary(grouping: children, by: \.name) {
            object[childName] = group.count == 1 ? group[0].jsonValue() : group.map { $0.jsonValue() }
        }
        return object
    }

    func json() -> String {
        // Cannot fail: the object holds only strings, numbers, booleans, NSNull, arrays and dictionaries.
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject(), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension Document.Value {
    var text: String {
        switch self {
        case .string(let s): s
        case .int(let n): String(n)
        case .bool(let b): b ? "true" : "false"
        }
    }

    var json: Any {
        switch self {
        case .string(let s): s
        case .int(let n): n
        case .bool(let b): b
        }
    }
}
