//! The dashboard in headless Chromium over WebDriver: sign-in, the fleet,
//! a digest's evidence chain with SBOM search, a service's chart, and
//! search by advisory; screenshots of the fleet and digest pages are kept
//! in `target/test-artifacts/`.

use std::path::PathBuf;

use customs_test::webdriver::Browser;

use crate::common::example_ref;
use crate::ledger::Home;
use crate::serve::{Server, free_port};

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
}

#[test]
fn the_dashboard_in_chromium() {
    let home = Home::new(&[]);
    let example = example_ref();
    home.ok(&["scan", &example, "-q"]);
    home.ok(&["gate", &example, "--env", "dev", "-q"]);
    let digest = home.ok(&["digest", &example]).trim().to_owned();
    home.ok(&[
        "deploy",
        "record",
        "--env",
        "prod",
        "--service",
        "shop",
        &format!("registry.example/shop/app@{digest}"),
    ]);
    let token = home
        .ok(&["token", "create", "--scope", "read", "--name", "browser"])
        .trim()
        .to_owned();
    let server = Server::start(&home, free_port(), &["--workers", "0"]);
    let base = format!("http://{}", server.addr);
    let browser = Browser::start();

    // Not signed in: the form; a token signs in and returns to the fleet.
    browser.go(&format!("{base}/ui"));
    assert!(browser.url().contains("/ui/login"), "{}", browser.url());
    let field = browser.find("input#token");
    browser.type_into(&field, &token);
    browser.click(&browser.find("form button[type=submit]"));
    browser.wait_url(|u| u == format!("{base}/ui"));
    assert_eq!(browser.title(), "Fleet · customs");
    let text = browser.page_text();
    assert!(text.contains("prod: what runs now"), "{text}");
    assert!(text.contains("shop") && text.contains("Sign out"), "{text}");
    browser.screenshot(&artifacts().join("dashboard-fleet.png"));

    // The digest's page, from the fleet's link.
    browser.click(&browser.find("td a.digest"));
    browser.wait_url(|u| u == format!("{base}/ui/images/{digest}"));
    let text = browser.page_text();
    for part in [
        "Gate decisions",
        "Vulnerabilities by severity",
        "zlib1g",
        "History",
        &digest,
    ] {
        assert!(text.contains(part), "{part} missing: {text}");
    }
    browser.screenshot(&artifacts().join("dashboard-image.png"));
    // SBOM search narrows the packages.
    let field = browser.find("input#sbom-q");
    browser.type_into(&field, "zlib");
    browser.click(&browser.find("form.search button"));
    browser.wait_url(|u| u.ends_with("?q=zlib"));
    let captions: Vec<String> = browser
        .find_all("table caption")
        .iter()
        .map(|c| browser.text(c))
        .collect();
    let caption = captions
        .into_iter()
        .find(|c| c.contains("packages"))
        .unwrap();
    assert!(caption.starts_with("1 of "), "{caption}");

    // The service's findings over time: a chart with an accessible title.
    browser.go(&format!("{base}/ui/services/shop?env=prod"));
    assert!(browser.find_all("svg[role=img] title").len() == 1);

    // Search by advisory: the running digest is affected.
    browser.go(&format!("{base}/ui/search"));
    let field = browser.find("input#q");
    browser.type_into(&field, "CVE-2023-45853");
    browser.click(&browser.find("form.search button"));
    browser.wait_url(|u| u.contains("q=CVE-2023-45853"));
    let text = browser.page_text();
    assert!(text.contains("Images CVE-2023-45853 affects"), "{text}");
    assert!(text.contains("prod/shop"), "{text}");
    // And by package.
    browser.go(&format!(
        "{base}/ui/search?q=zlib1g%40%3C1%3A1.2.13.dfsg-2&deployed=1"
    ));
    assert!(browser.page_text().contains("prod/shop"));

    // Sign out: the pages ask again.
    browser.go(&format!("{base}/ui"));
    browser.click(&browser.find("header form button"));
    browser.wait_url(|u| u.contains("/ui/login"));
    browser.go(&format!("{base}/ui"));
    assert!(browser.url().contains("/ui/login"));
    drop(browser);
    let log = server.stop();
    assert!(!log.contains(&token[4..]), "the token in the log");
}
