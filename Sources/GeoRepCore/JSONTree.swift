/// A strict RFC 8259 JSON parser into a small tree, for ``EventDecoder``'s fast path.
///
/// Why not Foundation: `JSONSerialization` plus two `JSONDecoder` passes (header, then payload)
/// cost ~80 µs per event and were the persister's ceiling (docs/performance.md). This parses
/// once, into values the decoder reads directly. It refuses what RFC 8259 refuses (trailing
/// commas, control characters in strings, invalid UTF-8, leading zeros), so it never accepts a
/// message the Foundation path would dead-letter; anything it cannot read it leaves to that path.
enum JSONTree: Equatable {
    case null
    case bool(Bool)
    /// A number written as a plain integer that fits `Int64`.
    case integer(Int64)
    /// Any other number (fraction, exponent, or too large): the fast path does not read these.
    case otherNumber
    case string(String)
    case array([JSONTree])
    /// Members in document order (duplicates kept: readers treat them as "not for the fast path").
    case object([(String, JSONTree)])

    static func == (lhs: JSONTree, rhs: JSONTree) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null), (.otherNumber, .otherNumber): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Why the fast path declined; never shown to anyone (the Foundation path says why, in words).
    struct Declined: Error {}

    /// Parses a whole document (whitespace around it allowed, nothing else).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Declined) -> JSONTree {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw Declined() }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0
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

        mutating func value(depth: Int) throws(Declined) -> JSONTree {
            guard index < bytes.count, depth < Self.maxDepth else { throw Declined() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw Declined()
            }
        }

        mutating func literal(_ word: StaticString) throws(Declined) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Declined() }
            for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw Declined() }
            index += count
        }

        mutating func object(depth: Int) throws(Declined) -> JSONTree {
            index += 1
            var members: [(String, JSONTree)] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Declined() }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Declined() }
                index += 1
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw Declined() }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw Declined()
            }
        }

        mutating func array(depth: Int) throws(Declined) -> JSONTree {
            index += 1
            var elements: [JSONTree] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw Declined() }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
                throw Declined()
            }
        }

        mutating func string() throws(Declined) -> String {
            index += 1
            let start = index
            var ascii = true
            // The common case: no escapes, so the bytes are the string; ASCII needs no validation.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    if ascii { return String(decoding: raw, as: UTF8.self) }
                    guard let text = String(validating: raw, as: UTF8.self) else { throw Declined() }
                    return text
                }
                if byte >= 0x80 { ascii = false }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw Declined() }
                index += 1
            }
            var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else { throw Declined() }
                    return text
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Declined() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate must be followed by an escaped low one.
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw Declined() }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw Declined() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw Declined()
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw Declined() }
                        utf8.append(contentsOf: UTF8.encode(unicode)!)
                    default: throw Declined()
                    }
                default:
                    guard byte >= 0x20 else { throw Declined() }
                    utf8.append(byte)
                }
            }
            throw Declined()
        }

        mutating func hex4() throws(Declined) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Declined() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
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

        mutating func number() throws(Declined) -> JSONTree {
            let start = index
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
                _ = start
                return .otherNumber
            }
            var magnitude: Int64 = 0
            for i in intStart..<intEnd { magnitude = magnitude * 10 + Int64(bytes[i] - UInt8(ascii: "0")) }
            // "-0" is an integer zero to JSONDecoder too.
            return .integer(negative ? -magnitude : magnitude)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
