//! The pipeline: text → language → entities → topics, one [`Annotation`] per article, and the
//! output record that wraps it.
//!
//! Build a [`Pipeline`] once from a validated [`PipelineBuilder`]; it is `Send + Sync` and is
//! shared by all worker threads.

mod models;

#[cfg(feature = "transformer")]
pub use models::accurate_files;
pub use models::{NerModel, NerPrecision, load_recognizer, load_recognizer_with};

use crate::entities::{Aliases, EntitySummary, Mention, group};
use crate::io::Article;
use crate::language::{Detection, LanguageDetector};
use crate::ner::{Label, Recognizer, RecognizerError, scored_spans};
use crate::text::{Document, is_boilerplate};
use crate::topics::{CategoryModel, CategoryScore, Taxonomy, TopicMatch, TopicTagger};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The language part of a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Language {
    /// ISO 639-1 code (`nl`), or 639-3 where there is none; `und` when undetermined.
    pub code: String,
    /// English name.
    pub name: String,
    /// Confidence in `0..=1`.
    pub confidence: f64,
    /// Whether the detection is reliable.
    pub reliable: bool,
}

impl From<&Detection> for Language {
    fn from(d: &Detection) -> Self {
        Self {
            code: d.code.to_string(),
            name: d.name.to_string(),
            confidence: round3(d.confidence),
            reliable: d.reliable,
        }
    }
}

impl Language {
    fn undetermined() -> Self {
        Self {
            code: "und".into(),
            name: "Undetermined".into(),
            confidence: 0.0,
            reliable: false,
        }
    }
}

/// A named entity in the article text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// The entity as written.
    pub text: String,
    /// `PER`, `ORG`, `LOC` or `MISC`.
    #[serde(serialize_with = "crate::entities::serialize_label")]
    pub label: Label,
    /// Code-point offset of the first character.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Confidence in `0..=1`.
    pub score: f64,
    /// The fullest form of this entity in the article (mentions of one entity are grouped).
    pub canonical: String,
    /// The id from the alias table (e.g. a Wikidata QID), when one matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// True when the entity lies in page furniture (a caption, an advert…); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub boilerplate: bool,
    /// `"title"` when the entity is in the headline (offsets are then into the headline);
    /// absent for the text field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// True when the entity is the name part of a compound word ("PVV" in "PVV-leider",
    /// "Huawei" in "Huawei-topman"); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compound: bool,
}

/// A topic in a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    /// Topic id from the taxonomy.
    pub id: String,
    /// Label.
    pub label: String,
    /// The news category the topic belongs to, where the taxonomy names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Score in `0..=1`.
    pub score: f64,
    /// Words in the text that gave the topic away.
    pub evidence: Vec<String>,
}

impl From<TopicMatch> for Topic {
    fn from(t: TopicMatch) -> Self {
        Self {
            id: t.id,
            label: t.label,
            category: t.category,
            score: round3(t.score),
            evidence: t.evidence,
        }
    }
}

/// What a paragraph is: article text or page furniture, and its language when it differs from
/// the article's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParagraphInfo {
    /// Code-point offset of the paragraph's first character.
    pub start: usize,
    /// Code-point offset one past its last character.
    pub end: usize,
    /// `"text"` or `"boilerplate"`.
    pub kind: &'static str,
    /// The paragraph's language, only when it differs from the article's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// `"title"` for the headline (offsets are then into the headline); absent for the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

/// Why entities and topics were not run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Machine-readable reason: `language`.
    pub reason: &'static str,
    /// A message for people.
    pub message: String,
}

/// The annotation of one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    /// The article's language.
    pub language: Language,
    /// Entities, or `None` when NER was not run (see `skipped`).
    pub entities: Option<Vec<Entity>>,
    /// One entry per distinct entity (mentions grouped), in order of first mention; `None` when
    /// entities were not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_summary: Option<Vec<EntitySummary>>,
    /// Topics, or `None` when topic tagging was not run.
    pub topics: Option<Vec<Topic>>,
    /// The article's main subjects (1–3 news categories, best first; empty when none is clearly
    /// the subject), or `None` when topics were not run.
    pub categories: Option<Vec<CategoryScore>>,
    /// Paragraph structure.
    pub paragraphs: Vec<ParagraphInfo>,
    /// Present when entities and topics were not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
    /// Number of tokens in the article (not written to records; used for throughput).
    #[serde(skip)]
    pub tokens: usize,
}

/// Why an article could not be annotated: a fault of a model or of ontleed, never of the input
/// (bad input is an [`crate::io::InputError`] before annotation starts). Front ends write it as
/// an `internal` error record ([`crate::batch`]).
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// The NER model failed on the article.
    #[error(transparent)]
    Recognizer(#[from] RecognizerError),
    /// The record could not be written ([`Pipeline::write_annotated`]).
    #[error("cannot write the record: {0}")]
    Write(#[from] std::io::Error),
}

/// Builds a [`Pipeline`], validating its options once.
pub struct PipelineBuilder {
    ner: NerModel,
    precision: NerPrecision,
    recognizer: Option<Box<dyn Recognizer>>,
    taxonomy: Option<Taxonomy>,
    categories: Option<CategoryModel>,
    aliases: Option<Aliases>,
    languages: Vec<String>,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            ner: NerModel::default(),
            precision: NerPrecision::default(),
            recognizer: None,
            taxonomy: None,
            categories: None,
            aliases: None,
            languages: vec!["nl".into()],
        }
    }
}

impl PipelineBuilder {
    /// Chooses the NER model.
    pub fn ner_model(mut self, model: NerModel) -> Self {
        self.ner = model;
        self
    }

    /// Chooses the arithmetic of a transformer model (default: int8 where the CPU can).
    pub fn ner_precision(mut self, precision: NerPrecision) -> Self {
        self.precision = precision;
        self
    }

    /// Uses this recognizer instead of loading the `ner_model` (another backend, e.g. rust-bert).
    pub fn recognizer(mut self, recognizer: Box<dyn Recognizer>) -> Self {
        self.recognizer = Some(recognizer);
        self
    }

    /// Uses a topic taxonomy other than the built-in one.
    pub fn taxonomy(mut self, taxonomy: Taxonomy) -> Self {
        self.taxonomy = Some(taxonomy);
        self
    }

    /// Uses a category model other than the built-in one.
    pub fn categories(mut self, model: CategoryModel) -> Self {
        self.categories = Some(model);
        self
    }

    /// Adds the user's alias table (canonical names and ids) over the built-in one.
    pub fn aliases(mut self, aliases: Aliases) -> Self {
        self.aliases = Some(aliases);
        self
    }

    /// The language codes whose articles get entities and topics (default: `nl`).
    pub fn languages(mut self, codes: Vec<String>) -> Self {
        self.languages = codes;
        self
    }

    /// Loads the models and builds the pipeline.
    pub fn build(self) -> anyhow::Result<Pipeline> {
        if self.languages.is_empty() {
            anyhow::bail!("at least one language code is needed for the annotated languages");
        }
        for code in &self.languages {
            if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_lowercase()) {
                anyhow::bail!(
                    "{code:?} is not a language code (use ISO 639-1 codes such as nl, en, de)"
                );
            }
        }
        let ner = match self.recognizer {
            Some(r) => r,
            None => load_recognizer_with(&self.ner, self.precision)?,
        };
        let taxonomy = self.taxonomy.unwrap_or_else(Taxonomy::builtin);
        let categories = match self.categories {
            Some(m) => m,
            None => CategoryModel::builtin()?,
        };
        Ok(Pipeline {
            categories,
            detector: LanguageDetector::new(),
            ner,
            topics: TopicTagger::new(taxonomy),
            aliases: match self.aliases {
                Some(user) => user.with_fallback(Aliases::builtin()),
                None => Aliases::builtin(),
            },
            languages: self.languages.into_iter().collect(),
        })
    }
}

/// The whole annotation pipeline.
pub struct Pipeline {
    detector: LanguageDetector,
    ner: Box<dyn Recognizer>,
    topics: TopicTagger,
    categories: CategoryModel,
    aliases: Aliases,
    languages: BTreeSet<String>,
}

/// How many characters of article text language identification looks at.
const LANGUAGE_SAMPLE_CHARS: usize = 4000;

impl Pipeline {
    /// A builder with the defaults: embedded default NER model, built-in taxonomy, Dutch only.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The `ontleed` block written into each record: versions of the program and models.
    pub fn provenance(&self) -> Value {
        serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "ner_model": self.ner.name(),
            "topics": self.topics.taxonomy().name(),
            "categories": self.categories.header().name,
        })
    }

    /// Annotates one text.
    pub fn annotate_text(&self, text: &str) -> Result<Annotation, AnnotateError> {
        self.annotate_parts(None, text)
    }

    /// Annotates one article given as its headline (if any) and text: the headline is the
    /// article's first paragraph for language, entities, topics and categories; the offsets of
    /// what lies in it are into the headline, marked `"field": "title"`.
    pub fn annotate_parts(
        &self,
        title: Option<&str>,
        body: &str,
    ) -> Result<Annotation, AnnotateError> {
        let title = title.filter(|t| !t.trim().is_empty());
        let joined;
        let (text, title_chars) = match title {
            None => (body, None),
            Some(t) => {
                joined = article_text(Some(t), body);
                let n = t.trim().chars().count();
                let lead = t.chars().take_while(|c| c.is_whitespace()).count();
                (joined.as_str(), Some((lead, n)))
            }
        };
        let mut annotation = self.annotate_joined(text, title_chars.is_some())?;
        if let Some((lead, n)) = title_chars {
            // Offsets back into the fields: the headline (trimmed, so shifted by its leading
            // whitespace) and the body after "\n\n".
            let place = |start: usize, end: usize| {
                if start < n {
                    (Some("title"), start + lead, end + lead)
                } else {
                    (None, start - (n + 2), end - (n + 2))
                }
            };
            for e in annotation.entities.iter_mut().flatten() {
                (e.field, e.start, e.end) = place(e.start, e.end);
            }
            for p in &mut annotation.paragraphs {
                (p.field, p.start, p.end) = place(p.start, p.end);
            }
        }
        Ok(annotation)
    }

    /// Annotates a text whose first paragraph is the headline when `has_title`.
    fn annotate_joined(&self, text: &str, has_title: bool) -> Result<Annotation, AnnotateError> {
        let doc = Document::new(text);
        let para_texts: Vec<&str> = doc
            .paragraphs
            .iter()
            .map(|p| doc.paragraph_text(p))
            .collect();
        let furniture = furniture(&para_texts, has_title);

        // Article language from the article text (not the furniture), bounded in length.
        let mut sample = String::new();
        for (p, &f) in para_texts.iter().zip(&furniture) {
            if !f && sample.len() < LANGUAGE_SAMPLE_CHARS {
                sample.push_str(p);
                sample.push('\n');
            }
        }
        if sample.trim().is_empty() {
            sample = text.chars().take(LANGUAGE_SAMPLE_CHARS).collect();
        }
        let detection = self
            .detector
            .detect(truncate_chars(&sample, LANGUAGE_SAMPLE_CHARS));
        let language = detection
            .as_ref()
            .map_or_else(Language::undetermined, Language::from);

        let mut article_paragraphs = Vec::with_capacity(para_texts.len());
        let paragraphs: Vec<ParagraphInfo> = doc
            .paragraphs
            .iter()
            .zip(&para_texts)
            .zip(&furniture)
            .map(|((p, t), &f)| {
                let own = if f {
                    None
                } else {
                    self.detector
                        .paragraph_language(
                            truncate_chars(t, LANGUAGE_SAMPLE_CHARS),
                            &language.code,
                        )
                        .map(|d| d.code.to_string())
                };
                article_paragraphs.push(!f && own.is_none());
                ParagraphInfo {
                    start: p.span.char_start,
                    end: p.span.char_end,
                    kind: if f { "boilerplate" } else { "text" },
                    language: own,
                    field: None,
                }
            })
            .collect();

        if !self.languages.contains(&language.code) {
            let enabled: Vec<&str> = self.languages.iter().map(String::as_str).collect();
            return Ok(Annotation {
                skipped: Some(Skipped {
                    reason: "language",
                    message: format!(
                        "article language {} is not among the annotated languages ({}); entities and topics were not run",
                        language.code,
                        enabled.join(",")
                    ),
                }),
                language,
                entities: None,
                entity_summary: None,
                topics: None,
                categories: None,
                paragraphs,
                tokens: doc.token_count(),
            });
        }

        let mut entities = self.entities(&doc, &furniture)?;
        let mentions: Vec<Mention> = entities
            .iter()
            .map(|e| Mention {
                text: e.text.clone(),
                label: e.label,
                start: e.start,
                end: e.end,
            })
            .collect();
        let grouping = group(&mentions, &self.aliases);
        for (e, m) in entities.iter_mut().zip(grouping.mentions) {
            e.canonical = m.canonical;
            e.id = m.id;
            if let Some(l) = m.alias_label {
                e.label = l;
            }
        }
        let matches = self.topics.tag(&doc, &article_paragraphs);
        let features = self
            .categories
            .features(&doc, &article_paragraphs, &matches);
        let probabilities = self.categories.probabilities(&features);
        let categories = self.categories.decide(&probabilities);
        // A fine topic is reported only when it is a subject of the article: its category is
        // (the category model's decision), or a decisive trigger of it stands in the headline
        // or lead. Incidental mentions further down do not make a topic.
        let topics = matches
            .into_iter()
            .filter(|t| {
                t.decisive_in_lead
                    || t.category.as_deref().is_none_or(|c| {
                        crate::topics::Category::index(c)
                            .is_some_and(|i| self.categories.passes(i, probabilities[i]))
                    })
            })
            .map(Topic::from)
            .collect();
        Ok(Annotation {
            language,
            entities: Some(entities),
            entity_summary: Some(grouping.summary),
            topics: Some(topics),
            categories: Some(categories),
            paragraphs,
            skipped: None,
            tokens: doc.token_count(),
        })
    }

    /// Runs NER over the whole document; `furniture[p]` marks boilerplate paragraphs.
    fn entities(
        &self,
        doc: &Document<'_>,
        furniture: &[bool],
    ) -> Result<Vec<Entity>, RecognizerError> {
        let sentences = doc.sentence_words();
        let tags = self.ner.tag_document(&sentences)?;
        let mut in_furniture = vec![false; doc.sentences.len()];
        for (p, &f) in doc.paragraphs.iter().zip(furniture) {
            in_furniture[p.sentences.clone()].fill(f);
        }
        let mut spans = Vec::new();
        for ((range, tags), &boilerplate) in doc.sentences.iter().zip(&tags).zip(&in_furniture) {
            for s in scored_spans(tags) {
                spans.push((
                    range.start + s.span.start,
                    range.start + s.span.end,
                    s,
                    boilerplate,
                ));
            }
        }
        // Labels of the whole names of the article, for the name parts of compounds.
        let whole: std::collections::HashMap<&str, Label> = spans
            .iter()
            .filter(|(_, b, _, _)| compound_head(doc.token_text(b - 1)).is_none())
            .map(|&(a, b, s, _)| {
                let (first, last) = (doc.tokens[a], doc.tokens[b - 1]);
                (&doc.text[first.start..last.end], s.span.label)
            })
            .collect();
        let mut out = Vec::new();
        for (a, b, s, boilerplate) in spans {
            let entity = |from: usize, to: usize, byte_end: Option<usize>, label, compound| {
                let (first, last) = (doc.tokens[from], doc.tokens[to - 1]);
                let end = byte_end.unwrap_or(last.end);
                Entity {
                    text: doc.text[first.start..end].to_string(),
                    label,
                    start: first.char_start,
                    end: first.char_start + doc.text[first.start..end].chars().count(),
                    score: round3(s.score as f64),
                    canonical: String::new(),
                    id: None,
                    boilerplate,
                    field: None,
                    compound,
                }
            };
            // A word like "PVV-leider" or "5G-netwerken" is not a name as a whole: its name
            // part becomes the entity (CoNLL's MISC for the whole word stays in `tag`/`eval`).
            let last = doc.tokens[b - 1];
            match compound_head(doc.token_text(b - 1)) {
                Some(len) => {
                    if b - a > 1 {
                        out.push(entity(a, b - 1, None, s.span.label, false));
                    }
                    let part = &doc.text[last.start..last.start + len];
                    let label = self
                        .aliases
                        .lookup(part)
                        .and_then(|e| e.label)
                        .or_else(|| whole.get(part).copied())
                        .unwrap_or(
                            if part.chars().all(|c| c.is_uppercase()) && part.chars().count() > 1 {
                                Label::Org
                            } else {
                                s.span.label
                            },
                        );
                    out.push(entity(b - 1, b, Some(last.start + len), label, true));
                }
                None => out.push(entity(a, b, None, s.span.label, false)),
            }
        }
        Ok(out)
    }

    /// Annotates one article into its output record: `id`, the input fields, then `language`,
    /// `entities`, `topics`, `paragraphs`, (`skipped`), `ontleed`.
    pub fn annotate(
        &self,
        article: &Article,
    ) -> Result<(Map<String, Value>, Annotation), AnnotateError> {
        let annotation = self.annotate_parts(article.title.as_deref(), &article.text)?;
        Ok((self.record(article, &annotation), annotation))
    }

    /// Annotates one article and writes its output record as a line of JSON: the bytes that
    /// [`Pipeline::annotate`] and [`crate::io::write_article_record`] give, but the entities,
    /// the entity summary and the paragraphs go from the annotation to `out` without becoming
    /// a JSON tree first (for a 16 MiB article the tree of its entities alone takes about
    /// 200 MB). `id_field` is the input field the record's `id` came from.
    pub fn write_annotated<W: std::io::Write>(
        &self,
        out: &mut W,
        article: &Article,
        id_field: &str,
    ) -> Result<Annotation, AnnotateError> {
        let mut annotation = self.annotate_parts(article.title.as_deref(), &article.text)?;
        // The record with empty lists in place of the large ones, so that its fields are
        // those of `record` in the same order.
        let entities = annotation.entities.as_mut().map(std::mem::take);
        let summary = annotation.entity_summary.as_mut().map(std::mem::take);
        let paragraphs = std::mem::take(&mut annotation.paragraphs);
        let record = self.record(article, &annotation);
        annotation.entities = entities;
        annotation.entity_summary = summary;
        annotation.paragraphs = paragraphs;
        crate::io::write_article_record_with(out, &record, article, id_field, |key, out| {
            let written = match key {
                "entities" => serde_json::to_writer(out, annotation.entities.as_ref()?),
                "entity_summary" => serde_json::to_writer(out, annotation.entity_summary.as_ref()?),
                "paragraphs" => serde_json::to_writer(out, &annotation.paragraphs),
                _ => return None,
            };
            Some(written.map_err(std::io::Error::from))
        })?;
        Ok(annotation)
    }

    /// Builds the output record of an annotated article.
    pub fn record(&self, article: &Article, annotation: &Annotation) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), article.id.clone());
        for (k, v) in &article.fields {
            if k != "id" {
                m.insert(k.clone(), v.clone());
            }
        }
        if let Ok(Value::Object(a)) = serde_json::to_value(annotation) {
            m.extend(a);
        }
        m.insert("ontleed".into(), self.provenance());
        m
    }
}

/// The byte length of the name part of a compound word whose head is a lower-case word:
/// `PVV-leider` → 3, `EU-landen`, `5G-netwerken`, `Oekraïne-steun`; `None` for names that are
/// compounds as a whole (`Yeşilgöz-Zegerius`, `Amsterdam-Noord`) and for words that do not start
/// like a name (`anti-Amerikaans`).
fn compound_head(word: &str) -> Option<usize> {
    let hyphen = word.rfind('-')?;
    let (part, head) = (&word[..hyphen], &word[hyphen + 1..]);
    let starts_like_a_name = part
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    let head_is_a_word = head.chars().count() >= 3 && head.chars().all(char::is_lowercase);
    (starts_like_a_name && part.chars().count() >= 2 && head_is_a_word).then_some(hyphen)
}

/// The text the pipeline annotates for an article: the headline (trimmed) as its own first
/// paragraph, then the body; the headline alone when the body is blank.
pub fn article_text(title: Option<&str>, body: &str) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if body.trim().is_empty() => t.to_string(),
        Some(t) => format!("{t}\n\n{body}"),
        None => body.to_string(),
    }
}

/// Which paragraphs are page furniture ([`is_boilerplate`]); with `has_title` the first one is
/// the headline and never is.
pub fn furniture(paragraphs: &[&str], has_title: bool) -> Vec<bool> {
    let mut furniture = is_boilerplate(paragraphs);
    if has_title && let Some(f) = furniture.first_mut() {
        *f = false;
    }
    furniture
}

fn truncate_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{FieldNames, parse_line, write_article_record};

    /// Writing a record from the annotation gives the bytes of the record's JSON tree: input
    /// fields that share a name with an annotation field (kept in place, with the annotation's
    /// value), numbers passed through as written, a headline, an article in another language
    /// (no entities), an article without an id.
    #[test]
    fn records_written_from_the_annotation_match_the_record_tree() {
        let pipeline = Pipeline::builder()
            .ner_model(NerModel::Fast)
            .build()
            .expect("pipeline");
        let lines = [
            r#"{"id": 18446744073709551616, "text": "Mark Rutte sprak in Den Haag met Ursula von der Leyen over Oekraïne.\n\nDe NOS meldt dat Rutte tevreden was.", "score": 1.000000000000000000001}"#,
            r#"{"id": "a", "entity_summary": [1, 2], "language": "xx", "entities": 5, "text": "Geert Wilders (PVV) en Frans Timmermans debatteerden in de Tweede Kamer.", "n": 3}"#,
            r#"{"id": "b", "title": "Kabinet valt", "paragraphs": "p", "text": "Het kabinet-Schoof is gevallen, meldt de NOS vanuit Den Haag.", "ontleed": 1}"#,
            r#"{"id": "c", "text": "The quick brown fox jumps over the lazy dog in London with Boris Johnson.", "entity_summary": 2}"#,
            r#"{"text": "Kort."}"#,
        ];
        for (i, line) in lines.iter().enumerate() {
            let article = parse_line(line.as_bytes(), i + 1, &FieldNames::default()).expect(line);
            let (record, annotation) = pipeline.annotate(&article).expect("annotated");
            let mut tree = Vec::new();
            write_article_record(&mut tree, &record, &article, "id").expect("writes");
            let mut direct = Vec::new();
            let written = pipeline
                .write_annotated(&mut direct, &article, "id")
                .expect("writes");
            assert_eq!(
                String::from_utf8(direct).expect("UTF-8"),
                String::from_utf8(tree).expect("UTF-8"),
                "line {}",
                i + 1
            );
            assert_eq!(written.entities, annotation.entities);
            assert_eq!(written.paragraphs, annotation.paragraphs);
        }
    }
}
