import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore

/// The one writer of a verdict's fields as JSON. `inspect --format json` and the NDJSON token records each write
/// the fields they carry in their own order (each order is a public contract); every field is spelled here, once.
/// Each writes `,"name":value`. The analysis is borrowed, never copied (NDJSON reads it through the sighting's
/// shared reference).
enum VerdictJSON {
    /// `,"cause":"…","causes":[…]`.
    static func causes(_ v: Verdict, into w: inout ByteWriter) {
        w.raw(",\"cause\":\"")
        w.raw(v.cause.rawValue)
        w.raw("\",\"causes\":")
        w.strings(v.causes.lazy.map(\.rawValue))
    }

    /// Every cause with its reason: `,"reasons":{"expired":"…"}`.
    static func reasons(
        _ v: Verdict, _ a: borrowing TokenAnalysis, at: Double, leeway: Double, moment: String, into w: inout ByteWriter
    ) {
        w.raw(",\"reasons\":{")
        var first = true
        for c in v.causes {
            if !first { w.raw(",") }
            first = false
            w.string(c.rawValue)
            w.raw(":")
            w.string(a.reason(for: c, at: at, leeway: leeway, moment: moment))
        }
        w.raw("}")
    }

    /// The primary cause's reason, `,"reason":"…"`, unless the token is ok. Read through the sighting's shared
    /// analysis (a method called on the analysis itself copies it first).
    static func reason(_ v: Verdict, _ a: JudgedSighting.Shared, at: Double, leeway: Double, into w: inout ByteWriter) {
        guard v.cause != .ok else { return }
        w.raw(",\"reason\":")
        if a.isTimed(v.cause) {
            // Spelled piece by piece, without a String per sighting: fixed text and durations need no escaping,
            // which each piece is checked for (a piece that would is escaped on its own).
            w.raw("\"")
            a.timedReason(v.cause, at: at, leeway: leeway, text: { w.plainText($0) }, duration: { w.duration($0) })
            w.raw("\"")
        } else {
            w.string(a.analysis.reason(for: v.cause, at: at, leeway: leeway))
        }
    }

    // The fields below are passed as values, not the analysis: an analysis read out of a sighting's shared
    // reference to be passed is copied whole (its texts and arrays retained and released).

    static func signature(_ signature: SignatureStatus, into w: inout ByteWriter) {
        w.raw(",\"signature\":\"")
        w.raw(signature.rawValue)
        w.raw("\"")
    }

    static func key(_ key: String?, into w: inout ByteWriter) {
        w.raw(",\"key\":")
        w.optionalString(key)
    }

    /// `kid` and `iss` as NDJSON carries them: cut to a safe length (`Redact.short`); `inspect` shows them whole.
    static func kid(_ kid: String?, short: Bool, into w: inout ByteWriter) {
        w.raw(",\"kid\":")
        w.optionalString(short ? kid.map { Redact.short($0) } : kid)
    }

    static func iss(_ iss: String?, short: Bool, into w: inout ByteWriter) {
        w.raw(",\"iss\":")
        w.optionalString(short ? iss.map { Redact.short($0, limit: 256) } : iss)
    }

    /// `,"name":seconds` or `null`: the claim times and the skew.
    static func seconds(_ name: StaticString, _ t: Double?, into w: inout ByteWriter) {
        w.raw(",\"")
        w.raw(name)
        w.raw("\":")
        w.optionalSeconds(t)
    }

    static func flags(_ flags: TokenFlags, into w: inout ByteWriter) {
        w.raw(",\"flags\":")
        w.strings(flags.list)
    }
}

/// Fields of token records that repeat from sighting to sighting — the causes, the kid and iss as NDJSON cuts
/// them, the flags — kept as the bytes last written for their value and written again as they are: cutting and
/// escaping a kid and an iss, and listing causes and flags, per record was ≈ 5% of rendering a verifying scan's
/// records. A few values per field, replaced in turn; one per writer (not thread-safe).
final class VerdictPieces {
    var causes = PieceCache<UInt32>()
    var kids = PieceCache<String?>()
    var issuers = PieceCache<String?>()
    var flags = PieceCache<UInt32>()

    init() {}
}

/// Bytes written for a few recent values of one field (see ``VerdictPieces``).
struct PieceCache<Key: Equatable> {
    static var capacity: Int { 8 }
    /// Longer texts are written each time, not kept.
    static var maximumLength: Int { 1024 }
    private var keys: [Key] = []
    private var texts: [[UInt8]] = []
    private var next = 0

    /// Writes the bytes kept for `key`, else what `render` writes (then kept for `key`).
    mutating func write(_ key: Key, into w: inout ByteWriter, render: (inout ByteWriter) -> Void) {
        for k in keys.indices where keys[k] == key {
            w.raw(texts[k])
            return
        }
        let start = w.count
        render(&w)
        guard w.count - start <= Self.maximumLength else { return }
        w.withUnsafeBytes { all in
            let text = UnsafeRawBufferPointer(rebasing: all[start...])
            if keys.count < Self.capacity {
                keys.append(key)
                texts.append(Array(text))
            } else {
                keys[next] = key
                texts[next].replaceSubrange(texts[next].indices, with: text)
                next = (next + 1) % Self.capacity
            }
        }
    }
}
