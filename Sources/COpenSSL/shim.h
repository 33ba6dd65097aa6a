#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/// OPENSSL_free is a function-like macro that Swift cannot call.
static inline void COpenSSL_free(void *p) { OPENSSL_free(p); }
/// EVP_PKEY_PUBLIC_KEY is a compound macro that Swift does not import.
static inline int COpenSSL_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
/// EVP_PKEY_KEYPAIR is a compound macro that Swift does not import.
static inline int COpenSSL_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }
/// HMAC (RFC 2104) from precomputed key states: the hash state after absorbing the key XOR ipad, and after the key
/// XOR opad. Checking a MAC then hashes only the message and the inner digest (no key schedule, no provider
/// lookup, no allocation), and the states are plain structs any number of threads may read at once.
/// The low-level SHA-2 calls are deprecated in OpenSSL 3 but kept (and use the CPU's SHA extensions); EVP has
/// no way to copy a digest state without allocating.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
typedef struct { SHA256_CTX inner, outer; } COpenSSL_HMAC256State;
typedef struct { SHA512_CTX inner, outer; } COpenSSL_HMAC512State;

/// Key states for HMAC-SHA-256 (`bits` 256) or HMAC-SHA-384/512 (`bits` 384, 512; `state512`). 1 on success.
static inline int COpenSSL_hmac_prepare(
    int bits, const unsigned char *key, size_t len, COpenSSL_HMAC256State *state256,
    COpenSSL_HMAC512State *state512) {
    unsigned char block[128] = {0};
    unsigned char pad[128];
    size_t blockSize = bits == 256 ? 64 : 128;
    int ok = 1;
    if (len > blockSize) {
        if (bits == 256) ok = SHA256(key, len, block) != NULL;
        else if (bits == 384) ok = SHA384(key, len, block) != NULL;
        else ok = SHA512(key, len, block) != NULL;
    } else if (len > 0) {
        memcpy(block, key, len);
    }
    for (int round = 0; round < 2 && ok; round++) {
        unsigned char x = round == 0 ? 0x36 : 0x5c;
        for (size_t i = 0; i < blockSize; i++) pad[i] = block[i] ^ x;
        if (bits == 256) {
            SHA256_CTX *c = round == 0 ? &state256->inner : &state256->outer;
            ok = SHA256_Init(c) && SHA256_Update(c, pad, blockSize);
        } else {
            SHA512_CTX *c = round == 0 ? &state512->inner : &state512->outer;
            ok = (bits == 384 ? SHA384_Init(c) : SHA512_Init(c)) && SHA512_Update(c, pad, blockSize);
        }
    }
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

/// Whether HMAC-SHA-256 of `message` under the key of `state` equals the 32 bytes at `signature` (constant time).
static inline int COpenSSL_hmac256_matches(
    const COpenSSL_HMAC256State *state, const unsigned char *message, size_t len, const unsigned char *signature) {
    SHA256_CTX c = state->inner;
    unsigned char digest[32];
    if (!SHA256_Update(&c, message, len) || !SHA256_Final(digest, &c)) return 0;
    c = state->outer;
    if (!SHA256_Update(&c, digest, 32) || !SHA256_Final(digest, &c)) return 0;
    return CRYPTO_memcmp(digest, signature, 32) == 0;
}

/// The same for HMAC-SHA-384 (`bits` 384: 48 bytes) and HMAC-SHA-512 (64 bytes).
static inline int COpenSSL_hmac512_matches(
    int bits, const COpenSSL_HMAC512State *state, const unsigned char *message, size_t len,
    const unsigned char *signature) {
    SHA512_CTX c = state->inner;
    unsigned char digest[64];
    size_t n = bits == 384 ? 48 : 64;
    if (!SHA512_Update(&c, message, len)) return 0;
    if (!(bits == 384 ? SHA384_Final(digest, &c) : SHA512_Final(digest, &c))) return 0;
    c = state->outer;
    if (!SHA512_Update(&c, digest, n)) return 0;
    if (!(bits == 384 ? SHA384_Final(digest, &c) : SHA512_Final(digest, &c))) return 0;
    return CRYPTO_memcmp(digest, signature, n) == 0;
}
#pragma clang diagnostic pop
#endif
