#!/bin/sh
# Regenerates the test-only-openssl-* fixtures: throw-away keys and JWS tokens
# signed by the openssl CLI, an implementation independent of extdb-auth, so
# tests can check our verifier against someone else's signer.
set -eu
cd "$(dirname "$0")"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out test-only-openssl-rsa.private.pem
openssl pkey -in test-only-openssl-rsa.private.pem -pubout -out test-only-openssl-rsa.public.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out test-only-openssl-ec.private.pem
openssl pkey -in test-only-openssl-ec.private.pem -pubout -out test-only-openssl-ec.public.pem

# exp 4102444800 = 2100-01-01; aud matches extdb_testkit::AUDIENCE; data.request is the
# body of POST /v3/items/count.
payload='{"iss":"wix.com","aud":"test-app","iat":1767225600,"exp":4102444800,"data":{"request":{"collectionId":"books","filter":{}},"metadata":{"instanceId":"openssl-instance","requestId":"openssl-request-1"}}}'

sign() { # alg key out
  input="$(printf '{"alg":"%s","typ":"JWT"}' "$1" | b64url).$(printf '%s' "$payload" | b64url)"
  if [ "$1" = RS256 ]; then
    sig=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$2" | b64url)
  else
    # openssl gives a DER ECDSA-Sig-Value; JWS wants raw r||s, 32 bytes each.
    der=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$2" | od -An -tx1 | tr -d ' \n')
    ints=$(printf '%s' "$der" | xxd -r -p | openssl asn1parse -inform DER | awk -F: '/INTEGER/{print $NF}')
    raw=""
    for i in $ints; do raw="$raw$(printf '%064s' "$i" | tr ' ' 0 | tail -c 64)"; done
    sig=$(printf '%s' "$raw" | xxd -r -p | b64url)
  fi
  printf '%s.%s\n' "$input" "$sig" > "$3"
}
sign RS256 test-only-openssl-rsa.private.pem test-only-openssl-rs256.jws
sign ES256 test-only-openssl-ec.private.pem test-only-openssl-es256.jws
