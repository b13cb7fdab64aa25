//! Entity resolution across a corpus: joins the per-article entities (one *row* per distinct
//! canonical name, label and id) that name the same person, organisation or place, so that a
//! report has one row per real entity. Used by `ontleed report` and `ontleed resolve`.
//!
//! Works on the distinct rows only (never on articles), so memory is bounded by the number of
//! distinct names. The decisions, in order (each join moves the shorter or rarer row into the
//! fuller one's cluster):
//!
//! 1. **Alias tables.** A row whose name (or id) is an entry of the alias table joins that
//!    entry's cluster, which takes the entry's name, label and id. A user table (`--aliases`)
//!    comes before the built-in one and wins over every automatic decision both ways: rows of
//!    different entries are never joined, and a row an entry names is never moved by a rule
//!    below (so an entry `name = "Wiebes"` keeps the surname-only row apart).
//! 2. **Labels.** Rows with the same name and different labels join the one in most articles
//!    when they are MISC or in at most a third of its articles ("Trump" ORG → "Trump" PER).
//! 3. **Spelling variants.** A name of two or more words and at least eight characters joins a
//!    name with the same label, word count and word initials that differs from it in one word
//!    of four letters or more by a letter left out or added or two neighbouring letters
//!    swapped ("Thiery Baudet" → "Thierry Baudet"; a changed letter is not enough:
//!    "Maria"/"Mario"), whose cluster is in at least five times as many articles and shares a
//!    co-occurring entity with it (when both have any). Only a name that has not been joined
//!    with others moves (so no chains of near-homonyms). This step runs again after steps 4
//!    and 5, with the clusters they built.
//! 4. **Initials, genitives, surnames and first names.** A PER row "T. Baudet", a surname-only
//!    row "Baudet" (or "de Jonge"), a genitive row "Baudets"/"Trumps" (any label, when its stem
//!    is such a surname), and a first-name row "Thierry" look for the *full names* (PER rows of
//!    two or more words, not initials) that they can abbreviate. One candidate cluster: joined,
//!    unless the row is in more than three times as many articles as the candidate and shares
//!    no co-occurring entity with it (a common surname next to one rare full name), or their
//!    dates lie more than three years apart. First names also need a shared co-occurring
//!    entity. Several candidates (two people share the surname: "Eric"/"Lorena Wiebes",
//!    "Hugo"/"Freek de Jonge"): joined only when one candidate is in at least twice as many
//!    articles as all others together *and* the row shares co-occurring entities with it, at
//!    least twice as much (cosine) as with any other candidate; otherwise the row is left
//!    alone. The full names themselves are never joined by this step.
//! 5. **Acronyms.** A one-word acronym row ("FvD", "OM") joins the non-PER name of two or more
//!    words whose initials it is ("Forum voor Democratie", "Openbaar Ministerie") or for which
//!    some article defined it ("Rijksinstituut voor Volksgezondheid en Milieu (RIVM)"), with the
//!    same candidate rules as surnames.
//!
//! A cluster's canonical name is that of its fullest row (not an initials form or acronym, most
//! words, most articles), and its label and id are that row's (an id of another row when it has
//! none); an alias entry gives its name, label and id instead to a cluster of two or more rows,
//! and a user entry to any cluster it names. (The built-in table was applied when the records
//! were annotated; a row it names alone keeps what the records say.)

use super::{Aliases, normalize};
use crate::ner::Label;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// Dates more than this many days apart make a join implausible.
const MAX_GAP_DAYS: i32 = 3 * 365;

/// One distinct name of the corpus, as the caller collected it.
#[derive(Debug, Clone, Copy)]
pub struct NameRow<'a> {
    /// Canonical name given by the per-article grouping.
    pub canonical: &'a str,
    /// Label (`PER`, `ORG`, `LOC`, `MISC`; anything else counts as none of these).
    pub label: &'a str,
    /// Stable id, when the records gave one.
    pub id: Option<&'a str>,
    /// Articles mentioning it.
    pub articles: u64,
    /// First and last day it was seen (any day numbering), when dated.
    pub days: Option<(i32, i32)>,
    /// Articles shared with other rows (row index → count); may be partial (pruned).
    pub cooc: &'a HashMap<u32, u32>,
    /// Acronyms that articles defined for this name (a mention "RIVM" grouped with it),
    /// lowercased.
    pub defines: &'a [String],
}

/// Acronyms kept per name (see [`NameRow::defines`]).
pub const MAX_DEFINES: usize = 8;

/// Whether a mention's text looks like an acronym ("FvD", "RIVM", "D66"): callers collect the
/// ones an article grouped with a longer name into [`NameRow::defines`].
pub fn is_acronym(text: &str) -> bool {
    normalize::is_acronym(text.trim())
}

/// One resolved entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Canonical name.
    pub canonical: String,
    /// Label.
    pub label: String,
    /// Stable id, when known.
    pub id: Option<String>,
    /// Member rows, most articles first.
    pub members: Vec<u32>,
}

/// The result of [`resolve`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The cluster of each row (index into `clusters`).
    pub cluster: Vec<u32>,
    /// The clusters, in order of their first row.
    pub clusters: Vec<Cluster>,
}

impl Resolution {
    /// The corpus-level entity key of a cluster, equal for all rows of one entity: its label and
    /// canonical name, `PER:Thierry Baudet`.
    pub fn entity_key(&self, cluster: u32) -> String {
        let c = &self.clusters[cluster as usize];
        format!("{}:{}", c.label, c.canonical)
    }
}

struct Row {
    key: String,
    label: Option<Label>,
    tokens: usize,
    /// PER, two or more words, not an initials form.
    full: bool,
    acronym: bool,
}

struct Resolver<'a> {
    rows: &'a [NameRow<'a>],
    info: Vec<Row>,
    parent: Vec<u32>,
    /// Per root: the alias entry that names the cluster.
    forced: Vec<Option<usize>>,
    /// Per row: named by an alias entry (never moved by a rule).
    locked: Vec<bool>,
    /// Per root: an id of the cluster.
    ids: Vec<Option<&'a str>>,
    /// Per root: articles and dates of the cluster, and its number of rows.
    articles: Vec<u64>,
    size: Vec<u32>,
    days: Vec<Option<(i32, i32)>>,
}

fn parse_label(s: &str) -> Option<Label> {
    s.trim().to_uppercase().parse().ok()
}

fn hash_of(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl<'a> Resolver<'a> {
    fn new(rows: &'a [NameRow<'a>]) -> Self {
        let info = rows
            .iter()
            .map(|r| {
                let label = parse_label(r.label);
                let key = normalize::form(r.canonical, label).key;
                let tokens = key.split(' ').filter(|t| !t.is_empty()).count();
                let first_is_particle = key
                    .split(' ')
                    .next()
                    .is_some_and(|t| matches!(t, "de" | "van" | "der" | "den" | "ter" | "ten"));
                Row {
                    full: label == Some(Label::Per)
                        && tokens >= 2
                        && !first_is_particle
                        && normalize::split_initials(&key).is_none(),
                    acronym: normalize::is_acronym(r.canonical.trim()),
                    key,
                    label,
                    tokens,
                }
            })
            .collect();
        let n = rows.len();
        Self {
            rows,
            info,
            parent: (0..n as u32).collect(),
            forced: vec![None; n],
            locked: vec![false; n],
            ids: rows.iter().map(|r| r.id).collect(),
            articles: rows.iter().map(|r| r.articles).collect(),
            size: vec![1; n],
            days: rows.iter().map(|r| r.days).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Moves `x`'s cluster into `y`'s. Refused when the two clusters belong to different alias
    /// entries or have different ids, or (for an automatic decision) when `x` is locked.
    fn join(&mut self, x: u32, y: u32, automatic: bool) -> bool {
        if automatic && self.locked[x as usize] {
            return false;
        }
        let (rx, ry) = (self.find(x), self.find(y));
        if rx == ry {
            return true;
        }
        let (fx, fy) = (self.forced[rx as usize], self.forced[ry as usize]);
        if fx.is_some() && fy.is_some() && fx != fy {
            return false;
        }
        if automatic && fx.is_some() {
            return false;
        }
        let (ix, iy) = (self.ids[rx as usize], self.ids[ry as usize]);
        if ix.is_some() && iy.is_some() && ix != iy && fx.is_none() && fy.is_none() {
            return false;
        }
        self.parent[rx as usize] = ry;
        let ry = ry as usize;
        self.forced[ry] = fy.or(fx);
        self.ids[ry] = iy.or(ix);
        self.articles[ry] += self.articles[rx as usize];
        self.size[ry] += self.size[rx as usize];
        self.days[ry] = match (self.days[ry], self.days[rx as usize]) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (a, b) => a.or(b),
        };
        true
    }

    /// Step 1: alias entries.
    fn aliases(&mut self, table: &Aliases) {
        let by_id: HashMap<&str, usize> = table
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.id.as_deref().map(|id| (id, i)))
            .collect();
        let mut first: HashMap<usize, u32> = HashMap::new();
        for r in 0..self.rows.len() {
            let row = &self.rows[r];
            let info = &self.info[r];
            let entry = row
                .id
                .and_then(|id| by_id.get(id).copied())
                .or_else(|| table.lookup_index(&info.key))
                .or_else(|| table.lookup_index(&normalize::form(row.canonical, None).key));
            let Some(e) = entry else { continue };
            let compatible = table.entry(e).is_some_and(|entry| {
                entry.label.is_none()
                    || entry.label == info.label
                    || info.label == Some(Label::Misc)
                    || row.id.is_some()
            });
            if !compatible {
                continue;
            }
            self.locked[r] = true;
            let r = r as u32;
            match first.get(&e) {
                Some(&f) => {
                    self.join(r, f, false);
                }
                None => {
                    first.insert(e, r);
                    self.forced[r as usize] = Some(e);
                }
            }
        }
    }

    /// Step 2: the same name with different labels.
    fn labels(&mut self) {
        let mut by_key: HashMap<&str, Vec<u32>> = HashMap::new();
        for (r, info) in self.info.iter().enumerate() {
            by_key.entry(info.key.as_str()).or_default().push(r as u32);
        }
        let mut groups: Vec<Vec<u32>> = by_key.into_values().filter(|v| v.len() > 1).collect();
        groups.sort();
        for rows in groups {
            let Some(&main) = rows.iter().max_by_key(|&&r| {
                (
                    self.info[r as usize].label != Some(Label::Misc),
                    self.rows[r as usize].articles,
                    std::cmp::Reverse(r),
                )
            }) else {
                continue;
            };
            for &r in &rows {
                if r == main {
                    continue;
                }
                let misc = self.info[r as usize].label == Some(Label::Misc);
                if misc || self.rows[r as usize].articles * 3 <= self.rows[main as usize].articles {
                    self.join(r, main, true);
                }
            }
        }
    }

    /// Step 3: spelling variants at edit distance one (found through shared deletion variants).
    fn spelling(&mut self) {
        let eligible: Vec<u32> = (0..self.rows.len() as u32)
            .filter(|&r| {
                let i = &self.info[r as usize];
                i.tokens >= 2 && i.key.chars().count() >= 8 && !i.acronym
            })
            .collect();
        let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
        for &r in &eligible {
            for v in deletions(&self.info[r as usize].key) {
                index.entry(v).or_default().push(r);
            }
        }
        let mut pairs: HashSet<(u32, u32)> = HashSet::new();
        for rows in index.values() {
            if rows.len() < 2 || rows.len() > 50 {
                continue;
            }
            for (k, &a) in rows.iter().enumerate() {
                for &b in &rows[k + 1..] {
                    if a != b {
                        pairs.insert((a.min(b), a.max(b)));
                    }
                }
            }
        }
        let mut pairs: Vec<(u32, u32)> = pairs.into_iter().collect();
        pairs.sort();
        for (a, b) in pairs {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra == rb {
                continue;
            }
            let (na, nb) = (self.articles[ra as usize], self.articles[rb as usize]);
            // The rarer one moves.
            let (x, y, nx, ny) = if na < nb || (na == nb && a > b) {
                (a, b, na, nb)
            } else {
                (b, a, nb, na)
            };
            let rx = self.find(x);
            if nx * 5 > ny || self.size[rx as usize] > 1 {
                continue;
            }
            let (ix, iy) = (&self.info[x as usize], &self.info[y as usize]);
            if ix.label != iy.label || !spelling_variant(&ix.key, &iy.key) {
                continue;
            }
            // Some shared context, when there is any to compare.
            let (rx, ry) = (self.find(x), self.find(y));
            let own = self.profile(&[x], &[rx, ry]);
            let other = self.profile(&[y], &[rx, ry]);
            let context = own.is_empty() || other.is_empty() || cosine(&own, &other) > 0.0;
            if context && self.plausible_dates(x, y) {
                self.join(x, y, true);
            }
        }
    }

    fn plausible_dates(&mut self, x: u32, y: u32) -> bool {
        let (rx, ry) = (self.find(x), self.find(y));
        match (self.days[rx as usize], self.days[ry as usize]) {
            (Some((a, b)), Some((c, d))) => c - b <= MAX_GAP_DAYS && a - d <= MAX_GAP_DAYS,
            _ => true,
        }
    }

    /// The co-occurrence profile of a cluster (partner clusters → articles), without `skip`.
    fn profile(&mut self, members: &[u32], skip: &[u32]) -> HashMap<u32, f64> {
        let mut out: HashMap<u32, f64> = HashMap::new();
        for &m in members {
            let cooc = self.rows[m as usize].cooc;
            for (&p, &c) in cooc {
                if (p as usize) >= self.rows.len() {
                    continue;
                }
                let rp = self.find(p);
                if !skip.contains(&rp) {
                    *out.entry(rp).or_default() += c as f64;
                }
            }
        }
        out
    }

    /// Picks the cluster that row `x` joins among the candidate rows, or none (see the module
    /// docs, step 4). `need_context`: a single candidate must share a co-occurring entity.
    fn pick(&mut self, x: u32, cands: &[u32], need_context: bool) -> Option<u32> {
        let rx = self.find(x);
        let mut roots: Vec<u32> = cands.iter().map(|&c| self.find(c)).collect();
        if roots.contains(&rx) {
            // Already with one of them (through another name of its cluster).
            return None;
        }
        roots.sort_unstable();
        roots.dedup();
        // A candidate that is a spelling variant of a more frequent one ("Thiery Baudet" next
        // to "Thierry Baudet") is no second person: it is left to the spelling step.
        let cand_root: Vec<(u32, u32)> = cands.iter().map(|&c| (c, self.find(c))).collect();
        let variant_of_bigger = |r: u32| {
            cand_root.iter().any(|&(c, rc)| {
                rc == r
                    && cand_root.iter().any(|&(d, rd)| {
                        let (nr, nd) = (self.articles[r as usize], self.articles[rd as usize]);
                        rd != r
                            && (nd > nr || (nd == nr && rd < r))
                            && spelling_variant(
                                &self.info[c as usize].key,
                                &self.info[d as usize].key,
                            )
                    })
            })
        };
        let drop: Vec<u32> = roots
            .iter()
            .copied()
            .filter(|&r| variant_of_bigger(r))
            .collect();
        roots.retain(|r| !drop.contains(r));
        if roots.is_empty() {
            return None;
        }
        let members_of = |s: &mut Self, root: u32| -> Vec<u32> {
            cands
                .iter()
                .copied()
                .filter(|&c| s.find(c) == root)
                .collect()
        };
        let mut skip = roots.clone();
        skip.push(rx);
        let own = self.profile(&[x], &skip);
        let mut scored: Vec<(u32, f64, u64)> = Vec::new();
        for &root in &roots {
            let members = members_of(self, root);
            let other = self.profile(&members, &skip);
            scored.push((root, cosine(&own, &other), self.articles[root as usize]));
        }
        let row_articles = self.rows[x as usize].articles;
        if let [(root, sim, articles)] = scored[..] {
            let context = sim > 0.0;
            if !context && (need_context || row_articles > 3 * articles) {
                return None;
            }
            return self.plausible_dates(x, root).then_some(root);
        }
        scored.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.total_cmp(&a.1)).then(a.0.cmp(&b.0)));
        let (top, sim, articles) = scored[0];
        let rest: u64 = scored[1..].iter().map(|s| s.2).sum();
        let best_context = sim > 0.0 && scored[1..].iter().all(|s| sim >= 2.0 * s.1);
        (articles >= 2 * rest && best_context && self.plausible_dates(x, top)).then_some(top)
    }

    /// Step 4: initials, genitives, surnames and first names.
    fn persons(&mut self) {
        let mut by_surname: HashMap<String, Vec<u32>> = HashMap::new();
        let mut by_first: HashMap<String, Vec<u32>> = HashMap::new();
        for (r, info) in self.info.iter().enumerate() {
            if !info.full {
                continue;
            }
            for s in normalize::surnames(&info.key) {
                by_surname.entry(s).or_default().push(r as u32);
            }
            if let Some(f) = info.key.split(' ').next() {
                by_first.entry(f.to_string()).or_default().push(r as u32);
            }
        }
        let per_key: HashMap<&str, u32> = self
            .info
            .iter()
            .enumerate()
            .filter(|(_, i)| i.label == Some(Label::Per))
            .map(|(r, i)| (i.key.as_str(), r as u32))
            .collect();
        // Initials forms first, then surnames (and genitives), then first names.
        let mut moves: Vec<(u8, u32, Vec<u32>)> = Vec::new();
        for r in 0..self.rows.len() as u32 {
            let info = &self.info[r as usize];
            if info.full || info.acronym {
                continue;
            }
            let per = info.label == Some(Label::Per);
            if per && let Some((c, rest)) = normalize::split_initials(&info.key) {
                let cands: Vec<u32> = by_surname
                    .get(rest.rsplit(' ').next().unwrap_or(&rest))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&j| {
                        let k = &self.info[j as usize].key;
                        k.starts_with(c) && k.ends_with(&format!(" {rest}"))
                    })
                    .collect();
                moves.push((0, r, cands));
                continue;
            }
            if let Some(cands) = by_surname.get(&info.key) {
                let ok = per
                    || info.label == Some(Label::Misc)
                    || cands.iter().any(|&j| {
                        self.rows[j as usize].articles >= 3 * self.rows[r as usize].articles
                    });
                if ok {
                    moves.push((1, r, cands.clone()));
                }
                continue;
            }
            if info.tokens == 1 && info.key.chars().count() >= 5 && info.key.ends_with('s') {
                let stem = &info.key[..info.key.len() - 1];
                if let Some(&target) = per_key.get(stem) {
                    moves.push((1, r, vec![target]));
                    continue;
                }
                if let Some(cands) = by_surname.get(stem) {
                    moves.push((1, r, cands.clone()));
                    continue;
                }
            }
            if per
                && info.tokens == 1
                && info.key.chars().count() >= 4
                && let Some(cands) = by_first.get(&info.key)
            {
                moves.push((2, r, cands.clone()));
            }
        }
        moves.sort_by_key(|m| (m.0, m.1));
        for (step, r, cands) in moves {
            // A genitive whose stem is a surname-only row: join that row (it moves on with it).
            if cands.len() == 1 && !self.info[cands[0] as usize].full {
                self.join(r, cands[0], true);
                continue;
            }
            if let Some(root) = self.pick(r, &cands, step == 2) {
                self.join(r, root, true);
            }
        }
    }

    /// Step 5: acronyms.
    fn acronyms(&mut self) {
        let mut by_initials: HashMap<String, Vec<u32>> = HashMap::new();
        let mut defined: HashMap<&str, Vec<u32>> = HashMap::new();
        for (r, row) in self.rows.iter().enumerate() {
            for d in row.defines {
                defined.entry(d.as_str()).or_default().push(r as u32);
            }
        }
        for (r, info) in self.info.iter().enumerate() {
            if info.label == Some(Label::Per) || info.acronym {
                continue;
            }
            for i in normalize::initials(self.rows[r].canonical) {
                by_initials.entry(i).or_default().push(r as u32);
            }
        }
        for r in 0..self.rows.len() as u32 {
            let info = &self.info[r as usize];
            if !info.acronym || info.label == Some(Label::Per) {
                continue;
            }
            let short = self.rows[r as usize].canonical.trim();
            let mut cands: Vec<u32> = by_initials
                .get(&info.key)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&j| normalize::initials_match(short, self.rows[j as usize].canonical))
                .chain(
                    defined
                        .get(info.key.as_str())
                        .into_iter()
                        .flatten()
                        .copied(),
                )
                .filter(|&j| j != r)
                .collect();
            cands.sort_unstable();
            cands.dedup();
            if cands.is_empty() {
                continue;
            }
            if let Some(root) = self.pick(r, &cands, false) {
                self.join(r, root, true);
            }
        }
    }

    fn finish(mut self, table: &Aliases, user_entries: usize) -> Resolution {
        let n = self.rows.len();
        let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut order: Vec<u32> = Vec::new();
        for r in 0..n as u32 {
            let root = self.find(r);
            let m = members.entry(root).or_default();
            if m.is_empty() {
                order.push(root);
            }
            m.push(r);
        }
        let mut cluster = vec![0u32; n];
        let mut clusters = Vec::with_capacity(order.len());
        for root in order {
            let mut ms = members.remove(&root).unwrap_or_default();
            ms.sort_by(|&a, &b| {
                self.rows[b as usize]
                    .articles
                    .cmp(&self.rows[a as usize].articles)
                    .then(a.cmp(&b))
            });
            let best = ms
                .iter()
                .copied()
                .max_by_key(|&r| {
                    let i = &self.info[r as usize];
                    (
                        !i.acronym && normalize::split_initials(&i.key).is_none(),
                        i.label != Some(Label::Misc),
                        i.tokens,
                        self.rows[r as usize].articles,
                        std::cmp::Reverse(r),
                    )
                })
                .unwrap_or(root);
            let entry = self.forced[root as usize]
                .filter(|&e| ms.len() > 1 || e < user_entries)
                .and_then(|e| table.entry(e));
            let row = &self.rows[best as usize];
            let id = row
                .id
                .or_else(|| ms.iter().find_map(|&m| self.rows[m as usize].id));
            let c = match entry {
                Some(e) => Cluster {
                    canonical: e.name.clone(),
                    label: e
                        .label
                        .map_or_else(|| row.label.to_string(), |l| l.as_str().to_string()),
                    id: e.id.clone().or(id.map(str::to_string)),
                    members: ms,
                },
                None => Cluster {
                    canonical: row.canonical.to_string(),
                    label: row.label.to_string(),
                    id: id.map(str::to_string),
                    members: ms,
                },
            };
            for &m in &c.members {
                cluster[m as usize] = clusters.len() as u32;
            }
            clusters.push(c);
        }
        Resolution { cluster, clusters }
    }
}

/// Hashes of a key and of its single-character deletions.
fn deletions(key: &str) -> Vec<u64> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = vec![hash_of(key)];
    let mut buf = String::with_capacity(key.len());
    for skip in 0..chars.len() {
        buf.clear();
        buf.extend(
            chars
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != skip)
                .map(|(_, c)| c),
        );
        out.push(hash_of(&buf));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether `a` is a spelling variant of `b`: same word count and word initials, edit distance
/// one inside a single word of four letters or more: a letter left out or added, or two
/// neighbouring letters swapped.
fn spelling_variant(a: &str, b: &str) -> bool {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if wa.len() != wb.len() || normalize::edit_distance(a, b) != 1 {
        return false;
    }
    let diff: Vec<(&str, &str)> = wa
        .iter()
        .zip(&wb)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (*x, *y))
        .collect();
    let [(x, y)] = diff[..] else {
        return false;
    };
    let (cx, cy): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
    if cx.len().min(cy.len()) < 4 || cx.first() != cy.first() {
        return false;
    }
    if cx.len() != cy.len() {
        return true;
    }
    // Same length: only two neighbouring letters swapped, never one letter changed (names
    // that differ in one letter are as often two names: "Bakker"/"Bakkes", "Maria"/"Mario").
    let diff: Vec<usize> = (0..cx.len()).filter(|&i| cx[i] != cy[i]).collect();
    matches!(diff[..], [i, j] if j == i + 1 && cx[i] == cy[j] && cx[j] == cy[i])
}

fn cosine(a: &HashMap<u32, f64>, b: &HashMap<u32, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(k, v)| b.get(k).map(|w| v * w)).sum();
    let na: f64 = a.values().map(|v| v * v).sum::<f64>().sqrt();
    let nb: f64 = b.values().map(|v| v * v).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Resolves the rows into entities with `aliases`, whose first `user_entries` entries are the
/// user's (a user table layered over the built-in one with [`Aliases::with_fallback`] has its own
/// entries first). See the module docs for the rules.
pub fn resolve(rows: &[NameRow<'_>], aliases: &Aliases, user_entries: usize) -> Resolution {
    let mut r = Resolver::new(rows);
    r.aliases(aliases);
    r.labels();
    r.spelling();
    r.persons();
    r.acronyms();
    // Again, with the articles of the clusters built since ("Femke Halsma" next to a full name
    // that is rare as such but frequent with its surname-only articles).
    r.spelling();
    r.finish(aliases, user_entries)
}

/// Collects the distinct names of a corpus article by article (for callers that have no
/// aggregation of their own, such as `ontleed resolve`). Rows are keyed like the report's:
/// by id when there is one, else by canonical name and label.
#[derive(Debug, Default)]
pub struct Collector {
    index: HashMap<(String, String, String), u32>,
    /// Canonical, label, id, articles, days, co-occurrence per row.
    rows: Vec<CollectedRow>,
}

#[derive(Debug, Default)]
struct CollectedRow {
    canonical: String,
    label: String,
    id: Option<String>,
    articles: u64,
    days: Option<(i32, i32)>,
    cooc: HashMap<u32, u32>,
    defines: Vec<String>,
}

/// Co-occurrence is counted among at most this many entities of an article.
const ARTICLE_LIMIT: usize = 50;
/// Per row, the co-occurrence map is pruned to its 50 largest counts past 200 entries.
const COOC_KEEP: usize = 50;
const COOC_MAX: usize = 200;

fn row_key(canonical: &str, label: &str, id: Option<&str>) -> (String, String, String) {
    match id {
        Some(id) => (String::new(), String::new(), id.to_string()),
        None => (canonical.to_string(), label.to_string(), String::new()),
    }
}

impl Collector {
    /// A new, empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the entities of one article: (canonical, label, id); `day` is the article's day
    /// number when dated.
    pub fn add_article(&mut self, names: &[(&str, &str, Option<&str>)], day: Option<i32>) {
        let mut rows: Vec<u32> = Vec::new();
        for &(c, l, id) in names {
            let key = row_key(c, l, id);
            let next = self.rows.len() as u32;
            let r = *self.index.entry(key).or_insert(next);
            if r == next {
                self.rows.push(CollectedRow {
                    canonical: c.to_string(),
                    label: l.to_string(),
                    id: id.map(str::to_string),
                    ..CollectedRow::default()
                });
            }
            if rows.contains(&r) {
                continue;
            }
            rows.push(r);
            let row = &mut self.rows[r as usize];
            row.articles += 1;
            if let Some(d) = day {
                row.days = Some(row.days.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
            }
        }
        let top = &rows[..rows.len().min(ARTICLE_LIMIT)];
        for &a in top {
            let cooc = &mut self.rows[a as usize].cooc;
            for &b in top {
                if a != b {
                    *cooc.entry(b).or_insert(0) += 1;
                }
            }
            if cooc.len() > COOC_MAX {
                let mut items: Vec<(u32, u32)> = cooc.drain().collect();
                items.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
                items.truncate(COOC_KEEP);
                cooc.extend(items);
            }
        }
    }

    /// Records that an article grouped the acronym `short` with the name (canonical, label,
    /// id) that it collected before.
    pub fn add_definition(&mut self, short: &str, canonical: &str, label: &str, id: Option<&str>) {
        let short = short.trim().to_lowercase();
        if let Some(r) = self.row_of(canonical, label, id) {
            let d = &mut self.rows[r as usize].defines;
            if d.len() < MAX_DEFINES && !d.contains(&short) {
                d.push(short);
            }
        }
    }

    /// The row of a name, when it was collected.
    pub fn row_of(&self, canonical: &str, label: &str, id: Option<&str>) -> Option<u32> {
        self.index.get(&row_key(canonical, label, id)).copied()
    }

    /// Number of distinct rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Resolves the collected rows (see [`resolve`]).
    pub fn resolve(&self, aliases: &Aliases, user_entries: usize) -> Resolution {
        let rows: Vec<NameRow<'_>> = self
            .rows
            .iter()
            .map(|r| NameRow {
                canonical: &r.canonical,
                label: &r.label,
                id: r.id.as_deref(),
                articles: r.articles,
                days: r.days,
                cooc: &r.cooc,
                defines: &r.defines,
            })
            .collect();
        resolve(&rows, aliases, user_entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a corpus from articles given as lists of (canonical, label).
    fn corpus(articles: &[&[(&str, &str)]]) -> Collector {
        let mut c = Collector::new();
        for (i, a) in articles.iter().enumerate() {
            let names: Vec<(&str, &str, Option<&str>)> =
                a.iter().map(|&(n, l)| (n, l, None)).collect();
            c.add_article(&names, Some(i as i32));
        }
        c
    }

    fn same(c: &Collector, r: &Resolution, a: (&str, &str), b: (&str, &str)) -> bool {
        let x = c.row_of(a.0, a.1, None).expect("row a");
        let y = c.row_of(b.0, b.1, None).expect("row b");
        r.cluster[x as usize] == r.cluster[y as usize]
    }

    #[test]
    fn surnames_genitives_typos_and_acronyms_join() {
        let c = corpus(&[
            &[("Thierry Baudet", "PER"), ("Forum voor Democratie", "ORG")],
            &[("Thierry Baudet", "PER"), ("Forum voor Democratie", "ORG")],
            &[("Thierry Baudet", "PER"), ("Tweede Kamer", "ORG")],
            &[("Baudet", "PER"), ("FvD", "ORG")],
            &[("Baudets", "MISC"), ("FvD", "ORG")],
            &[("Thiery Baudet", "PER"), ("Tweede Kamer", "ORG")],
            &[("T. Baudet", "PER"), ("Forum voor Democratie", "ORG")],
            &[("Thierry", "PER"), ("Forum voor Democratie", "ORG")],
            &[("Thierry Baudet", "PER"), ("Openbaar Ministerie", "ORG")],
            &[("OM", "ORG")],
        ]);
        let r = c.resolve(&Aliases::empty(), 0);
        let tb = ("Thierry Baudet", "PER");
        for v in [
            ("Baudet", "PER"),
            ("Baudets", "MISC"),
            ("Thiery Baudet", "PER"),
            ("T. Baudet", "PER"),
            ("Thierry", "PER"),
        ] {
            assert!(same(&c, &r, v, tb), "{v:?}");
        }
        assert!(same(
            &c,
            &r,
            ("FvD", "ORG"),
            ("Forum voor Democratie", "ORG")
        ));
        assert!(same(&c, &r, ("OM", "ORG"), ("Openbaar Ministerie", "ORG")));
        let x = c.row_of("Baudets", "MISC", None).unwrap();
        let cl = &r.clusters[r.cluster[x as usize] as usize];
        assert_eq!((cl.canonical.as_str(), cl.label.as_str()), tb);
        assert_eq!(r.entity_key(r.cluster[x as usize]), "PER:Thierry Baudet");
    }

    #[test]
    fn shared_surnames_stay_apart() {
        let c = corpus(&[
            &[("Eric Wiebes", "PER"), ("Groningen", "LOC")],
            &[("Eric Wiebes", "PER"), ("Groningen", "LOC")],
            &[("Lorena Wiebes", "PER"), ("Jumbo-Visma", "ORG")],
            &[("Lorena Wiebes", "PER"), ("Jumbo-Visma", "ORG")],
            &[("Wiebes", "PER"), ("Groningen", "LOC")],
            &[("Hugo de Jonge", "PER")],
            &[("Freek de Jonge", "PER")],
            &[("De Jonge", "PER")],
            &[("Donald Trump", "PER")],
            &[("Ivanka Trump", "PER")],
            &[("Trump", "PER")],
            &[("Donald", "PER")],
        ]);
        let r = c.resolve(&Aliases::empty(), 0);
        for (a, b) in [
            ("Eric Wiebes", "Lorena Wiebes"),
            ("Hugo de Jonge", "Freek de Jonge"),
            ("Donald Trump", "Ivanka Trump"),
            ("Wiebes", "Eric Wiebes"),
            ("De Jonge", "Hugo de Jonge"),
            ("Trump", "Donald Trump"),
            ("Donald", "Ivanka Trump"),
        ] {
            assert!(!same(&c, &r, (a, "PER"), (b, "PER")), "{a} / {b}");
        }
    }

    #[test]
    fn user_aliases_win_both_ways() {
        let c = corpus(&[
            &[("Thierry Baudet", "PER")],
            &[("Baudet", "PER")],
            &[("TB", "PER")],
            &[("Mark Rutte", "PER")],
            &[("Rutte", "PER")],
        ]);
        let user = Aliases::from_toml_str(
            "[[entity]]\nname = \"Thierry Baudet\"\naliases = [\"TB\"]\n\n[[entity]]\nname = \"Rutte\"\n",
        )
        .unwrap();
        let n = user.len();
        let r = c.resolve(&user.with_fallback(Aliases::builtin()), n);
        assert!(same(&c, &r, ("TB", "PER"), ("Thierry Baudet", "PER")));
        assert!(same(&c, &r, ("Baudet", "PER"), ("Thierry Baudet", "PER")));
        assert!(!same(&c, &r, ("Rutte", "PER"), ("Mark Rutte", "PER")));
        let r = c.resolve(&Aliases::empty(), 0);
        assert!(same(&c, &r, ("Rutte", "PER"), ("Mark Rutte", "PER")));
    }

    #[test]
    fn spelling_variants() {
        assert!(spelling_variant("thiery baudet", "thierry baudet"));
        assert!(!spelling_variant("maria martens", "mario martens"));
        assert!(!spelling_variant("kim putters", "tim putters"));
        assert!(!spelling_variant("eric wiebes", "lorena wiebes"));
        assert!(spelling_variant("geert wilders", "geert wlders"));
        assert!(spelling_variant("geert wilders", "geert wildres"));
        assert!(!spelling_variant("jan bakker", "jan bakkes"));
    }
}
