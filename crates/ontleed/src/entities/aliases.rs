//! Alias tables: known entities with their stable ids (Wikidata QIDs) and the surface forms that
//! name them.
//!
//! # TOML format
//!
//! ```toml
//! [[entity]]
//! id = "Q30"                      # optional; a stable id, written to the output as "id"
//! name = "Verenigde Staten"       # required; the canonical name
//! label = "LOC"                   # optional; PER, ORG, LOC or MISC
//! aliases = ["VS", "Amerika", "USA", "de Verenigde Staten"]   # optional
//! demonyms = ["Amerikaans", "Amerikaanse"]                     # optional
//! ```
//!
//! `demonyms` (TOML only) are words derived from the name — demonyms and adjectives of a country
//! or city, member words of a party — that are not the entity itself: a mention of one is linked
//! to the entry (its canonical name and id) as an entity of kind `demonym` (see the grouping).
//!
//! Unknown keys are errors (a misspelt `alias =` would otherwise be silently ignored).
//!
//! # CSV format
//!
//! A header row `id,name,label,alias`, then one row per alias. Rows with the same `id` (or, when
//! `id` is empty, the same `name`) describe one entity; `label` and `alias` may be empty (a row
//! with an empty alias just declares the entity and its name).
//!
//! ```csv
//! id,name,label,alias
//! Q30,Verenigde Staten,LOC,VS
//! Q30,Verenigde Staten,LOC,Amerika
//! ,Tweede Kamer,ORG,de Kamer
//! ```
//!
//! # Matching
//!
//! Names and aliases are matched case-insensitively after the same normalization as mentions:
//! whitespace collapsed, surrounding quotes removed, a possessive `'s`/`'` removed, and a leading
//! article (`de`, `het`, `'t`) optional. A form that names two different entities is an error.

use super::normalize;
use crate::ner::Label;
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The alias table compiled into the binary.
const BUILTIN: &str = include_str!("../../../../data/aliases.toml");

/// One known entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEntry {
    /// Stable id (a Wikidata QID), when known.
    pub id: Option<String>,
    /// Canonical name.
    pub name: String,
    /// Entity type, when given; it overrides the labels the recognizer gave the mentions.
    pub label: Option<Label>,
    /// Other surface forms (the name itself always matches too).
    pub aliases: Vec<String>,
    /// Words derived from the name that refer to it without being it ("Amerikaanse").
    pub demonyms: Vec<String>,
}

/// A table of known entities, looked up by surface form.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    entries: Vec<AliasEntry>,
    index: HashMap<String, usize>,
    demonym_index: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    entity: Vec<TomlEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlEntry {
    id: Option<String>,
    name: String,
    label: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    demonyms: Vec<String>,
}

#[derive(Deserialize)]
struct CsvRow {
    #[serde(default)]
    id: String,
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    alias: String,
}

fn parse_label(s: Option<&str>) -> Result<Option<Label>, String> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(l) => l.to_uppercase().parse().map(Some),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Aliases {
    /// An empty table: no mention gets an id.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The table compiled in from `data/aliases.toml`: Dutch names of frequent countries,
    /// capitals and international bodies.
    pub fn builtin() -> Self {
        // The builtin file is checked by a unit test; should it ever fail, no aliases is a safe
        // fallback (never a panic).
        Self::from_toml_str(BUILTIN).unwrap_or_default()
    }

    /// Loads a table from a file: TOML for `.toml`, CSV for `.csv` (see the module docs for both
    /// formats). Errors name the file and the wrong line or entry.
    pub fn from_file(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let result = match ext.as_str() {
            "toml" => std::fs::read_to_string(path)
                .context("cannot read file")
                .and_then(|s| Self::from_toml_str(&s)),
            "csv" => std::fs::File::open(path)
                .context("cannot open file")
                .and_then(Self::from_csv_reader),
            other => Err(anyhow!(
                "unknown alias file type {other:?}: expected a .toml or .csv file"
            )),
        };
        result.with_context(|| format!("alias file {}", path.display()))
    }

    /// Parses the TOML format.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let file: TomlFile = toml::from_str(text).map_err(|e| anyhow!("invalid TOML: {e}"))?;
        let mut out = Self::empty();
        for (i, e) in file.entity.into_iter().enumerate() {
            let what = format!("[[entity]] #{} (name = {:?})", i + 1, e.name);
            let label = parse_label(e.label.as_deref()).map_err(|m| anyhow!("{what}: {m}"))?;
            out.add(AliasEntry {
                id: non_empty(e.id),
                name: e.name.trim().to_string(),
                label,
                aliases: e.aliases,
                demonyms: e.demonyms,
            })
            .with_context(|| what.clone())?;
        }
        Ok(out)
    }

    /// Parses the CSV format (header `id,name,label,alias`).
    pub fn from_csv_reader<R: Read>(reader: R) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = rdr.headers().context("cannot read the CSV header")?.clone();
        if !headers.iter().any(|h| h == "name") {
            bail!("the CSV header must be id,name,label,alias (the name column is missing)");
        }
        let mut entries: Vec<(AliasEntry, u64)> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for record in rdr.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                anyhow!("line {line}: {e}")
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let row: CsvRow = record
                .deserialize(Some(&headers))
                .map_err(|e| anyhow!("line {line}: {e}"))?;
            let name = row.name.trim().to_string();
            if name.is_empty() {
                bail!("line {line}: the name is empty");
            }
            let label = parse_label(Some(&row.label)).map_err(|m| anyhow!("line {line}: {m}"))?;
            let id = non_empty(Some(row.id));
            let key = id.clone().unwrap_or_else(|| format!("name:{name}"));
            let slot = *by_key.entry(key).or_insert_with(|| {
                let entry = AliasEntry {
                    id: id.clone(),
                    name: name.clone(),
                    label,
                    aliases: vec![],
                    demonyms: vec![],
                };
                entries.push((entry, line));
                entries.len() - 1
            });
            let (entry, _) = &mut entries[slot];
            if entry.name != name {
                bail!(
                    "line {line}: name {name:?} differs from {:?} given earlier for the same id",
                    entry.name
                );
            }
            match (entry.label, label) {
                (None, l) => entry.label = l,
                (Some(a), Some(b)) if a != b => {
                    bail!("line {line}: label {b} differs from {a} given earlier for {name:?}")
                }
                _ => {}
            }
            if !row.alias.is_empty() {
                entry.aliases.push(row.alias);
            }
        }
        let mut out = Self::empty();
        for (entry, line) in entries {
            let what = format!("entity {:?} (first on line {line})", entry.name);
            out.add(entry).context(what)?;
        }
        Ok(out)
    }

    /// Adds an entry. Fails when its name is empty or one of its forms already names another
    /// entry.
    pub fn add(&mut self, entry: AliasEntry) -> Result<()> {
        if entry.name.trim().is_empty() {
            bail!("the name is empty");
        }
        let slot = self.entries.len();
        let mut keys = Vec::new();
        for form in std::iter::once(&entry.name).chain(&entry.aliases) {
            let k1 = normalize::form(form, None).key;
            let k2 = normalize::key_with_article(form);
            for k in [k1, k2] {
                if k.is_empty() {
                    bail!("alias {form:?} is empty");
                }
                if let Some(&other) = self.index.get(&k).or(self.demonym_index.get(&k)) {
                    bail!("form {form:?} already names {:?}", self.entries[other].name);
                }
                keys.push(k);
            }
        }
        let mut demonyms = Vec::new();
        for form in &entry.demonyms {
            let k = normalize::form(form, None).key;
            if k.is_empty() {
                bail!("demonym {form:?} is empty");
            }
            if let Some(&other) = self.index.get(&k).or(self.demonym_index.get(&k)) {
                bail!(
                    "demonym {form:?} already names {:?}",
                    self.entries[other].name
                );
            }
            demonyms.push(k);
        }
        for k in keys {
            self.index.insert(k, slot);
        }
        for k in demonyms {
            self.demonym_index.insert(k, slot);
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Layers this table over `base`: the entries of `base` are added after this table's own,
    /// except those with a form that this table already uses (so a user file given with
    /// `--aliases` can override the builtin table entry by entry).
    pub fn with_fallback(mut self, base: Aliases) -> Self {
        for e in base.entries {
            // A clash means this table overrides that entry: skipping it is the point.
            let _ = self.add(e);
        }
        self
    }

    /// The entry a surface form names, if any (same normalization as mentions).
    pub fn lookup(&self, form: &str) -> Option<&AliasEntry> {
        self.lookup_index(&normalize::form(form, None).key)
            .map(|i| &self.entries[i])
    }

    /// Looks a normalized key up.
    pub(crate) fn lookup_index(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The entry a demonym key ("amerikaanse") refers to.
    pub(crate) fn demonym_index(&self, key: &str) -> Option<usize> {
        self.demonym_index.get(key).copied()
    }

    /// The entry at an index returned by [`Aliases::lookup_index`].
    pub(crate) fn entry(&self, index: usize) -> Option<&AliasEntry> {
        self.entries.get(index)
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[AliasEntry] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
