//! Headless Chromium over the DevTools protocol: open a local file, read what it renders,
//! take screenshots. The system's Chromium is used (Debian's `chromium`); the test fails with
//! what to install when there is none, rather than passing without having looked.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// A browser with one tab showing a local file; the browser's profile is a fresh temporary
/// directory that goes away with it.
pub struct Page {
    _browser: Browser,
    pub tab: Arc<Tab>,
}

impl Page {
    pub fn open(file: &Path) -> Page {
        let path = headless_chrome::browser::default_executable().unwrap_or_else(|e| {
            panic!(
                "no Chromium to render the report in ({e}): install it with \
                 `apt-get install chromium` or run `.ci/run`, which does"
            )
        });
        // Nothing but the file is loaded: no background requests, no component updates.
        let args: Vec<&OsStr> = [
            "--disable-gpu",
            "--disable-quic",
            "--disable-component-update",
            "--no-default-browser-check",
            "--hide-scrollbars",
        ]
        .iter()
        .map(OsStr::new)
        .collect();
        let options = LaunchOptions::default_builder()
            .path(Some(path))
            .sandbox(false)
            .window_size(Some((WIDTH, HEIGHT)))
            .args(args)
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .expect("Chromium launch options");
        let browser = Browser::new(options).expect("start headless Chromium");
        let tab = browser.new_tab().expect("open a tab");
        tab.set_default_timeout(Duration::from_secs(60));
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        tab.navigate_to(&url)
            .and_then(|t| t.wait_until_navigated())
            .unwrap_or_else(|e| panic!("Chromium could not open {url}: {e}"));
        Page {
            _browser: browser,
            tab,
        }
    }

    /// The value of a JavaScript expression, as JSON (arrays and objects too: the page
    /// serializes it, since the protocol returns only primitives by value).
    pub fn eval(&self, expression: &str) -> serde_json::Value {
        let wrapped = format!("JSON.stringify(({expression}))");
        let result = self
            .tab
            .evaluate(&wrapped, false)
            .unwrap_or_else(|e| panic!("evaluate {expression}: {e}"));
        let json = match result.value {
            Some(serde_json::Value::String(json)) => json,
            _ => panic!("{expression} returned no value: {:?}", result.description),
        };
        serde_json::from_str(&json).expect("JSON.stringify returns JSON")
    }

    /// The text as rendered (CSS applied, hidden parts left out), not the source.
    pub fn rendered_text(&self) -> String {
        self.eval("document.body.innerText")
            .as_str()
            .expect("innerText is a string")
            .to_string()
    }

    /// A PNG of what the window shows.
    pub fn screenshot(&self) -> Vec<u8> {
        self.tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("take a screenshot")
    }

    /// Render as for `media` (`screen`, `print`) with the user's colour preference `scheme`.
    pub fn emulate(&self, media: &str, scheme: &str) {
        self.tab
            .call_method(Emulation::SetEmulatedMedia {
                media: Some(media.to_string()),
                features: Some(vec![Emulation::MediaFeature {
                    name: "prefers-color-scheme".into(),
                    value: scheme.into(),
                }]),
            })
            .expect("emulate media");
    }
}

/// A PNG's width and height, from its header.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}
