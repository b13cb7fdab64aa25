//! Language identification of articles and paragraphs.
//!
//! (Interim: whatlang alone. To be replaced by the hybrid detector.)

/// The detected language of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// ISO 639-1 code where one exists (`nl`), else ISO 639-3.
    pub code: &'static str,
    /// English name (`Dutch`).
    pub name: &'static str,
    /// Confidence in `0..=1`.
    pub confidence: f64,
    /// Whether the detection is reliable enough to act on.
    pub reliable: bool,
}

/// Detects the language of texts. Build once, share across threads.
#[derive(Debug, Default)]
pub struct LanguageDetector {}

impl LanguageDetector {
    /// A detector over all supported languages.
    pub fn new() -> Self {
        Self {}
    }

    /// Detects the language of `text`; `None` when the text has no letters to go on.
    pub fn detect(&self, text: &str) -> Option<Detection> {
        let info = whatlang::detect(text)?;
        Some(Detection {
            code: info.lang().code(),
            name: info.lang().eng_name(),
            confidence: info.confidence(),
            reliable: info.is_reliable(),
        })
    }
}
