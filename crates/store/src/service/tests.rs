use std::time::Duration;

use super::*;

fn with_timeout(value: &str) -> Request<()> {
    let mut request = Request::new(());
    request
        .metadata_mut()
        .insert("grpc-timeout", value.parse().unwrap());
    request
}

#[test]
fn the_callers_deadline_is_read_from_grpc_timeout() {
    assert_eq!(
        deadline(&with_timeout("250m")),
        Some(Duration::from_millis(250))
    );
    assert_eq!(deadline(&with_timeout("2S")), Some(Duration::from_secs(2)));
    assert_eq!(
        deadline(&with_timeout("1H")),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(
        deadline(&with_timeout("5000u")),
        Some(Duration::from_millis(5))
    );
    // Malformed or absent: no deadline (the default statement timeout).
    assert_eq!(deadline(&with_timeout("fast")), None);
    assert_eq!(deadline(&with_timeout("")), None);
    assert_eq!(deadline(&Request::new(())), None);
}
