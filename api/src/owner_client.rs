//! What the CLI's clients of a running server share (`comptoir backup`, `comptoir rebuild
//! --server`): an HTTP client with a timeout, owner-token GETs of JSON, and the operator's
//! sentence for a refusal. Errors are sentences for the operator.

use std::time::Duration;

use serde::de::DeserializeOwned;

/// An HTTP client whose every request gives up after `timeout`.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}

/// `GET url` with the owner `token`, read as a `T`; `what` names it in the error.
pub async fn get_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    what: &str,
) -> Result<T, String> {
    let answer = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|error| format!("cannot reach {url}: {error}"))?;
    if !answer.status().is_success() {
        return Err(refusal(answer).await);
    }
    answer
        .json()
        .await
        .map_err(|error| format!("{url} answered something else than {what}: {error}"))
}

/// The status of a refused request and the `detail` of its problem+json.
pub async fn refusal(answer: reqwest::Response) -> String {
    let status = answer.status();
    let detail = answer
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|problem| problem["detail"].as_str().map(str::to_string))
        .unwrap_or_default();
    format!("the server answered {status}: {detail}")
}
