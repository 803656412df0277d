//! The source hash of a build (`--show-hash`): SHA-256 over, for each file in build order, its
//! path relative to the project root (`/` separators, UTF-8), a NUL byte, its content (raw
//! bytes), a NUL byte. The same tree gives the same hash on every platform and from any working
//! directory. It is what the Python tool's `compute_hash` computes, with project-relative paths.

use sha2::{Digest, Sha256};

use crate::build::source::LoadedFile;

pub fn source_hash(files: &[LoadedFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.source.relative.as_bytes());
        hasher.update([0u8]);
        hasher.update(file.text.as_bytes());
        hasher.update([0u8]);
    }
    hex(&hasher.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
