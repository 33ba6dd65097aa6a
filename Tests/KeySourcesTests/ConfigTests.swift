import IssuerConfig
import JWTVerify
import KeySources
import SiftCore
import Testing

@Suite struct ConfigReaderTests {
    func parse(_ yaml: String) throws(ConfigError) -> IssuerConfiguration {
        try ConfigReader.parse(Array(yaml.utf8), file: "conf.yaml", directory: "/etc/jwtsift")
    }

    @Test("a full file: defaults, issuers, relative paths resolved against the file's directory")
    func full() throws {
        let c = try parse(
            """
            # comment
            defaults:
              keys: keys/jwks.json
              leeway: 30
              algorithms: [RS256, ES256]
            issuers:
              - iss: https://login.example.com/
                keys: [/abs/login.jwks.json]
                retired_keys: keys/old.jwks.json
                audiences: [orders]
                leeway: 5
              - iss: orders-service
                hmac_secrets:
                  - file: keys/orders.secret
                    kid: orders-1
                  - keys/plain.secret
              - iss: https://idp.example.org
                discovery: true
                jwks_uri: https://idp.example.org/jwks
            """)
        #expect(c.defaults.keys == ["/etc/jwtsift/keys/jwks.json"])
        #expect(c.defaults.leeway == 30)
        #expect(c.defaults.algorithms == [.RS256, .ES256])
        #expect(c.issuers.map(\.iss) == ["https://login.example.com/", "orders-service", "https://idp.example.org"])
        #expect(c.issuers[0].keys == ["/abs/login.jwks.json"])
        #expect(c.issuers[0].retiredKeys == ["/etc/jwtsift/keys/old.jwks.json"])
        #expect(c.issuers[0].audiences == ["orders"])
        #expect(c.issuers[0].leeway == 5)
        #expect(c.issuers[0].line == 7)
        #expect(
            c.issuers[1].secrets == [
                SecretFile(path: "/etc/jwtsift/keys/orders.secret", kid: "orders-1"),
                SecretFile(path: "/etc/jwtsift/keys/plain.secret"),
            ])
        #expect(c.issuers[2].discovery == ["https://idp.example.org"])
        #expect(c.issuers[2].jwksURIs == ["https://idp.example.org/jwks"])
    }

    @Test(
        "a bad file names its line and key",
        arguments: [
            ("defaults:\n  keyz: a.json\n", 2, "defaults.keyz", "unknown key"),
            ("issuers:\n  - iss: a\n    leeway: soon\n", 3, "issuers[0].leeway", "number of seconds"),
            ("issuers:\n  - iss: a\n    leeway: -1\n", 3, "issuers[0].leeway", "number of seconds"),
            (
                "issuers:\n  - iss: a\n  - iss: b\n    algorithms: [RS256, none]\n", 4, "issuers[1].algorithms[1]",
                "not a JWS"
            ),
            ("issuers:\n  - iss: a\n  - iss: a\n", 3, "issuers[1].iss", "already configured at line 2"),
            ("issuers:\n  - keys: a.json\n", 2, "issuers[0]", "needs iss"),
            ("defaults:\n  jwks_uri: ftp://x\n", 2, "defaults.jwks_uri", "not an https:// URL"),
            ("issuers:\n  - iss: orders\n    discovery: true\n", 2, "issuers[0].discovery", "not a URL"),
            ("defaults:\n  keys: [a.json\n", 3, "", "not valid YAML"),
            ("issuers: 3\n", 1, "issuers", "expected a list"),
            ("defaults:\n  leeway: 1\n  leeway: 2\n", 2, "leeway", "twice"),
        ])
    func bad(_ c: (yaml: String, line: Int, key: String, words: String)) {
        do {
            _ = try parse(c.yaml)
            Issue.record("accepted: \(c.yaml)")
        } catch {
            #expect(error.file == "conf.yaml")
            #expect(error.line == c.line, "\(error)")
            #expect(error.key == c.key, "\(error)")
            #expect(error.message.contains(c.words), "\(error)")
            #expect(error.description.hasPrefix("conf.yaml:\(c.line): "))
        }
    }

    @Test("a missing file is named")
    func missing() {
        #expect(throws: ConfigError.self) { try ConfigReader.read(path: "/nonexistent/jwtsift.yaml") }
    }
}

@Suite struct IssuerScopeTests {
    /// Two issuers each publishing a key under the same kid, and global keys for everything else.
    func fixture() throws -> (KeySets, a: ECSigner, b: ECSigner, global: ECSigner) {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let a = ECSigner(kid: "k1")
        let b = ECSigner(kid: "k1")
        let global = ECSigner(kid: "g1")
        write(a.jwks, to: dir + "/a.json")
        write(b.jwks, to: dir + "/b.json")
        write(global.jwks, to: dir + "/g.json")
        write(
            """
            defaults:
              keys: g.json
              leeway: 120
            issuers:
              - iss: https://a.example/
                keys: a.json
                audiences: [orders]
                leeway: 5
              - iss: https://b.example/
                keys: b.json
                algorithms: [RS256]
            """, to: dir + "/c.yaml")
        let config = try ConfigReader.read(path: dir + "/c.yaml")
        let sets = KeySetBuilder.build(config: config, command: KeyPaths(), policy: VerifyPolicy(), leewayGiven: nil)
        #expect(sets.problems.isEmpty, "\(sets.problems)")
        return (sets, a, b, global)
    }

    @Test("a token is judged with its own issuer's keys: a kid two issuers share is resolved by iss")
    func kidCollision() throws {
        let (sets, a, b, _) = try fixture()
        let good = analyze(a.sign(#"{"iss":"https://a.example/","aud":"orders","exp":9999999999}"#), sets)
        #expect(good.signature == .valid)
        #expect(good.scope == .issuer)
        #expect(good.leeway == 5)
        // Signed with b's key but claiming issuer a: a's k1 does not verify it.
        let crossed = analyze(b.sign(#"{"iss":"https://a.example/","aud":"orders","exp":9999999999}"#), sets)
        #expect(crossed.signature == .invalid)
        #expect(crossed.causes.contains(.signature_invalid))
    }

    @Test("each issuer's policy: audiences, and allowed algorithms")
    func policy() throws {
        let (sets, a, b, _) = try fixture()
        let wrongAudience = analyze(a.sign(#"{"iss":"https://a.example/","aud":"billing"}"#), sets)
        #expect(wrongAudience.causes.contains(.audience_rejected))
        // b allows RS256 only: a valid ES256 token is refused as alg_mismatch.
        let es = analyze(b.sign(#"{"iss":"https://b.example/"}"#), sets)
        #expect(es.signature == .valid)
        #expect(es.causes.first == .alg_mismatch)
        #expect(es.reasons[.alg_mismatch]?.contains("not among the algorithms allowed for its issuer (RS256)") == true)
    }

    @Test("an iss the file does not name falls back to the global keys and leeway")
    func fallback() throws {
        let (sets, a, _, global) = try fixture()
        let other = analyze(global.sign(#"{"iss":"https://other.example/"}"#), sets)
        #expect(other.signature == .valid)
        #expect(other.scope == .fallback)
        #expect(other.leeway == nil)
        #expect(sets.policy.leeway == 120)
        // Issuer a's key is not among the global ones.
        let stray = analyze(a.sign(#"{"iss":"https://other.example/"}"#), sets)
        #expect(stray.signature == .key_unknown)
    }

    @Test("command-line keys add to the defaults, and --leeway wins over the file's")
    func commandLine() throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let extra = ECSigner(kid: "x1")
        write(extra.jwks, to: dir + "/x.json")
        write("defaults:\n  leeway: 10\n", to: dir + "/c.yaml")
        let config = try ConfigReader.read(path: dir + "/c.yaml")
        let sets = KeySetBuilder.build(
            config: config, command: KeyPaths(keys: [dir + "/x.json"]), policy: VerifyPolicy(), leewayGiven: 42)
        #expect(sets.keys.current.map(\.kid) == ["x1"])
        #expect(sets.policy.leeway == 42)
        #expect(analyze(extra.sign("{}"), sets).scope == .global)
    }

    @Test("an HMAC secret file with a kid in the file is published under it")
    func secretKid() throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        write("0123456789abcdef0123456789abcdef", to: dir + "/s.secret")
        write("issuers:\n  - iss: svc\n    hmac_secrets: [{file: s.secret, kid: svc-1}]\n", to: dir + "/c.yaml")
        let sets = KeySetBuilder.build(
            config: try ConfigReader.read(path: dir + "/c.yaml"), command: KeyPaths(), policy: VerifyPolicy(),
            leewayGiven: nil)
        #expect(sets.issuers["svc"]?.keys.current.map(\.kid) == ["svc-1"])
        #expect(sets.issuers["svc"]?.keys.current.map(\.thumbprint) == ["hmac:s.secret"])
    }
}
