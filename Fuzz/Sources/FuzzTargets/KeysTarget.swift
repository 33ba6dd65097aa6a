import JOSECrypto
import JWTVerify
import SiftCore

/// The key loaders on the bytes as a key file: `KeyLoader.parseKeyFile` (JWKS, JWK, PEM public keys, PKCS#1,
/// certificates), `KeyLoader.secret`, and — when the bytes start like DER (`0x30`) — `PublicKey`'s SPKI, PKCS#1
/// and certificate readers directly.
///
/// Checks: every loaded public key, written back as a JWK from its components, loads again as the same key with
/// the same thumbprint; its SPKI DER reads back as the same key; a problem message holds no hidden character (``UntrustedText/isHidden(_:)``) and
/// none of the file's private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, an `oct` key's `k`) nor the secret.
enum KeysTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        let (keys, problems) = KeyLoader.parseKeyFile(bytes, origin: "fuzz", retired: false)
        let secrets = privateMembers(bytes)
        for p in problems { checkMessage(p.description, secrets: secrets) }
        for k in keys {
            FuzzCheck.expect(!k.thumbprint.isEmpty, .keys, "a key without a thumbprint")
            switch k.material {
            case .publicKey(let pk): roundTrip(pk)
            case .secret: break
            }
        }
        // A secret's messages may depend on its length, its last byte (whitespace) and whether the file is shaped
        // like a key file (a JWK/JWKS/PEM given as --hmac-secret-file is warned about), never on the rest: compare
        // with a stand-in of the same length and the same last byte, leaving that one warning out.
        let (secretKey, secretProblems) = KeyLoader.secret(bytes, origin: "fuzz", retired: false)
        FuzzCheck.expect((secretKey == nil) == bytes.isEmpty, .keys, "a non-empty secret file gave no secret")
        var standIn = [UInt8](repeating: UInt8(ascii: "x"), count: bytes.count)
        if let last = bytes.last { standIn[standIn.count - 1] = last }
        let (_, standInProblems) = KeyLoader.secret(standIn, origin: "fuzz", retired: false)
        let shapeWarning = "this looks like a key file"
        FuzzCheck.expect(
            secretProblems.filter { !$0.message.hasPrefix(shapeWarning) }.map(\.description)
                == standInProblems.filter { !$0.message.hasPrefix(shapeWarning) }.map(\.description), .keys,
            "a secret's messages depend on its bytes")
        for p in secretProblems { checkMessage(p.description, secrets: []) }
        if bytes.first == 0x30 {
            // (Spelled out: an array of these typed-throws function references crashes the 6.3.1 compiler.)
            for kind in 0..<3 {
                do throws(CryptoError) {
                    switch kind {
                    case 0: roundTrip(try PublicKey.subjectPublicKeyInfo(der: bytes))
                    case 1: roundTrip(try PublicKey.pkcs1(der: bytes))
                    default: roundTrip(try PublicKey.certificate(der: bytes))
                    }
                } catch {
                    checkMessage(error.reason, secrets: [])
                }
            }
        }
    }

    static func checkMessage(_ message: String, secrets: [[UInt8]]) {
        FuzzCheck.expect(
            !message.unicodeScalars.contains(where: UntrustedText.isHidden), .keys,
            "a key problem message holds a control or format character")
        for s in secrets {
            FuzzCheck.expect(!FuzzCheck.contains(message.utf8, s), .keys, "a key problem message holds key material")
        }
    }

    /// The key as a JWK (the RFC 7638 member set) loads back as the same key; so does its SPKI DER.
    static func roundTrip(_ key: PublicKey) {
        let json = Thumbprint.canonicalJWK(key.components)
        let (again, _) = KeyLoader.parseKeyFile(Array(json.utf8), origin: "again", retired: false)
        guard again.count == 1, case .publicKey(let back) = again[0].material else {
            FuzzCheck.fail(.keys, "a loaded key written back as a JWK does not load")
        }
        FuzzCheck.expect(back.isSame(as: key), .keys, "a key written back as a JWK loads as another key")
        FuzzCheck.expect(
            again[0].thumbprint == Thumbprint.of(key.components), .keys, "the thumbprint changes across a round trip")
        let der = key.subjectPublicKeyInfoDER
        guard let fromDER = try? PublicKey.subjectPublicKeyInfo(der: der) else {
            FuzzCheck.fail(.keys, "a loaded key's SPKI DER does not load")
        }
        FuzzCheck.expect(fromDER.isSame(as: key), .keys, "a key's SPKI DER loads as another key")
    }

    /// The values of private members anywhere in a JSON key file, as bytes: those of 16 base64url characters or
    /// more that no other member (a `kid`, say, which messages may quote) also holds.
    static func privateMembers(_ bytes: [UInt8]) -> [[UInt8]] {
        guard let value = try? JSONParser.parse(bytes) else { return [] }
        var privates: [String] = []
        var others: Set<String> = []
        func walk(_ v: JSONValue) {
            switch v {
            case .object(let o):
                for m in o.members {
                    if let s = m.value.stringValue {
                        if ["d", "p", "q", "dp", "dq", "qi", "k"].contains(m.name) {
                            privates.append(s)
                        } else {
                            others.insert(s)
                        }
                    }
                    others.insert(m.name)
                    walk(m.value)
                }
            case .array(let a): a.forEach(walk)
            case .string(let s): others.insert(s)
            default: break
            }
        }
        walk(value)
        return privates.filter { s in
            s.utf8.count >= 16 && s.utf8.allSatisfy(Base64URL.isAlphabet)
                && !others.contains { FuzzCheck.contains($0.utf8, Array(s.utf8)) }
        }.map { Array($0.utf8) }
    }
}
