use super::*;
use crate::config::PermissionRule;

fn list(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|n| (*n).to_owned()).collect())
}

fn policy(rules: &[(&str, PermissionRule)]) -> Permissions {
    Permissions::new(&PermissionsConfig(
        rules
            .iter()
            .map(|(id, rule)| ((*id).to_owned(), rule.clone()))
            .collect(),
    ))
}

fn context(identity: Option<pb::IdentityType>) -> Option<pb::CallContext> {
    Some(pb::CallContext {
        identity: identity.map(|t| pb::Identity {
            r#type: t as i32,
            id: "x".into(),
        }),
        ..Default::default()
    })
}

fn query(collection: &str, identity: Option<pb::IdentityType>) -> Operation {
    Operation::QueryItems(pb::QueryItemsRequest {
        context: context(identity),
        collection_id: collection.into(),
        ..Default::default()
    })
}

fn insert(collection: &str, identity: Option<pb::IdentityType>) -> Operation {
    Operation::InsertItems(pb::InsertItemsRequest {
        context: context(identity),
        collection_id: collection.into(),
        ..Default::default()
    })
}

fn create_index(collection: &str, identity: Option<pb::IdentityType>) -> Operation {
    Operation::CreateIndex(pb::CreateIndexRequest {
        context: context(identity),
        collection_id: collection.into(),
        ..Default::default()
    })
}

fn status(result: Result<(), ApiError>) -> u16 {
    result.map_or_else(|e| e.http_status(), |()| 200)
}

use pb::IdentityType::{AnonymousVisitor, App, Member, Unknown, WixUser};

#[test]
fn no_policy_allows_everything() {
    let open = Permissions::default();
    assert!(open.is_empty());
    for identity in [None, Some(Unknown), Some(AnonymousVisitor)] {
        assert!(open.check(&insert("orders", identity)).is_ok());
        assert!(open.check(&create_index("orders", identity)).is_ok());
    }
}

#[test]
fn each_action_has_its_own_list_and_an_absent_list_restricts_nothing() {
    let p = policy(&[(
        "orders",
        PermissionRule {
            read: list(&["ADMIN", "MEMBER"]),
            write: list(&["ADMIN"]),
            schema: None,
        },
    )]);
    assert_eq!(status(p.check(&query("orders", Some(Member)))), 200);
    assert_eq!(status(p.check(&query("orders", Some(App)))), 200);
    assert_eq!(status(p.check(&insert("orders", Some(WixUser)))), 200);
    assert_eq!(status(p.check(&insert("orders", Some(Member)))), 403);
    assert_eq!(
        status(p.check(&query("orders", Some(AnonymousVisitor)))),
        403
    );
    // schema is not listed: unrestricted.
    assert_eq!(status(p.check(&create_index("orders", Some(Member)))), 200);
    // Other collections have no rule.
    assert_eq!(status(p.check(&insert("books", Some(Member)))), 200);
}

#[test]
fn refusals_name_the_caller_or_say_there_is_none() {
    let p = policy(&[(
        "orders",
        PermissionRule {
            schema: list(&["WIX_USER"]),
            read: list(&["MEMBER"]),
            ..Default::default()
        },
    )]);
    assert_eq!(
        p.check(&create_index("orders", Some(App))),
        Err(ApiError::PermissionDenied {
            collection_id: "orders".into(),
            access: "schema",
            identity: Some("APP"),
        })
    );
    // No identity, or UNKNOWN: 401, not 403.
    for identity in [None, Some(Unknown)] {
        assert_eq!(
            p.check(&query("orders", identity)),
            Err(ApiError::PermissionDenied {
                collection_id: "orders".into(),
                access: "read",
                identity: None,
            })
        );
    }
}

#[test]
fn a_caller_without_identity_has_an_anonymous_visitors_rights() {
    let p = policy(&[(
        "public",
        PermissionRule {
            read: list(&["VISITOR"]),
            write: list(&["ANYONE"]),
            schema: list(&[]),
        },
    )]);
    assert_eq!(status(p.check(&query("public", None))), 200);
    assert_eq!(status(p.check(&query("public", Some(Unknown)))), 200);
    assert_eq!(status(p.check(&query("public", Some(Member)))), 403);
    assert_eq!(status(p.check(&insert("public", None))), 200);
    // An empty list admits nobody, not even the owner.
    assert_eq!(status(p.check(&create_index("public", Some(WixUser)))), 403);
    assert_eq!(status(p.check(&create_index("public", None))), 401);
}

#[test]
fn exact_ids_win_over_patterns_and_specific_patterns_over_general_ones() {
    let only = |name: &str| PermissionRule {
        write: list(&[name]),
        ..Default::default()
    };
    let p = policy(&[
        ("*", only("WIX_USER")),
        ("audit_*", only("APP")),
        ("audit_2025", only("MEMBER")),
    ]);
    assert_eq!(status(p.check(&insert("audit_2025", Some(Member)))), 200);
    assert_eq!(status(p.check(&insert("audit_2025", Some(App)))), 403);
    assert_eq!(status(p.check(&insert("audit_2026", Some(App)))), 200);
    assert_eq!(status(p.check(&insert("audit_2026", Some(WixUser)))), 403);
    assert_eq!(status(p.check(&insert("books", Some(WixUser)))), 200);
    assert_eq!(status(p.check(&insert("books", Some(App)))), 403);
}

#[test]
fn calls_about_no_one_collection_are_not_restricted() {
    let p = policy(&[(
        "*",
        PermissionRule {
            read: list(&[]),
            write: list(&[]),
            schema: list(&[]),
        },
    )]);
    let list_all = Operation::ListCollections(pb::ListCollectionsRequest {
        context: context(Some(Member)),
        collection_ids: vec![],
    });
    assert!(p.check(&list_all).is_ok());
    assert!(
        p.check(&Operation::GetCapabilities(Default::default()))
            .is_ok()
    );
    assert!(p.check(&Operation::Provision).is_ok());
    // ... while a collection's indexes are a read of that collection.
    let indexes = Operation::ListIndexes(pb::ListIndexesRequest {
        context: context(Some(WixUser)),
        collection_id: "orders".into(),
    });
    assert_eq!(status(p.check(&indexes)), 403);
}

#[test]
fn caller_names_resolve_case_insensitively_and_unknown_ones_say_why() {
    assert_eq!(
        CallerName::parse("owner"),
        CallerName::parse("WIX_USER"),
        "legacy names are aliases"
    );
    assert_eq!(
        CallerName::parse("ADMIN").unwrap().0,
        [WixUser, App].into_iter().collect()
    );
    let unknown = CallerName::parse("ADMN").unwrap_err();
    assert!(
        unknown.starts_with("unknown caller \"ADMN\" (known: WIX_USER, APP,"),
        "{unknown}"
    );
    let no_identity = CallerName::parse("UNKNOWN").unwrap_err();
    assert!(no_identity.contains("ANONYMOUS_VISITOR"), "{no_identity}");
}

#[test]
fn overlap_is_found_only_between_equally_specific_patterns() {
    // Same literal length and a common match ("ab").
    assert!(equally_specific_overlap("a*", "*b"));
    assert!(equally_specific_overlap("*x*", "x*"));
    assert!(equally_specific_overlap("a*c", "a*c"));
    // Same length, no common match.
    assert!(!equally_specific_overlap("a*", "b*"));
    assert!(!equally_specific_overlap("*a", "*b"));
    assert!(!equally_specific_overlap("a*c", "b*c"));
    // Different specificity: the longer one wins, no conflict.
    assert!(!equally_specific_overlap("*", "a*"));
    assert!(!equally_specific_overlap("audit_*", "*"));
}

#[test]
fn globs_intersect_agrees_with_matching() {
    // Every pair over a small alphabet, against brute force on short texts.
    let patterns = [
        "*", "a", "b", "a*", "*a", "*b*", "a*b", "ab*", "*ab", "b*a", "**",
    ];
    let texts: Vec<String> = (0..=4)
        .flat_map(|len| {
            (0..(1usize << len)).map(move |bits| {
                (0..len)
                    .map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' })
                    .collect()
            })
        })
        .collect();
    for a in patterns {
        for b in patterns {
            let brute = texts
                .iter()
                .any(|t| glob_matches(a, t) && glob_matches(b, t));
            assert_eq!(
                globs_intersect(a.as_bytes(), b.as_bytes()),
                brute,
                "{a} {b}"
            );
        }
    }
}
