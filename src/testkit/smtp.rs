//! A real SMTP server for tests: `scripts/smtp-sink.py` (aiosmtpd) in a child process
//! on 127.0.0.1, keeping each message it receives in a temp folder. [`SmtpSink`]
//! starts it, reads the messages back as Python's e-mail parser decoded them (an
//! independent reading of what `lettre` wrote) and stops it on drop; the script also
//! stops by itself when its stdin closes, so a killed test leaves no server behind.
//!
//! A recipient whose local part is `reject-permanent` is refused with 550, and
//! `reject-transient` with 451. For "the SMTP server is down at first", take a port
//! with [`reserve_port`], configure the sender with it, and [`SmtpSink::start_on`]
//! that port later.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

const STARTUP: Duration = Duration::from_secs(20);

/// One message as the sink received it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ReceivedMail {
    /// MAIL FROM.
    pub envelope_from: String,
    /// RCPT TO, every accepted one.
    pub envelope_to: Vec<String>,
    pub from: String,
    pub to: String,
    /// Decoded from RFC 2047.
    pub subject: String,
    pub message_id: String,
    pub content_language: String,
    pub content_type: String,
    /// Every header, decoded, in order.
    pub headers: Vec<(String, String)>,
    /// The text/plain body, decoded to UTF-8 (line ends as `\n`).
    pub body: String,
    /// The attached files (text and application types), decoded.
    #[serde(default)]
    pub attachments: Vec<MailAttachment>,
}

/// One attached file as the sink decoded it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    /// Its content as text (JSON is `application/json`).
    pub content: String,
}

impl ReceivedMail {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running `scripts/smtp-sink.py`.
pub struct SmtpSink {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    folder: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> SmtpSink {
        SmtpSink::start_on(0)
    }

    /// Starts a sink on `port` (0: a free one). Panics if it cannot (aiosmtpd not
    /// installed, the port taken), with the script's own words.
    pub fn start_on(port: u16) -> SmtpSink {
        let python = python();
        let folder = tempfile::tempdir().expect("a temp folder for the SMTP sink");
        let ready = folder.path().join("ready");
        let messages = folder.path().join("messages");
        let log = std::fs::File::create(folder.path().join("sink.log")).expect("the sink's log");
        let mut child = Command::new(&python)
            .arg(crate_root().join("scripts/smtp-sink.py"))
            .arg("--dir")
            .arg(&messages)
            .arg("--ready")
            .arg(&ready)
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take();
        let started = Instant::now();
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break text
                    .trim()
                    .parse::<u16>()
                    .expect("the sink writes its port");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "smtp-sink.py exited ({status}) before it was ready:\n{}",
                    read_log(folder.path())
                );
            }
            if started.elapsed() > STARTUP {
                let _ = child.kill();
                panic!(
                    "smtp-sink.py was not ready within {STARTUP:?}:\n{}",
                    read_log(folder.path())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        SmtpSink {
            child,
            stdin,
            port,
            folder,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`, for `Mailer::from_url` and `--smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let folder = self.folder.path().join("messages");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("a message record");
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}: {text}", p.display()))
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived and returns them all; panics after
    /// `timeout` with those that did.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if started.elapsed() > timeout {
                let subjects: Vec<_> = messages.iter().map(|m| &m.subject).collect();
                panic!(
                    "{} of {n} messages arrived within {timeout:?}: {subjects:?}\nsink log:\n{}",
                    messages.len(),
                    read_log(self.folder.path())
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin asks the script to stop; kill it if it does not.
        drop(self.stdin.take());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bound, read, released), for a server that is
/// to start later on a port known in advance.
pub fn reserve_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python, checked to import aiosmtpd. No silent skip: without it the
/// test fails and says how to install it.
fn python() -> PathBuf {
    let python = crate_root().join(".tools/venv/bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !imports {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        panic!(
            "aiosmtpd is not installed in {} (the SMTP server of the notification tests){}: \
             run scripts/tools.sh",
            python.display(),
            if ci {
                ", and CI=true allows no skip"
            } else {
                ""
            }
        );
    }
    python
}

fn read_log(folder: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(folder.join("sink.log")) {
        let _ = f.read_to_string(&mut text);
    }
    text
}
