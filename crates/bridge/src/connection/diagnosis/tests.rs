use serde_json::json;

use super::*;

fn status(successful: bool, cause: &str) -> Value {
    json!({"name": "shop", "connectionStatus": {"successful": successful, "causeOfFailure": cause, "hasCollections": "UNKNOWN"}})
}

#[test]
fn every_documented_cause_has_words_and_a_fix() {
    for cause in [
        "DESTINATION_ENDPOINT_NOT_DEFINED",
        "UNAUTHORIZED",
        "DESTINATION_HOST_UNREACHABLE",
        "COMMUNICATION_FAILURE",
    ] {
        let d = diagnose(&status(false, cause), "shop");
        assert_eq!(d.cause, cause);
        assert!(!d.successful);
        assert!(!d.meaning.is_empty() && !d.fix.is_empty(), "{cause}");
    }
    let ok = diagnose(&status(true, "NONE"), "shop");
    assert!(ok.successful && ok.fix.is_empty());
}

#[test]
fn the_fixes_name_the_step_that_helps() {
    let fix = |cause| diagnose(&status(false, cause), "shop").fix;
    assert!(fix("DESTINATION_ENDPOINT_NOT_DEFINED").contains("connection update shop --endpoint"));
    assert!(fix("UNAUTHORIZED").contains("fingerprints"));
    assert!(fix("DESTINATION_HOST_UNREACHABLE").contains("HTTPS"));
    let unknown = diagnose(&status(false, "SOMETHING_NEW"), "shop");
    assert!(unknown.meaning.contains("SOMETHING_NEW"));
    // No status at all is not success.
    let none = diagnose(&json!({"name": "shop"}), "shop");
    assert!(!none.successful);
}
