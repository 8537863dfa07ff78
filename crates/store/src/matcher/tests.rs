use super::*;

fn pattern(ignore_case: bool, parts: Vec<PatternPart>) -> Pattern {
    Pattern { ignore_case, parts }.normalized()
}

#[test]
fn matches_whole_value_only() {
    let p = pattern(
        true,
        vec![
            PatternPart::Literal("Hello".into()),
            PatternPart::AnyOf(" -".into()),
            PatternPart::Literal("World".into()),
        ],
    );
    assert!(p.is_match("hello-world"));
    assert!(p.is_match("HELLO WORLD"));
    assert!(!p.is_match("hello_world"));
    assert!(!p.is_match("hello-world!"));
    assert!(!p.is_match("say hello-world"));
}

#[test]
fn literal_metacharacters_are_text() {
    let p = pattern(false, vec![PatternPart::Literal("a.*(b)%_".into())]);
    assert!(p.is_match("a.*(b)%_"));
    assert!(!p.is_match("aXXb"));
}

#[test]
fn case_sensitive_when_asked() {
    let p = pattern(false, vec![PatternPart::Literal("Ab".into())]);
    assert!(p.is_match("Ab"));
    assert!(!p.is_match("ab"));
}

#[test]
fn urlized_joins_words() {
    let p = Pattern::urlized(&["my".into(), "post".into()]).normalized();
    assert!(p.is_match("My Post"));
    assert!(p.is_match("my-post"));
    assert!(!p.is_match("mypost"));
}
