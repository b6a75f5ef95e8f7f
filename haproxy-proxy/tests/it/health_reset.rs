//! Servers whose peer accepts and at once resets (SO_LINGER 0): a connect-only check stays UP,
//! and content checks go DOWN with HAProxy 2.6.12's reason and text
//! (tests/data/haproxy-2.6/health-reset-lines.txt; the tcp-check text depends on whether the
//! RST beats the connect's confirmation, in HAProxy as in ours, so both recorded forms pass).

use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::build::runtime;
use crate::support::{Served, WAIT, mask_duration};

const RECORDED: &str = include_str!("../data/haproxy-2.6/health-reset-lines.txt");
/// How long the connect-only server is watched for a DOWN line (ten checks).
const WATCH: Duration = Duration::from_millis(1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resetting_peer_is_down_for_content_checks_and_up_for_connect_checks() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let peer = tokio::spawn(async move {
        for _ in 0..1000 {
            let Ok(Ok((s, _))) = tokio::time::timeout(WAIT, l.accept()).await else {
                return;
            };
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        }
    });
    let rt = runtime(&format!(
        "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n timeout check 300ms\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend plain\n\
         backend plain\n server s 127.0.0.1:{port} check inter 100 rise 1 fall 1\n\
         backend tcp\n option tcp-check\n tcp-check expect string x\n server s 127.0.0.1:{port} check inter 100 rise 1 fall 1\n\
         backend http\n option httpchk GET /\n server s 127.0.0.1:{port} check inter 100 rise 1 fall 1\n"
    ))
    .unwrap();
    let px = Served::start(rt);

    let recorded = |prefix: &str| -> String {
        mask_duration(
            RECORDED
                .lines()
                .find(|l| l.starts_with(prefix))
                .expect("recorded line"),
        )
    };
    // The other form HAProxy gives when the connect is confirmed before the RST arrives
    // (haproxy-check's reset-messages.txt).
    let tcp_forms = [
        recorded("Server tcp/s is DOWN"),
        recorded("Server tcp/s is DOWN")
            .replace("Layer4 connection problem", "Socket error")
            .replace(
                "at initial connection step of tcp-check",
                "at step 1 of tcp-check (expect string 'x')",
            ),
    ];
    let started = Instant::now();
    let (mut tcp, mut http) = (None, None);
    while tcp.is_none() || http.is_none() || started.elapsed() < WATCH {
        for (_, l) in px.log.lines() {
            if l.starts_with("Server tcp/s is DOWN") {
                tcp.get_or_insert(mask_duration(&l));
            }
            if l.starts_with("Server http/s is DOWN") {
                http.get_or_insert(mask_duration(&l));
            }
            assert!(!l.starts_with("Server plain/s is DOWN"), "{l}");
        }
        assert!(started.elapsed() < WAIT, "{:#?}", px.log.lines());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let tcp = tcp.unwrap();
    assert!(tcp_forms.contains(&tcp), "{tcp}\nnot one of {tcp_forms:#?}");
    assert_eq!(http.unwrap(), recorded("Server http/s is DOWN"));

    px.stop().await;
    peer.abort();
}
