//! The entity layer within one article: groups the mentions the recognizer found into entities,
//! gives each a canonical name (and a stable id when an alias table knows it), and summarizes
//! them.
//!
//! # Grouping rules
//!
//! Every mention is first normalized (see `normalize.rs`): whitespace collapsed, curly quotes
//! unified, surrounding quotes and trailing punctuation removed, a possessive `'s` or `'`
//! removed ("Huawei's" → "Huawei"), and — for non-person mentions only — a leading article
//! `de`/`het`/`'t` removed ("de Verenigde Staten" → "Verenigde Staten"; persons keep it, since
//! "De Jong" is a surname). Matching is then case-insensitive on this normalized *key*.
//!
//! 0. **Member words and demonyms.** "VVD'er", "PVV'ers", "D66-ers" (a capitalised stem that
//!    is an acronym, an ORG mention of the article or an alias) and "GroenLinksers" (an ORG of
//!    the alias table, four letters or more, with "er"/"ers" glued on) link to their party, and a
//!    demonym of the alias table ("Amerikaanse") to its entry: such mentions form their own
//!    entity of `kind` `member` or `demonym`, with the canonical name, label and id of the
//!    entity they refer to. They take part in no other rule and keep the recognizer's label.
//! 1. **Bare possessive s.** A mention whose key ends in `s` (4+ characters) loses that `s` when
//!    the shorter key is known in the article with a compatible label: for a PER mention, the
//!    surname of a PER full name ("Pangs" → "Pang") or another PER mention of at least four
//!    characters (so "Hans" stays apart from "Han"); for ORG/LOC, another mention with the same
//!    label or an alias ("Ruslands" → "Rusland"). A mention with another label (typically MISC:
//!    "Trumps beleid", "Baudets partij") whose stem is such a person is that person's genitive:
//!    it joins the person and is relabelled PER. Otherwise MISC is left alone, because
//!    adjectives and languages ("Nederlands") are MISC.
//! 2. **Aliases.** A mention whose key is a form in the alias table belongs to that table entry:
//!    all forms of one entry form one entity ("VS", "Amerika", "de Verenigde Staten"), with the
//!    entry's name as canonical name, its id, and its label (when the entry has one).
//! 3. **Same key.** Mentions with the same key form one entity, whatever their labels.
//! 4. **Surnames.** A person's *full name* is a PER-labelled mention of two or more words in a
//!    group whose majority label is PER. Its surnames are its last word and the words from its
//!    first name particle on ("Frenkie de Jong" → "Jong", "de Jong"). A mention (not matched by
//!    an alias) whose key equals a surname joins that person, whether it comes before or after
//!    the full name. When several people share the surname, it joins the nearest full name
//!    *before* it, or, when none comes before, the nearest after it. Mentions with more words
//!    are processed first, so "De Jong" joins "Frenkie de Jong" before "Jong" is looked at.
//!    A mention the recognizer labelled other than PER joins as well when it is clearly the
//!    same token, i.e. unless mentions with that key labelled non-PER outnumber both one and
//!    the PER-labelled ones: a one-off "Pang" tagged ORG next to "Vincent Pang" joins, but
//!    "Philips" tagged ORG three times next to "Frits Philips" stays the company.
//!    Before surnames, an **initials form** ("T. Baudet", "J.P. Balkenende") joins the nearest
//!    full name with the same rest whose first name starts with the first initial. After them, a
//!    PER-labelled **first name** alone ("Thierry", three letters or more, not a surname in the
//!    article) joins the one person of the article with that first name; with two such people
//!    ("Mark Rutte", "Mark Harbers") it stays apart.
//!
//!    **Acronyms** come next. A one-word acronym ("FvD", "RIVM", "D66"; not in a PER group)
//!    joins a name of two or more words that it abbreviates when the article defines it, i.e.
//!    the two mentions are at most three characters apart ("Forum voor Democratie (FvD)";
//!    letters in order, the first one starting a word); without a definition it joins the one
//!    group of the article whose word initials it is ("OM" … "Openbaar Ministerie"; function
//!    words such as "voor", "de" may be skipped: "PVV", "PvdA"). The alias table joins the
//!    others ("OM" and "Openbaar Ministerie" everywhere).
//! 5. **ORG short forms.** A group whose majority label is ORG and whose key is a strict
//!    word-prefix of the key of an ORG mention in exactly one other ORG group joins that group
//!    ("Huawei" … "Huawei Technologies"). With two candidates ("Huawei Technologies", "Huawei
//!    Consumer") it is ambiguous and stays apart. Longer short forms are processed first.
//!
//! A group's **label** is the alias entry's label when there is one, otherwise the majority
//! label of its mentions, possessive forms not voting when plain forms are there (ties go to the
//! label of the canonical mention). Its **canonical name** is the alias entry's name, otherwise
//! the fullest normalized form in the article: not an initials form, most words, then written
//! with a capital, then most frequent, then first. A capitalised leading article
//! ("De Telegraaf") or a possessive ("McDonald's") is kept in the canonical name only when every
//! mention of the group has it.

mod aliases;
pub mod corpus;
mod normalize;

pub use aliases::{AliasEntry, Aliases};

use crate::ner::Label;
use normalize::Form;
use serde::{Serialize, Serializer};
use std::collections::{HashMap, HashSet};

/// An entity mention found by the recognizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The text of the mention as it appears in the article.
    pub text: String,
    /// The label the recognizer gave it.
    pub label: Label,
    /// Character (code point) offset of the first character in the article.
    pub start: usize,
    /// Character offset one past the last character.
    pub end: usize,
}

/// What the grouping decided for one mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMention {
    /// Index of the mention's entity in [`Grouping::summary`].
    pub entity: usize,
    /// Canonical name of the entity.
    pub canonical: String,
    /// Label of the entity (may differ from the mention's own label).
    pub label: Label,
    /// Stable id of the entity, when an alias matched.
    pub id: Option<String>,
    /// A label that replaces the recognizer's label of the mention: the one the alias table
    /// gives the entity (the table is the better authority on a known name's type), or, for a
    /// possessive or genitive of a person or organisation ("Trumps" tagged MISC), the entity's.
    pub alias_label: Option<Label>,
    /// Set when the mention is a member word or demonym of the entity, not the entity itself.
    pub kind: Option<Kind>,
}

/// What an entity of an article is when it is not simply the named thing: a member word
/// ("VVD'er" → the VVD) or a demonym ("Amerikaanse" → the Verenigde Staten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A member or supporter of an organisation: "VVD'er", "PVV'ers".
    Member,
    /// A word derived from a place name: "Amerikaanse", "Duitse".
    Demonym,
}

impl Kind {
    /// The name written to the JSON (`member`, `demonym`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Demonym => "demonym",
        }
    }
}

/// One entity of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntitySummary {
    /// Canonical name.
    pub canonical: String,
    /// Entity label, written as `PER`, `ORG`, `LOC` or `MISC`.
    #[serde(serialize_with = "serialize_label")]
    pub label: Label,
    /// Number of mentions in the article.
    pub mentions: usize,
    /// Character offset of the first mention.
    pub first_offset: usize,
    /// Stable id, when an alias matched (omitted from the JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"member"` or `"demonym"` for mentions that refer to the entity without being it (a
    /// member word, a demonym); omitted for the entity itself. Such an entry has the canonical
    /// name, label and id of the entity it refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
}

/// Serializes a [`Label`] as its string form (`PER`, `ORG`, …).
pub fn serialize_label<S: Serializer>(label: &Label, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(label.as_str())
}

/// The result of [`group`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouping {
    /// One entry per input mention, in input order.
    pub mentions: Vec<ResolvedMention>,
    /// The entities, ordered by first offset.
    pub summary: Vec<EntitySummary>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Alias(usize, Option<Kind>),
    Key(String, Option<Kind>),
}

fn label_index(l: Label) -> usize {
    Label::ALL.iter().position(|&x| x == l).unwrap_or(0)
}

/// Majority label of some mentions; ties go to `tie`'s label when it is among the tied ones,
/// else to the first in [`Label::ALL`] order.
fn majority(labels: impl Iterator<Item = Label>, tie: Option<Label>) -> Label {
    let mut counts = [0usize; 4];
    for l in labels {
        counts[label_index(l)] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    if let Some(t) = tie
        && counts[label_index(t)] == max
    {
        return t;
    }
    Label::ALL
        .into_iter()
        .find(|&l| counts[label_index(l)] == max)
        .unwrap_or(Label::Misc)
}

/// Groups the mentions of one article into entities. See the module docs for the rules.
pub fn group(mentions: &[Mention], aliases: &Aliases) -> Grouping {
    let n = mentions.len();
    let mut forms: Vec<Form> = mentions
        .iter()
        .map(|m| normalize::form(&m.text, Some(m.label)))
        .collect();

    // Rule 0: member words and demonyms.
    let mut kind: Vec<Option<Kind>> = vec![None; n];
    let org_keys: HashSet<String> = forms
        .iter()
        .zip(mentions)
        .filter(|(_, m)| m.label == Label::Org)
        .map(|(f, _)| f.key.clone())
        .collect();
    for i in 0..n {
        if aliases.lookup_index(&forms[i].key).is_some() {
            continue;
        }
        if let Some(stem) = normalize::member_stem(&mentions[i].text) {
            let f = normalize::form(&stem, Some(Label::Org));
            if aliases.lookup_index(&f.key).is_some()
                || org_keys.contains(&f.key)
                || normalize::is_acronym(&stem)
            {
                forms[i] = f;
                kind[i] = Some(Kind::Member);
                continue;
            }
        }
        // "GroenLinksers": a party of the alias table with "er"/"ers" glued on.
        let glued = ["ers", "er"].iter().find_map(|suffix| {
            let stem = forms[i].display.strip_suffix(suffix)?;
            let f = normalize::form(stem, Some(Label::Org));
            let e = aliases.entry(aliases.lookup_index(&f.key)?)?;
            (e.label == Some(Label::Org) && f.key.chars().count() >= 4).then_some(f)
        });
        if let Some(f) = glued {
            forms[i] = f;
            kind[i] = Some(Kind::Member);
            continue;
        }
        if let Some(e) = aliases
            .demonym_index(&forms[i].key)
            .and_then(|e| aliases.entry(e))
        {
            forms[i] = normalize::form(&e.name, None);
            kind[i] = Some(Kind::Demonym);
        }
    }

    // Rule 1: bare possessive s (and genitives of persons).
    let mut known: HashSet<(String, Label)> = HashSet::new();
    for (f, m) in forms.iter().zip(mentions) {
        // A short single-word person name is more likely a first name ("Han" next to "Hans")
        // than the stem of a possessive.
        let short_first_name =
            m.label == Label::Per && f.token_count() == 1 && f.key.chars().count() < 4;
        if !short_first_name {
            known.insert((f.key.clone(), m.label));
        }
        if m.label == Label::Per {
            for s in normalize::surnames(&f.key) {
                known.insert((s, Label::Per));
            }
        }
    }
    let mut relabel: Vec<Option<Label>> = vec![None; n];
    for i in 0..n {
        let (f, m) = (&mut forms[i], &mentions[i]);
        if kind[i].is_some() || aliases.lookup_index(&f.key).is_some() {
            continue;
        }
        if let Some(short) = normalize::strip_bare_s(f) {
            let person = known.contains(&(short.key.clone(), Label::Per));
            let same = m.label != Label::Misc && known.contains(&(short.key.clone(), m.label));
            let alias = m.label != Label::Per
                && m.label != Label::Misc
                && aliases.lookup_index(&short.key).is_some();
            if same || alias {
                *f = short;
            } else if person {
                // "Trumps beleid", "Baudets partij": the person, whatever the recognizer said.
                *f = short;
                relabel[i] = Some(Label::Per);
            }
        }
    }
    let lab: Vec<Label> = (0..n)
        .map(|i| relabel[i].unwrap_or(mentions[i].label))
        .collect();

    // Rules 2 and 3: alias entries and identical keys.
    let alias_of: Vec<Option<usize>> = forms.iter().map(|f| aliases.lookup_index(&f.key)).collect();
    let mut gid = vec![0usize; n];
    let mut group_alias: Vec<Option<usize>> = Vec::new();
    let mut group_kind: Vec<Option<Kind>> = Vec::new();
    let mut by_key: HashMap<GroupKey, usize> = HashMap::new();
    for i in 0..n {
        let key = match alias_of[i] {
            Some(a) => GroupKey::Alias(a, kind[i]),
            None => GroupKey::Key(forms[i].key.clone(), kind[i]),
        };
        gid[i] = *by_key.entry(key).or_insert_with(|| {
            group_alias.push(alias_of[i]);
            group_kind.push(kind[i]);
            group_alias.len() - 1
        });
    }
    let groups = group_alias.len();
    let alias_label = |g: usize| {
        group_alias[g]
            .and_then(|a| aliases.entry(a))
            .and_then(|e| e.label)
    };
    let labels_of = |gid: &[usize]| -> Vec<Label> {
        let mut members: Vec<Vec<Label>> = vec![Vec::new(); groups];
        for i in 0..n {
            members[gid[i]].push(lab[i]);
        }
        (0..groups)
            .map(|g| alias_label(g).unwrap_or_else(|| majority(members[g].iter().copied(), None)))
            .collect()
    };
    // The mention among `cands` nearest before mention `i`, else nearest after it.
    let nearest = |cands: &[usize], i: usize| {
        let at = mentions[i].start;
        let before = cands
            .iter()
            .copied()
            .filter(|&j| mentions[j].start < at)
            .max_by_key(|&j| mentions[j].start);
        let after = cands
            .iter()
            .copied()
            .filter(|&j| mentions[j].start >= at)
            .min_by_key(|&j| mentions[j].start);
        before.or(after)
    };
    let remap = |gid: &mut [usize], from: usize, to: usize| {
        for g in gid.iter_mut() {
            if *g == from {
                *g = to;
            }
        }
    };

    // Rule 4a: initials ("T. Baudet" joins "Thierry Baudet").
    let label0 = labels_of(&gid);
    let full: Vec<bool> = (0..n)
        .map(|j| {
            kind[j].is_none()
                && lab[j] == Label::Per
                && label0[gid[j]] == Label::Per
                && forms[j].token_count() >= 2
                && normalize::split_initials(&forms[j].key).is_none()
        })
        .collect();
    let mut initials_cands: HashMap<(char, String), Vec<usize>> = HashMap::new();
    for i in 0..n {
        if kind[i].is_some() || alias_of[i].is_some() || lab[i] != Label::Per {
            continue;
        }
        let Some((c, rest)) = normalize::split_initials(&forms[i].key) else {
            continue;
        };
        // The full names that fit, once per initials form: an article repeating one name
        // thousands of times must not scan all mentions for each (quadratic).
        let fits = initials_cands
            .entry((c, rest))
            .or_insert_with_key(|(c, rest)| {
                let suffix = format!(" {rest}");
                (0..n)
                    .filter(|&j| {
                        full[j] && forms[j].key.starts_with(*c) && forms[j].key.ends_with(&suffix)
                    })
                    .collect()
            });
        let cands: Vec<usize> = fits.iter().copied().filter(|&j| gid[j] != gid[i]).collect();
        if let Some(j) = nearest(&cands, i) {
            let (from, to) = (gid[i], gid[j]);
            remap(&mut gid, from, to);
        }
    }

    // Rule 4b: surnames.
    let mut by_surname: HashMap<String, Vec<usize>> = HashMap::new();
    for j in 0..n {
        if kind[j].is_none() && lab[j] == Label::Per && label0[gid[j]] == Label::Per {
            for s in normalize::surnames(&forms[j].key) {
                by_surname.entry(s).or_default().push(j);
            }
        }
    }
    let mut per_count: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut short: Vec<usize> = Vec::new();
    for i in 0..n {
        if kind[i].is_none() && alias_of[i].is_none() && by_surname.contains_key(&forms[i].key) {
            let c = per_count.entry(forms[i].key.as_str()).or_default();
            if lab[i] == Label::Per {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
            short.push(i);
        }
    }
    short.sort_by_key(|&i| {
        (
            std::cmp::Reverse(forms[i].token_count()),
            mentions[i].start,
            i,
        )
    });
    for &i in &short {
        let (per, other) = per_count
            .get(forms[i].key.as_str())
            .copied()
            .unwrap_or_default();
        if lab[i] != Label::Per && other > per.max(1) {
            continue;
        }
        let Some(cands) = by_surname.get(&forms[i].key) else {
            continue;
        };
        let cands: Vec<usize> = cands
            .iter()
            .copied()
            .filter(|&j| gid[j] != gid[i])
            .collect();
        if let Some(j) = nearest(&cands, i) {
            gid[i] = gid[j];
        }
    }

    // Rule 4c: a first name joins the one person of the article who has it.
    let mut by_first: HashMap<&str, Vec<usize>> = HashMap::new();
    for j in 0..n {
        if full[j]
            && let Some(first) = forms[j].tokens().next()
        {
            by_first.entry(first).or_default().push(j);
        }
    }
    for i in 0..n {
        let key = forms[i].key.as_str();
        if kind[i].is_some()
            || alias_of[i].is_some()
            || lab[i] != Label::Per
            || forms[i].token_count() != 1
            || key.chars().count() < 3
            || by_surname.contains_key(key)
        {
            continue;
        }
        let Some(cands) = by_first.get(key) else {
            continue;
        };
        let targets: HashSet<usize> = cands
            .iter()
            .map(|&j| gid[j])
            .filter(|&g| g != gid[i])
            .collect();
        if targets.len() == 1
            && let Some(&t) = targets.iter().next()
        {
            gid[i] = t;
        }
    }

    // Rule 4d: acronyms, defined next to their expansion or matching the initials of exactly
    // one expansion in the article.
    let label2 = labels_of(&gid);
    // Mentions by start and by end offset, to find those next to an acronym without scanning
    // all of them; and per acronym, the mentions whose initials it matches (computed once).
    let mut by_start: Vec<(usize, usize)> = (0..n).map(|j| (mentions[j].start, j)).collect();
    let mut by_end: Vec<(usize, usize)> = (0..n).map(|j| (mentions[j].end, j)).collect();
    by_start.sort_unstable();
    by_end.sort_unstable();
    fn within(sorted: &[(usize, usize)], lo: usize, hi: usize) -> impl Iterator<Item = usize> {
        let from = sorted.partition_point(|&(x, _)| x < lo);
        let to = sorted.partition_point(|&(x, _)| x <= hi);
        sorted[from..to.max(from)].iter().map(|&(_, j)| j)
    }
    let mut initials_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let short = forms[i].display.as_str();
        if kind[i].is_some()
            || alias_of[i].is_some()
            || label2[gid[i]] == Label::Per
            || !normalize::is_acronym(short)
        {
            continue;
        }
        let long_ok = |j: usize| {
            j != i
                && kind[j].is_none()
                && gid[j] != gid[i]
                && label2[gid[j]] != Label::Per
                && forms[j].display.split([' ', '-']).count() >= 2
        };
        let (a, b) = (&mentions[i], |j: usize| &mentions[j]);
        // The first mention (in mention order) that ends at most 3 characters before the
        // acronym or starts at most 3 after it, and that it abbreviates.
        let mut near: Vec<usize> = within(&by_end, a.start.saturating_sub(3), a.start)
            .chain(within(&by_start, a.end, a.end.saturating_add(3)))
            .collect();
        near.sort_unstable();
        let defined = near.into_iter().find(|&j| {
            let m = b(j);
            let next_to = (a.start >= m.end && a.start - m.end <= 3)
                || (m.start >= a.end && m.start - a.end <= 3);
            long_ok(j) && next_to && normalize::abbreviates(short, &forms[j].display)
        });
        let target = defined.map(|j| gid[j]).or_else(|| {
            let matching = initials_of.entry(short).or_insert_with(|| {
                (0..n)
                    .filter(|&j| {
                        kind[j].is_none()
                            && forms[j].display.split([' ', '-']).count() >= 2
                            && normalize::initials_match(short, &forms[j].display)
                    })
                    .collect()
            });
            let gs: HashSet<usize> = matching
                .iter()
                .copied()
                .filter(|&j| long_ok(j))
                .map(|j| gid[j])
                .collect();
            (gs.len() == 1).then(|| gs.into_iter().next()).flatten()
        });
        if let Some(t) = target {
            let from = gid[i];
            remap(&mut gid, from, t);
        }
    }

    // Rule 5: ORG short forms.
    let label1 = labels_of(&gid);
    let mut keys_of: Vec<HashSet<&str>> = vec![HashSet::new(); groups];
    for i in 0..n {
        keys_of[gid[i]].insert(forms[i].key.as_str());
    }
    let mut by_prefix: HashMap<String, Vec<usize>> = HashMap::new();
    for j in 0..n {
        if kind[j].is_some() || lab[j] != Label::Org || label1[gid[j]] != Label::Org {
            continue;
        }
        let tokens: Vec<&str> = forms[j].tokens().collect();
        for len in 1..tokens.len() {
            by_prefix
                .entry(tokens[..len].join(" "))
                .or_default()
                .push(j);
        }
    }
    let mut shorts: Vec<usize> = (0..groups)
        .filter(|&g| {
            group_alias[g].is_none()
                && group_kind[g].is_none()
                && label1[g] == Label::Org
                && keys_of[g].len() == 1
        })
        .collect();
    let key_of = |g: usize| keys_of[g].iter().next().copied().unwrap_or("");
    shorts.sort_by_key(|&g| (std::cmp::Reverse(key_of(g).split(' ').count()), g));
    let mut redirect: Vec<usize> = (0..groups).collect();
    let find = |redirect: &[usize], mut g: usize| {
        // Redirects only ever point to groups not redirected yet when they are set, so this
        // terminates; the bound makes that obvious.
        for _ in 0..groups {
            if redirect[g] == g {
                break;
            }
            g = redirect[g];
        }
        g
    };
    for &s in &shorts {
        let Some(cands) = by_prefix.get(key_of(s)) else {
            continue;
        };
        let targets: HashSet<usize> = cands
            .iter()
            .map(|&j| find(&redirect, gid[j]))
            .filter(|&g| g != s)
            .collect();
        if targets.len() == 1
            && let Some(&t) = targets.iter().next()
        {
            redirect[s] = t;
        }
    }
    for g in gid.iter_mut() {
        *g = find(&redirect, *g);
    }

    finish(
        mentions,
        &forms,
        &gid,
        &Groups {
            alias: &group_alias,
            kind: &group_kind,
            lab: &lab,
        },
        aliases,
    )
}

/// What the rules decided per group (and the effective label per mention).
struct Groups<'a> {
    alias: &'a [Option<usize>],
    kind: &'a [Option<Kind>],
    lab: &'a [Label],
}

/// Builds the output from the final group of each mention.
fn finish(
    mentions: &[Mention],
    forms: &[Form],
    gid: &[usize],
    groups: &Groups<'_>,
    aliases: &Aliases,
) -> Grouping {
    let lab = groups.lab;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.alias.len()];
    for (i, &g) in gid.iter().enumerate() {
        members[g].push(i);
    }
    // Where the entity named by a key or an alias entry ended up (for member words and
    // demonyms, which take their entity's canonical name).
    let mut key_group: HashMap<&str, usize> = HashMap::new();
    let mut alias_group: HashMap<usize, usize> = HashMap::new();
    for (i, &g) in gid.iter().enumerate() {
        if groups.kind[g].is_none() {
            key_group.entry(forms[i].key.as_str()).or_insert(g);
            if let Some(a) = groups.alias[g] {
                alias_group.entry(a).or_insert(g);
            }
        }
    }
    let mut entities: Vec<(EntitySummary, Vec<usize>, Option<Label>)> = Vec::new();
    let mut slot_of: HashMap<usize, usize> = HashMap::new();
    let mut kinded: Vec<(usize, usize)> = Vec::new();
    for (g, ms) in members.into_iter().enumerate() {
        if ms.is_empty() {
            continue;
        }
        let mut freq: HashMap<&str, usize> = HashMap::new();
        for &i in &ms {
            *freq.entry(forms[i].display.as_str()).or_default() += 1;
        }
        let best = ms
            .iter()
            .copied()
            .max_by_key(|&i| {
                let f = &forms[i];
                (
                    normalize::split_initials(&f.key).is_none(),
                    f.token_count(),
                    f.display.chars().any(char::is_uppercase),
                    freq.get(f.display.as_str()).copied().unwrap_or(0),
                    std::cmp::Reverse(mentions[i].start),
                    std::cmp::Reverse(i),
                )
            })
            .unwrap_or(ms[0]);
        let entry = groups.alias[g].and_then(|a| aliases.entry(a));
        let canonical = match entry {
            Some(e) => e.name.clone(),
            None => {
                let f = &forms[best];
                let mut c = f.display.clone();
                if let Some(a) = &f.article
                    && ms.iter().all(|&i| forms[i].article.is_some())
                {
                    c = format!("{a} {c}");
                }
                if let Some(p) = &f.possessive
                    && p.starts_with('\'')
                    && ms.iter().all(|&i| forms[i].possessive.is_some())
                {
                    c.push_str(p);
                }
                c
            }
        };
        // Possessive forms ("Trump's", often tagged MISC) do not vote when the plain name is
        // there.
        let plain: Vec<usize> = ms
            .iter()
            .copied()
            .filter(|&i| forms[i].possessive.is_none())
            .collect();
        let voters = if plain.is_empty() { &ms } else { &plain };
        let label = entry.and_then(|e| e.label).unwrap_or_else(|| {
            let tie = if voters.contains(&best) {
                lab[best]
            } else {
                lab[voters[0]]
            };
            majority(voters.iter().map(|&i| lab[i]), Some(tie))
        });
        let kind = groups.kind[g];
        let table_label = match kind {
            Some(_) => None,
            None => entry.and_then(|e| e.label),
        };
        if kind.is_some() {
            let party = groups.alias[g]
                .and_then(|a| alias_group.get(&a))
                .or_else(|| key_group.get(forms[best].key.as_str()))
                .copied();
            if let Some(p) = party {
                kinded.push((entities.len(), p));
            }
        }
        let fallback_label = match (kind, entry.and_then(|e| e.label)) {
            (_, Some(l)) => l,
            (Some(Kind::Member), None) => Label::Org,
            _ => label,
        };
        let summary = EntitySummary {
            canonical,
            label: fallback_label,
            mentions: ms.len(),
            first_offset: ms.iter().map(|&i| mentions[i].start).min().unwrap_or(0),
            id: entry.and_then(|e| e.id.clone()),
            kind,
        };
        slot_of.insert(g, entities.len());
        entities.push((summary, ms, table_label));
    }
    // Member words and demonyms take the canonical name, label and id of their entity when
    // the article names it.
    for (k, p) in kinded {
        if let Some(&slot) = slot_of.get(&p) {
            let (c, l, id) = {
                let s = &entities[slot].0;
                (s.canonical.clone(), s.label, s.id.clone())
            };
            let s = &mut entities[k].0;
            s.canonical = c;
            s.label = l;
            s.id = id;
        }
    }
    entities.sort_by(|a, b| {
        (a.0.first_offset, &a.0.canonical, a.0.kind).cmp(&(
            b.0.first_offset,
            &b.0.canonical,
            b.0.kind,
        ))
    });
    let mut resolved: Vec<Option<ResolvedMention>> = vec![None; mentions.len()];
    for (e, (s, ms, table_label)) in entities.iter().enumerate() {
        for &i in ms {
            // The table's label; for a possessive or genitive the entity's label (a person's
            // "Trumps" is the person); other mentions keep the recognizer's label.
            let relabel = table_label.or_else(|| {
                (s.kind.is_none()
                    && forms[i].possessive.is_some()
                    && s.label != mentions[i].label
                    && matches!(s.label, Label::Per | Label::Org))
                .then_some(s.label)
            });
            resolved[i] = Some(ResolvedMention {
                entity: e,
                canonical: s.canonical.clone(),
                label: s.label,
                id: s.id.clone(),
                alias_label: relabel,
                kind: s.kind,
            });
        }
    }
    Grouping {
        mentions: resolved.into_iter().flatten().collect(),
        summary: entities.into_iter().map(|(s, _, _)| s).collect(),
    }
}

#[cfg(test)]
mod tests;
