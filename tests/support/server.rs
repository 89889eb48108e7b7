//! The fixture package index: a small HTTP/1.1 server (std `TcpListener`, one thread per
//! connection, keep-alive) serving PEP 503 / PEP 691 pages, files with byte ranges, PEP 658
//! metadata, a request log and injectable faults.
//!
//! Routes: `/simple/` (project list), `/simple/<normalised-name>/` (other spellings get a 301
//! to it, unknown projects a 404), `/files/<filename>` and `/files/<filename>.metadata`.

use super::dist::{Built, normalize, sha256_hex, wheel_metadata};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

const JSON: &str = "application/vnd.pypi.simple.v1+json";
const V1_HTML: &str = "application/vnd.pypi.simple.v1+html";
const TEXT_HTML: &str = "text/html";
/// How often idle connection threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// One file of a project as the index lists it.
#[derive(Clone, Debug)]
pub struct IndexFile {
    pub built: Built,
    /// `requires-python` / `data-requires-python`.
    pub requires_python: Option<String>,
    /// PEP 592: `None` = not yanked, `Some("")` = yanked without reason, `Some(r)` = with reason.
    pub yanked: Option<String>,
    /// PEP 658/714: serve `<file>.metadata` (the wheel's `METADATA`) and advertise it.
    pub serve_metadata: bool,
    /// PEP 700 `upload-time`, e.g. `"2024-01-02T03:04:05.000000Z"` (JSON pages only).
    pub upload_time: Option<String>,
}

impl From<Built> for IndexFile {
    fn from(built: Built) -> Self {
        IndexFile {
            built,
            requires_python: None,
            yanked: None,
            serve_metadata: false,
            upload_time: None,
        }
    }
}

impl IndexFile {
    /// Sets `requires-python`.
    pub fn requires_python(mut self, specifier: &str) -> Self {
        self.requires_python = Some(specifier.into());
        self
    }

    /// Marks the file yanked (`""` = without a reason).
    pub fn yanked(mut self, reason: &str) -> Self {
        self.yanked = Some(reason.into());
        self
    }

    /// Serves and advertises PEP 658 metadata (wheels only).
    pub fn with_metadata(mut self) -> Self {
        self.serve_metadata = true;
        self
    }

    /// Sets `upload-time`.
    pub fn upload_time(mut self, time: &str) -> Self {
        self.upload_time = Some(time.into());
        self
    }
}

/// Which representation the project pages use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFormat {
    /// Always PEP 691 JSON.
    Json,
    /// Always PEP 503 HTML (`text/html`).
    Html,
    /// Negotiate on `Accept` like PyPI: highest q wins, ties and no `Accept` go to `text/html`.
    Both,
}

/// A misbehaviour for the paths given to [`FixtureIndex::set_fault`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status (short text body) the given number of times, then behave normally.
    Status(u16, u32),
    /// Ignore `Range`: answer 200 with the whole body.
    IgnoreRange,
    /// Answer ranges with the right bytes but a `Content-Range` whose start, end and total are
    /// each one too high.
    WrongContentRange,
    /// Send the headers and half the body, then reset the connection (TCP RST).
    ResetMidBody,
    /// Read the request and never answer (until the client or the server goes away).
    /// Logged at once with status 0.
    Hang,
    /// Send the headers (full `Content-Length`) and only this many body bytes, then close.
    TruncateBody(usize),
    /// Serve these bytes instead of the body of a page or file that exists (`Content-Length`
    /// and ranges follow them; the hashes on the pages do not).
    BodyOverride(Vec<u8>),
    /// Answer `302 Found` with this `Location` (absolute, or relative to the request), every
    /// time: pointing a path at itself, or two paths at each other, makes a redirect loop.
    RedirectTo(String),
    /// Answer normally after this pause (logged when the answer starts, after it).
    Delay(std::time::Duration),
    /// Like [`Fault::Delay`], only for a range request starting at this byte (`bytes=a-…`):
    /// one member of a file is slow, the rest of it is not.
    DelayRangeFrom(u64, std::time::Duration),
}

/// One request as the server saw it, logged when its response starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// The request target as sent (still percent-encoded, query included).
    pub path: String,
    /// All request headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// Status answered; 0 if none was (a [`Fault::Hang`]).
    pub status: u16,
    /// Body bytes the server set out to send (headers not counted).
    pub bytes_sent: usize,
    /// When the request had been read, and when its answer started (after any delay): two
    /// requests whose spans overlap were open at the same time.
    pub received: std::time::Instant,
    pub answered: std::time::Instant,
}

impl Logged {
    /// The first value of a header, by case-insensitive name (`"range"`, `"accept"`,
    /// `"authorization"`, `"if-none-match"`, …).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running fixture index on `127.0.0.1:<random port>`; dropping it stops the server and
/// joins its threads.
pub struct FixtureIndex {
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

struct Project {
    name: String,
    files: Vec<IndexFile>,
}

struct State {
    addr: SocketAddr,
    format: PageFormat,
    /// Normalised name → project.
    projects: BTreeMap<String, Project>,
    /// File name → (bytes, PEP 658 metadata if served).
    files: BTreeMap<String, (Vec<u8>, Option<Vec<u8>>)>,
    absolute_urls: AtomicBool,
    log: Mutex<Vec<Logged>>,
    faults: Mutex<Vec<(String, Fault)>>,
    stop: AtomicBool,
}

impl FixtureIndex {
    /// Starts serving `projects` (display name, files); file names must be unique.
    pub fn start(projects: Vec<(&str, Vec<IndexFile>)>, format: PageFormat) -> FixtureIndex {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut files = BTreeMap::new();
        let mut by_name = BTreeMap::new();
        for (name, list) in projects {
            for f in &list {
                let metadata = f.serve_metadata.then(|| {
                    wheel_metadata(&f.built.bytes)
                        .unwrap_or_else(|| panic!("no .dist-info/METADATA in {}", f.built.filename))
                });
                let old = files.insert(f.built.filename.clone(), (f.built.bytes.clone(), metadata));
                assert!(old.is_none(), "duplicate file {}", f.built.filename);
            }
            by_name.insert(
                normalize(name),
                Project {
                    name: name.into(),
                    files: list,
                },
            );
        }
        let state = Arc::new(State {
            addr: listener.local_addr().unwrap(),
            format,
            projects: by_name,
            files,
            absolute_urls: AtomicBool::new(false),
            log: Mutex::default(),
            faults: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let st = state.clone();
        let acceptor = thread::spawn(move || {
            let mut conns: Vec<JoinHandle<()>> = vec![];
            for stream in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                conns.retain(|c| !c.is_finished());
                let st = st.clone();
                conns.push(thread::spawn(move || serve_connection(&st, stream)));
            }
            for c in conns {
                let _ = c.join();
            }
        });
        FixtureIndex {
            state,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/simple/`
    pub fn simple_url(&self) -> String {
        format!("http://{}/simple/", self.state.addr)
    }

    /// `http://127.0.0.1:PORT/files/<filename>`
    pub fn file_url(&self, filename: &str) -> String {
        format!("http://{}/files/{filename}", self.state.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.state.addr
    }

    /// Pages link files by absolute URL instead of the default relative `../../files/<name>`.
    pub fn set_absolute_urls(&self, absolute: bool) {
        self.state.absolute_urls.store(absolute, Ordering::SeqCst);
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// Forgets the logged requests.
    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// Injects `fault` for paths starting with `path_prefix` (e.g. `"/files/"`,
    /// `"/simple/foo/"`); the latest matching fault wins.
    pub fn set_fault(&self, path_prefix: &str, fault: Fault) {
        self.state
            .faults
            .lock()
            .unwrap()
            .push((path_prefix.into(), fault));
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        self.state.faults.lock().unwrap().clear();
    }
}

impl Drop for FixtureIndex {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.state.addr); // wakes the acceptor
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A response before it is written.
struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.into())],
            body: body.into(),
        }
    }

    fn text(status: u16) -> Self {
        let mut r = Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{status} {}\n", reason(status)),
        );
        if status == 401 {
            r.headers
                .push(("WWW-Authenticate", "Basic realm=\"fixture\"".into()));
        }
        r
    }

    fn redirect(location: String) -> Self {
        let mut r = Response::text(301);
        r.headers.push(("Location", location));
        r
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    close: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn serve_connection(state: &State, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(req) = read_request(state, &mut stream, &mut buf) {
        let Some(req) = req else {
            let bad = Response::text(400);
            write_response(&mut stream, &bad, bad.body.len(), true);
            return;
        };
        let path = req.target.split('?').next().unwrap_or_default().to_string();
        let fault = state.take_fault(&path);
        let mut entry = Logged {
            method: req.method.clone(),
            path: req.target.clone(),
            headers: req.headers.clone(),
            status: 0,
            bytes_sent: 0,
            received: std::time::Instant::now(),
            answered: std::time::Instant::now(),
        };
        if fault == Some(Fault::Hang) {
            state.log.lock().unwrap().push(entry);
            while read_some(state, &mut stream, &mut buf) {}
            return;
        }
        match fault {
            Some(Fault::Delay(pause)) => std::thread::sleep(pause),
            Some(Fault::DelayRangeFrom(offset, pause))
                if range_start(req.header("range")) == Some(offset) =>
            {
                std::thread::sleep(pause)
            }
            _ => {}
        }
        let resp = state.respond(&req, &path, fault.as_ref());
        let len = resp.body.len();
        let sent = match fault {
            _ if req.method == "HEAD" || resp.status == 304 => 0,
            Some(Fault::TruncateBody(n)) => n.min(len),
            Some(Fault::ResetMidBody) => len / 2,
            _ => len,
        };
        // Logged before writing, so a client that got the whole answer always finds it.
        (entry.status, entry.bytes_sent) = (resp.status, sent);
        entry.answered = std::time::Instant::now();
        state.log.lock().unwrap().push(entry);
        let ok = write_response(&mut stream, &resp, sent, req.close);
        match fault {
            Some(Fault::ResetMidBody) => return reset(&stream),
            Some(Fault::TruncateBody(_)) => return,
            _ if !ok || req.close => return,
            _ => {}
        }
    }
}

/// Reads more bytes into `buf`; false on EOF, error or server stop.
fn read_some(state: &State, stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    loop {
        if state.stop.load(Ordering::SeqCst) {
            return false;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
}

/// The next request on the connection: `None` when it is over, `Some(None)` if malformed.
fn read_request(
    state: &State,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Option<Option<Request>> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 || !read_some(state, stream, buf) {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end + 4);
    let mut lines = head.split("\r\n");
    let parts: Vec<&str> = lines.next()?.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Some(None);
    };
    let mut headers = vec![];
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Some(None);
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut req = Request {
        method: method.into(),
        target: target.into(),
        headers,
        close: false,
    };
    let connection = req
        .header("connection")
        .unwrap_or_default()
        .to_ascii_lowercase();
    req.close = connection.contains("close")
        || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
    // Discard a request body, if any.
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        if !read_some(state, stream, buf) {
            return None;
        }
    }
    buf.drain(..len);
    Some(Some(req))
}

/// Writes the status line, headers (`Content-Length` of the whole body) and the first `sent`
/// body bytes; false on a write error.
fn write_response(stream: &mut TcpStream, resp: &Response, sent: usize, close: bool) -> bool {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    if resp.status != 304 {
        head += &format!("Content-Length: {}\r\n", resp.body.len());
    }
    for (name, value) in &resp.headers {
        head += &format!("{name}: {value}\r\n");
    }
    if close {
        head += "Connection: close\r\n";
    }
    head += "\r\n";
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(&resp.body[..sent]).is_ok()
}

/// Makes the coming close send a TCP RST instead of a FIN (SO_LINGER with a zero timeout).
#[cfg(target_os = "linux")]
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    let linger = Linger {
        onoff: 1,
        linger: 0,
    };
    // SAFETY: a valid socket descriptor and a pointer to a live `struct linger` of that size.
    unsafe { setsockopt(stream.as_raw_fd(), SOL_SOCKET, SO_LINGER, &linger, 8) };
}

#[cfg(not(target_os = "linux"))]
fn reset(stream: &TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

impl State {
    /// The fault for `path`, if any; counts down [`Fault::Status`].
    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap();
        let i = faults
            .iter()
            .rposition(|(prefix, _)| path.starts_with(prefix.as_str()))?;
        let fault = faults[i].1.clone();
        if let Fault::Status(code, times) = fault {
            if times <= 1 {
                faults.remove(i);
            } else {
                faults[i].1 = Fault::Status(code, times - 1);
            }
            if times == 0 {
                return None;
            }
        }
        Some(fault)
    }

    fn respond(&self, req: &Request, path: &str, fault: Option<&Fault>) -> Response {
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            let mut r = Response::text(405);
            r.headers.push(("Allow", "GET, HEAD".into()));
            return r;
        }
        if let Some(&Fault::Status(code, _)) = fault {
            return Response::text(code);
        }
        if let Some(Fault::RedirectTo(location)) = fault {
            let mut r = Response::text(302);
            r.headers.push(("Location", location.clone()));
            return r;
        }
        let path = percent_decode(path);
        let (mut resp, is_file) = match path.strip_prefix("/files/") {
            Some(name) => (self.file(name), true),
            None => (self.page(&path, req.header("accept")), false),
        };
        if resp.status != 200 {
            return resp;
        }
        if let Some(Fault::BodyOverride(body)) = fault {
            resp.body = body.clone();
        }
        let etag = format!("\"{}\"", &sha256_hex(&resp.body)[..32]);
        if req
            .header("if-none-match")
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
        {
            return Response {
                status: 304,
                headers: vec![("ETag", etag)],
                body: vec![],
            };
        }
        resp.headers.push(("ETag", etag));
        if is_file {
            resp.headers.push(("Accept-Ranges", "bytes".into()));
            if let Some(range) = req.header("range")
                && fault != Some(&Fault::IgnoreRange)
            {
                resp = apply_range(resp, range, fault == Some(&Fault::WrongContentRange));
            }
        }
        resp
    }

    fn file(&self, name: &str) -> Response {
        let found = match name.strip_suffix(".metadata") {
            Some(dist) => self.files.get(dist).and_then(|(_, m)| m.as_ref()),
            None => self.files.get(name).map(|(bytes, _)| bytes),
        };
        match found {
            Some(bytes) => Response::new(200, "application/octet-stream", bytes.clone()),
            None => Response::text(404),
        }
    }

    fn page(&self, path: &str, accept: Option<&str>) -> Response {
        let Some(rest) = path.strip_prefix("/simple") else {
            return Response::text(404);
        };
        let content_type = match self.format {
            PageFormat::Json => JSON,
            PageFormat::Html => TEXT_HTML,
            PageFormat::Both => negotiate(accept),
        };
        let json = content_type == JSON;
        let html_type = if content_type == TEXT_HTML {
            "text/html; charset=utf-8"
        } else {
            V1_HTML
        };
        let mut resp = match rest {
            "" => return Response::redirect("/simple/".into()),
            "/" if json => {
                let projects: Vec<Value> = self
                    .projects
                    .values()
                    .map(|p| json!({ "name": p.name }))
                    .collect();
                let page = json!({ "meta": { "api-version": "1.1" }, "projects": projects });
                Response::new(200, JSON, page.to_string())
            }
            "/" => {
                let links: String = (self.projects.iter())
                    .map(|(n, p)| {
                        format!("    <a href=\"/simple/{n}/\">{}</a><br />\n", esc(&p.name))
                    })
                    .collect();
                Response::new(200, html_type, html_doc("Simple index", &links))
            }
            _ => {
                let Some(name) = rest.strip_prefix('/') else {
                    return Response::text(404);
                };
                let (name, slash) = name.strip_suffix('/').map_or((name, false), |n| (n, true));
                if name.contains('/') {
                    return Response::text(404);
                }
                if !slash || normalize(name) != name {
                    return Response::redirect(format!("/simple/{}/", normalize(name)));
                }
                match self.projects.get(name) {
                    Some(p) if json => Response::new(200, JSON, self.json_page(p).to_string()),
                    Some(p) => Response::new(200, html_type, self.html_page(p)),
                    None => Response::text(404),
                }
            }
        };
        if self.format == PageFormat::Both {
            resp.headers.push(("Vary", "Accept".into()));
        }
        resp
    }

    fn url(&self, filename: &str) -> String {
        if self.absolute_urls.load(Ordering::SeqCst) {
            format!("http://{}/files/{filename}", self.addr)
        } else {
            format!("../../files/{filename}")
        }
    }

    /// The PEP 658 hash of a file's metadata, when served.
    fn metadata_sha(&self, f: &IndexFile) -> Option<String> {
        self.files[&f.built.filename].1.as_deref().map(sha256_hex)
    }

    fn json_page(&self, p: &Project) -> Value {
        let mut versions: Vec<String> = vec![];
        let files: Vec<Value> = p
            .files
            .iter()
            .map(|f| {
                let version = version_of(&f.built.filename);
                if !versions.contains(&version) {
                    versions.push(version);
                }
                let yanked = match f.yanked.as_deref() {
                    None => json!(false),
                    Some("") => json!(true),
                    Some(reason) => json!(reason),
                };
                let mut v = json!({
                    "filename": f.built.filename,
                    "url": self.url(&f.built.filename),
                    // An empty sha256 stands for an index that lists no hash.
                    "hashes": if f.built.sha256.is_empty() { json!({}) } else { json!({ "sha256": f.built.sha256 }) },
                    "size": f.built.bytes.len(),
                    "yanked": yanked,
                });
                let metadata = match self.metadata_sha(f) {
                    Some(sha) => json!({ "sha256": sha }),
                    None => json!(false),
                };
                v["core-metadata"] = metadata.clone();
                v["dist-info-metadata"] = metadata;
                if let Some(rp) = &f.requires_python {
                    v["requires-python"] = json!(rp);
                }
                if let Some(t) = &f.upload_time {
                    v["upload-time"] = json!(t);
                }
                v
            })
            .collect();
        json!({
            "meta": { "api-version": "1.1" },
            "name": normalize(&p.name),
            "files": files,
            "versions": versions,
        })
    }

    fn html_page(&self, p: &Project) -> String {
        let mut links = String::new();
        for f in &p.files {
            let href = match f.built.sha256.as_str() {
                "" => self.url(&f.built.filename),
                sha => format!("{}#sha256={sha}", self.url(&f.built.filename)),
            };
            let mut attrs = format!("href=\"{}\"", esc(&href));
            if let Some(rp) = &f.requires_python {
                attrs += &format!(" data-requires-python=\"{}\"", esc(rp));
            }
            if let Some(reason) = &f.yanked {
                attrs += &format!(" data-yanked=\"{}\"", esc(reason));
            }
            if let Some(sha) = self.metadata_sha(f) {
                attrs += &format!(
                    " data-core-metadata=\"sha256={sha}\" data-dist-info-metadata=\"sha256={sha}\""
                );
            }
            links += &format!("    <a {attrs}>{}</a><br />\n", esc(&f.built.filename));
        }
        html_doc(&format!("Links for {}", esc(&p.name)), &links)
    }
}

fn html_doc(title: &str, links: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    \
         <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n\
         {links}  </body>\n</html>\n"
    )
}

/// The first byte a `Range: bytes=a-…` header asks for.
fn range_start(range: Option<&str>) -> Option<u64> {
    let (first, _) = range?.strip_prefix("bytes=")?.split_once('-')?;
    first.parse().ok()
}

/// Answers `Range: bytes=a-b | a- | -n` with 206 (or 416); other forms are ignored (200).
fn apply_range(mut resp: Response, range: &str, wrong: bool) -> Response {
    let total = resp.body.len();
    let Some((a, b)) = range
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
    else {
        return resp;
    };
    let (start, end) = match (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
        (Ok(a), Ok(b)) if a <= b => (a, b.min(total.saturating_sub(1))),
        (Ok(a), Err(_)) if b.trim().is_empty() => (a, total.saturating_sub(1)),
        (Err(_), Ok(n)) if a.trim().is_empty() => {
            (total.saturating_sub(n), total.saturating_sub(1))
        }
        _ => return resp, // malformed or multi-range: ignore
    };
    let suffix_zero = a.trim().is_empty() && b.trim() == "0";
    if start >= total || suffix_zero {
        let mut r = Response::text(416);
        r.headers
            .push(("Content-Range", format!("bytes */{total}")));
        return r;
    }
    let shift = usize::from(wrong);
    resp.status = 206;
    resp.body = resp.body[start..=end].to_vec();
    resp.headers.push((
        "Content-Range",
        format!("bytes {}-{}/{}", start + shift, end + shift, total + shift),
    ));
    resp
}

/// The preferred media type for an `Accept` header, as PyPI picks it.
fn negotiate(accept: Option<&str>) -> &'static str {
    let Some(accept) = accept else {
        return TEXT_HTML;
    };
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .map(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse().ok())
                .unwrap_or(1.0);
            (media, q)
        })
        .collect();
    let q_of = |offer: &str| {
        let family = format!("{}/*", offer.split('/').next().unwrap_or_default());
        let specificity = |m: &str| [offer, family.as_str(), "*/*"].iter().position(|o| *o == m);
        let matches = ranges
            .iter()
            .filter_map(|(m, q)| Some((specificity(m)?, *q)));
        matches.min_by_key(|(s, _)| *s).map_or(0.0, |(_, q)| q)
    };
    let mut best = (TEXT_HTML, 0.0);
    for offer in [TEXT_HTML, V1_HTML, JSON] {
        let q = q_of(offer);
        if q > best.1 {
            best = (offer, q);
        }
    }
    best.0
}

/// The version part of a wheel or sdist file name.
fn version_of(filename: &str) -> String {
    if let Some(stem) = filename.strip_suffix(".whl") {
        return stem.split('-').nth(1).unwrap_or_default().into();
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))
        .unwrap_or(filename);
    stem.rsplit_once('-').map_or("", |(_, v)| v).into()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
