//! The webhook sink: every notice as a JSON POST, for teams that read
//! Matrix, Slack or Mattermost through an incoming-webhook bridge. The body
//! carries the rendered line as `text` (what those bridges display) and the
//! structured notice beside it:
//! `{"text": "#12 account-deletion from ...", "kind": "new_ticket", "data": {...}}`.
//! Notices wait in the store's outbox and leave it once the webhook
//! answered 2xx (at least once: a crash between the answer and the delete
//! posts that notice again). One the webhook refuses (4xx) is logged and
//! dropped; one that keeps failing (5xx, 429, no answer) stays queued and
//! the sink tries again later, with the ones behind it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Notice, Notifier, WEBHOOK, read_queued};
use crate::backoff::Backoff;
use crate::config::WebhookConfig;
use crate::store::{Store, StoreError};

const ATTEMPTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
enum PostError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("the webhook answered {0}; check the URL (and the token in it) with the chat's admin")]
    Rejected(reqwest::StatusCode),
    #[error("the webhook answered {0}; will try again")]
    Busy(reqwest::StatusCode),
}

/// The JSON body for one notice. Every string in it is cleaned and redacted like the
/// IRC line: bridges paste fields into chat messages as they are.
pub fn body(n: &Notice) -> serde_json::Value {
    let mut v = serde_json::to_value(n).unwrap_or_else(|_| serde_json::json!({}));
    clean(&mut v);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("text".into(), n.render().into());
    }
    v
}

fn clean(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = super::shown(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(clean),
        serde_json::Value::Object(o) => o.values_mut().for_each(clean),
        _ => {}
    }
}

/// Starts the webhook task; it posts every notice given to the returned
/// [`Notifier`] (queued in `store`) until `cancel` fires, or, once every
/// notifier is gone, until nothing it can post is left.
pub fn spawn_webhook(config: WebhookConfig, store: Store, cancel: CancellationToken) -> (Notifier, JoinHandle<()>) {
    super::install_crypto_provider();
    let (notifier, mut wake) = Notifier::sink(store.clone(), WEBHOOK);
    let handle = tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("triaged/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("webhook: cannot build the HTTP client: {e}; notices stay queued");
                return;
            }
        };
        let mut open = true;
        // After a webhook that keeps failing: wait before the next round.
        let mut outage = Backoff::new(Duration::from_secs(5), Duration::from_secs(300));
        loop {
            let delivered = match post_queued(&client, &config, &store, &cancel).await {
                Ok(Round::Emptied) if !open => return,
                Ok(Round::Emptied) => {
                    outage.reset();
                    None
                }
                Ok(Round::Failing) => Some(outage.next_delay()),
                Ok(Round::Cancelled) => return,
                Err(e) => {
                    tracing::error!("webhook: cannot read the queued notices: {e}");
                    Some(outage.next_delay())
                }
            };
            let retry = async {
                match delivered {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                w = wake.recv(), if open => open = w.is_some(),
                _ = retry => {}
            }
        }
    });
    (notifier, handle)
}

enum Round {
    /// Nothing left that may go now.
    Emptied,
    /// The webhook keeps failing: the rest waits.
    Failing,
    Cancelled,
}

/// Posts what is queued, oldest first; a notice leaves the queue once
/// answered 2xx, or when refused for good (4xx: posting again cannot help).
async fn post_queued(
    client: &reqwest::Client,
    config: &WebhookConfig,
    store: &Store,
    cancel: &CancellationToken,
) -> Result<Round, StoreError> {
    loop {
        let queued = store.ready_notices(WEBHOOK, 50)?;
        if queued.is_empty() {
            return Ok(Round::Emptied);
        }
        // What a notice tells (a quarantine, a ticket) is durable before
        // anyone reads it.
        store.persist()?;
        // Read at each round: `run` checked it at start, and a URL changed
        // in its file since is used from the next round on.
        let url = match config.url.read() {
            Ok(url) => url,
            Err(problem) => {
                tracing::warn!("webhook: notices kept queued: {problem}");
                return Ok(Round::Failing);
            }
        };
        for (seq, q) in &queued {
            let Some(n) = read_queued(WEBHOOK, *seq, q) else {
                store.notices_done(WEBHOOK, &[*seq])?;
                continue;
            };
            let body = body(&n);
            let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
            for attempt in 1..=ATTEMPTS {
                match post(client, url.expose(), &body).await {
                    Ok(()) => {
                        store.notices_done(WEBHOOK, &[*seq])?;
                        break;
                    }
                    Err(e @ PostError::Rejected(_)) => {
                        tracing::warn!("webhook: notice dropped: {e}");
                        store.notices_done(WEBHOOK, &[*seq])?;
                        break;
                    }
                    Err(e) if attempt == ATTEMPTS => {
                        tracing::warn!(
                            "webhook: not posted after {ATTEMPTS} tries, kept queued: {}",
                            e.to_string().replace(url.expose(), "<webhook url>")
                        );
                        return Ok(Round::Failing);
                    }
                    Err(_) => {
                        tokio::select! {
                            _ = cancel.cancelled() => return Ok(Round::Cancelled),
                            _ = tokio::time::sleep(backoff.next_delay()) => {}
                        }
                    }
                }
            }
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &serde_json::Value) -> Result<(), PostError> {
    let resp = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = resp.status();
    if status.is_success() {
        Ok(())
    } else if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(PostError::Busy(status))
    } else {
        Err(PostError::Rejected(status))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn load(webhook: &str) -> Result<Config, String> {
        load_in(tempfile::tempdir().unwrap().path(), webhook)
    }

    fn load_in(dir: &std::path::Path, webhook: &str) -> Result<Config, String> {
        std::fs::write(dir.join("pw"), "x").unwrap();
        std::fs::write(dir.join("hook"), "https://chat.example.org/hooks/abc\n").unwrap();
        std::fs::create_dir_all(dir.join("templates/sourcehut")).unwrap();
        let text = format!(
            "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"support@example.org\"\npassword_file = \"pw\"\n[procedures]\ntemplates = \"templates\"\n[webhook]\n{webhook}\n"
        );
        let path = dir.join("t.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn webhook_urls_must_be_https_unless_loopback() {
        assert!(
            load("url = \"https://chat.example.org/hooks/x\"")
                .unwrap()
                .webhook
                .is_some()
        );
        assert!(load("url = \"http://127.0.0.1:9/x\"").unwrap().webhook.is_some());
        let err = load("url = \"http://chat.example.org/hooks/x\"").unwrap_err();
        assert!(err.contains("webhook.url: must be an https:// URL"), "{err}");
        // A URL in a file is read, and checked, when it is used.
        let dir = tempfile::tempdir().unwrap();
        let c = load_in(dir.path(), "url_file = \"hook\"").unwrap();
        assert!(c.unreadable_secrets().is_empty());
        assert_eq!(c.webhook.as_ref().unwrap().url.read().unwrap().expose(), "https://chat.example.org/hooks/abc");
        std::fs::write(dir.path().join("hook"), "http://chat.example.org/hooks/abc\n").unwrap();
        let unreadable = c.unreadable_secrets();
        assert_eq!(unreadable.len(), 1);
        let msg = unreadable[0].problem.to_string();
        assert!(msg.contains(":9: webhook.url_file: the file holds no usable URL: must be an https:// URL"), "{msg}");
        let err = load("url = \"https://a.example/\"\nurl_file = \"hook\"").unwrap_err();
        assert!(err.contains("exactly one of url or url_file"), "{err}");
    }
}
