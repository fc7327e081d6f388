import Foundation

/// A strict RFC 8259 JSON parser for ``EventDecoder``'s fast path: one pass over the bytes into a
/// flat list of nodes (a tape), one allocation per document; strings stay byte ranges until read.
///
/// Why a tape: `JSONSerialization` plus two `JSONDecoder` passes cost ~80 µs an event and were
/// the persister's ceiling; the tree that replaced them (an enum of arrays and `String`s) still
/// allocated an array per object and a `String` per key and value, and building and freeing it
/// was most of the decoding time on 2026-12-02 (docs/performance.md). It refuses what RFC 8259
/// refuses (trailing commas, control characters in strings, bad escapes, invalid UTF-8, leading
/// zeros), so it never accepts a message the Foundation path would dead-letter; anything it
/// cannot read it leaves to that path.
///
/// The tape points into the bytes it was parsed from: use it only while they are alive (inside
/// the `withUnsafeBytes` that parsed it).
struct JSONTape {
    enum Kind: UInt8 {
        case null, bool, string, array, object
        /// A number written as a plain integer that fits `Int64`.
        case integer
        /// Any other number (fraction, exponent, or too large): the fast path does not read these.
        case otherNumber
    }

    /// One value. Objects are followed by their members (a key node, then the value's nodes),
    /// arrays by their elements.
    struct Node {
        var kind: Kind
        /// A bool's value; for a string, whether it holds escapes.
        var flag = false
        /// A string's first byte after the opening quote.
        var start: UInt32 = 0
        /// A string's bytes before the closing quote; an object's members; an array's elements.
        var length: UInt32 = 0
        /// The node after this one's subtree.
        var next: UInt32 = 0
        var integer: Int64 = 0
    }

    /// Why the fast path declined; never shown to anyone (the Foundation path says why, in words).
    struct Declined: Error {}

    let bytes: UnsafeRawBufferPointer
    private(set) var nodes: [Node]

    /// Parses a whole document (whitespace around it allowed, nothing else).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Declined) -> JSONTape {
        guard bytes.count < Int(UInt32.max) else { throw Declined() }
        var parser = Parser(bytes: bytes)
        parser.nodes.reserveCapacity(bytes.count / 12)
        parser.skipWhitespace()
        try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw Declined() }
        return JSONTape(bytes: bytes, nodes: parser.nodes)
    }

    /// The raw bytes of string node `i` (escapes as written).
    func raw(_ i: Int) -> UnsafeRawBufferPointer {
        let node = nodes[i]
        return UnsafeRawBufferPointer(rebasing: bytes[Int(node.start)..<Int(node.start + node.length)])
    }

    /// The text of string node `i`, escapes decoded (the parser checked them and the UTF-8).
    func string(_ i: Int) throws(Declined) -> String {
        guard nodes[i].kind == .string else { throw Declined() }
        let raw = raw(i)
        guard nodes[i].flag else { return String(decoding: raw, as: UTF8.self) }
        return try Self.unescape(raw)
    }

    /// Whether string node `i` is exactly `key` as written (no escapes).
    func isKey(_ i: Int, _ key: StaticString) -> Bool {
        let node = nodes[i]
        guard Int(node.length) == key.utf8CodeUnitCount, !node.flag else { return false }
        return key.utf8CodeUnitCount == 0 || memcmp(bytes.baseAddress! + Int(node.start), key.utf8Start, key.utf8CodeUnitCount) == 0
    }

    static func unescape(_ raw: UnsafeRawBufferPointer) throws(Declined) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else { utf8.append(byte); continue }
            guard index < raw.count else { throw Declined() }
            let escape = raw[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try unicodeEscape(raw, &index)
                utf8.append(contentsOf: UTF8.encode(scalar)!)
            default: throw Declined()
            }
        }
        guard let text = String(validating: utf8, as: UTF8.self) else { throw Declined() }
        return text
    }

    /// The scalar of a `\uXXXX` escape whose `\u` was just read (a surrogate pair in two).
    static func unicodeEscape(_ raw: UnsafeRawBufferPointer, _ index: inout Int) throws(Declined) -> Unicode.Scalar {
        var scalar = try hex4(raw, &index)
        if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must be followed by an escaped low one.
            guard index + 1 < raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u") else { throw Declined() }
            index += 2
            let low = try hex4(raw, &index)
            guard (0xDC00..<0xE000).contains(low) else { throw Declined() }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw Declined()
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw Declined() }
        return unicode
    }

    static func hex4(_ raw: UnsafeRawBufferPointer, _ index: inout Int) throws(Declined) -> UInt32 {
        guard index + 4 <= raw.count else { throw Declined() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = raw[index]
            index += 1
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw Declined()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        var nodes: [Node] = []
        /// Deeper documents go to Foundation (none of ours nests beyond 6).
        static let maxDepth = 32

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Declined) {
            guard index < bytes.count, depth < Self.maxDepth else { throw Declined() }
            switch bytes[index] {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true", Node(kind: .bool, flag: true))
            case UInt8(ascii: "f"): try literal("false", Node(kind: .bool, flag: false))
            case UInt8(ascii: "n"): try literal("null", Node(kind: .null))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw Declined()
            }
        }

        mutating func append(_ node: Node) {
            var node = node
            node.next = UInt32(nodes.count + 1)
            nodes.append(node)
        }

        mutating func literal(_ word: StaticString, _ node: Node) throws(Declined) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Declined() }
            for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw Declined() }
            index += count
            append(node)
        }

        mutating func object(depth: Int) throws(Declined) {
            index += 1
            let at = nodes.count
            append(Node(kind: .object))
            var members: UInt32 = 0
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Declined() }
                    try string()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Declined() }
                    index += 1
                    skipWhitespace()
                    try value(depth: depth + 1)
                    members += 1
                    skipWhitespace()
                    guard index < bytes.count else { throw Declined() }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                    throw Declined()
                }
            }
            nodes[at].length = members
            nodes[at].next = UInt32(nodes.count)
        }

        mutating func array(depth: Int) throws(Declined) {
            index += 1
            let at = nodes.count
            append(Node(kind: .array))
            var elements: UInt32 = 0
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    try value(depth: depth + 1)
                    elements += 1
                    skipWhitespace()
                    guard index < bytes.count else { throw Declined() }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; break }
                    throw Declined()
                }
            }
            nodes[at].length = elements
            nodes[at].next = UInt32(nodes.count)
        }

        /// Checks the string's escapes and UTF-8 now (a document that fails anywhere is declined
        /// whole, as Foundation refuses it whole) and keeps only where it is.
        mutating func string() throws(Declined) {
            index += 1
            let start = index
            var ascii = true
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    // ASCII needs no validation; escapes are ASCII, so the raw bytes' UTF-8 is the text's.
                    if !ascii && String(validating: raw, as: UTF8.self) == nil { throw Declined() }
                    append(Node(kind: .string, flag: escaped, start: UInt32(start), length: UInt32(raw.count)))
                    return
                }
                if byte >= 0x80 { ascii = false }
                guard byte >= 0x20 else { throw Declined() }
                index += 1
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    guard index < bytes.count else { throw Declined() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"): _ = try JSONTape.unicodeEscape(bytes, &index)
                    default: throw Declined()
                    }
                }
            }
            throw Declined()
        }

        mutating func number() throws(Declined) {
            var negative = false
            if bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw Declined() }
            // No leading zeros (RFC 8259): "0" alone, or a digit 1-9 and more digits.
            let intStart = index
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
            }
            let intEnd = index
            var plain = true
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                plain = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw Declined() }
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                plain = false
                index += 1
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { throw Declined() }
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
            }
            guard plain, intEnd - intStart <= 18 else {
                append(Node(kind: .otherNumber))
                return
            }
            var magnitude: Int64 = 0
            for i in intStart..<intEnd { magnitude = magnitude * 10 + Int64(bytes[i] - UInt8(ascii: "0")) }
            // "-0" is an integer zero to JSONDecoder too.
            append(Node(kind: .integer, integer: negative ? -magnitude : magnitude))
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
