//! The proxy test: Debian's nginx, with the shipped site
//! (deploy/nginx/consent-collector.conf, only its marked lines changed),
//! terminating TLS in front of a real `consent-portal serve` that trusts
//! it (`trusted_proxies = ["127.0.0.1"]`). Clients are curl processes on
//! distinct loopback source addresses (127.0.0.2, 127.0.0.3, ...), so each
//! is a different customer as far as nginx can tell.
//!
//! The promises: decisions posted through nginx are stored; the rate limit
//! counts each real client, not nginx; a client's forged X-Forwarded-For
//! does not move it to another bucket; and a client that reaches the
//! collector directly is keyed on its own address, whatever it forwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use consent_portal::collector::Inbox;
use consent_portal::token::Decision;
use consent_testkit::tools::{require, Tool};

use super::serve_process::{setup_with, Server, Setup};
use super::{certificate, free_port, main_config, nginx_site, site_for_test, Nginx};
use super::{Substitutions, HOST};

/// Decisions accepted per minute from one client: small, so that a client
/// runs out within the test (the bucket refills one every 20 s).
const PER_MINUTE: i64 = 3;

/// The parts of an answer a test looks at.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: String,
}

/// Runs curl with `args` from source address `from`; the answer's status
/// and headers.
fn curl(dir: &Path, from: &str, args: &[String]) -> Answer {
    let headers_file = dir.join(format!("headers-{from}.txt"));
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(["--interface", from])
        .arg("--output")
        .arg("/dev/null")
        .arg("--dump-header")
        .arg(&headers_file)
        .args(["--write-out", "%{http_code}"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    let status = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(
        out.status.success() && status != 0,
        "curl {args:?} from {from}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Answer {
        status,
        headers: std::fs::read_to_string(&headers_file).unwrap_or_default(),
    }
}

/// The test's world: the collector, nginx in front of it, the certificate.
struct World {
    setup: Setup,
    server: Server,
    _nginx: Nginx,
    nginx_dir: PathBuf,
    cert: PathBuf,
    http_port: u16,
    https_port: u16,
}

impl World {
    fn start() -> World {
        let setup = setup_with("deploy-proxy", |collector| {
            collector.insert("trusted_proxies".into(), vec!["127.0.0.1"].into());
            collector.insert("per_address_per_minute".into(), PER_MINUTE.into());
        });
        let server = Server::start(&setup);
        let nginx_dir = setup.dir.folder("nginx");
        let (cert, key) = certificate(&nginx_dir);
        let (http_port, https_port) = (free_port(), free_port());
        let shipped = std::fs::read_to_string(nginx_site()).expect("read the site");
        let site = nginx_dir.join("consent-collector.conf");
        let upstream = server.addr.to_string();
        let substituted = site_for_test(
            &shipped,
            &Substitutions {
                http_port,
                https_port,
                certificate: &cert,
                key: &key,
                upstream: &upstream,
            },
        );
        std::fs::write(&site, substituted).expect("write site");
        let config = main_config(&nginx_dir, &site);
        let nginx = Nginx::start(&nginx_dir, &config, https_port);
        World {
            setup,
            server,
            _nginx: nginx,
            nginx_dir,
            cert,
            http_port,
            https_port,
        }
    }

    /// A press of `request_id`'s approve button by the customer at `from`,
    /// over HTTPS through nginx, with any extra curl arguments.
    fn press_through_nginx(&self, from: &str, request_id: i64, extra: &[&str]) -> Answer {
        let token = self.setup.token(Decision::Approve, request_id, 3600);
        let mut args = vec![
            "--cacert".to_owned(),
            self.cert.display().to_string(),
            "--resolve".to_owned(),
            format!("{HOST}:{}:127.0.0.1", self.https_port),
            "--data".to_owned(),
            format!("token={token}"),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args.push(format!("https://{HOST}:{}/decision", self.https_port));
        curl(&self.nginx_dir, from, &args)
    }

    /// The same press straight to the collector, past nginx.
    fn press_directly(&self, from: &str, request_id: i64, forwarded_for: &str) -> Answer {
        let token = self.setup.token(Decision::Approve, request_id, 3600);
        let args = vec![
            "--header".to_owned(),
            format!("X-Forwarded-For: {forwarded_for}"),
            "--data".to_owned(),
            format!("token={token}"),
            format!("http://{}/decision", self.server.addr),
        ];
        curl(&self.nginx_dir, from, &args)
    }

    /// The request ids in the collector's inbox.
    fn stored(&self) -> Vec<i64> {
        let inbox = Inbox::open_read_only(&self.setup.inbox).expect("open the inbox");
        let mut ids: Vec<i64> = inbox
            .since(0, 1000)
            .expect("read the inbox")
            .iter()
            .map(|d| d.request_id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// nginx's and the collector's logs, for a failure message.
    fn logs(&self) -> String {
        format!(
            "--- nginx\n{}\n--- serve\n{}",
            std::fs::read_to_string(self.nginx_dir.join("error.log")).unwrap_or_default(),
            self.setup.log()
        )
    }
}

#[test]
fn behind_nginx_the_rate_limit_counts_each_real_client_and_forged_headers_change_nothing() {
    if !require(&[Tool::Nginx, Tool::Curl, Tool::Openssl]) {
        return;
    }
    let world = World::start();

    // Client .2 uses up its quota through nginx; each press is stored.
    for request_id in 1..=PER_MINUTE {
        let answer = world.press_through_nginx("127.0.0.2", request_id, &[]);
        assert_eq!(answer.status, 303, "press {request_id}: {}", world.logs());
        assert!(
            answer
                .headers
                .to_ascii_lowercase()
                .contains("strict-transport-security: max-age="),
            "no HSTS through nginx: {}",
            answer.headers
        );
    }
    let quota: Vec<i64> = (1..=PER_MINUTE).collect();
    assert_eq!(world.stored(), quota, "{}", world.logs());
    let answer = world.press_through_nginx("127.0.0.2", 100, &[]);
    assert_eq!(
        answer.status,
        429,
        "client .2 is over its quota: {}",
        world.logs()
    );

    // Forging X-Forwarded-For does not get it out of its bucket: nginx
    // appends the address it saw, and the collector reads from the right.
    for forged in ["127.0.0.9", "127.0.0.1", "127.0.0.9, 127.0.0.1", "garbage"] {
        let header = format!("X-Forwarded-For: {forged}");
        let answer = world.press_through_nginx("127.0.0.2", 101, &["--header", &header]);
        assert_eq!(
            answer.status,
            429,
            "client .2 forging {forged:?}: {}",
            world.logs()
        );
    }

    // Client .3 is another customer, with a quota of its own.
    let answer = world.press_through_nginx("127.0.0.3", 200, &[]);
    assert_eq!(
        answer.status,
        303,
        "client .3 after .2 ran out: {}",
        world.logs()
    );
    assert!(world.stored().contains(&200));
    assert!(!world.stored().contains(&100) && !world.stored().contains(&101));

    // Straight to the collector, from an address that is not a trusted
    // proxy: its X-Forwarded-For is ignored, so naming a new address on
    // every press does not give it a new quota.
    for n in 0..PER_MINUTE {
        let forged = format!("127.0.1.{n}");
        let answer = world.press_directly("127.0.0.4", 300 + n, &forged);
        assert_eq!(answer.status, 303, "direct press {n}: {}", world.logs());
    }
    let answer = world.press_directly("127.0.0.4", 399, "127.0.1.99");
    assert_eq!(
        answer.status,
        429,
        "a direct client forging X-Forwarded-For got a fresh quota: {}",
        world.logs()
    );

    // http:// is only a redirect to https://.
    let answer = curl(
        &world.nginx_dir,
        "127.0.0.5",
        &[
            "--resolve".to_owned(),
            format!("{HOST}:{}:127.0.0.1", world.http_port),
            format!("http://{HOST}:{}/thanks.html", world.http_port),
        ],
    );
    assert_eq!(answer.status, 301, "{}", answer.headers);
    assert!(
        answer
            .headers
            .to_ascii_lowercase()
            .contains(&format!("location: https://{HOST}/thanks.html")),
        "{}",
        answer.headers
    );
}
