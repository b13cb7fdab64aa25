//! Helpers shared by the fuzz targets.

use std::path::PathBuf;

/// A file path for this process, in a RAM-backed directory when there is one, for targets whose
/// API reads files. Each process writes its own file, so parallel fuzzers do not collide.
pub fn scratch_file(name: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("ontleed-fuzz-{}-{name}", std::process::id()))
}

/// A short Dutch article with paragraphs, a headline-like first line and names.
pub const DUTCH_TEXT: &str = "Kabinet wil meer geld voor defensie\n\n\
Het kabinet-Schoof trekt volgend jaar 2,5 miljard euro extra uit voor Defensie. \
Minister Brekelmans (VVD) zei dinsdag in Den Haag dat de NAVO-norm „eindelijk” wordt gehaald.\n\n\
De PVV-leider reageerde tevreden. Ook Huawei en de gemeente Amsterdam kwamen ter sprake; \
de Tweede Kamer debatteert op 12 maart over de begroting.";
