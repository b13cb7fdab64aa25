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
//! 1. **Bare possessive s.** A mention not labelled MISC whose key ends in `s` (4+ characters)
//!    loses that `s` when the shorter key is known in the article with a compatible label: for a
//!    PER mention, the surname of a PER full name ("Pangs" → "Pang") or another PER mention of at
//!    least four characters (so "Hans" stays apart from "Han"); for ORG/LOC, another mention
//!    with the same label or an alias ("Ruslands" → "Rusland"). MISC is excluded because
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
//!    "Philips" tagged ORG three times next to "Frits Philips" stays the company. A first name
//!    alone ("Vincent") never joins: it is too ambiguous.
//! 5. **ORG short forms.** A group whose majority label is ORG and whose key is a strict
//!    word-prefix of the key of an ORG mention in exactly one other ORG group joins that group
//!    ("Huawei" … "Huawei Technologies"). With two candidates ("Huawei Technologies", "Huawei
//!    Consumer") it is ambiguous and stays apart. Longer short forms are processed first.
//!
//! A group's **label** is the alias entry's label when there is one, otherwise the majority
//! label of its mentions (ties go to the label of the canonical mention). Its **canonical name**
//! is the alias entry's name, otherwise the fullest normalized form in the article: most words,
//! then written with a capital, then most frequent, then first. A capitalised leading article
//! ("De Telegraaf") or a possessive ("McDonald's") is kept in the canonical name only when every
//! mention of the group has it.

mod aliases;
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
    /// The label the alias table gives the entity, if any: it replaces the recognizer's label
    /// of the mention (the table is the better authority on a known name's type).
    pub alias_label: Option<Label>,
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
    Alias(usize),
    Key(String),
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

    // Rule 1: bare possessive s.
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
    for (f, m) in forms.iter_mut().zip(mentions) {
        if m.label == Label::Misc || aliases.lookup_index(&f.key).is_some() {
            continue;
        }
        if let Some(short) = normalize::strip_bare_s(f) {
            let ok = known.contains(&(short.key.clone(), m.label))
                || (m.label != Label::Per && aliases.lookup_index(&short.key).is_some());
            if ok {
                *f = short;
            }
        }
    }

    // Rules 2 and 3: alias entries and identical keys.
    let alias_of: Vec<Option<usize>> = forms.iter().map(|f| aliases.lookup_index(&f.key)).collect();
    let mut gid = vec![0usize; n];
    let mut group_alias: Vec<Option<usize>> = Vec::new();
    let mut by_key: HashMap<GroupKey, usize> = HashMap::new();
    for i in 0..n {
        let key = match alias_of[i] {
            Some(a) => GroupKey::Alias(a),
            None => GroupKey::Key(forms[i].key.clone()),
        };
        gid[i] = *by_key.entry(key).or_insert_with(|| {
            group_alias.push(alias_of[i]);
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
            members[gid[i]].push(mentions[i].label);
        }
        (0..groups)
            .map(|g| alias_label(g).unwrap_or_else(|| majority(members[g].iter().copied(), None)))
            .collect()
    };

    // Rule 4: surnames.
    let label0 = labels_of(&gid);
    let mut by_surname: HashMap<String, Vec<usize>> = HashMap::new();
    for j in 0..n {
        if mentions[j].label == Label::Per && label0[gid[j]] == Label::Per {
            for s in normalize::surnames(&forms[j].key) {
                by_surname.entry(s).or_default().push(j);
            }
        }
    }
    let mut per_count: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut short: Vec<usize> = Vec::new();
    for i in 0..n {
        if alias_of[i].is_none() && by_surname.contains_key(&forms[i].key) {
            let c = per_count.entry(forms[i].key.as_str()).or_default();
            if mentions[i].label == Label::Per {
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
        if mentions[i].label != Label::Per && other > per.max(1) {
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
        if cands.is_empty() {
            continue;
        }
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
        if let Some(j) = before.or(after) {
            gid[i] = gid[j];
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
        if mentions[j].label != Label::Org || label1[gid[j]] != Label::Org {
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
        .filter(|&g| group_alias[g].is_none() && label1[g] == Label::Org && keys_of[g].len() == 1)
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

    finish(mentions, &forms, &gid, &group_alias, aliases)
}

/// Builds the output from the final group of each mention.
fn finish(
    mentions: &[Mention],
    forms: &[Form],
    gid: &[usize],
    group_alias: &[Option<usize>],
    aliases: &Aliases,
) -> Grouping {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); group_alias.len()];
    for (i, &g) in gid.iter().enumerate() {
        members[g].push(i);
    }
    let mut entities: Vec<(EntitySummary, Vec<usize>, Option<Label>)> = Vec::new();
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
                    f.token_count(),
                    f.display.chars().any(char::is_uppercase),
                    freq.get(f.display.as_str()).copied().unwrap_or(0),
                    std::cmp::Reverse(mentions[i].start),
                    std::cmp::Reverse(i),
                )
            })
            .unwrap_or(ms[0]);
        let entry = group_alias[g].and_then(|a| aliases.entry(a));
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
        let label = entry.and_then(|e| e.label).unwrap_or_else(|| {
            majority(
                ms.iter().map(|&i| mentions[i].label),
                Some(mentions[best].label),
            )
        });
        let alias_label = entry.and_then(|e| e.label);
        let summary = EntitySummary {
            canonical,
            label,
            mentions: ms.len(),
            first_offset: ms.iter().map(|&i| mentions[i].start).min().unwrap_or(0),
            id: entry.and_then(|e| e.id.clone()),
        };
        entities.push((summary, ms, alias_label));
    }
    entities.sort_by(|a, b| {
        (a.0.first_offset, &a.0.canonical).cmp(&(b.0.first_offset, &b.0.canonical))
    });
    let mut resolved: Vec<Option<ResolvedMention>> = vec![None; mentions.len()];
    for (e, (s, ms, alias_label)) in entities.iter().enumerate() {
        for &i in ms {
            resolved[i] = Some(ResolvedMention {
                entity: e,
                canonical: s.canonical.clone(),
                label: s.label,
                id: s.id.clone(),
                alias_label: *alias_label,
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
