import JOSECrypto
import SiftCore

@testable import JWTScan

/// Builds compact tokens for tests from JSON text (no signing: the scanner never checks signatures).
enum Tok {
    static func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

    static func jws(
        header: String = #"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
        payload: String = #"{"sub":"u1","exp":1700000000}"#,
        signature: String = "c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
    ) -> String {
        "\(b64(header)).\(b64(payload)).\(signature)"
    }

    static func jwe() -> String {
        "\(b64(#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)).OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ"
    }
}

/// The real fingerprint (SHA-256 through JOSECrypto), as the pipeline passes it in.
func sha256(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest { Digest.sha256(bytes) }

/// Runs the line scanner over `text` and returns what it found.
func scanText(_ text: String, zone: LocalZone = .utc, fallbackYear: Int = 2023, fallbackMonth: Int = 12) -> ScanFindings
{
    var scanner = LineScanner(
        timeParser: TimestampParser(zone: zone, fallbackYear: fallbackYear, fallbackMonth: fallbackMonth),
        fingerprint: sha256)
    var findings = ScanFindings()
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        scanner.scan(raw, streamOffset: 0, firstLine: 1, continuesLine: false, cutAtEnd: false, into: &findings)
    }
    return findings
}

func withBytes<T>(_ s: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
    Array(s.utf8).withUnsafeBytes(body)
}
