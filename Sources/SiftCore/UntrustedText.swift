/// Text that came from a token, a log line or a file name, on its way out: into the findings database, onto a
/// terminal, into a report. Two jobs, each done here once for every boundary:
///
/// - ``redactTokens(_:)``: a token hidden inside another string (a `kid` or `iss` that holds a JWT, a log path
///   with a token in it) never reaches the database or an output in clear;
/// - ``visible(_:)``: control and format characters (ESC, OSC, backspace, CR/LF, DEL, C1 controls, bidi
///   overrides and isolates, zero-width characters) never reach an output raw, and show as escapes instead.
public enum UntrustedText {
    /// What a token-shaped run is replaced by.
    public static let tokenPlaceholder = "<redacted token>"

    // MARK: - Token-shaped runs

    /// `s` with every token-shaped run (`eyJ…`, then two to four more base64url segments, each after a dot)
    /// replaced by ``tokenPlaceholder``. Strings without one come back as they are.
    public static func redactTokens(_ s: String) -> String { redactTokens(s) { _ in tokenPlaceholder } }

    /// `s` with every token-shaped run replaced by what `replacement` makes of its bytes: the findings database
    /// names a token by its fingerprint prefix (`<jwt:3f2a…>`, as in redacted error messages), so two paths that
    /// differ only in the token they hold stay two sources.
    public static func redactTokens(_ s: String, replacement: (ArraySlice<UInt8>) -> String) -> String {
        var s = s
        guard let runs = s.withUTF8({ tokenRuns(in: $0) }) else { return s }
        var bytes = Array(s.utf8)
        for run in runs.reversed() { bytes.replaceSubrange(run, with: replacement(bytes[run]).utf8) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `redactTokens` for an optional.
    public static func redactTokens(_ s: String?) -> String? { s.map { redactTokens($0) } }

    /// Whether `s` holds a token-shaped run.
    public static func containsToken(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { tokenRuns(in: $0) } != nil
    }

    /// The byte ranges of the token-shaped runs in `b`, nil when there is none. A run starts at `eyJ` (the
    /// base64url of `{"`), and has three segments (a JWS, an unsecured token whose signature is empty) or up to
    /// five (a JWE); a dot after the third segment belongs to the run only when another segment follows it.
    static func tokenRuns(in b: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        let n = b.count
        guard n >= 5 else { return nil }
        var runs: [Range<Int>]? = nil
        var i = 0
        while i + 5 <= n {
            guard b[i] == 0x65, b[i + 1] == 0x79, b[i + 2] == 0x4A else {  // "eyJ"
                i += 1
                continue
            }
            var j = i + 3
            while j < n && isBase64URL(b[j]) { j += 1 }
            var segments = 1
            while j < n && b[j] == 0x2E && segments < 5 {
                let next: UInt8? = j + 1 < n ? b[j + 1] : nil
                if segments >= 3 && !(next.map { isBase64URL($0) || $0 == 0x2E } ?? false) { break }
                j += 1
                segments += 1
                while j < n && isBase64URL(b[j]) { j += 1 }
            }
            if segments >= 3 {
                runs = (runs ?? []) + [i..<j]
                i = j
            } else {
                i += 3
            }
        }
        return runs
    }

    @inline(__always)
    static func isBase64URL(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    // MARK: - Control and format characters

    /// Whether `u` must never reach an output raw: C0 and C1 controls and DEL (category Cc), format characters
    /// (Cf: the bidi embeddings, overrides and isolates U+202A…U+202E and U+2066…U+2069, marks such as U+200E,
    /// zero-width characters, U+FEFF, U+061C…), and the line and paragraph separators U+2028 and U+2029.
    public static func isHidden(_ u: Unicode.Scalar) -> Bool {
        if u.value < 0x20 || u.value == 0x7F { return true }
        if u.value < 0x80 { return false }
        switch u.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `s` on one line with nothing hidden: `\n`, `\r`, `\t`, `\x1b` for the other ASCII controls, `\u{202E}`
    /// for the rest of ``isHidden(_:)``. Printable text comes back as it is.
    public static func visible(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        var out = ""
        for u in s.unicodeScalars {
            guard isHidden(u) else {
                out.unicodeScalars.append(u)
                continue
            }
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let hex = String(u.value, radix: 16, uppercase: u.value >= 0x80)
                out +=
                    u.value < 0x80
                    ? "\\x" + (hex.count < 2 ? "0" : "") + hex
                    : "\\u{" + hex + "}"
            }
        }
        return out
    }

    /// `s` with every character of ``isHidden(_:)`` replaced by `?`: for a short quote inside a message (a
    /// `kid`, a PEM label, a JSON member name), where an escape would be longer than what it stands for.
    public static func masked<S: StringProtocol>(_ s: S) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(s) }
        var out = ""
        for u in s.unicodeScalars { out.unicodeScalars.append(isHidden(u) ? "?" : u) }
        return out
    }

    /// For people: token-shaped runs redacted, then every hidden character made visible. What text, Markdown,
    /// HTML and CSV reports, `inspect` and messages on standard error show of an untrusted string.
    public static func display(_ s: String) -> String { visible(redactTokens(s)) }
}
