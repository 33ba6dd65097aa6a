import Dispatch
import Synchronization

extension PhraseMatcher {
    /// Starts building the matcher over ``PhraseTable/rules`` on a thread of its own, once per process, so that its
    /// construction (a few milliseconds, paid before the first byte of every scan) overlaps argument parsing,
    /// loading keys, opening the database and the inputs. Call it as early as a scan is known to come; calling it
    /// again, or never, is harmless (``standard(timeParser:)`` starts the build itself when nobody did).
    public static func prepareStandard() {
        _ = StandardBuild.shared
    }

    /// The matcher over ``PhraseTable/rules``, reading message times with `timeParser`: built once per process
    /// (waiting here for the build ``prepareStandard()`` started), then shared (its tables are immutable).
    public static func standard(timeParser: TimestampParser = TimestampParser()) -> PhraseMatcher {
        var matcher = StandardBuild.shared.wait()
        matcher.parser = timeParser
        return matcher
    }
}

/// The one build of the standard matcher: started by the first use, on a global queue; its result is read under
/// a mutex after the group says the build has ended, so every caller gets the same tables.
private final class StandardBuild: Sendable {
    static let shared = StandardBuild()

    private let built = Mutex<PhraseMatcher?>(nil)
    private let done = DispatchGroup()

    private init() {
        done.enter()
        DispatchQueue.global().async { [self] in
            let matcher = PhraseMatcher()
            built.withLock { $0 = matcher }
            done.leave()
        }
    }

    func wait() -> PhraseMatcher {
        done.wait()
        guard let matcher = built.withLock({ $0 }) else {
            preconditionFailure("the phrase matcher build ended without one")
        }
        return matcher
    }
}
