//! Loading, validating and compiling a topic taxonomy (see the module docs of [`super`] for the
//! file format).

use aho_corasick::{AhoCorasick, MatchKind};
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The taxonomy compiled into the binary.
const BUILTIN: &str = include_str!("../../../../data/topics.toml");

/// Most words a phrase trigger may have.
const MAX_PHRASE_WORDS: usize = 5;

/// Fewest characters the literal of a wildcard pattern (`stem*`, `*stem`, `*stem*`) must have.
const MIN_WILDCARD_LEN: usize = 3;

/// How much a trigger counts: the three trigger lists of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// `strong`: unambiguous for the topic.
    Strong,
    /// `terms`: typical of the topic but not decisive alone.
    Term,
    /// `context`: counts only once the topic has other evidence.
    Context,
}

/// One word of a trigger: a literal with optional wildcards on either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WordPattern {
    /// The literal: lower-cased unless `case_sensitive`.
    pub(crate) literal: String,
    /// `*stem`: anything may stand before the literal.
    pub(crate) open_start: bool,
    /// `stem*`: anything may follow the literal.
    pub(crate) open_end: bool,
    /// `=Word`: the case must match as written.
    pub(crate) case_sensitive: bool,
}

impl WordPattern {
    /// Whether `word` (normalized: lower-cased, possessive removed) or one of its hyphen parts
    /// matches. `original` is the same word before lower-casing, used for case-sensitive
    /// patterns (`None` when its bytes don't line up with `word`).
    pub(crate) fn matches(
        &self,
        word: &str,
        original: Option<&str>,
        forms: &[(usize, usize)],
    ) -> bool {
        let haystack = if self.case_sensitive {
            match original {
                Some(o) => o,
                None => return false,
            }
        } else {
            word
        };
        forms.iter().any(|&(a, b)| {
            haystack
                .get(a..b)
                .is_some_and(|form| match (self.open_start, self.open_end) {
                    (false, false) => form == self.literal,
                    (false, true) => form.starts_with(&self.literal),
                    (true, false) => form.ends_with(&self.literal),
                    (true, true) => form.contains(&self.literal),
                })
        })
    }
}

/// A compiled trigger of one topic.
#[derive(Debug, Clone)]
pub(crate) struct Trigger {
    /// Index of the topic in [`Taxonomy::topics`].
    pub(crate) topic: usize,
    /// How much it counts.
    pub(crate) tier: Tier,
    /// The words, one for a single-word trigger, more for a phrase.
    pub(crate) words: Vec<WordPattern>,
}

/// What a match of an automaton literal may mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The first word of trigger `n`.
    Trigger(usize),
    /// An exclusion of topic `n`.
    Exclude(usize),
}

/// One use of an automaton literal: the pattern's anchoring plus what it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Use {
    /// The pattern (its literal is the automaton literal, or its case-sensitive form).
    pub(crate) pattern: WordPattern,
    /// What a match means.
    pub(crate) target: Target,
}

/// Descriptive fields of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicInfo {
    pub(crate) id: String,
    pub(crate) label_nl: String,
    pub(crate) label_en: String,
    pub(crate) iptc: Option<String>,
    pub(crate) category: Option<String>,
}

/// A topic taxonomy: topics with Dutch trigger terms, compiled for matching.
///
/// Build it once (it compiles an Aho-Corasick automaton) and share it; it is cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    name: String,
    pub(crate) topics: Vec<TopicInfo>,
    pub(crate) triggers: Vec<Trigger>,
    /// Automaton over the distinct lower-cased literals of first trigger words and exclusions;
    /// `None` when there are none.
    pub(crate) automaton: Option<AhoCorasick>,
    /// For each automaton pattern id, its uses.
    pub(crate) uses: Vec<Vec<Use>>,
}

/// The file's top level.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    name: String,
    version: String,
    #[serde(default)]
    topic: Vec<toml::Table>,
}

/// One `[[topic]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    id: String,
    label_nl: String,
    label_en: String,
    #[serde(default)]
    iptc: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    strong: Vec<String>,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

impl Taxonomy {
    /// The taxonomy compiled into the binary from `data/topics.toml` ("ontleed-news").
    pub fn builtin() -> Self {
        // The builtin file is checked by the tests (`builtin_taxonomy_is_valid`); should it ever
        // be broken, tagging finds nothing rather than the program stopping.
        Self::parse(BUILTIN, "builtin taxonomy").unwrap_or_default()
    }

    /// Loads a taxonomy from a TOML file in the format of `data/topics.toml`.
    ///
    /// Errors name the file and, for a bad topic, its number and id and the field at fault.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read taxonomy file {}", path.display()))?;
        Self::parse(&text, &format!("taxonomy file {}", path.display()))
    }

    /// Parses a taxonomy from TOML text in the format of `data/topics.toml`. Errors name the bad
    /// topic and field as [`Taxonomy::from_file`] does.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, "taxonomy")
    }

    fn parse(text: &str, origin: &str) -> Result<Self> {
        let raw: RawTaxonomy = toml::from_str(text)
            .map_err(|e| anyhow!("{origin}: invalid TOML: {}", e.to_string().trim_end()))?;
        let name = raw.name.trim();
        let version = raw.version.trim();
        if name.is_empty() {
            bail!("{origin}: field `name` is empty");
        }
        if version.is_empty() {
            bail!("{origin}: field `version` is empty");
        }
        if raw.topic.is_empty() {
            bail!("{origin}: no topics (expected one or more [[topic]] tables)");
        }
        let mut topics = Vec::with_capacity(raw.topic.len());
        let mut triggers = Vec::new();
        let mut excludes: Vec<(usize, WordPattern)> = Vec::new();
        let mut seen_ids: HashMap<String, usize> = HashMap::new();
        for (n, table) in raw.topic.into_iter().enumerate() {
            let id_hint = table.get("id").and_then(|v| v.as_str()).map(str::to_owned);
            let whereabouts = match &id_hint {
                Some(id) => format!("{origin}: topic #{} (id \"{id}\")", n + 1),
                None => format!("{origin}: topic #{}", n + 1),
            };
            let topic: RawTopic = toml::Value::Table(table)
                .try_into()
                .map_err(|e| anyhow!("{whereabouts}: {}", e.to_string().trim_end()))?;
            let index = topics.len();
            check_topic(&topic, &whereabouts)?;
            if let Some(first) = seen_ids.insert(topic.id.clone(), n + 1) {
                bail!(
                    "{whereabouts}: field `id`: \"{}\" is already the id of topic #{first}",
                    topic.id
                );
            }
            for (field, tier, list) in [
                ("strong", Tier::Strong, &topic.strong),
                ("terms", Tier::Term, &topic.terms),
                ("context", Tier::Context, &topic.context),
            ] {
                for trigger in list {
                    let words = parse_trigger(trigger).map_err(|e| {
                        anyhow!("{whereabouts}: field `{field}`: trigger \"{trigger}\": {e}")
                    })?;
                    triggers.push(Trigger {
                        topic: index,
                        tier,
                        words,
                    });
                }
            }
            for trigger in &topic.exclude {
                let mut words = parse_trigger(trigger)
                    .map_err(|e| anyhow!("{whereabouts}: field `exclude`: \"{trigger}\": {e}"))?;
                if words.len() != 1 {
                    bail!(
                        "{whereabouts}: field `exclude`: \"{trigger}\": exclusions are single words, not phrases"
                    );
                }
                excludes.push((index, words.remove(0)));
            }
            topics.push(TopicInfo {
                id: topic.id,
                label_nl: topic.label_nl.trim().to_owned(),
                label_en: topic.label_en.trim().to_owned(),
                iptc: topic.iptc,
                category: topic.category,
            });
        }
        let (automaton, uses) =
            compile(&triggers, &excludes).map_err(|e| anyhow!("{origin}: {e}"))?;
        Ok(Self {
            name: format!("{name} {version}"),
            topics,
            triggers,
            automaton,
            uses,
        })
    }

    /// Name and version of the taxonomy (`"ontleed-news 1.0"`), for the output's
    /// `ontleed.topics` field.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// Whether the taxonomy has no topics (only the `Default` one).
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The topic ids, in file order.
    pub fn topic_ids(&self) -> impl Iterator<Item = &str> {
        self.topics.iter().map(|t| t.id.as_str())
    }
}

fn check_topic(topic: &RawTopic, whereabouts: &str) -> Result<()> {
    if topic.id.is_empty() {
        bail!("{whereabouts}: field `id` is empty");
    }
    if !topic
        .id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        bail!(
            "{whereabouts}: field `id`: \"{}\" may only contain a-z, 0-9, '-' and '_'",
            topic.id
        );
    }
    if topic.label_nl.trim().is_empty() {
        bail!("{whereabouts}: field `label_nl` is empty");
    }
    if topic.label_en.trim().is_empty() {
        bail!("{whereabouts}: field `label_en` is empty");
    }
    if let Some(code) = &topic.iptc {
        let digits = code.strip_prefix("medtop:").unwrap_or("");
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            bail!(
                "{whereabouts}: field `iptc`: \"{code}\" is not an IPTC Media Topic code like \"medtop:15000000\""
            );
        }
    }
    if let Some(category) = &topic.category
        && super::categories::Category::from_id(category).is_none()
    {
        bail!(
            "{whereabouts}: field `category`: \"{category}\" is not one of the categories {}",
            super::categories::Category::ALL
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if topic.strong.is_empty() && topic.terms.is_empty() {
        bail!("{whereabouts}: needs at least one trigger in `strong` or `terms`");
    }
    Ok(())
}

/// Parses one trigger: one or more word patterns separated by spaces.
pub(crate) fn parse_trigger(trigger: &str) -> std::result::Result<Vec<WordPattern>, String> {
    let words: Vec<&str> = trigger.split_whitespace().collect();
    if words.is_empty() {
        return Err("is empty".into());
    }
    if words.len() > MAX_PHRASE_WORDS {
        return Err(format!("has more than {MAX_PHRASE_WORDS} words"));
    }
    words.into_iter().map(parse_word).collect()
}

fn parse_word(word: &str) -> std::result::Result<WordPattern, String> {
    let (case_sensitive, rest) = match word.strip_prefix('=') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let (open_start, rest) = match rest.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (open_end, literal) = match rest.strip_suffix('*') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if literal.is_empty() {
        return Err(format!("word \"{word}\" has no letters besides wildcards"));
    }
    if literal.contains(['*', '=']) {
        return Err(format!(
            "word \"{word}\": '*' may only stand at the start or end of a word, '=' only at the start"
        ));
    }
    if !literal.chars().any(char::is_alphanumeric) {
        return Err(format!("word \"{word}\" has no letters or digits"));
    }
    if (open_start || open_end) && literal.chars().count() < MIN_WILDCARD_LEN {
        return Err(format!(
            "word \"{word}\": a wildcard stem needs at least {MIN_WILDCARD_LEN} characters"
        ));
    }
    let literal = if case_sensitive {
        literal.to_owned()
    } else {
        literal.to_lowercase()
    };
    Ok(WordPattern {
        literal,
        open_start,
        open_end,
        case_sensitive,
    })
}

type Compiled = (Option<AhoCorasick>, Vec<Vec<Use>>);

/// Builds the automaton over the distinct lower-cased literals of first trigger words and
/// exclusions.
fn compile(triggers: &[Trigger], excludes: &[(usize, WordPattern)]) -> Result<Compiled> {
    let mut literals: Vec<String> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut uses: Vec<Vec<Use>> = Vec::new();
    let entries = triggers
        .iter()
        .enumerate()
        .filter_map(|(n, t)| t.words.first().map(|w| (w, Target::Trigger(n))))
        .chain(
            excludes
                .iter()
                .map(|(topic, w)| (w, Target::Exclude(*topic))),
        );
    for (pattern, target) in entries {
        let key = pattern.literal.to_lowercase();
        let id = *ids.entry(key.clone()).or_insert_with(|| {
            literals.push(key);
            uses.push(Vec::new());
            literals.len() - 1
        });
        uses[id].push(Use {
            pattern: pattern.clone(),
            target,
        });
    }
    if literals.is_empty() {
        return Ok((None, uses));
    }
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&literals)
        .context("cannot compile the trigger automaton")?;
    Ok((Some(automaton), uses))
}
