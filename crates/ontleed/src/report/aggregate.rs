//! Streaming aggregation of annotated records into per-entity and per-topic statistics.
//!
//! Memory is bounded by the number of distinct entities and topics, never by the number of
//! records:
//!
//! - per entity: its names, counters, first/last date, one counter per ISO week in which it was
//!   mentioned (so at most the number of weeks the corpus spans), and two bounded maps:
//! - co-occurring entities: counted only among each article's [`ARTICLE_COOC_LIMIT`] most
//!   mentioned entities (bounding the work per article), and kept in a per-entity map that is
//!   pruned back to its [`COOC_KEEP`] largest counts whenever it grows past [`COOC_MAX`] entries.
//!   A partner that is pruned and seen again starts from zero, so the counts of rare partners
//!   are lower bounds; frequent partners (the ones reported) are kept;
//! - topics per entity: the same scheme with [`TOPIC_KEEP`] / [`TOPIC_MAX`].
//!
//! Strings taken from records (names, labels, ids) are cut to [`MAX_NAME_CHARS`] characters.
//!
//! # Entities across articles
//!
//! Records are counted per distinct name (canonical name and label, or id) as they come. When
//! all are read, [`Aggregator::finish_summary`] resolves the names into entities across the
//! corpus ([`crate::entities::corpus`]: surnames, genitives, initials, spelling variants and
//! acronyms join their full name; the user's alias table and the built-in one first) and merges
//! the statistics of each entity's names. Mentions, dates and weekly mentions add up exactly.
//! An article that names two variants of one entity (which its own grouping did not join)
//! counts once in the entity's articles (the overlap is taken from the co-occurrence counts of
//! the two variants, so it is exact for two variants per article); co-occurrence and topic
//! counts of such an article are added per variant. Each merged entity keeps the list of its
//! variants with their article counts.

use super::ReportSummary;
use super::record::{self, EntityIn, RecordIn, TopicIn};
use crate::entities::Aliases;
use crate::entities::corpus::{self, NameRow};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Co-occurrence is counted among at most this many entities of one article (the most
/// mentioned ones).
pub const ARTICLE_COOC_LIMIT: usize = 50;
/// Co-occurrence entries kept per entity after pruning.
pub const COOC_KEEP: usize = 50;
/// A per-entity co-occurrence map is pruned when it grows past this many entries.
pub const COOC_MAX: usize = 200;
/// Topic entries kept per entity after pruning.
pub const TOPIC_KEEP: usize = 20;
/// A per-entity topic map is pruned when it grows past this many entries.
pub const TOPIC_MAX: usize = 80;
/// Names, labels and ids longer than this (in characters) are cut.
pub const MAX_NAME_CHARS: usize = 200;

/// A week, as the day number (days since 0001-01-01, [`NaiveDate::num_days_from_ce`]) of its
/// ISO Monday.
pub type Week = i32;

#[derive(Hash, PartialEq, Eq)]
enum Key {
    Id(Box<str>),
    Name(Box<str>, Box<str>),
}

/// Everything known about one entity across the corpus.
#[derive(Debug, Clone)]
pub struct EntityStats {
    /// Canonical name (the first one seen for this key).
    pub canonical: String,
    /// Label (the first one seen for this key).
    pub label: String,
    /// Stable id, when the records gave one.
    pub id: Option<String>,
    /// Articles mentioning the entity.
    pub articles: u64,
    /// Mentions over all articles.
    pub mentions: u64,
    /// Earliest article date.
    pub first: Option<NaiveDate>,
    /// Latest article date.
    pub last: Option<NaiveDate>,
    /// Mentions per week.
    pub weeks: BTreeMap<Week, u64>,
    /// Articles shared with other entities (index into the entity list → count); bounded.
    pub cooc: HashMap<u32, u32>,
    /// Articles per topic (index into the topic list → count); bounded.
    pub topics: HashMap<u32, u32>,
    /// The names joined into this entity across the corpus, most articles first (empty when
    /// the entity has one name only).
    pub variants: Vec<Variant>,
    /// Acronyms that articles grouped with this name ("rivm"), at most
    /// [`corpus::MAX_DEFINES`].
    pub defines: Vec<String>,
}

/// One name of an entity across the corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The name (the canonical name the articles gave).
    pub name: String,
    /// Its label in the articles.
    pub label: String,
    /// Articles that named the entity so.
    pub articles: u64,
}

/// The variants of an entity as text: `Thierry Baudet (69); Baudet (15); Baudets [MISC] (13)`
/// (a label is shown when it differs from the entity's).
pub fn variants_text(e: &EntityStats) -> String {
    e.variants
        .iter()
        .map(|v| {
            if v.label == e.label {
                format!("{} ({})", v.name, v.articles)
            } else {
                format!("{} [{}] ({})", v.name, v.label, v.articles)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Everything known about one topic across the corpus.
#[derive(Debug, Clone)]
pub struct TopicStats {
    /// Topic id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// Articles tagged with it.
    pub articles: u64,
    /// Articles per week.
    pub weeks: BTreeMap<Week, u64>,
}

/// The aggregation state.
pub struct Aggregator {
    date_field: String,
    /// Counters so far.
    pub summary: ReportSummary,
    index: HashMap<Key, u32>,
    /// Entities in order of first appearance.
    pub entities: Vec<EntityStats>,
    topic_index: HashMap<String, u32>,
    /// Topics in order of first appearance.
    pub topics: Vec<TopicStats>,
    /// Earliest and latest article date.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// The user's alias table (`--aliases`), layered over the built-in one when resolving.
    user_aliases: Option<Aliases>,
}

/// One entity of one article.
struct ArticleEntity {
    key: Key,
    canonical: String,
    label: String,
    id: Option<String>,
    mentions: u64,
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_NAME_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

fn text_of(v: &record::Scalar) -> Option<String> {
    v.text().map(|s| cut(&s))
}

/// Reads an ISO date from the start of a string ("2026-03-14", "2026-03-14T09:00:00Z").
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let prefix = s.trim().get(..10)?;
    NaiveDate::parse_from_str(prefix, "%Y-%m-%d").ok()
}

/// The week (ISO Monday) of a date.
pub fn week_of(d: NaiveDate) -> Week {
    d.num_days_from_ce() - d.weekday().num_days_from_monday() as i32
}

/// The ISO week label of a week, e.g. "2026-W11".
pub fn week_label(w: Week) -> String {
    match NaiveDate::from_num_days_from_ce_opt(w) {
        Some(d) => {
            let iso = d.iso_week();
            format!("{}-W{:02}", iso.year(), iso.week())
        }
        None => "?".to_string(),
    }
}

/// Keeps the `keep` largest counts of a map (ties broken by smaller key, so pruning is
/// deterministic).
fn prune(map: &mut HashMap<u32, u32>, keep: usize) {
    let mut items: Vec<(u32, u32)> = map.drain().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    items.truncate(keep);
    map.extend(items);
}

fn bump(map: &mut HashMap<u32, u32>, key: u32, keep: usize, max: usize) {
    let c = map.entry(key).or_insert(0);
    *c = c.saturating_add(1);
    if map.len() > max {
        prune(map, keep);
    }
}

impl Aggregator {
    /// A new aggregation reading article dates from `date_field`.
    pub fn new(date_field: &str) -> Self {
        Self {
            date_field: date_field.to_string(),
            summary: ReportSummary::default(),
            index: HashMap::new(),
            entities: Vec::new(),
            topic_index: HashMap::new(),
            topics: Vec::new(),
            dates: None,
            user_aliases: None,
        }
    }

    /// Uses the alias table in `path` (TOML or CSV) over the built-in one when entities are
    /// resolved across the corpus: its entries win over every automatic decision.
    pub fn set_aliases(&mut self, path: Option<&Path>) -> Result<()> {
        self.user_aliases = path.map(Aliases::from_file).transpose()?;
        Ok(())
    }

    /// Adds one input line (without its line break). Blank lines are ignored; lines that are
    /// not JSON objects count as invalid.
    pub fn add_line(&mut self, line: &[u8]) {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.summary.records += 1;
        match record::parse(line, &self.date_field) {
            Some(r) => self.add_record(r),
            None => self.summary.invalid += 1,
        }
    }

    /// Adds one parsed record.
    fn add_record(&mut self, r: RecordIn) {
        if r.error {
            self.summary.errors += 1;
            return;
        }
        if r.skipped || (r.entities.is_none() && r.summary.is_none()) {
            self.summary.skipped += 1;
            return;
        }
        self.summary.annotated += 1;
        let date = r.date.text().and_then(|s| parse_date(&s));
        let week = date.map(week_of);
        match date {
            Some(d) => {
                self.dates = Some(match self.dates {
                    Some((a, b)) => (a.min(d), b.max(d)),
                    None => (d, d),
                })
            }
            None => self.summary.undated += 1,
        }

        let mut found = match (&r.summary, &r.entities) {
            (Some(items), _) => collect_entities(items, true),
            (None, Some(items)) => collect_entities(items, false),
            (None, None) => Vec::new(),
        };
        // Most mentioned first: these are the ones co-occurrence is counted among.
        found.sort_by_key(|e| std::cmp::Reverse(e.mentions));
        let ids: Vec<u32> = found
            .into_iter()
            .map(|e| self.entity(e, date, week))
            .collect();

        let topic_ids = self.article_topics(r.topics.as_deref().unwrap_or_default(), week);
        for &e in &ids {
            let stats = &mut self.entities[e as usize];
            for &t in &topic_ids {
                bump(&mut stats.topics, t, TOPIC_KEEP, TOPIC_MAX);
            }
        }
        // Acronyms the article grouped with a longer name ("RIVM" with "Rijksinstituut voor
        // Volksgezondheid en Milieu"): evidence for the corpus resolution.
        for m in r.entities.iter().flatten() {
            let (Some(t), Some(c)) = (m.text.text(), m.canonical.text()) else {
                continue;
            };
            if t == c || !corpus::is_acronym(&t) {
                continue;
            }
            if let Some(&e) = ids
                .iter()
                .find(|&&e| self.entities[e as usize].canonical == c)
            {
                let short = t.to_lowercase();
                let d = &mut self.entities[e as usize].defines;
                if d.len() < corpus::MAX_DEFINES && !d.contains(&short) {
                    d.push(short);
                }
            }
        }
        let top = &ids[..ids.len().min(ARTICLE_COOC_LIMIT)];
        for &a in top {
            let stats = &mut self.entities[a as usize];
            for &b in top {
                if a != b {
                    bump(&mut stats.cooc, b, COOC_KEEP, COOC_MAX);
                }
            }
        }
    }

    /// Records one entity of an article; returns its index.
    fn entity(&mut self, e: ArticleEntity, date: Option<NaiveDate>, week: Option<Week>) -> u32 {
        let next = self.entities.len() as u32;
        let i = *self.index.entry(e.key).or_insert(next);
        if i == next {
            self.entities.push(EntityStats {
                canonical: e.canonical,
                label: e.label,
                id: e.id,
                articles: 0,
                mentions: 0,
                first: None,
                last: None,
                weeks: BTreeMap::new(),
                cooc: HashMap::new(),
                topics: HashMap::new(),
                variants: Vec::new(),
                defines: Vec::new(),
            });
        }
        let s = &mut self.entities[i as usize];
        s.articles += 1;
        s.mentions = s.mentions.saturating_add(e.mentions);
        self.summary.mentions = self.summary.mentions.saturating_add(e.mentions);
        if let Some(d) = date {
            s.first = Some(s.first.map_or(d, |f| f.min(d)));
            s.last = Some(s.last.map_or(d, |l| l.max(d)));
        }
        if let Some(w) = week {
            *s.weeks.entry(w).or_insert(0) += e.mentions;
        }
        i
    }

    /// Records the topics of an article; returns their indexes (distinct).
    fn article_topics(&mut self, topics: &[TopicIn], week: Option<Week>) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for t in topics {
            let Some(id) = text_of(&t.id) else { continue };
            let label = text_of(&t.label).unwrap_or_else(|| id.clone());
            let next = self.topics.len() as u32;
            let i = *self.topic_index.entry(id.clone()).or_insert(next);
            if i == next {
                self.topics.push(TopicStats {
                    id,
                    label,
                    articles: 0,
                    weeks: BTreeMap::new(),
                });
            }
            if out.contains(&i) {
                continue;
            }
            out.push(i);
            let s = &mut self.topics[i as usize];
            s.articles += 1;
            if let Some(w) = week {
                *s.weeks.entry(w).or_insert(0) += 1;
            }
        }
        out
    }

    /// Resolves the entities across the corpus (see the module docs), then finishes the counters
    /// that depend on the whole corpus.
    pub fn finish_summary(&mut self) {
        self.resolve();
        self.summary.entities = self.entities.len() as u64;
        self.summary.topics = self.topics.len() as u64;
        if let Some((a, b)) = self.dates {
            self.summary.first_date = Some(a.to_string());
            self.summary.last_date = Some(b.to_string());
        }
    }
}

impl Aggregator {
    /// Merges the names that the corpus resolution joins into one entity each.
    fn resolve(&mut self) {
        let user_entries = self.user_aliases.as_ref().map_or(0, Aliases::len);
        let aliases = match self.user_aliases.take() {
            Some(user) => user.with_fallback(Aliases::builtin()),
            None => Aliases::builtin(),
        };
        let res = {
            let rows: Vec<NameRow<'_>> = self
                .entities
                .iter()
                .map(|e| NameRow {
                    canonical: &e.canonical,
                    label: &e.label,
                    id: e.id.as_deref(),
                    articles: e.articles,
                    days: e
                        .first
                        .zip(e.last)
                        .map(|(a, b)| (a.num_days_from_ce(), b.num_days_from_ce())),
                    cooc: &e.cooc,
                    defines: &e.defines,
                })
                .collect();
            corpus::resolve(&rows, &aliases, user_entries)
        };
        self.index = HashMap::new();
        let cluster = &res.cluster;
        // Articles shared by two names of one entity (each pair once, the larger of its two
        // counts: pruning may have dropped one side).
        let mut overlap: HashMap<(u32, u32), u32> = HashMap::new();
        for (a, e) in self.entities.iter().enumerate() {
            for (&b, &c) in &e.cooc {
                let (a, b) = (a as u32, b);
                if a != b && cluster.get(b as usize) == Some(&cluster[a as usize]) {
                    let slot = overlap.entry((a.min(b), a.max(b))).or_insert(0);
                    *slot = (*slot).max(c);
                }
            }
        }
        let mut shared = vec![0u64; res.clusters.len()];
        for ((a, _), c) in overlap {
            shared[cluster[a as usize] as usize] += u64::from(c);
        }
        let old = std::mem::take(&mut self.entities);
        let mut largest = vec![0u64; res.clusters.len()];
        let mut merged: Vec<EntityStats> = res
            .clusters
            .iter()
            .map(|c| EntityStats {
                canonical: c.canonical.clone(),
                label: c.label.clone(),
                id: c.id.clone(),
                articles: 0,
                mentions: 0,
                first: None,
                last: None,
                weeks: BTreeMap::new(),
                cooc: HashMap::new(),
                topics: HashMap::new(),
                variants: if c.members.len() > 1 {
                    c.members
                        .iter()
                        .map(|&m| {
                            let e = &old[m as usize];
                            Variant {
                                name: e.canonical.clone(),
                                label: e.label.clone(),
                                articles: e.articles,
                            }
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                defines: Vec::new(),
            })
            .collect();
        for (r, e) in old.into_iter().enumerate() {
            let k = cluster[r] as usize;
            largest[k] = largest[k].max(e.articles);
            let m = &mut merged[k];
            m.articles += e.articles;
            m.mentions = m.mentions.saturating_add(e.mentions);
            m.first = match (m.first, e.first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            m.last = match (m.last, e.last) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if m.weeks.is_empty() {
                m.weeks = e.weeks;
            } else {
                for (w, c) in e.weeks {
                    *m.weeks.entry(w).or_insert(0) += c;
                }
            }
            for (t, c) in e.topics {
                let slot = m.topics.entry(t).or_insert(0);
                *slot = slot.saturating_add(c);
            }
            for (p, c) in e.cooc {
                let q = cluster[p as usize];
                if q as usize != k {
                    let slot = m.cooc.entry(q).or_insert(0);
                    *slot = slot.saturating_add(c);
                }
            }
            if m.topics.len() > TOPIC_MAX {
                prune(&mut m.topics, TOPIC_KEEP);
            }
            if m.cooc.len() > COOC_MAX {
                prune(&mut m.cooc, COOC_KEEP);
            }
        }
        for (k, m) in merged.iter_mut().enumerate() {
            m.articles = m.articles.saturating_sub(shared[k]).max(largest[k]);
        }
        self.entities = merged;
    }
}

fn make_key(canonical: &str, label: &str, id: &Option<String>) -> Key {
    match id {
        Some(id) => Key::Id(id.as_str().into()),
        None => Key::Name(canonical.into(), label.into()),
    }
}

/// Reads the entities of an article from its `entity_summary` (`summary`: mention counts
/// given) or its mention list (one mention per item), merging duplicate keys.
fn collect_entities(items: &[EntityIn], summary: bool) -> Vec<ArticleEntity> {
    let mut out: Vec<ArticleEntity> = Vec::new();
    for item in items {
        let Some(canonical) = text_of(&item.canonical).or_else(|| text_of(&item.text)) else {
            continue;
        };
        let label = text_of(&item.label).unwrap_or_else(|| "MISC".to_string());
        let mentions = if summary {
            item.mentions.count().unwrap_or(1).max(1)
        } else {
            1
        };
        push_merged(&mut out, canonical, label, text_of(&item.id), mentions);
    }
    out
}

fn push_merged(
    out: &mut Vec<ArticleEntity>,
    canonical: String,
    label: String,
    id: Option<String>,
    mentions: u64,
) {
    let key = make_key(&canonical, &label, &id);
    // Articles have few entities; a linear scan beats hashing here.
    if let Some(e) = out.iter_mut().find(|e| e.key == key) {
        e.mentions = e.mentions.saturating_add(mentions);
    } else {
        out.push(ArticleEntity {
            key,
            canonical,
            label,
            id,
            mentions,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_weeks() {
        let d = parse_date("2026-03-14T09:00:00Z").unwrap();
        assert_eq!(week_label(week_of(d)), "2026-W11");
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("14-03-2026"), None);
        assert_eq!(parse_date("2026"), None);
        assert_eq!(parse_date("2026-03-1é"), None);
        // 2027-01-01 is a Friday in ISO week 2026-W53.
        assert_eq!(
            week_label(week_of(parse_date("2027-01-01").unwrap())),
            "2026-W53"
        );
    }

    #[test]
    fn pruning_keeps_the_largest() {
        let mut m = HashMap::new();
        for k in 0..10u32 {
            for _ in 0..k {
                bump(&mut m, k, 3, 100);
            }
        }
        prune(&mut m, 3);
        let mut keys: Vec<u32> = m.keys().copied().collect();
        keys.sort();
        assert_eq!(keys, [7, 8, 9]);
    }

    #[test]
    fn cuts_long_names_on_char_boundaries() {
        let long = "é".repeat(MAX_NAME_CHARS + 5);
        assert_eq!(cut(&long).chars().count(), MAX_NAME_CHARS);
    }
}
