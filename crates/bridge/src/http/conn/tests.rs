use super::*;

const HEADER: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(60);

/// The deadline's distance from now, to the second.
fn due(a: &Activity) -> Option<(u64, Expiry)> {
    a.deadline(HEADER, IDLE)
        .map(|(at, why)| ((at - Instant::now()).as_secs_f64().round() as u64, why))
}

#[tokio::test]
async fn deadlines_follow_the_connection_state() {
    let a = Activity::new();
    assert_eq!(due(&a), Some((10, Expiry::Headers)));
    let req = a.request_started(Version::HTTP_11);
    assert_eq!(due(&a), None, "busy: no deadline");
    drop(req);
    assert_eq!(due(&a), Some((60, Expiry::Idle)));
    // An idle HTTP/1 connection starts a request: its headers get the
    // header timeout, not the rest of the idle time.
    a.bytes_read();
    assert_eq!(due(&a), Some((10, Expiry::Headers)));
    // Only the first read after going idle counts.
    drop(a.request_started(Version::HTTP_11));
    assert_eq!(due(&a), Some((60, Expiry::Idle)));
}

#[tokio::test]
async fn idle_h2_reads_do_not_shorten_the_idle_time() {
    let a = Activity::new();
    drop(a.request_started(Version::HTTP_2));
    a.bytes_read();
    assert_eq!(due(&a), Some((60, Expiry::Idle)));
}

#[tokio::test]
async fn expired_waits_for_the_request_then_the_idle_time() {
    let (header, idle) = (Duration::from_millis(20), Duration::from_millis(50));
    let a = Activity::new();
    let req = a.request_started(Version::HTTP_11);
    let waiter = {
        let a = a.clone();
        tokio::spawn(async move { a.expired(header, idle).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "a request in flight never expires");
    drop(req);
    let dropped = Instant::now();
    assert_eq!(waiter.await.unwrap(), Expiry::Idle);
    assert!(dropped.elapsed() >= idle);
}

#[tokio::test]
async fn throttle_counts_what_it_suppresses() {
    let mut t = LogThrottle::new(Duration::from_millis(50));
    assert_eq!(t.allow(), Some(0));
    assert_eq!(t.allow(), None);
    assert_eq!(t.allow(), None);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(t.allow(), Some(2));
}
