//! The webhook sink: every notice as a JSON POST, for teams that read
//! Matrix, Slack or Mattermost through an incoming-webhook bridge. The body
//! carries the rendered line as `text` (what those bridges display) and the
//! structured notice beside it:
//! `{"text": "#12 account-deletion from ...", "kind": "new_ticket", "data": {...}}`.
//! Best effort: a notice that still fails after a few tries is logged and
//! dropped, never allowed to hold up the ones behind it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Notice, Notifier};
use crate::backoff::Backoff;
use crate::config::WebhookConfig;

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

/// The JSON body for one notice. Every string in it is sanitised like the
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
        serde_json::Value::String(s) => *s = super::sanitise(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(clean),
        serde_json::Value::Object(o) => o.values_mut().for_each(clean),
        _ => {}
    }
}

/// Starts the webhook task; it posts every notice given to the returned
/// [`Notifier`] until `cancel` fires.
pub fn spawn_webhook(config: WebhookConfig, cancel: CancellationToken) -> (Notifier, JoinHandle<()>) {
    super::install_crypto_provider();
    let (notifier, mut rx) = Notifier::channel();
    let handle = tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("triaged/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("webhook: cannot build the HTTP client: {e}; notices go to IRC only");
                return;
            }
        };
        loop {
            let n = tokio::select! {
                _ = cancel.cancelled() => return,
                n = rx.recv() => match n { Some(n) => n, None => return },
            };
            let body = body(&n);
            let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
            for attempt in 1..=ATTEMPTS {
                match post(&client, config.url.expose(), &body).await {
                    Ok(()) => break,
                    Err(e @ PostError::Rejected(_)) => {
                        tracing::warn!("webhook: notice dropped: {e}");
                        break;
                    }
                    Err(e) if attempt == ATTEMPTS => {
                        tracing::warn!(
                            "webhook: notice dropped after {ATTEMPTS} tries: {}",
                            e.to_string().replace(config.url.expose(), "<webhook url>")
                        );
                    }
                    Err(_) => {
                        tokio::select! {
                            _ = cancel.cancelled() => return,
                            _ = tokio::time::sleep(backoff.next_delay()) => {}
                        }
                    }
                }
            }
        }
    });
    (notifier, handle)
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
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "x").unwrap();
        std::fs::write(dir.path().join("hook"), "https://chat.example.org/hooks/abc\n").unwrap();
        std::fs::create_dir_all(dir.path().join("templates/sourcehut")).unwrap();
        let text = format!(
            "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"support@example.org\"\npassword_file = \"pw\"\n[procedures]\ntemplates = \"templates\"\n[webhook]\n{webhook}\n"
        );
        let path = dir.path().join("t.toml");
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
        let c = load("url_file = \"hook\"").unwrap();
        assert_eq!(c.webhook.unwrap().url.expose(), "https://chat.example.org/hooks/abc");
        let err = load("url = \"https://a.example/\"\nurl_file = \"hook\"").unwrap_err();
        assert!(err.contains("exactly one of url or url_file"), "{err}");
    }
}
