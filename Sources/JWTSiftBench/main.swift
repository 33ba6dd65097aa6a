import Dispatch
import FindingsStore
import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore

// jwtsift-bench: distinct-token verification throughput, for scripts/bench verify.
//
// For each algorithm it signs a set of distinct tokens through OpenSSL, then measures, for 1 worker and for
// every core:
//   - "check": the signature check alone (JOSECrypto.SignatureChecker on the decoded signing input and signature) —
//     the wrapper's cost on top of OpenSSL's primitive;
//   - "token": the whole per-token analysis `scan` runs for each distinct token (segments, base64url, header
//     and claims JSON, key choice, signature check) through BatchAnalyzer, the Dispatch fork-join of the scan.
// Output: one line per algorithm and mode, "ALG MODE WORKERS OPS_PER_SECOND".
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Fixture {
    let alg: JWSAlgorithm
    let keys: KeyRing
    let tokens: [[UInt8]]
    let key: PublicKey?
    let secret: HMACSecret?
}

func fixture(_ alg: JWSAlgorithm, count: Int) -> Fixture {
    var tokens: [[UInt8]] = []
    let header = Base64URL.encode(Array(#"{"alg":"\#(alg.rawValue)","kid":"bench","typ":"JWT"}"#.utf8))
    func claims(_ i: Int) -> String {
        Base64URL.encode(
            Array(
                #"{"iss":"https://login.example.com/","sub":"user-\#(i)","aud":"api://orders","iat":1699998900,"exp":1699999800,"jti":"\#(i)"}"#
                    .utf8))
    }
    if alg.isHMAC {
        let secretBytes = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let secret = HMACSecret(secretBytes)
        for i in 0..<count {
            let input = header + "." + claims(i)
            let mac = Array(input.utf8).withUnsafeBytes { secret.mac(alg.hash!, $0) }
            tokens.append(Array((input + "." + Base64URL.encode(mac)).utf8))
        }
        let jwk = #"{"keys":[{"kty":"oct","kid":"bench","k":"\#(Base64URL.encode(secretBytes))"}]}"#
        let (k, _) = KeyLoader.parseKeyFile(Array(jwk.utf8), origin: "bench", retired: false)
        return Fixture(alg: alg, keys: KeyRing(current: k), tokens: tokens, key: nil, secret: secret)
    }
    let shape: KeyShape =
        switch alg.family {
        case .rsaPKCS1, .rsaPSS: .rsa(bits: 2048)
        case .ecdsa: .ec(alg.curve!)
        default: .edwards(.ed25519)
        }
    let priv = try! PrivateKey.generate(shape)
    for i in 0..<count {
        let input = header + "." + claims(i)
        let sig = try! priv.sign(alg.scheme(for: shape)!, Array(input.utf8))
        tokens.append(Array((input + "." + Base64URL.encode(sig)).utf8))
    }
    let jwk: String =
        switch priv.publicKey.components {
        case .rsa(let n, let e):
            #"{"kty":"RSA","kid":"bench","n":"\#(Base64URL.encode(n))","e":"\#(Base64URL.encode(e))"}"#
        case .ec(let c, let x, let y):
            #"{"kty":"EC","kid":"bench","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .okp(let c, let x): #"{"kty":"OKP","kid":"bench","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))"}"#
        }
    let (k, _) = KeyLoader.parseKeyFile(Array(#"{"keys":[\#(jwk)]}"#.utf8), origin: "bench", retired: false)
    return Fixture(alg: alg, keys: KeyRing(current: k), tokens: tokens, key: priv.publicKey, secret: nil)
}

/// Runs `body(worker)` on `workers` threads for about `seconds`, in 5 slices; returns the best slice's
/// operations per second (a shared 2-core machine is noisy; the best slice is the least disturbed).
func rate(workers: Int, opsPerRound: Int, seconds: Double, _ body: @Sendable (Int) -> Void) -> Double {
    body(0)  // warm up
    var best = 0.0
    for _ in 0..<5 {
        var rounds = 0
        let start = now()
        repeat {
            if workers == 1 {
                body(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { w in body(w) }
            }
            rounds += workers
        } while now() - start < seconds / 5
        best = max(best, Double(rounds * opsPerRound) / (now() - start))
    }
    return best
}

final class Verifiers: @unchecked Sendable {
    let list: [SignatureChecker]
    init(_ n: Int) { list = (0..<n).map { _ in SignatureChecker() } }
}

/// `JWTSiftBench store N`: N sightings through the store writer into a fresh database, as the scan hands them over
/// (batches of 65,536 rows, 10,000 distinct tokens, one source), timed from the first batch handed over to the
/// last index built. Prints "store SIGHTINGS SECONDS ROWS_PER_SECOND". `JWTSiftBench store N REPEATS BATCH KEEP`
/// also leaves a copy of what it wrote at KEEP (`VACUUM INTO`), for the floor of the same rows.
func storeBench(_ n: Int, repeats: Int, batchRows: Int = 65536, keep: String? = nil) {
    let path = "/tmp/jwtsift-bench-\(getpid()).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    let db = try! FindingsDB(path: path, lockTimeout: 0) { bytes in "\(Digest.sha256(bytes))" }
    let run = try! db.beginRun(startedAt: 0, version: "bench", commandLine: "bench", verify: true, leeway: 60)
    let writer = StoreWriter(db: db, runID: run)
    let plan = try! writer.sync { db throws(SQLiteError) in
        try db.plan(
            SourceIdentity(path: "/bench.log", size: 0, mtime: 0, inode: 1, head: [], isStdin: false), runID: run)
    }
    guard case .read = plan.plan else { fatalError("a new source must be scanned") }
    let source = plan.sourceID
    let fingerprints = (0..<10_000).map { "\(Digest.sha256(Array("token-\($0)".utf8)))" }
    let causes = [Cause.ok, .ok, .ok, .expired, .signature_invalid, .key_unknown].map { InternedText($0.rawValue) }
    let lineWord = InternedText("line")
    // The batches are built before the clock starts: in a scan the scanner builds them on another core, and
    // this measures the writer, not the bench's own dictionaries.
    var batches: [Batch] = []
    var done = 0
    var line: UInt64 = 1
    while done < n {
        let rows = min(batchRows, n - done)
        var batch = Batch(
            sourceID: source, progress: ReadProgress(offset: line * 300, openLineStart: line * 300, openLine: line + 1))
        var index: [Int: Int] = [:]
        var rollupIndex: [RollupKeyBench: Int] = [:]
        for r in 0..<rows {
            let t = ((done + r) / repeats) % fingerprints.count
            let slot: Int
            if let i = index[t] {
                slot = i
            } else {
                slot = batch.tokens.count
                index[t] = slot
                batch.tokens.append(
                    TokenUpsert(
                        fingerprint: fingerprints[t], kind: "jws", alg: "RS256", kid: "k1", iss: "https://idp",
                        signature: "valid", key: "k1", length: 600))
            }
            let cause = causes[(done + r) % causes.count]
            let time = 1_700_000_000 + Double(done + r) * 0.01
            batch.tokens[slot].saw(at: time, rolled: false)
            batch.sightings.append(
                SightingRow(
                    token: slot, line: line, offset: line * 300, logTime: time, status: 200, cause: cause, causes: nil,
                    skew: -12.5, timeSource: lineWord, truncation: nil, lineError: nil))
            // The rollup the scan keeps beside the rows (one per token, cause and minute here).
            let key = RollupKeyBench(
                slot: slot, cause: (done + r) % causes.count, minute: Int64((time / 60).rounded(.down)))
            if let i = rollupIndex[key] {
                batch.rollups[i].add(at: time, errorOnLine: false, nearBy: nil)
            } else {
                rollupIndex[key] = batch.rollups.count
                var row = RollupRow(token: slot, cause: cause, statusClass: .accepted, minute: key.minute)
                row.add(at: time, errorOnLine: false, nearBy: nil)
                batch.rollups.append(row)
            }
            line += 1
        }
        batches.append(batch)
        done += rows
    }
    let start = now()
    for batch in batches { writer.submit(batch) }
    _ = try! writer.sync { _ throws(SQLiteError) in 0 }
    let rowsDone = now() - start
    // Includes the run's end (the row indexes are kept as the rows go in, so little is left to build there).
    try! writer.sync { db throws(SQLiteError) in
        try db.finishRun(run, status: "done", finishedAt: 0, counts: RunCounts())
    }
    let seconds = now() - start
    print(
        "store \(n) \(String(format3: seconds)) \(Int(Double(n) / seconds)) (rows \(String(format3: rowsDone)) s, indexes \(String(format3: seconds - rowsDone)) s)"
    )
    // A copy of everything the writer wrote, for the floor of the same rows (scripts/bench db).
    if let keep {
        precondition(!keep.contains("'"), "a KEEP path without quotes")
        unlink(keep)
        try! writer.sync { _ throws(SQLiteError) in
            let c = try Connection(path: path)
            try c.execute("VACUUM INTO '\(keep)'")
        }
    }
}

struct RollupKeyBench: Hashable {
    var slot: Int
    var cause: Int
    var minute: Int64
}

extension String {
    init(format3 v: Double) { self = "\(Double(Int(v * 1000)) / 1000)" }
}

/// `JWTSiftBench reportdb PATH N`: a findings database of N sightings for the report benchmark: 4 sources, 3
/// issuers, 6 kids, 100,000 distinct tokens, a day of log time, the usual mix of causes and statuses.
func reportDatabase(_ path: String, _ n: Int) {
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    let db = try! FindingsDB(path: path, lockTimeout: 0) { bytes in "\(Digest.sha256(bytes))" }
    let run = try! db.beginRun(startedAt: 0, version: "bench", commandLine: "bench", verify: true, leeway: 60)
    let writer = StoreWriter(db: db, runID: run)
    let sources: [Int64] = (0..<4).map { i in
        let plan = try! writer.sync { db throws(SQLiteError) in
            try db.plan(
                SourceIdentity(
                    path: "/var/log/app-\(i).log", size: 0, mtime: 0, inode: UInt64(i + 1), head: [], isStdin: false),
                runID: run)
        }
        guard case .read = plan.plan else { fatalError() }
        return plan.sourceID
    }
    let issuers = ["https://login.example.com/", "https://partner.example.net/", "https://edge.example.com/"]
    let kids = ["2023-10", "2023-11", "2023-12", "edge-1", "p-1", "p-2"]
    let causes = [
        Cause.ok, .ok, .ok, .ok, .ok, .ok, .expired, .expired, .signature_invalid, .key_unknown, .key_retired, .ok,
    ]
    .map { InternedText($0.rawValue) }
    let okWord = InternedText(Cause.ok.rawValue)
    let lineWord = InternedText("line")
    let distinct = 100_000
    let t0 = 1_700_000_000.0
    var done = 0
    var line: UInt64 = 1
    while done < n {
        let rows = min(8192, n - done)
        let source = sources[(done / 8192) % sources.count]
        var batch = Batch(
            sourceID: source, progress: ReadProgress(offset: line * 300, openLineStart: line * 300, openLine: line + 1))
        var index: [Int: Int] = [:]
        var rollupIndex: [String: Int] = [:]
        for r in 0..<rows {
            let k = done + r
            let tok = (k / 7) % distinct
            let time = t0 + Double(k) * 86_400 / Double(n)
            let slot: Int
            if let i = index[tok] {
                slot = i
            } else {
                slot = batch.tokens.count
                index[tok] = slot
                batch.tokens.append(
                    TokenUpsert(
                        fingerprint: "\(Digest.sha256(Array("bench-\(tok)".utf8)))", kind: "jws", alg: "RS256",
                        kid: kids[tok % kids.count],
                        iss: issuers[tok % issuers.count], subHash: "\(Digest.sha256(Array("sub-\(tok % 5000)".utf8)))",
                        iat: time - 120, exp: time + 780, signature: "valid", key: kids[tok % kids.count], length: 600))
            }
            let cause = causes[tok % causes.count]
            batch.tokens[slot].saw(at: time, rolled: false)
            let status = cause == okWord ? 200 : (k % 5 == 0 ? 200 : 401)
            batch.sightings.append(
                SightingRow(
                    token: slot, line: line, offset: line * 300, logTime: time, status: status,
                    cause: cause, causes: nil, skew: -120 - Double(k % 300), timeSource: lineWord, truncation: nil,
                    lineError: nil))
            // The rollup the scan keeps beside the rows.
            let minute = Int64((time / 60).rounded(.down))
            let key = "\(slot)|\(tok % causes.count)|\(status)|\(minute)"
            if let i = rollupIndex[key] {
                batch.rollups[i].add(at: time, errorOnLine: false, nearBy: nil)
            } else {
                rollupIndex[key] = batch.rollups.count
                var row = RollupRow(token: slot, cause: cause, statusClass: StatusClass(status: status), minute: minute)
                row.add(at: time, errorOnLine: false, nearBy: nil)
                batch.rollups.append(row)
            }
            line += 1
        }
        writer.submit(batch)
        done += rows
    }
    try! writer.sync { db throws(SQLiteError) in
        try db.finishRun(run, status: "done", finishedAt: 0, counts: RunCounts())
    }
}

/// `JWTSiftBench sqlite-floor N`: what SQLite itself does on this machine for the same rows — N sightings into
/// the real (empty, index-free) `sightings` table of a fresh findings database, through the same wrapper, 64-row
/// INSERTs and 65,536-row transactions as the writer, with nothing else: no tokens, no rollups, no progress, no
/// index build. The store bench can only approach this figure. Prints "sqlite-floor N SECONDS ROWS_PER_SECOND".
func sqliteFloor(_ n: Int) {
    let path = "/tmp/jwtsift-floor-\(getpid()).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    // The schema, and a run with the row indexes dropped (as a merge into an empty file drops them; a scan keeps
    // them since issue 15's writer work, measured faster for its rows): the floor is rows into bare tables, then one
    // sort per index. The rows go in through a connection of their own with the writer's settings and statement.
    let db = try! FindingsDB(path: path, lockTimeout: 0) { bytes in "\(Digest.sha256(bytes))" }
    let run = try! db.beginRun(startedAt: 0, version: "floor", commandLine: "floor", verify: false, leeway: nil)
    try! db.beginMerge()
    let c = try! Connection(path: path)
    for setting in FindingsDB.connectionSettings { try! c.execute("PRAGMA \(setting)") }
    let group = FindingsDB.sightingGroup
    let insert = try! c.prepare(FindingsDB.insertSightingsSQL(rows: group))
    let ok = InternedText(Cause.ok.rawValue)
    let lineWord = InternedText("line")
    let start = now()
    var done = 0
    while done < n {
        try! c.transaction { () throws(SQLiteError) in
            for _ in 0..<(65536 / group) where done < n {
                for r in 0..<group {
                    let k = done + r
                    let b = Int32(r * 14)  // host_id (the 14th) left NULL
                    insert.bind(b + 1, Int64(k % 10_000))
                    insert.bind(b + 2, Int64(1))
                    insert.bind(b + 3, Int64(k + 1))
                    insert.bind(b + 4, Int64(k * 300))
                    insert.bind(b + 5, 1_700_000_000 + Double(k) * 0.01)
                    insert.bind(b + 6, Int64(200))
                    insert.bind(b + 7, interned: ok)
                    insert.bind(b + 8, interned: ok)
                    insert.bind(b + 9, -12.5)
                    insert.bind(b + 10, Int64(1))
                    insert.bind(b + 11, interned: lineWord)
                    insert.bindNull(b + 12)
                    insert.bindNull(b + 13)
                }
                try insert.run()
                done += group
            }
        }
    }
    let seconds = now() - start
    // The run's end builds the dropped indexes.
    let indexStart = now()
    try! db.finishRun(run, status: "done", finishedAt: 0, counts: RunCounts())
    let indexSeconds = now() - indexStart
    print(
        "sqlite-floor \(done) \(String(format3: seconds)) \(Int(Double(done) / seconds)) (then the two row indexes \(String(format3: indexSeconds)) s: \(Int(Double(done) / (seconds + indexSeconds))) rows/s with them)"
    )
}

/// `generic`: each stdin line's cause by the general classifier alone (no table row, no exception class), or
/// `none`: how the cue lexicon does on messages it was not written from (`scripts/eval-generic.py`).
func classifyGeneric() {
    let matcher = PhraseMatcher(rules: PhraseTable.rules.filter(\.isGeneric))
    var out = ""
    while let line = readLine(strippingNewline: true) {
        var bytes = Array(line.utf8)
        let cause = bytes.withUnsafeMutableBytes { matcher.match(UnsafeRawBufferPointer($0))?.cause }
        out += (cause.map { "\($0)" } ?? "none") + "\n"
    }
    print(out, terminator: "")
}

/// `weakfloor`: what one distinct HS256 token costs on one thread, piece by piece, for `scripts/bench weak` (the
/// floor of what a verifying scan of many distinct tokens does per token). Tokens as scripts/gen-corpus.py makes
/// them (4 kids, one issuer, signed with a secret no list holds), no key given, each cost in ns per token:
///   - `hmac`: one HMAC-SHA256 of the signing input through precomputed key states (``HMACKey``): the least any
///     check of a distinct HS256 token costs;
///   - `weak-list`: the whole built-in list against one token (what a group's first token and a sampled one cost);
///   - `analysis`: the analysis without the weak-secret check (base64url, header facts, claims JSON, verdict);
///   - `analysis+memo`: the analysis as a scan runs it, in batches of 2,700 with the weak-secret memo.
func weakFloor(count: Int) {
    let secret = HMACSecret((0..<32).map { UInt8(truncatingIfNeeded: $0 &* 41 &+ 3) })
    var tokens: [[UInt8]] = []
    for i in 0..<count {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","kid":"k\#(i % 4)","typ":"JWT"}"#.utf8))
        let claims = Base64URL.encode(
            Array(
                #"{"iss":"https://login.example.com/","sub":"user-\#(i)","aud":"api://orders","iat":\#(1_700_000_000 + i),"exp":\#(1_700_000_900 + i)}"#
                    .utf8))
        let input = header + "." + claims
        let mac = Array(input.utf8).withUnsafeBytes { secret.mac(.sha256, $0) }
        tokens.append(Array((input + "." + Base64URL.encode(mac)).utf8))
    }
    let inputs = tokens.map { t -> ([UInt8], [UInt8]) in
        let lastDot = t.lastIndex(of: 0x2E)!
        return (Array(t[..<lastDot]), Base64URL.decode(t[(lastDot + 1)...])!)
    }
    func best(_ body: () -> Void) -> Double {
        var result = Double.infinity
        for _ in 0..<5 {
            let start = now()
            body()
            result = min(result, (now() - start) / Double(count) * 1e9)
        }
        return result
    }
    let key = secret.key(for: .sha256)!
    var matched = 0
    let hmac = best {
        for (m, s) in inputs where m.withUnsafeBytes({ mb in s.withUnsafeBytes { key.matches(mb, signature: $0) } }) {
            matched += 1
        }
    }
    precondition(matched == 5 * count)
    let list = WeakSecrets.list.compactMap { HMACKey(Array($0.utf8), hash: .sha256) }
    let some = Array(inputs.prefix(max(1, count / 20)))
    let start = now()
    for (m, s) in some {
        for k in list where m.withUnsafeBytes({ mb in s.withUnsafeBytes { k.matches(mb, signature: $0) } }) {
            matched += 1
        }
    }
    let weakList = (now() - start) / Double(some.count) * 1e9
    let pending = tokens.map { PendingToken(fingerprint: Digest.sha256($0), bytes: $0, truncation: nil) }
    /// Per token, through a batch analyser on one thread in batches of a chunk's size (its thread's header memo and
    /// buffers warm, as in a scan).
    func batched(_ policy: VerifyPolicy) -> Double {
        let batch = BatchAnalyzer(analyzer: TokenAnalyzer(keys: KeyRing(), policy: policy), workers: 1)
        _ = batch.analyze(Array(pending.prefix(2700)))
        var flagged = 0
        let start = now()
        for b in stride(from: 0, to: pending.count, by: 2700) {
            flagged += batch.analyze(Array(pending[b..<min(b + 2700, pending.count)])).count {
                $0.flags.contains(.weakSecret)
            }
        }
        precondition(flagged == 0)
        return (now() - start) / Double(count) * 1e9
    }
    let analysis = min(batched(VerifyPolicy(tryWeakSecrets: false)), batched(VerifyPolicy(tryWeakSecrets: false)))
    let memo = min(batched(VerifyPolicy()), batched(VerifyPolicy()))
    print("weak floor, \(count) distinct HS256 tokens, one thread (ns per token):")
    print(
        "  hmac \(Int(hmac))   weak-list \(Int(weakList)) (\(list.count) secrets)   analysis \(Int(analysis))"
            + "   analysis+memo \(Int(memo))")
}

/// `judgecount FILE [COMPACT_LIMIT]`: the verdict judge's counts over a log (read whole, scanned on one thread in
/// 1 MiB pieces cut after a newline, judged as a scan judges, with no key given): sightings, distinct tokens
/// analysed, analysed again with their first weak-secret outcome, and answered from the compact store. What a
/// verifying scan of the same file analyses, give or take the tokens two pieces cut differently.
func judgeCount(_ path: String, compactLimit: Int) {
    guard let f = fopen(path, "rb") else {
        print("cannot open \(path)")
        return
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = fread(&block, 1, block.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: block[0..<n])
    }
    let judge = SightingJudge(
        options: VerifyOptions(keys: KeyRing(), workers: 2, compactLimit: compactLimit), now: 1_700_000_000)
    var scanner = LineScanner(fingerprint: SHA256Context().hash)
    var sightings = 0
    let start = now()
    bytes.withUnsafeBytes { all in
        var at = 0
        var line: UInt64 = 1
        while at < all.count {
            var end = min(all.count, at + (1 << 20))
            while end < all.count && all[end - 1] != 0x0A { end += 1 }
            let piece = UnsafeRawBufferPointer(rebasing: all[at..<end])
            var findings = ScanFindings()
            line += scanner.scan(
                piece, streamOffset: UInt64(at), firstLine: line, continuesLine: false, cutAtEnd: false,
                into: &findings)
            sightings += findings.tokens.count
            _ = judge.judge(findings.tokens, in: piece, streamOffset: UInt64(at))
            at = end
        }
    }
    print(
        "judgecount \(path): \(sightings) sightings, \(judge.analysed) analysed, \(judge.replayed) analysed again "
            + "(first outcome), \(judge.rebuilt) rebuilt from the compact store (limit \(compactLimit)); "
            + "\(Int(now() - start)) s")
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "judgecount" {
    judgeCount(
        String(arguments.dropFirst().first ?? ""),
        compactLimit: Int(arguments.dropFirst(2).first ?? "") ?? VerifyOptions(keys: KeyRing(), workers: 1).compactLimit
    )
    exit(0)
}
if arguments.first == "generic" {
    classifyGeneric()
    exit(0)
}
if arguments.first == "weakfloor" {
    weakFloor(count: Int(arguments.dropFirst().first ?? "") ?? 100_000)
    exit(0)
}
if arguments.first == "sqlite-floor" {
    sqliteFloor(Int(arguments.dropFirst().first ?? "") ?? 2_000_000)
    exit(0)
}
if arguments.first == "reportdb" {
    reportDatabase(
        String(arguments.dropFirst().first ?? "/tmp/report-bench.sqlite"),
        Int(arguments.dropFirst(2).first ?? "") ?? 10_000_000)
    exit(0)
}
if arguments.first == "store" {
    storeBench(
        Int(arguments.dropFirst().first ?? "") ?? 2_000_000, repeats: Int(arguments.dropFirst(2).first ?? "") ?? 50,
        batchRows: Int(arguments.dropFirst(3).first ?? "") ?? 65536, keep: arguments.dropFirst(4).first)
    exit(0)
}
let seconds = Double(arguments.first ?? "") ?? 2
/// Optional second argument: only this algorithm.
let only = arguments.dropFirst().first
let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
let workerCounts = cores == 1 ? [1] : [1, cores]

for alg in [JWSAlgorithm.RS256, .PS256, .ES256, .EdDSA, .HS256] where only == nil || only == alg.rawValue {
    let f = fixture(alg, count: alg.isHMAC ? 20_000 : 400)
    // Decoded signing inputs and signatures for the check-only mode.
    let parts: [([UInt8], [UInt8])] = f.tokens.map { t in
        let dot = t.lastIndex(of: UInt8(ascii: "."))!
        return (Array(t[..<dot]), Base64URL.decode(t[(dot + 1)...])!)
    }
    let ringKey: PublicKey? = f.keys.current.first.flatMap {
        if case .publicKey(let k) = $0.material { k } else { nil }
    }
    for workers in workerCounts {
        let verifiers = Verifiers(workers)
        let check = rate(workers: workers, opsPerRound: parts.count, seconds: seconds) { w in
            let v = verifiers.list[w]
            var ok = 0
            for (input, sig) in parts {
                let good = input.withUnsafeBytes { m in
                    sig.withUnsafeBytes { s in
                        if let secret = f.secret {
                            return v.verifyMAC(alg.hash!, secret: secret, message: m, signature: s)
                        }
                        return v.verify(alg.scheme(for: f.key!.shape)!, key: ringKey!, message: m, signature: s)
                    }
                }
                if good { ok += 1 }
            }
            precondition(ok == parts.count, "\(alg): a signature did not verify")
        }
        print("\(alg.rawValue) check \(workers) \(Int(check))")

        if workers == 1 {
            // Everything but the signature check: the same analysis with no keys.
            let bare = TokenAnalyzer(keys: KeyRing(), policy: VerifyPolicy(tryWeakSecrets: false))
            let v = Verifiers(1)
            let decode = rate(workers: 1, opsPerRound: f.tokens.count, seconds: seconds / 2) { _ in
                for t in f.tokens { precondition(bare.analyze(t, verifier: v.list[0]).signature == .unchecked) }
            }
            print("\(alg.rawValue) decode 1 \(Int(decode))")
        }
        let batch = BatchAnalyzer(analyzer: TokenAnalyzer(keys: f.keys), workers: workers)
        let pending = f.tokens.map { PendingToken(fingerprint: Digest.sha256($0), bytes: $0, truncation: nil) }
        // BatchAnalyzer spreads one call over its workers itself: time whole calls, best of 5 slices.
        _ = batch.analyze(pending)
        var best = 0.0
        for _ in 0..<5 {
            var calls = 0
            let start = now()
            repeat {
                let results = batch.analyze(pending)
                precondition(results.allSatisfy { $0.signature == .valid }, "\(alg): a token did not verify")
                calls += 1
            } while now() - start < seconds / 5
            best = max(best, Double(calls * pending.count) / (now() - start))
        }
        print("\(alg.rawValue) token \(workers) \(Int(best))")
    }
}
