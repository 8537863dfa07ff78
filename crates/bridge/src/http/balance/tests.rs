use std::time::Duration;

use super::*;

/// Resolves within a short wait, or is still pending after it.
async fn resolves(f: impl std::future::Future<Output = ()>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), f)
        .await
        .is_ok()
}

#[tokio::test]
async fn the_thread_with_the_fewest_connections_accepts() {
    let balance = AcceptBalance::new(2);
    let (a, b) = (balance.turn(0), balance.turn(1));
    // Tied at 0: both may accept.
    assert!(resolves(a.mine()).await && resolves(b.mine()).await);
    assert!(!resolves(a.lost()).await);
    let first = a.opened();
    // a has one more than b: a gives way, b takes the next.
    assert!(!resolves(a.mine()).await);
    assert!(resolves(a.lost()).await);
    assert!(resolves(b.mine()).await);
    let second = b.opened();
    assert!(resolves(a.mine()).await && resolves(b.mine()).await);
    let third = b.opened();
    assert!(resolves(a.mine()).await && !resolves(b.mine()).await);
    // Counts go down as connections end.
    drop((first, second, third));
    assert!(resolves(a.mine()).await && resolves(b.mine()).await);
}

/// A thread waiting for its turn is woken by a count changing on another
/// thread, not only by its own.
#[tokio::test]
async fn a_waiting_thread_is_woken_when_another_one_catches_up() {
    let balance = AcceptBalance::new(2);
    let (a, b) = (balance.turn(0), balance.turn(1));
    let held = a.opened();
    let waiting = tokio::spawn(async move { a.mine().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiting.is_finished());
    let other = b.opened();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken once the other thread has as many")
        .unwrap();
    drop((held, other));
}

#[test]
fn a_single_thread_always_accepts() {
    let balance = AcceptBalance::new(1);
    let only = balance.turn(0);
    let _open: Vec<_> = (0..5).map(|_| only.opened()).collect();
    assert!(balance.is_fewest(0));
}
