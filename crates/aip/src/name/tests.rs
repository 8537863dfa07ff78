use super::*;

fn parent(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn context() -> CallContext {
    CallContext {
        instance_id: "inst-1".into(),
        installation_id: "conf-9".into(),
        settings: [("tenant".to_owned(), "acme".to_owned())]
            .into_iter()
            .collect(),
        ..Default::default()
    }
}

#[test]
fn names_parents_and_ids_round_trip() {
    let pattern = NamePattern::parse(
        "shelves/{shelf}/books/{book}",
        None,
        &parent(&[("shelf", "main")]),
    )
    .expect("parses");
    let ctx = CallContext::default();
    assert_eq!(
        pattern.name("b1", &ctx).as_deref(),
        Ok("shelves/main/books/b1")
    );
    assert_eq!(pattern.parent(&ctx), Ok(Some("shelves/main".to_owned())));
    assert_eq!(pattern.id_of("shelves/main/books/b1"), Some("b1"));
    assert_eq!(
        pattern.id_of("shelves/other/books/b1"),
        Some("b1"),
        "variables match any value"
    );
    assert_eq!(
        pattern.id_of("shelves/main/book/b1"),
        None,
        "literals must match"
    );
    assert_eq!(pattern.id_of("shelves/main/books/"), None);
    assert_eq!(pattern.id_of("shelves/main/books/b1/x"), None);
    assert_eq!(pattern.name("", &ctx), Err(NameError::BadId(String::new())));
    assert_eq!(
        pattern.name("a/b", &ctx),
        Err(NameError::BadId("a/b".into()))
    );

    let top = NamePattern::parse("shelves/{shelf}", None, &BTreeMap::new()).expect("parses");
    assert_eq!(top.parent(&ctx), Ok(None));
    assert_eq!(top.name("s1", &ctx).as_deref(), Ok("shelves/s1"));
}

#[test]
fn the_id_can_be_any_variable() {
    let pattern = NamePattern::parse(
        "tenants/{tenant}/books/{book}/editions/{edition}",
        Some("book"),
        &parent(&[("tenant", "t"), ("edition", "first")]),
    )
    .expect("parses");
    let ctx = CallContext::default();
    assert_eq!(
        pattern.name("b", &ctx).as_deref(),
        Ok("tenants/t/books/b/editions/first")
    );
    assert_eq!(pattern.parent(&ctx), Ok(Some("tenants/t".to_owned())));
    assert_eq!(pattern.id_of("tenants/t/books/b/editions/first"), Some("b"));
}

#[test]
fn parents_from_the_call() {
    let pattern = NamePattern::parse(
        "sites/{site}/tenants/{tenant}/books/{book}",
        None,
        &parent(&[
            ("site", "{context.instance_id}"),
            ("tenant", "t-{settings.tenant}"),
        ]),
    )
    .expect("parses");
    assert_eq!(
        pattern.name("b", &context()).as_deref(),
        Ok("sites/inst-1/tenants/t-acme/books/b")
    );
    assert_eq!(
        pattern.name("b", &CallContext::default()),
        Err(NameError::MissingContext("instance id".into()))
    );
    let no_setting = CallContext {
        instance_id: "i".into(),
        ..Default::default()
    };
    assert_eq!(
        pattern.name("b", &no_setting),
        Err(NameError::MissingContext("setting `tenant`".into()))
    );
    let slash = CallContext {
        instance_id: "a/b".into(),
        settings: [("tenant".to_owned(), "x".to_owned())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    assert_eq!(
        pattern.name("b", &slash),
        Err(NameError::BadParent("a/b".into()))
    );
    let installation = Template::parse("{context.installation_id}").expect("parses");
    assert_eq!(installation.render(&context()).as_deref(), Ok("conf-9"));
}

#[test]
fn malformed_patterns_and_templates_are_reported() {
    let err = |pattern: &str, id: Option<&str>, p: &[(&str, &str)]| {
        NamePattern::parse(pattern, id, &parent(p)).expect_err("refused")
    };
    assert_eq!(err("shelves//books/{book}", None, &[])[0].0, "pattern");
    assert_eq!(
        err("shelves/{sh{elf}/books/{book}", None, &[])[0].0,
        "pattern"
    );
    assert_eq!(
        err("shelves/books", None, &[])[0].1,
        "\"shelves/books\" has no variable"
    );
    assert_eq!(
        err("shelves/{shelf}", Some("book"), &[])[0].0,
        "id_variable"
    );
    let problems = err(
        "shelves/{shelf}/books/{book}",
        None,
        &[("book", "x"), ("nope", "y")],
    );
    let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["parent.shelf", "parent.book", "parent.nope"]);

    assert!(Template::parse("").is_err());
    assert!(
        Template::parse("{context.instance_id")
            .expect_err("unclosed")
            .contains("unclosed")
    );
    assert!(
        Template::parse("a}")
            .expect_err("unopened")
            .contains("unopened")
    );
    assert!(
        Template::parse("{settings.}")
            .expect_err("empty")
            .contains("unknown placeholder")
    );
}
