//! The webhook sink against an HTTP server on loopback started by the test:
//! the JSON body, retries on server errors, and no retries on refusals.


use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support::ircd::{load_config, store_with_tickets};
use triaged::staff::{Notice, spawn_webhook};
use triaged::store::TicketId;

const T: Duration = Duration::from_secs(15);

/// An HTTP/1.1 server answering each request with the next status from
/// `statuses` (then 200), reporting `(method path, body)` of each request.
async fn http_sink(statuses: Vec<u16>) -> (u16, mpsc::UnboundedReceiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(statuses)));
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let (tx, statuses) = (tx.clone(), statuses.clone());
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                loop {
                    let mut request_line = String::new();
                    if r.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).await.unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    r.read_exact(&mut body).await.unwrap();
                    let what = request_line.split(' ').take(2).collect::<Vec<_>>().join(" ");
                    tx.send((what, String::from_utf8(body).unwrap())).unwrap();
                    let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                    let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                    w.write_all(resp.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

fn webhook_config(port: u16) -> (tempfile::TempDir, triaged::config::WebhookConfig) {
    let dir = tempfile::tempdir().unwrap();
    let c = load_config(
        dir.path(),
        &format!("[webhook]\nurl = \"http://127.0.0.1:{port}/hooks/staff\"\ntimeout_secs = 5\n"),
    );
    (dir, c.webhook.expect("[webhook] section"))
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, String)>) -> (String, serde_json::Value) {
    let (what, body) = tokio::time::timeout(T, rx.recv()).await.expect("a request").unwrap();
    (what, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn notices_are_posted_as_json_with_the_rendered_line() {
    let (port, mut rx) = http_sink(vec![]).await;
    let (_d, cfg) = webhook_config(port);
    let cancel = CancellationToken::new();
    let (_s, store) = store_with_tickets(0);
    let (notifier, handle) = spawn_webhook(cfg, store, cancel.clone());
    let notice = Notice::NewTicket {
        ticket: TicketId(7),
        procedure: "account-deletion".into(),
        from: "user@example.org".into(),
        subject: "Delete\r\nme \x0304now".into(),
        identity: "NOT verified 0/1".into(),
        draft_ready: false,
    };
    notifier.notify(notice.clone());
    let (what, body) = next(&mut rx).await;
    assert_eq!(what, "POST /hooks/staff");
    assert_eq!(body["text"], notice.render());
    assert_eq!(body["kind"], "new_ticket");
    assert_eq!(body["data"]["ticket"], 7);
    assert_eq!(body["data"]["subject"], "Delete me now");
    cancel.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_and_refusals_are_not() {
    let (port, mut rx) = http_sink(vec![503, 404]).await;
    let (_d, cfg) = webhook_config(port);
    let cancel = CancellationToken::new();
    let (_s, store) = store_with_tickets(0);
    let (notifier, handle) = spawn_webhook(cfg, store, cancel.clone());
    notifier.notify(Notice::Text("first".into()));
    notifier.notify(Notice::Text("second".into()));
    notifier.notify(Notice::Answered {
        ticket: TicketId(3),
        by: "bob@example.org".into(),
        warning: Some("alice holds the claim".into()),
    });
    // 503: "first" again; then 404 for "second", which is dropped.
    let seen: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(next(&mut rx).await.1["text"].as_str().unwrap().to_string());
        }
        v
    };
    assert_eq!(
        seen,
        [
            "first",
            "first",
            "second",
            "#3 answered by bob@example.org — warning: alice holds the claim"
        ]
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(2), rx.recv()).await.is_err(),
        "a refused notice was retried"
    );
    cancel.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_notice_the_webhook_keeps_failing_stays_queued_until_it_is_taken() {
    let (port, mut rx) = http_sink(vec![503, 503, 503, 503]).await;
    let (_d, cfg) = webhook_config(port);
    let cancel = CancellationToken::new();
    let (_s, store) = store_with_tickets(0);
    let (notifier, handle) = spawn_webhook(cfg, store.clone(), cancel.clone());
    notifier.notify(Notice::Text("persistent".into()));
    for _ in 0..4 {
        assert_eq!(next(&mut rx).await.1["text"], "persistent");
    }
    // Four failures: the notice waits in the store for the next round.
    assert_eq!(store.queued_notices().unwrap().get("webhook"), Some(&1));
    assert_eq!(next(&mut rx).await.1["text"], "persistent");
    let deadline = tokio::time::Instant::now() + T;
    while store.queued_notices().unwrap().contains_key("webhook") {
        assert!(tokio::time::Instant::now() < deadline, "the posted notice left the queue");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    handle.await.unwrap();
}
