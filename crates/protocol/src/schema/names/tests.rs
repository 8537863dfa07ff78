use super::*;

#[test]
fn names_strip_and_add_the_proto_prefix() {
    assert_eq!(
        wire_name(pb::FieldType::MultiReference),
        Some("MULTI_REFERENCE")
    );
    assert_eq!(
        from_wire_name::<pb::FieldType>("MULTI_REFERENCE"),
        Some(pb::FieldType::MultiReference)
    );
    assert_eq!(
        wire_name(pb::Role::SiteMemberAuthor),
        Some("SITE_MEMBER_AUTHOR")
    );
    assert_eq!(wire_name(pb::SortOrder::Asc), Some("ASC"));
    assert_eq!(
        from_wire_name::<pb::SortOrder>("DESC"),
        Some(pb::SortOrder::Desc)
    );
    assert_eq!(
        wire_name_of::<pb::DataOperation>(pb::DataOperation::QueryReferenced as i32),
        Some("QUERY_REFERENCED")
    );
}

#[test]
fn unset_and_foreign_names_do_not_map() {
    assert_eq!(wire_name(pb::FieldType::Unspecified), None);
    assert_eq!(from_wire_name::<pb::FieldType>("UNSPECIFIED"), None);
    assert_eq!(from_wire_name::<pb::FieldType>("FIELD_TYPE_TEXT"), None);
    assert_eq!(from_wire_name::<pb::FieldType>("text"), None);
    assert_eq!(from_wire_name::<pb::Role>("OWNER"), None);
    assert_eq!(wire_name_of::<pb::FieldType>(999), None);
}

#[test]
fn query_operators_are_limited_to_wix_names() {
    let names: Vec<_> = (0..20).filter_map(query_operator_name).collect();
    assert_eq!(
        names,
        [
            "EQ",
            "NE",
            "LT",
            "LTE",
            "GT",
            "GTE",
            "HAS_SOME",
            "HAS_ALL",
            "EXISTS",
            "CONTAINS",
            "STARTS_WITH",
            "ENDS_WITH",
            "URLIZED"
        ]
    );
}

#[test]
fn role_names_are_listed_for_messages() {
    assert_eq!(
        wire_names::<pb::Role>(),
        ["ADMIN", "SITE_MEMBER_AUTHOR", "SITE_MEMBER", "ANYONE"]
    );
}
