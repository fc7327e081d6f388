import Foundation
@testable import GeoRepCore
import Testing

/// A time read from a message and written again is the same text: every worker that passes a
/// sync window's start on (schedule → opening → closing, through the journal) agrees on it.
@Suite struct TimestampTests {
    @Test func aTimeReadBackIsWrittenAsTheSameText() {
        var rng = EventDecoderTests.Seeded(state: 11)
        for _ in 0..<50_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: 9.8e8...4.1e9, using: &rng))
            let text = Timestamp.format(date)
            var again = text
            for _ in 0..<3 { again = Timestamp.format(Timestamp.parse(again)!) }
            #expect(again == text, "\(text) came back as \(again)")
            #expect(abs(Timestamp.parse(text)!.timeIntervalSince(date)) <= 0.000501, "\(text) for \(date.timeIntervalSince1970)")
        }
        // Foundation's own style writes this one back a millisecond earlier.
        #expect(Timestamp.format(Timestamp.parse("2026-11-30T00:53:20.004Z")!) == "2026-11-30T00:53:20.004Z")
    }

    @Test func itIsWrittenAsFoundationWritesTheNearestMillisecond() {
        var rng = EventDecoderTests.Seeded(state: 13)
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for _ in 0..<20_000 {
            let seconds = Double.random(in: 0...2.5e11, using: &rng)
            let millis = (seconds * 1000).rounded()
            // A quarter of a millisecond in: Foundation drops the rest and lands on the same one.
            let foundation = Date(timeIntervalSince1970: (millis + 0.25) / 1000).formatted(style)
            #expect(Timestamp.format(Date(timeIntervalSince1970: seconds)) == foundation, "\(seconds)")
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400.9996)) == "2000-02-29T00:00:01.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.0004)) == "1970-01-01T00:00:00.000Z")
    }
}
