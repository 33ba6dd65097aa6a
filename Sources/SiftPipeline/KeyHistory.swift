import FindingsStore
import JWTVerify
import SiftCore

/// The keys earlier runs recorded (`keys`), brought back into a run: a key published for an issuer (or among the
/// global keys) that the run's set for it no longer holds is added as a retired key that says where and until
/// when it was published, so a token it signed is `key_retired` rather than `key_unknown`.
public enum KeyHistory {
    /// `verify` with, for each set that has current keys, the recorded keys it lacks as retired keys.
    public static func revive(_ history: [KeyHistoryRecord], into verify: VerifyOptions) -> VerifyOptions {
        guard !history.isEmpty else { return verify }
        var out = verify
        out.keys = revive(history, issuer: "", into: verify.keys)
        for (iss, scope) in verify.issuers {
            var s = scope
            s.keys = scope.sharesGlobalKeys ? out.keys : revive(history, issuer: iss, into: scope.keys)
            out.issuers[iss] = s
        }
        return out
    }

    static func revive(_ history: [KeyHistoryRecord], issuer: String, into ring: KeyRing) -> KeyRing {
        guard !ring.current.isEmpty else { return ring }
        let present = Set(ring.all.map(\.thumbprint))
        var revived: [VerificationKey] = []
        for r in history where r.issuer == issuer && !present.contains(r.thumbprint) {
            guard let jwk = r.jwk else { continue }
            let source = r.source ?? "an earlier run"
            let (keys, _) = KeyLoader.parseKeyFile(Array(jwk.utf8), origin: "\(source) (history)", retired: true)
            guard var key = keys.first, key.thumbprint == r.thumbprint else { continue }
            key.history = published(source: source, first: r.firstPublished, last: r.lastPublished)
            revived.append(key)
        }
        if revived.isEmpty { return ring }
        return KeyRing(current: ring.current, retired: ring.retired + revived)
    }

    /// "published by SOURCE from T1 until T2" (times in UTC).
    static func published(source: String, first: Double?, last: Double?) -> String {
        var s = "published by \(UntrustedText.display(source))"
        if let first { s += " from \(CivilTime.iso8601(first))" }
        if let last { s += " until \(CivilTime.iso8601(last))" }
        return s
    }

    /// The rows a run records for its keys: the global ones under issuer `""`, each configured issuer's own under
    /// its `iss`; keys brought back from the history are not published by this run and are left out.
    static func records(_ verify: VerifyOptions?, publishedAt: Double) -> [KeyRecord] {
        guard let verify else { return [] }
        var out = records(verify.keys, issuer: "", publishedAt: publishedAt)
        for (iss, scope) in verify.issuers.sorted(by: { $0.key < $1.key }) where !scope.sharesGlobalKeys {
            out += records(scope.keys, issuer: iss, publishedAt: publishedAt)
        }
        return out
    }

    static func records(_ ring: KeyRing, issuer: String, publishedAt: Double) -> [KeyRecord] {
        ring.all.filter { $0.history == nil }.map { k in
            let kid = FindingsSession.stored(k.kid)
            return KeyRecord(
                thumbprint: k.thumbprint, kid: kid, kty: k.kty, alg: k.declaredAlg?.rawValue,
                origin: FindingsSession.stored(k.origin), retired: k.retired, issuer: FindingsSession.stored(issuer),
                source: FindingsSession.stored(Self.source(k.origin)), jwk: kid == k.kid ? k.publicJWK : nil,
                publishedAt: publishedAt)
        }
    }

    /// The file or URL of an origin `path#index`.
    public static func source(_ origin: String) -> String {
        guard let hash = origin.lastIndex(of: "#"), origin[origin.index(after: hash)...].allSatisfy(\.isNumber) else {
            return origin
        }
        return String(origin[..<hash])
    }
}
