import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A minimal read-only XML tree: gluster's answers are small, and a tree makes the
/// parsers read like the documents they parse.
struct XMLNode: Sendable {
    var name: String
    var attributes: [String: String]
    var text: String
    var children: [XMLNode]

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Text of the first child among `names` (the first name present wins), trimmed.
    func value(_ names: String...) -> String? {
        for name in names { if let c = child(name) { return c.text.trimmingCharacters(in: .whitespacesAndNewlines) } }
        return nil
    }

    /// Like ``value(_:)`` but `nil` for gluster's "not known" spellings: `N/A`, empty, `-`.
    func known(_ names: String...) -> String? {
        for name in names {
            guard let c = child(name) else { continue }
            let t = c.text.trimmingCharacters(in: .whitespacesAndNewlines)
            return t.isEmpty || t.uppercased() == "N/A" || t == "-" ? nil : t
        }
        return nil
    }

    static func parse(_ data: Data) -> XMLNode? {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else { return nil }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        stack.append(XMLNode(name: name, attributes: attributes, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
    }
}
