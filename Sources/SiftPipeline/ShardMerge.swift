import FindingsStore
import JOSECrypto
import SiftCore

/// `jwtsift merge`: shard databases written by separate scans, copied one transaction each into one findings
/// database (``FindingsDB/merge(shard:shownPath:now:)``).
public enum ShardMerge {
    /// Opens (or creates) the output database as a scan would: its run lock (so no scan writes to it during the
    /// merge), its integrity check, migrations.
    public static func open(
        path: String, lockTimeout: Double, shouldStop: (@Sendable () -> Bool)? = nil,
        onWaiting: (@Sendable (_ timeout: Double) -> Void)? = nil
    ) throws(StoreError) -> FindingsDB {
        try FindingsDB(path: path, lockTimeout: lockTimeout, shouldStop: shouldStop, onWaiting: onWaiting) { bytes in
            Digest.sha256(bytes).description
        }
    }

    /// A shard's path as `merged_shards` stores it (a token-shaped run in it replaced, as in `sources.path`).
    public static func stored(_ path: String) -> String { FindingsSession.stored(path) }

    /// One line on what merging a shard did.
    public static func line(_ shown: String, _ o: MergeOutcome) -> String {
        guard o.merged else { return "\(shown): already merged, nothing added" }
        return "\(shown): merged \(o.runs) run\(o.runs == 1 ? "" : "s"), \(o.sources) sources, \(o.tokens) tokens "
            + "(\(o.tokensNew) new), \(o.sightings) sightings, \(o.logErrors) error lines"
    }
}
