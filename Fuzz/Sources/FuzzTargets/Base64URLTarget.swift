import SiftCore

/// `Base64URL` on the bytes, checked against a byte-at-a-time model: a decode succeeds exactly when every byte
/// is in the alphabet and the length is not 1 (mod 4); a canonical decode re-encodes to the input itself; a
/// non-canonical one re-encodes to text that decodes to the same bytes. The buffer overload and the generic
/// (non-contiguous) one agree; `compactDots` finds exactly the dots and the first foreign byte; standard base64
/// (`x5c`) decodes like its url-safe translation.
enum Base64URLTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        let modelOK = bytes.count % 4 != 1 && bytes.allSatisfy(Base64URL.isAlphabet)
        let direct = Base64URL.decodeWithQuality(data)
        FuzzCheck.expect((direct != nil) == modelOK, .base64url, "decode succeeded or failed against the model")
        let generic = Base64URL.decodeWithQuality(bytes.lazy.map { $0 })
        FuzzCheck.expect(
            direct?.bytes == generic?.bytes && direct?.quality == generic?.quality, .base64url,
            "generic and buffer decodes differ")
        if let (decoded, quality) = direct {
            FuzzCheck.expect(decoded.count == bytes.count * 3 / 4, .base64url, "decoded length is not 3/4 of the input")
            let encoded = Array(Base64URL.encode(decoded).utf8)
            switch quality {
            case .canonical:
                FuzzCheck.expect(encoded == bytes, .base64url, "canonical input does not re-encode to itself")
            case .nonCanonicalBits:
                FuzzCheck.expect(encoded != bytes, .base64url, "non-canonical input re-encodes to itself")
                FuzzCheck.expect(encoded.count == bytes.count, .base64url, "re-encoding changes the length")
                FuzzCheck.expect(
                    Base64URL.decode(encoded) == decoded, .base64url, "re-encoded text decodes differently")
            }
        }
        // Encoding any bytes gives canonical text that decodes back to them.
        let encoded = Base64URL.encode(bytes)
        guard let back = Base64URL.decodeWithQuality(Array(encoded.utf8)) else {
            FuzzCheck.fail(.base64url, "encode gives text that does not decode")
        }
        FuzzCheck.expect(back.bytes == bytes && back.quality == .canonical, .base64url, "encode/decode round trip")

        // compactDots against the model.
        let maxDots = 4
        let (dots, bad) = Base64URL.compactDots(data, maxDots: maxDots)
        var modelDots: [Int] = []
        var modelBad: Int? = nil
        for (i, b) in bytes.enumerated() {
            if b == UInt8(ascii: ".") {
                modelDots.append(i)
                if modelDots.count > maxDots { break }
            } else if !Base64URL.isAlphabet(b) {
                modelBad = i
                break
            }
        }
        FuzzCheck.expect(dots == modelDots && bad == modelBad, .base64url, "compactDots differs from the model")

        // Standard base64 maps + and / to - and _, and skips padding and line breaks.
        let text = String(decoding: bytes, as: UTF8.self)
        var mapped: [UInt8] = []
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "+"): mapped.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): mapped.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: " "): continue
            default: mapped.append(c)
            }
        }
        FuzzCheck.expect(
            Base64URL.decodeStandard(text) == Base64URL.decode(mapped), .base64url,
            "decodeStandard differs from the url-safe decode of its translation")
    }
}
