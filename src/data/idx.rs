//! The IDX file format (LeCun's MNIST container), gzip-compressed or raw.
//!
//! An IDX file is a big-endian header followed by the values: the magic number
//! `0x0000_08_DD` (type `0x08` = unsigned byte, `DD` = number of dimensions), one `u32` per
//! dimension, then the values row-major. Fashion-MNIST uses two shapes: images (magic 2051,
//! dimensions `n × 28 × 28`) and labels (magic 2049, dimension `n`).
//!
//! Written by hand because it is forty lines of header checks: the crates that read IDX
//! (`mnist`, `idx-decoder`) panic or allocate the declared size on malformed input, and this
//! project promises a typed error for every defect, with no allocation a file can inflate.
//!
//! Compression is detected from the bytes (the gzip magic `1f 8b`), not from the file name, and
//! the SHA-256 of the *decompressed* content is computed while reading, so verification costs
//! no second pass.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Side length of a Fashion-MNIST image in pixels.
pub const SIDE: usize = 28;
/// Pixels per image (28 × 28).
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes; a label is valid when it is below this.
pub const N_CLASSES: usize = 10;

/// The largest payload a file may declare, 1 GiB: twenty times the real training set.
/// A header that declares more is rejected before anything is allocated.
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 30;

/// What is reserved before the values arrive: the whole declared payload up to this.
const INITIAL_CAPACITY: u64 = 64 << 20;

const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What an IDX file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdxKind {
    /// `n × 28 × 28` unsigned bytes, magic 2051.
    Images,
    /// `n` unsigned bytes, magic 2049.
    Labels,
}

impl IdxKind {
    /// The magic number that opens a file of this kind.
    pub const fn magic(self) -> u32 {
        match self {
            IdxKind::Images => IMAGES_MAGIC,
            IdxKind::Labels => LABELS_MAGIC,
        }
    }

    fn from_magic(magic: u32) -> Option<Self> {
        match magic {
            IMAGES_MAGIC => Some(IdxKind::Images),
            LABELS_MAGIC => Some(IdxKind::Labels),
            _ => None,
        }
    }

    /// Header length in bytes: the magic plus one `u32` per dimension.
    const fn header_len(self) -> usize {
        match self {
            IdxKind::Images => 16,
            IdxKind::Labels => 8,
        }
    }
}

impl fmt::Display for IdxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxKind::Images => write!(f, "an image file (magic {IMAGES_MAGIC})"),
            IdxKind::Labels => write!(f, "a label file (magic {LABELS_MAGIC})"),
        }
    }
}

/// A SHA-256 digest, shown as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Parses 64 hex digits; `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let digit = |b: u8| (b as char).to_digit(16);
            out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(Sha256Digest(out))
    }

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// A defect in one IDX file. The caller adds the file's path (see
/// [`DataError::File`](super::DataError::File)).
#[derive(Debug, Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("cannot read the file")]
    Io(#[source] io::Error),
    /// The gzip stream stops before its end marker: the download or copy was cut short.
    #[error("truncated gzip stream: the file ends before the compressed data does (an interrupted download or copy?)")]
    TruncatedGzip,
    /// The gzip stream is damaged.
    #[error("corrupt gzip stream: {0}")]
    CorruptGzip(String),
    /// The file holds no bytes at all.
    #[error("the file is empty")]
    Empty,
    /// The bytes are neither gzip nor IDX.
    #[error("not a gzip or IDX file: it starts with bytes {}", hex_bytes(.0))]
    NotIdx(Vec<u8>),
    /// The content ends inside the header.
    #[error("the IDX header is cut short: {found} bytes, {expected} expected")]
    ShortHeader {
        /// Bytes present.
        found: usize,
        /// Header length for the expected kind.
        expected: usize,
    },
    /// The magic number is not an IDX image or label magic.
    #[error("magic number {found} (0x{found:08x}) is neither an IDX image file (2051) nor a label file (2049)")]
    BadMagic {
        /// The magic number read.
        found: u32,
    },
    /// The file is of the other kind: labels where images were expected, or the reverse.
    #[error("expected {expected} but this is {found}: are the image and label files swapped?")]
    WrongKind {
        /// The kind the caller asked for.
        expected: IdxKind,
        /// The kind the header declares.
        found: IdxKind,
    },
    /// Images that are not 28 × 28.
    #[error("images are {rows}×{cols} pixels; Fashion-MNIST images are 28×28")]
    BadDimensions {
        /// Declared rows per image.
        rows: u32,
        /// Declared columns per image.
        cols: u32,
    },
    /// The header declares more data than [`MAX_PAYLOAD_BYTES`].
    #[error("the header declares {count} items ({bytes} bytes), more than the {limit}-byte limit: the header is corrupt")]
    TooLarge {
        /// Declared item count.
        count: u32,
        /// Bytes that count implies.
        bytes: u64,
        /// [`MAX_PAYLOAD_BYTES`].
        limit: u64,
    },
    /// Fewer bytes than the header declares.
    #[error("the header declares {count} items ({needed} bytes of data) but only {present} bytes follow it")]
    Truncated {
        /// Declared item count.
        count: u32,
        /// Bytes the count implies.
        needed: u64,
        /// Bytes actually present after the header.
        present: u64,
    },
    /// More bytes than the header declares.
    #[error("{extra} unexpected bytes after the {count} items the header declares")]
    TrailingBytes {
        /// Declared item count.
        count: u32,
        /// Bytes beyond the declared data.
        extra: u64,
    },
    /// A label outside `0..=9`.
    #[error("label {value} at index {index} is not a class (labels are 0 to 9)")]
    LabelOutOfRange {
        /// Position of the first bad label.
        index: usize,
        /// Its value.
        value: u8,
    },
}

fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The decoded content of one IDX file.
#[derive(Debug, Clone)]
pub struct IdxData {
    /// Images or labels.
    pub kind: IdxKind,
    /// Number of items (images or labels).
    pub count: usize,
    /// The values, row-major: `count × 784` for images, `count` for labels.
    pub values: Vec<u8>,
    /// SHA-256 of the whole decompressed content, header included.
    pub sha256: Sha256Digest,
}

/// Reads and checks an IDX file of the given kind from `path`.
pub fn read_file(path: &Path, kind: IdxKind) -> Result<IdxData, IdxError> {
    let file = std::fs::File::open(path).map_err(IdxError::Io)?;
    read(BufReader::with_capacity(1 << 16, file), kind)
}

/// Reads and checks IDX content of the given kind, gzip-compressed or raw.
pub fn read<R: Read>(mut reader: R, kind: IdxKind) -> Result<IdxData, IdxError> {
    let mut head = [0u8; 2];
    let got = read_up_to(&mut reader, &mut head).map_err(IdxError::Io)?;
    if got == 0 {
        return Err(IdxError::Empty);
    }
    let head = &head[..got];
    let prefixed = io::Cursor::new(head.to_vec()).chain(reader);
    if head == GZIP_MAGIC {
        let decoder = flate2::read::MultiGzDecoder::new(prefixed);
        parse(HashingReader::new(decoder), kind).map_err(gzip_error)
    } else if head == [0, 0] {
        parse(HashingReader::new(prefixed), kind)
    } else {
        Err(IdxError::NotIdx(head.to_vec()))
    }
}

/// Turns an I/O error from inside the gzip decoder into the gzip defect it stands for.
fn gzip_error(err: IdxError) -> IdxError {
    match err {
        IdxError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => IdxError::TruncatedGzip,
        IdxError::Io(io) if io.kind() == io::ErrorKind::InvalidInput => {
            IdxError::CorruptGzip(io.to_string())
        }
        IdxError::Io(io) if io.kind() == io::ErrorKind::InvalidData => {
            IdxError::CorruptGzip(io.to_string())
        }
        other => other,
    }
}

/// Parses decompressed IDX content. Every length is checked against the header before
/// anything of that length is allocated.
fn parse<R: Read>(mut reader: HashingReader<R>, kind: IdxKind) -> Result<IdxData, IdxError> {
    let mut header = [0u8; 16];
    let header = &mut header[..kind.header_len()];
    let got = read_up_to(&mut reader, header).map_err(IdxError::Io)?;
    if got < 4 {
        return Err(IdxError::ShortHeader {
            found: got,
            expected: header.len(),
        });
    }
    let word = |i: usize| u32::from_be_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
    let magic = word(0);
    let found = IdxKind::from_magic(magic).ok_or(IdxError::BadMagic { found: magic })?;
    if found != kind {
        return Err(IdxError::WrongKind {
            expected: kind,
            found,
        });
    }
    if got < header.len() {
        return Err(IdxError::ShortHeader {
            found: got,
            expected: header.len(),
        });
    }
    let count = word(1);
    let item_len = match kind {
        IdxKind::Images => {
            let (rows, cols) = (word(2), word(3));
            if (rows, cols) != (SIDE as u32, SIDE as u32) {
                return Err(IdxError::BadDimensions { rows, cols });
            }
            PIXELS as u64
        }
        IdxKind::Labels => 1,
    };
    let needed = u64::from(count) * item_len;
    if needed > MAX_PAYLOAD_BYTES {
        return Err(IdxError::TooLarge {
            count,
            bytes: needed,
            limit: MAX_PAYLOAD_BYTES,
        });
    }

    // Memory follows the bytes that arrive, not the header's word: a 16-byte file that
    // declares 1 GiB reserves 64 MiB at most (the real training images, 47 MB, fit at once).
    let mut values = Vec::with_capacity(needed.min(INITIAL_CAPACITY) as usize);
    (&mut reader)
        .take(needed)
        .read_to_end(&mut values)
        .map_err(IdxError::Io)?;
    let present = values.len() as u64;
    if present < needed {
        return Err(IdxError::Truncated {
            count,
            needed,
            present,
        });
    }
    let extra = io::copy(&mut reader, &mut io::sink()).map_err(IdxError::Io)?;
    if extra > 0 {
        return Err(IdxError::TrailingBytes { count, extra });
    }
    if kind == IdxKind::Labels {
        if let Some((index, &value)) = values
            .iter()
            .enumerate()
            .find(|(_, &v)| usize::from(v) >= N_CLASSES)
        {
            return Err(IdxError::LabelOutOfRange { index, value });
        }
    }
    Ok(IdxData {
        kind,
        count: count as usize,
        values,
        sha256: reader.finish(),
    })
}

/// Fills as much of `buf` as the reader has, returning how many bytes were read.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A reader that hashes every byte it passes on.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    fn finish(self) -> Sha256Digest {
        Sha256Digest(self.hasher.finalize().into())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Encodes images (`count × 784` values) as raw IDX bytes: the inverse of [`read`], for
/// tests, fixtures and users who write subsets back out.
pub fn encode_images(values: &[u8]) -> Vec<u8> {
    assert_eq!(values.len() % PIXELS, 0, "images must be 784 bytes each");
    let mut out = encode_header(IMAGES_MAGIC, &[(values.len() / PIXELS) as u32, 28, 28]);
    out.extend_from_slice(values);
    out
}

/// Encodes labels as raw IDX bytes: the inverse of [`read`].
pub fn encode_labels(values: &[u8]) -> Vec<u8> {
    let mut out = encode_header(LABELS_MAGIC, &[values.len() as u32]);
    out.extend_from_slice(values);
    out
}

fn encode_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    std::iter::once(magic)
        .chain(dims.iter().copied())
        .flat_map(u32::to_be_bytes)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn images(n: usize) -> Vec<u8> {
        (0..n * PIXELS).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn reads_raw_and_gzip_alike_and_hashes_the_decompressed_bytes() {
        let raw = encode_images(&images(3));
        let a = read(&raw[..], IdxKind::Images).unwrap();
        let b = read(&gzip(&raw)[..], IdxKind::Images).unwrap();
        assert_eq!(a.count, 3);
        assert_eq!(a.values, images(3));
        assert_eq!(a.values, b.values);
        assert_eq!(a.sha256, Sha256Digest::of(&raw));
        assert_eq!(b.sha256, Sha256Digest::of(&raw));
    }

    #[test]
    fn reads_labels() {
        let data = read(&encode_labels(&[0, 9, 3])[..], IdxKind::Labels).unwrap();
        assert_eq!((data.count, data.values), (3, vec![0, 9, 3]));
    }

    #[test]
    fn digest_hex_round_trips() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(
            d.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Digest::from_hex(&d.to_string()), Some(d));
        assert_eq!(Sha256Digest::from_hex("xyz"), None);
    }

    #[test]
    fn truncated_gzip() {
        let gz = gzip(&encode_images(&images(4)));
        let err = read(&gz[..gz.len() / 2], IdxKind::Images).unwrap_err();
        assert!(matches!(err, IdxError::TruncatedGzip), "{err:?}");
    }

    #[test]
    fn corrupt_gzip() {
        let mut gz = gzip(&encode_images(&images(4)));
        let mid = gz.len() / 2;
        gz[mid..mid + 8].iter_mut().for_each(|b| *b ^= 0x5a);
        let err = read(&gz[..], IdxKind::Images).unwrap_err();
        assert!(matches!(err, IdxError::CorruptGzip(_)), "{err:?}");
    }

    #[test]
    fn not_gzip_nor_idx() {
        let err = read(&b"<html>nope</html>"[..], IdxKind::Images).unwrap_err();
        assert!(
            matches!(err, IdxError::NotIdx(ref b) if b == b"<h"),
            "{err:?}"
        );
        assert!(err.to_string().contains("3c 68"));
    }

    #[test]
    fn bad_magic() {
        let mut raw = encode_labels(&[1, 2]);
        raw[3] = 0x07;
        let err = read(&raw[..], IdxKind::Labels).unwrap_err();
        assert!(
            matches!(err, IdxError::BadMagic { found: 0x0807 }),
            "{err:?}"
        );
    }

    #[test]
    fn swapped_kinds() {
        let err = read(&encode_labels(&[1])[..], IdxKind::Images).unwrap_err();
        assert!(matches!(
            err,
            IdxError::WrongKind {
                expected: IdxKind::Images,
                found: IdxKind::Labels
            }
        ));
        assert!(err.to_string().contains("swapped"));
        let err = read(&encode_images(&images(1))[..], IdxKind::Labels).unwrap_err();
        assert!(matches!(err, IdxError::WrongKind { .. }));
    }

    #[test]
    fn wrong_dimensions() {
        let mut raw = encode_header(IMAGES_MAGIC, &[1, 32, 32]);
        raw.extend(vec![0u8; 32 * 32]);
        let err = read(&raw[..], IdxKind::Images).unwrap_err();
        assert!(matches!(
            err,
            IdxError::BadDimensions { rows: 32, cols: 32 }
        ));
    }

    #[test]
    fn declared_count_larger_than_data() {
        let mut raw = encode_images(&images(2));
        raw[7] = 5; // declares 5 images, holds 2
        let err = read(&raw[..], IdxKind::Images).unwrap_err();
        assert!(
            matches!(err, IdxError::Truncated { count: 5, needed, present }
                if needed == 5 * PIXELS as u64 && present == 2 * PIXELS as u64),
            "{err:?}"
        );
    }

    #[test]
    fn declared_count_too_large_to_allocate() {
        let raw = encode_header(IMAGES_MAGIC, &[u32::MAX, 28, 28]);
        let err = read(&raw[..], IdxKind::Images).unwrap_err();
        assert!(matches!(
            err,
            IdxError::TooLarge {
                count: u32::MAX,
                ..
            }
        ));
    }

    #[test]
    fn trailing_bytes() {
        let mut raw = encode_labels(&[1, 2, 3]);
        raw.extend_from_slice(&[7, 7]);
        let err = read(&raw[..], IdxKind::Labels).unwrap_err();
        assert!(matches!(
            err,
            IdxError::TrailingBytes { count: 3, extra: 2 }
        ));
    }

    #[test]
    fn label_above_nine() {
        let err = read(&encode_labels(&[1, 2, 10, 3])[..], IdxKind::Labels).unwrap_err();
        assert!(matches!(
            err,
            IdxError::LabelOutOfRange {
                index: 2,
                value: 10
            }
        ));
    }

    #[test]
    fn short_header() {
        let raw = &encode_images(&images(1))[..10];
        let err = read(raw, IdxKind::Images).unwrap_err();
        assert!(matches!(
            err,
            IdxError::ShortHeader {
                found: 10,
                expected: 16
            }
        ));
        let err = read(&[0u8, 0][..], IdxKind::Images).unwrap_err();
        assert!(matches!(err, IdxError::ShortHeader { found: 2, .. }));
    }

    #[test]
    fn empty_file() {
        let err = read(&[][..], IdxKind::Labels).unwrap_err();
        assert!(matches!(err, IdxError::Empty));
    }
}
