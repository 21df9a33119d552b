//! Headless Chromium over WebDriver (Debian's `chromium` and
//! `chromium-driver`), for the dashboard's tests: start a session, open
//! pages, find elements by CSS, type, click, read text, take screenshots.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http;

/// The W3C element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver with one headless Chromium session; both stopped on drop.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    #[must_use]
    pub fn start() -> Self {
        crate::registry::require("chromedriver", "chromium-driver");
        crate::registry::require("chromium", "chromium");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Chromium writes its crash reports and caches under the home and
        // XDG folders: all of them in the session's own folder, never the
        // caller's.
        let profile = tempfile::tempdir().unwrap();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("HOME", profile.path())
            .env("XDG_CONFIG_HOME", profile.path().join("config"))
            .env("XDG_CACHE_HOME", profile.path().join("cache"))
            .env("XDG_DATA_HOME", profile.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (status, session) = http::json(
            &addr,
            "POST",
            "/session",
            None,
            Some(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display())],
                },
            }}})),
        );
        assert_eq!(status, 200, "no WebDriver session: {session}");
        let session = session["value"]["sessionId"].as_str().unwrap().to_owned();
        Self {
            driver,
            addr,
            session,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, value) = http::json(
            &self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            None,
            Some(body.unwrap_or(&json!({}))),
        );
        assert_eq!(status, 200, "WebDriver {method} {path}: {value}");
        value["value"].clone()
    }

    /// Opens `url`.
    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({"url": url})));
    }

    /// The current URL.
    #[must_use]
    pub fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// Waits (up to 30 s) until the current URL satisfies `done`, for a
    /// navigation a click started; the URL then.
    pub fn wait_url(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.url();
            if done(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "still at {url}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page's title.
    #[must_use]
    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The elements matching `css`.
    #[must_use]
    pub fn find_all(&self, css: &str) -> Vec<String> {
        self.call(
            "POST",
            "/elements",
            Some(&json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[ELEMENT].as_str().unwrap().to_owned())
        .collect()
    }

    /// The first element matching `css`.
    #[must_use]
    pub fn find(&self, css: &str) -> String {
        self.find_all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches `{css}` on {}", self.url()))
    }

    /// An element's visible text.
    #[must_use]
    pub fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An element's attribute.
    #[must_use]
    pub fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
            .as_str()
            .map(str::to_owned)
    }

    /// Types `text` into an element.
    pub fn type_into(&self, element: &str, text: &str) {
        self.call("POST", &format!("/element/{element}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(&json!({"text": text})),
        );
    }

    /// Clicks an element.
    pub fn click(&self, element: &str) {
        self.call("POST", &format!("/element/{element}/click"), None);
    }

    /// The visible text of the whole page.
    #[must_use]
    pub fn page_text(&self) -> String {
        let body = self.find("body");
        self.text(&body)
    }

    /// Saves a PNG screenshot of the page at `path`.
    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine as _;
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).unwrap();
        }
        fs_err::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http::request(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            b"",
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
