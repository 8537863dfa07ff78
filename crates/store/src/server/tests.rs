use super::*;

#[tokio::test]
async fn accepted_tcp_connections_have_nodelay() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut incoming = tcp_incoming(listener);
    let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let accepted = incoming.next().await.unwrap().unwrap();
    assert!(accepted.nodelay().unwrap());
}

#[tokio::test]
async fn failed_accepts_pause_before_the_next_try() {
    let attempts = futures_util::stream::iter([Err("EMFILE"), Ok(1)]);
    let mut incoming = Box::pin(backing_off(attempts));
    // The error is held back for the pause (at least, never at most: a
    // slow machine only makes it later).
    let early = tokio::time::timeout(Duration::from_millis(5), incoming.next()).await;
    assert!(early.is_err(), "no pause after a failed accept");
    assert_eq!(incoming.next().await, Some(Err("EMFILE")));
    assert_eq!(incoming.next().await, Some(Ok(1)));
    assert_eq!(incoming.next().await, None);
}
