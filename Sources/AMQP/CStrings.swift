import CRabbitMQ
import Foundation

/// Keeps C copies of Swift strings alive for the length of one librabbitmq call.
final class CStrings {
    private var pointers: [UnsafeMutablePointer<CChar>] = []
    private var entryBuffers: [UnsafeMutablePointer<amqp_table_entry_t>] = []

    deinit {
        pointers.forEach { free($0) }
        entryBuffers.forEach { $0.deallocate() }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        let p = strdup(string)!
        pointers.append(p)
        return amqp_bytes_t(len: strlen(p), bytes: UnsafeMutableRawPointer(p))
    }

    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        let p = malloc(max(1, data.count))!.assumingMemoryBound(to: CChar.self)
        data.withUnsafeBytes { raw in
            if let base = raw.baseAddress { memcpy(p, base, data.count) }
        }
        pointers.append(p)
        return amqp_bytes_t(len: data.count, bytes: UnsafeMutableRawPointer(p))
    }

    func table(_ entries: [(String, AMQPValue)]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_empty_table }
        let buffer = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: entries.count)
        entryBuffers.append(buffer)
        for (i, (key, value)) in entries.enumerated() {
            var field = amqp_field_value_t()
            switch value {
            case .string(let s):
                field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                field.value.bytes = bytes(s)
            case .int(let n):
                field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                field.value.i64 = Int64(n)
            case .bool(let b):
                field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                field.value.boolean = b ? 1 : 0
            case .table(let nested):
                field.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
                field.value.table = table(nested)
            case .array:
                field.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)  // never written; see AMQPValue.array
            }
            buffer[i] = amqp_table_entry_t(key: bytes(key), value: field)
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: buffer)
    }
}

/// A value in an AMQP field table (queue arguments, headers, client properties).
public indirect enum AMQPValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case table([(String, AMQPValue)])
    /// Read only (brokers send `x-death` as an array); never written by the service.
    case array([AMQPValue])

    public static func == (lhs: AMQPValue, rhs: AMQPValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.table(let a), .table(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let a), .array(let b)): a == b
        default: false
        }
    }

    /// Reads a librabbitmq field value (the kinds brokers put in headers).
    init?(_ field: amqp_field_value_t) {
        switch UInt32(field.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue:
            self = .string(String(amqpBytes: field.value.bytes))
        case AMQP_FIELD_KIND_I8.rawValue: self = .int(Int(field.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: self = .int(Int(field.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: self = .int(Int(field.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: self = .int(Int(field.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: self = .int(Int(field.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: self = .int(Int(field.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue, AMQP_FIELD_KIND_TIMESTAMP.rawValue: self = .int(Int(field.value.i64))
        case AMQP_FIELD_KIND_U64.rawValue: self = .int(Int(truncatingIfNeeded: field.value.u64))
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: self = .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_TABLE.rawValue: self = .table(readTable(field.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let a = field.value.array
            self = .array(a.num_entries > 0 && a.entries != nil ? (0..<Int(a.num_entries)).compactMap { AMQPValue(a.entries[$0]) } : [])
        default: return nil
        }
    }
}

func readTable(_ table: amqp_table_t) -> [(String, AMQPValue)] {
    guard table.num_entries > 0, let entries = table.entries else { return [] }
    return (0..<Int(table.num_entries)).compactMap { i in
        AMQPValue(entries[i].value).map { (String(amqpBytes: entries[i].key), $0) }
    }
}

extension String {
    init(amqpBytes b: amqp_bytes_t) {
        guard b.len > 0, let p = b.bytes else { self = ""; return }
        self = String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }
}
