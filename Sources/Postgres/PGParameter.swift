import CLibPQ
import Foundation

/// A statement's parameter: text (nil is SQL NULL), or bytes in the binary format of the type the
/// statement casts it to (``PGBinaryArray``).
public enum PGParameter: Sendable {
    case text(String?)
    case binary([UInt8])
}

extension PGParameter {
    /// Calls `body` with libpq's parallel arrays (values, lengths, formats) for `parameters`,
    /// valid only during the call.
    static func withLibPQArrays<R>(_ parameters: [PGParameter],
                                   _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R) -> R {
        guard !parameters.isEmpty else { return body(nil, nil, nil) }
        var values: [UnsafeMutableRawPointer?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        values.reserveCapacity(parameters.count)
        for parameter in parameters {
            switch parameter {
            case .text(let text):
                values.append(text.map { UnsafeMutableRawPointer(strdup($0)) })
                lengths.append(0)
                formats.append(0)
            case .binary(let bytes):
                let copy = malloc(max(1, bytes.count))!
                bytes.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) } }
                values.append(copy)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        defer { values.forEach { free($0) } }
        return values.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, parameters.count)) { pointers in
                lengths.withUnsafeBufferPointer { l in formats.withUnsafeBufferPointer { f in body(pointers, l.baseAddress, f.baseAddress) } }
            }
        }
    }
}
