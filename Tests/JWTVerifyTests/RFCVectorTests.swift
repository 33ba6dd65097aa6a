import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// Published vectors: RFC 7515 Appendix A, RFC 7520 §4.4, RFC 8037 A.3/A.4, RFC 7638 §3.1.
@Suite struct RFCVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var jwk: String
        var token: String
        var testDescription: String { name }
    }

    static let a1Payload =
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    static let vectors: [Vector] = [
        Vector(
            name: "RFC 7515 A.1 HS256",
            jwk:
                #"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#,
            token: "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\(a1Payload).dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        Vector(
            name: "RFC 7515 A.2 RS256",
            jwk:
                #"{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}"#,
            token:
                "eyJhbGciOiJSUzI1NiJ9.\(a1Payload).cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
        ),
        Vector(
            name: "RFC 7515 A.3 ES256",
            jwk:
                #"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            token:
                "eyJhbGciOiJFUzI1NiJ9.\(a1Payload).DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        ),
        Vector(
            name: "RFC 7515 A.4 ES512",
            jwk:
                #"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#,
            token:
                "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn"
        ),
        Vector(
            name: "RFC 7520 §4.4 HS256",
            jwk:
                #"{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}"#,
            token:
                "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"
        ),
        Vector(
            name: "RFC 8037 A.4 Ed25519",
            jwk: #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            token:
                "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        ),
    ]

    @Test("verifies", arguments: vectors)
    func verifies(_ v: Vector) {
        let a = analyze(v.token, ring(v.jwk))
        #expect(a.signature == .valid, "\(a.causes.joined) \(a.reasons)")
        #expect(a.key != nil)
    }

    @Test("one flipped signature bit fails", arguments: vectors)
    func tampered(_ v: Vector) {
        var bytes = Array(v.token.utf8)
        let i = bytes.count - 10
        bytes[i] = bytes[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let a = analyze(String(decoding: bytes, as: UTF8.self), ring(v.jwk))
        #expect(a.signature == .invalid)
        #expect(a.causes.contains(.signature_invalid))
        // Several RFC payloads are plain text, not claims: those are malformed first (RFC 7519 §7.2).
        let primary: Cause = a.claims == nil ? .malformed : .signature_invalid
        #expect(a.judge(at: 1_300_000_000, leeway: 60).cause == primary)
    }

    @Test func a1IsJudgedAtTheLogTime() {
        let a = analyze(Self.vectors[0].token, ring(Self.vectors[0].jwk))
        #expect(a.exp == 1_300_819_380)
        #expect(a.iss == "joe")
        #expect(a.judge(at: 1_300_819_000, leeway: 0).cause == .ok)
        #expect(a.judge(at: 1_300_819_380, leeway: 0).cause == .expired)  // exp ≤ t: RFC 7519 wants t before exp
        #expect(a.judge(at: 1_300_819_379, leeway: 0).cause == .ok)
        #expect(a.judge(at: 1_300_819_440, leeway: 60).cause == .expired)
        #expect(a.judge(at: 1_300_819_439, leeway: 60).cause == .ok)
    }

    @Test func a5UnsecuredIsRejected() {
        let a = analyze("eyJhbGciOiJub25lIn0.\(Self.a1Payload).", ring(Self.vectors[0].jwk))
        #expect(a.kind == .unsecured)
        #expect(a.signature == .unsupported)
        #expect(a.judge(at: 1_300_000_000, leeway: 60).cause == .alg_none)
    }

    @Test func thumbprints() throws {
        let rsa = ring(
            #"{"kty":"RSA","e":"AQAB","kid":"2011-04-29","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#
        )
        #expect(rsa.current[0].thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        #expect(rsa.current[0].name == "2011-04-29")
        let ed = ring(Self.vectors[5].jwk)
        #expect(ed.current[0].thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        #expect(ed.current[0].name == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")  // no kid: known by thumbprint
    }
}
