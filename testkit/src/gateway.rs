//! A stand-in for a 46elks-style SMS gateway: axum on 127.0.0.1, on a
//! thread of its own, recording every form post (path, basic auth, content
//! type, fields) and answering as the test scripts it: accepted (200),
//! refused (any 4xx), failing (500), busy (429), silent, nonsense after a
//! 200, or a redirect.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};

/// How the stand-in answers one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the gateway's JSON: the message is accepted.
    Created,
    /// 200 with a body that is not JSON: accepted all the same.
    Nonsense,
    /// This status, with this body.
    Status(u16, String),
    /// 301 to this address.
    Redirect(String),
    /// No answer for this long (then a late 200).
    Silent(Duration),
}

impl Answer {
    /// Whether the gateway took the message (a 200 at once).
    pub fn accepted(&self) -> bool {
        matches!(self, Answer::Created | Answer::Nonsense)
    }
}

/// One post the stand-in received, and how it answered.
#[derive(Debug, Clone)]
pub struct Posted {
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub form: BTreeMap<String, String>,
    pub answer: Answer,
}

type Script = dyn Fn(&Posted, usize) -> Answer + Send + Sync;

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    log: Arc<Mutex<Vec<Posted>>>,
}

/// The running stand-in; it stops when dropped.
pub struct SmsGateway {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Posted>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SmsGateway {
    /// Answers the `n`th post (from 0) as `script` says; `Posted::answer`
    /// is not yet filled in when it is called.
    pub fn start(script: impl Fn(&Posted, usize) -> Answer + Send + Sync + 'static) -> SmsGateway {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let shared = Shared {
            script: Arc::new(script),
            log: Arc::default(),
        };
        let log = Arc::clone(&shared.log);
        let app = Router::new()
            .route("/{*path}", post(record))
            .with_state(shared);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
        });
        SmsGateway {
            addr,
            log,
            _stop: stop,
        }
    }

    /// Answers the posts in turn with `answers`, then [`Answer::Created`].
    pub fn scripted(answers: Vec<Answer>) -> SmsGateway {
        SmsGateway::start(move |_, n| answers.get(n).cloned().unwrap_or(Answer::Created))
    }

    /// Answers a post to each path of `routes` as it says, and to any
    /// other path with `otherwise`.
    pub fn by_path(routes: Vec<(&'static str, Answer)>, otherwise: Answer) -> SmsGateway {
        SmsGateway::start(move |post, _| {
            routes
                .iter()
                .find(|(path, _)| *path == post.path)
                .map_or_else(|| otherwise.clone(), |(_, answer)| answer.clone())
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every post so far, oldest first.
    pub fn posted(&self) -> Vec<Posted> {
        self.log.lock().expect("the log").clone()
    }

    /// The posts answered with a 200 at once: the messages it took.
    pub fn accepted(&self) -> Vec<Posted> {
        self.posted()
            .into_iter()
            .filter(|p| p.answer.accepted())
            .collect()
    }
}

async fn record(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut posted = Posted {
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form,
        answer: Answer::Created,
    };
    let answer = {
        let mut log = shared.log.lock().expect("the log");
        posted.answer = (shared.script)(&posted, log.len());
        log.push(posted.clone());
        posted.answer
    };
    match answer {
        Answer::Created => (
            StatusCode::OK,
            r#"{"status": "created", "id": "s17a6dafb12d6b1cabc053d57dac2b9d8", "parts": 1}"#,
        )
            .into_response(),
        Answer::Nonsense => (StatusCode::OK, "<<not json>>").into_response(),
        Answer::Status(code, body) => {
            (StatusCode::from_u16(code).expect("a status code"), body).into_response()
        }
        Answer::Redirect(to) => {
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            response.headers_mut().insert(
                "location",
                HeaderValue::from_str(&to).expect("a header value"),
            );
            response
        }
        Answer::Silent(how_long) => {
            tokio::time::sleep(how_long).await;
            (StatusCode::OK, "too late").into_response()
        }
    }
}
