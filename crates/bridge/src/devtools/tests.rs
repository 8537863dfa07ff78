use super::*;
use extdb_auth::{KeyConfig, V3AuthConfig, V3Verifier};

#[test]
fn generated_keys_sign_tokens_the_sidecar_accepts() {
    let pair = generate_key_pair().unwrap();
    assert_eq!(pair.public_base64.len(), 124);
    let options = SignOptions {
        audience: "extdb-demo",
        now_unix: 1_800_000_000,
        lifetime_seconds: 300,
        metadata: None,
    };
    let token = sign_v3_request(json!({"collectionId": "x"}), &pair.private_pem, &options).unwrap();
    for public in [&pair.public_pem, &pair.public_base64] {
        let verifier = V3Verifier::new(&V3AuthConfig {
            keys: vec![KeyConfig {
                public_key: Some(public.to_string()),
                ..Default::default()
            }],
            audiences: vec!["extdb-demo".into()],
            ..Default::default()
        })
        .unwrap();
        let verified = verifier
            .verify_jws(token.as_bytes(), 1_800_000_010)
            .unwrap();
        assert_eq!(verified.request, json!({"collectionId": "x"}));
        assert_eq!(verified.metadata["identity"]["identityType"], "WIX_USER");
    }
}
