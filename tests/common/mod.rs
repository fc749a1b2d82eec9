//! Helpers shared by the integration tests: tiny IDX datasets on disk, a loopback HTTP
//! server, and the committed notebooks.

#![allow(dead_code)] // each test file uses its own part of this module

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use fmnist::data::idx::{encode_images, encode_labels};
use fmnist::data::PIXELS;

/// The Debian package's directory, where CI installs the real data.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The real data's directory, or `None` (with a note) when it is absent and not required.
/// CI sets `FMNIST_REQUIRE_DATA=1`, which turns absence into a failure.
pub fn real_data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(SYSTEM_DIR);
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("FMNIST_REQUIRE_DATA").is_none(),
        "FMNIST_REQUIRE_DATA is set but {SYSTEM_DIR} lacks the data: apt-get install dataset-fashion-mnist"
    );
    eprintln!("skipped: {SYSTEM_DIR} not present (apt-get install dataset-fashion-mnist)");
    None
}

/// The real dataset, loaded and verified from the Debian package's directory, or `None` when
/// it is absent and not required (see [`real_data_dir`]).
pub fn load_real() -> Option<fmnist::data::FashionMnist> {
    let dir = real_data_dir()?;
    let options = fmnist::data::LoadOptions {
        data_dir: Some(dir),
        download: false,
        ..fmnist::data::LoadOptions::default()
    };
    Some(fmnist::data::FashionMnist::load_with(&options).expect("the real data loads"))
}

/// The names in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// `n` images whose pixels vary, and labels cycling through the classes.
pub fn tiny_images(n: usize) -> Vec<u8> {
    (0..n * PIXELS).map(|i| (i * 13 % 256) as u8).collect()
}

pub fn tiny_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

/// The four file names, training images first.
pub const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Writes a valid tiny dataset (20 training, 10 test images) into `dir`, gzip-compressed.
pub fn write_tiny_dataset(dir: &Path) {
    let files = [
        encode_images(&tiny_images(20)),
        encode_labels(&tiny_labels(20)),
        encode_images(&tiny_images(10)),
        encode_labels(&tiny_labels(10)),
    ];
    for (name, raw) in NAMES.iter().zip(files) {
        std::fs::write(dir.join(format!("{name}.gz")), gzip(&raw)).unwrap();
    }
}

/// What the server answers for a path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// 200 announcing the whole body's length, then the connection closes after `sent` bytes.
    CutAfter { body: Vec<u8>, sent: usize },
}

/// A loopback HTTP/1.1 server for tests. It answers at most `MAX_REQUESTS` requests, for at
/// most `LIFETIME`, then stops by itself; dropping it stops it at once.
pub struct Server {
    pub base: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const MAX_REQUESTS: usize = 32;
const LIFETIME: Duration = Duration::from_secs(60);

impl Server {
    pub fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + LIFETIME;
            let mut served = 0;
            while served < MAX_REQUESTS
                && Instant::now() < deadline
                && !flag.load(Ordering::Relaxed)
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        answer(stream, &routes);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            base,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let head = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    let _ = match routes.get(&path) {
        Some(Reply::Body(body)) => stream
            .write_all(head(body.len()).as_bytes())
            .and_then(|_| stream.write_all(body)),
        Some(Reply::CutAfter { body, sent }) => stream
            .write_all(head(body.len()).as_bytes())
            .and_then(|_| stream.write_all(&body[..*sent])),
        None => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The fields of one CSV line, quotes removed (`a,"b, c",d` gives `a`, `b, c`, `d`).
pub fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// `csv` with every column whose name ends in `_seconds` blanked (`-`): what a second run must
/// write again byte for byte (timings never repeat). A CSV without such columns comes back as
/// it was; the others are written back quoted as the library writes them.
pub fn without_timings(csv: &str) -> String {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return csv.to_string();
    };
    let timed: Vec<bool> = csv_fields(header)
        .iter()
        .map(|name| name.ends_with("_seconds"))
        .collect();
    if !timed.contains(&true) {
        return csv.to_string();
    }
    let quoted = |f: String| {
        if f.contains([',', '"', '\n']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f
        }
    };
    let mut out = format!("{header}\n");
    for line in lines {
        let kept: Vec<String> = csv_fields(line)
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                if timed.get(i) == Some(&true) {
                    "-".into()
                } else {
                    quoted(f)
                }
            })
            .collect();
        out.push_str(&kept.join(","));
        out.push('\n');
    }
    out
}

/// The numbered notebooks, `notebooks/NN_*.ipynb`, in order (the ones `notebooks/run.py` runs
/// and `setup.sh` builds for): each file name with its JSON.
pub fn notebooks() -> Vec<(String, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ipynb"))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let b = name.as_bytes();
            let numbered = b.len() > 3 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b'_';
            numbered.then(|| {
                let json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                (name, json)
            })
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// A notebook's multi-line string (a cell's `source`, an output's `text`), which nbformat
/// stores either whole or as a list of lines, whole; empty when absent.
pub fn joined(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
        other => other.as_str().unwrap_or_default().to_owned(),
    }
}
