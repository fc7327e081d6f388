@testable import Worker
import Testing

/// A burst of webhook events for one session makes a refresh at once and exactly one more at
/// the window's end (so the burst's last change is seen); other sessions are not held up.
@Suite struct RecentRefreshesTests {
    @Test func aBurstMakesOneRefreshNowAndOneAtTheWindowsEnd() async {
        let recent = RecentRefreshes()
        let t0 = ContinuousClock.now
        #expect(await recent.admit("a", window: .seconds(1), now: t0) == .now)
        #expect(await recent.admit("a", window: .seconds(1), now: t0 + .milliseconds(300)) == .after(.milliseconds(700)))
        #expect(await recent.admit("a", window: .seconds(1), now: t0 + .milliseconds(400)) == .alreadyScheduled)
        #expect(await recent.admit("b", window: .seconds(1), now: t0 + .milliseconds(400)) == .now)
        await recent.fired("a")
        // The scheduled one counts as the last refresh: an event right after it waits a window.
        #expect(await recent.admit("a", window: .seconds(1), now: t0 + .milliseconds(1100)) == .after(.milliseconds(900)))
        await recent.fired("a")
        #expect(await recent.admit("a", window: .seconds(1), now: t0 + .milliseconds(3001)) == .now)
    }

    @Test func aRefreshThatCouldNotBeSentIsForgotten() async {
        let recent = RecentRefreshes()
        let t0 = ContinuousClock.now
        #expect(await recent.admit("a", window: .seconds(1), now: t0) == .now)
        await recent.forget("a")
        #expect(await recent.admit("a", window: .seconds(1), now: t0 + .milliseconds(10)) == .now)
    }
}
