import JWTVerify
import SiftCore

/// What became of one fetched document in a run (recorded in `key_fetches`, printed by `keys fetch`).
public struct FetchRecord: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Fetched now (200).
        case fetched
        /// The server said the cached copy is current (304).
        case notModified = "not_modified"
        /// The cached copy is fresh by its max-age: not asked.
        case fresh
        /// `--offline`: the cached copy.
        case offline
        /// Not fetched: the cached copy when there is one (``FetchRecord/usedCache``), else nothing.
        case failed
    }

    public var url: String
    public var outcome: Outcome
    public var httpStatus: Int?
    /// Why it failed.
    public var reason: String?
    /// When the bytes used were fetched (nil: none used).
    public var fetchedAt: Double?
    public var usedCache: Bool
}

/// Fetches JWKS documents and OpenID discovery documents through the on-disk cache: a copy fresh by its max-age
/// is used as is; otherwise the server is asked with `If-None-Match` / `If-Modified-Since` (304 keeps the copy);
/// `--offline` uses the copy only. A document that cannot be fetched, or is not what it should be (a malformed
/// JWKS), is a warning naming the URL and why, and the last good copy is used. Not thread-safe: one run, one thread.
public final class KeySetFetcher {
    public let cache: KeyCache?
    public let options: FetchOptions
    public let offline: Bool
    /// The run's moment (Unix seconds).
    public let now: Double
    public private(set) var records: [FetchRecord] = []
    /// Documents already read in this run, by URL (two issuers may share one JWKS).
    private var seen: [String: (bytes: [UInt8], fetchedAt: Double)?] = [:]

    public init(cache: KeyCache?, options: FetchOptions, offline: Bool, now: Double) {
        self.cache = cache
        self.options = options
        self.offline = offline
        self.now = now
    }

    /// A JWKS's keys, with the problems of its entries (an entry that does not load) and of the fetch.
    public func keys(jwksURI: String) -> ([VerificationKey], [KeyProblem]) {
        var entryProblems: [KeyProblem] = []
        guard
            let doc = document(
                jwksURI,
                validate: { bytes in
                    let (keys, problems) = KeyLoader.parseKeyFile(bytes, origin: jwksURI, retired: false)
                    if keys.isEmpty {
                        return problems.first { $0.severity == .error }?.message ?? "no keys in it"
                    }
                    return nil
                })
        else { return ([], problems(for: jwksURI)) }
        let (keys, problems) = KeyLoader.parseKeyFile(doc.bytes, origin: jwksURI, retired: false)
        entryProblems += problems
        return (keys, entryProblems + self.problems(for: jwksURI))
    }

    /// The keys of the JWKS an OpenID issuer's discovery document names.
    public func keys(discovering issuer: String) -> ([VerificationKey], [KeyProblem]) {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        let url = base + "/.well-known/openid-configuration"
        var jwksURI: String? = nil
        guard
            let doc = document(
                url,
                validate: { bytes in
                    guard let object = try? JSONParser.parseObject(bytes) else {
                        return "the discovery document is not a JSON object"
                    }
                    guard let uri = object["jwks_uri"]?.stringValue else { return "it has no jwks_uri" }
                    if let named = object["issuer"]?.stringValue, named != issuer {
                        return
                            "it names issuer \"\(UntrustedText.display(named))\", not \"\(UntrustedText.display(issuer))\""
                    }
                    jwksURI = uri
                    return nil
                })
        else { return ([], problems(for: url)) }
        if jwksURI == nil, let object = try? JSONParser.parseObject(doc.bytes) {
            jwksURI = object["jwks_uri"]?.stringValue
        }
        guard let jwksURI else { return ([], problems(for: url)) }
        let (keys, problems) = keys(jwksURI: jwksURI)
        return (keys, self.problems(for: url) + problems)
    }

    /// Failed fetches of `url` as problems: errors, so the run exits 2 as for a key file that did not load.
    func problems(for url: String) -> [KeyProblem] {
        records.filter { $0.url == url && $0.outcome == .failed }.map { r in
            var message = "could not fetch: \(r.reason ?? "failed")"
            if r.usedCache, let at = r.fetchedAt {
                message += "; the scan goes on with the copy cached at \(CivilTime.iso8601(at))"
            } else {
                message += "; no cached copy: no keys from it"
            }
            return KeyProblem(.error, origin: UntrustedText.display(url), message)
        }
    }

    /// The bytes to use for `url` and when they were fetched, or nil; `validate` says why a body is unusable.
    func document(_ url: String, validate: ([UInt8]) -> String?) -> (bytes: [UInt8], fetchedAt: Double)? {
        if let known = seen[url] { return known }
        let result = read(url, validate: validate)
        seen[url] = result
        return result
    }

    private func read(_ url: String, validate: ([UInt8]) -> String?) -> (bytes: [UInt8], fetchedAt: Double)? {
        let cached = cache?.load(url, limit: options.maximumBytes)
        func record(_ outcome: FetchRecord.Outcome, status: Int? = nil, reason: String? = nil, at: Double?) {
            records.append(
                FetchRecord(
                    url: url, outcome: outcome, httpStatus: status, reason: reason, fetchedAt: at,
                    usedCache: outcome != .fetched && at != nil))
        }
        func fail(_ reason: String, status: Int? = nil) -> (bytes: [UInt8], fetchedAt: Double)? {
            if let cached, validate(cached.body) == nil {
                record(.failed, status: status, reason: reason, at: cached.fetchedAt)
                return (cached.body, cached.fetchedAt)
            }
            record(.failed, status: status, reason: reason, at: nil)
            return nil
        }
        if offline {
            guard let cached else { return fail("--offline, and no cached copy") }
            record(.offline, at: cached.fetchedAt)
            return (cached.body, cached.fetchedAt)
        }
        if let cached, cached.isFresh(at: now) {
            record(.fresh, at: cached.fetchedAt)
            return (cached.body, cached.fetchedAt)
        }
        var headers: [String: String] = [:]
        if let etag = cached?.etag { headers["If-None-Match"] = etag }
        if let lastModified = cached?.lastModified { headers["If-Modified-Since"] = lastModified }
        let answer: HTTPAnswer
        do {
            answer = try HTTPFetcher.get(url, headers: headers, options: options)
        } catch {
            return fail(error.reason)
        }
        let maxAge = Self.maxAge(answer.cacheControl)
        switch answer.status {
        case 200:
            if let problem = validate(answer.body) { return fail(problem, status: 200) }
            let entry = KeyCache.Entry(
                body: answer.body, fetchedAt: now, etag: answer.etag, lastModified: answer.lastModified, maxAge: maxAge)
            cache?.store(url, entry)
            record(.fetched, status: 200, at: now)
            return (answer.body, now)
        case 304:
            guard var entry = cached else { return fail("HTTP 304 without a cached copy", status: 304) }
            entry.fetchedAt = now
            entry.maxAge = maxAge ?? entry.maxAge
            entry.etag = answer.etag ?? entry.etag
            cache?.store(url, entry)
            record(.notModified, status: 304, at: now)
            return (entry.body, now)
        default:
            return fail("HTTP \(answer.status)", status: answer.status)
        }
    }

    /// `max-age` from a `Cache-Control` header (nil with `no-store`, `no-cache` or none).
    static func maxAge(_ header: String?) -> Double? {
        guard let header else { return nil }
        var age: Double? = nil
        for part in header.lowercased().split(separator: ",") {
            let p = part.trimmingSpaces
            if p == "no-store" || p == "no-cache" { return nil }
            if p.hasPrefix("max-age="), let n = Double(p.dropFirst(8)), n.isFinite, n >= 0 { age = min(n, 86_400 * 7) }
        }
        return age
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
