use super::*;

/// Builds mentions from (text, label) pairs, placing them 100 characters apart in order.
fn ms(items: &[(&str, Label)]) -> Vec<Mention> {
    items
        .iter()
        .enumerate()
        .map(|(i, (t, l))| Mention {
            text: t.to_string(),
            label: *l,
            start: i * 100,
            end: i * 100 + t.chars().count(),
        })
        .collect()
}

fn canon(g: &Grouping) -> Vec<&str> {
    g.mentions.iter().map(|m| m.canonical.as_str()).collect()
}

use Label::{Loc, Misc, Org, Per};

#[test]
fn surname_joins_earlier_full_name() {
    let m = ms(&[("Ren Zhengfei", Per), ("Huawei", Org), ("Zhengfei", Per)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Ren Zhengfei", "Huawei", "Ren Zhengfei"]);
    assert_eq!(g.summary.len(), 2);
    assert_eq!(g.summary[0].mentions, 2);
    assert_eq!(g.summary[0].first_offset, 0);
    assert_eq!(g.summary[1].canonical, "Huawei");
}

#[test]
fn surname_joins_later_full_name() {
    let m = ms(&[("Pang", Per), ("Vincent Pang", Per), ("pang", Per)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Vincent Pang"; 3]);
    assert_eq!(g.summary.len(), 1);
    assert_eq!(g.summary[0].label, Per);
    assert_eq!(g.summary[0].first_offset, 0);
}

#[test]
fn mislabelled_surname_joins_once_but_repeated_other_label_stays() {
    let m = ms(&[("Vincent Pang", Per), ("Pang", Org)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Vincent Pang"; 2]);
    assert_eq!(
        g.summary[0].label, Per,
        "tie goes to the canonical mention's label"
    );

    let m = ms(&[
        ("Frits Philips", Per),
        ("Philips", Org),
        ("Philips", Org),
        ("Philips", Org),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        ["Frits Philips", "Philips", "Philips", "Philips"]
    );
    assert_eq!(g.summary[1].label, Org);
}

#[test]
fn shared_surname_joins_nearest_preceding() {
    let m = ms(&[
        ("Mark Rutte", Per),
        ("Rutte", Per),
        ("Hans Rutte", Per),
        ("Rutte", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        ["Mark Rutte", "Mark Rutte", "Hans Rutte", "Hans Rutte"]
    );
}

#[test]
fn particle_surnames() {
    let m = ms(&[
        ("Frenkie de Jong", Per),
        ("De Jong", Per),
        ("Jong", Per),
        ("De Jong's", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Frenkie de Jong"; 4]);
}

#[test]
fn possessives() {
    let m = ms(&[
        ("Huawei", Org),
        ("Huawei's", Org),
        ("Huawei’s", Org),
        ("Vincent Pang", Per),
        ("Pangs", Per),
        ("Janssens'", Per),
        ("Janssens", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        [
            "Huawei",
            "Huawei",
            "Huawei",
            "Vincent Pang",
            "Vincent Pang",
            "Janssens",
            "Janssens"
        ]
    );
    assert_eq!(g.summary[0].mentions, 3);
}

#[test]
fn bare_s_needs_a_target_and_skips_misc() {
    let m = ms(&[("Nederlands", Misc), ("Nederland", Loc), ("Philips", Org)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Nederlands", "Nederland", "Philips"]);
    let m = ms(&[("Han", Per), ("Hans", Per), ("Rutte", Per), ("Ruttes", Per)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Han", "Hans", "Rutte", "Rutte"]);
}

#[test]
fn case_insensitive_and_articles() {
    let m = ms(&[
        ("de Verenigde Staten", Loc),
        ("Verenigde Staten", Loc),
        ("VERENIGDE STATEN", Loc),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Verenigde Staten"; 3]);
    assert_eq!(g.summary.len(), 1);
    assert_eq!(g.summary[0].id, None);
}

#[test]
fn capitalised_article_kept_when_always_there() {
    let m = ms(&[("De Telegraaf", Org), ("de Telegraaf", Org)]);
    assert_eq!(canon(&group(&m, &Aliases::empty())), ["Telegraaf"; 2]);
    let m = ms(&[("De Telegraaf", Org), ("De Telegraaf", Org)]);
    assert_eq!(canon(&group(&m, &Aliases::empty())), ["De Telegraaf"; 2]);
    let m = ms(&[("McDonald's", Org), ("McDonald's", Org)]);
    assert_eq!(canon(&group(&m, &Aliases::empty())), ["McDonald's"; 2]);
}

#[test]
fn org_short_form_joins_when_unambiguous() {
    let m = ms(&[
        ("Huawei Technologies", Org),
        ("Huawei", Org),
        ("Huawei's", Org),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Huawei Technologies"; 3]);

    let m = ms(&[
        ("Huawei Technologies", Org),
        ("Huawei Consumer", Org),
        ("Huawei", Org),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        ["Huawei Technologies", "Huawei Consumer", "Huawei"]
    );

    // Not for other labels, and not for a word that is a prefix of a person's name.
    let m = ms(&[("Amsterdam", Loc), ("Amsterdam Centraal", Loc)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(g.summary.len(), 2);
}

#[test]
fn majority_label() {
    let m = ms(&[("Tesla", Org), ("Tesla", Misc), ("Tesla", Org)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(g.summary[0].label, Org);
    assert!(g.mentions.iter().all(|r| r.label == Org));
}

#[test]
fn builtin_aliases_give_ids_and_canonical_names() {
    let a = Aliases::builtin();
    assert!(a.len() >= 45, "builtin table loads: {}", a.len());
    let m = ms(&[
        ("VS", Org),
        ("Amerika", Loc),
        ("de Verenigde Staten", Loc),
        ("EU", Org),
        ("Europese Unie", Org),
        ("Ruslands", Loc),
        ("VS'", Loc),
    ]);
    let g = group(&m, &a);
    assert_eq!(
        canon(&g),
        [
            "Verenigde Staten",
            "Verenigde Staten",
            "Verenigde Staten",
            "Europese Unie",
            "Europese Unie",
            "Rusland",
            "Verenigde Staten"
        ]
    );
    assert_eq!(g.summary[0].id.as_deref(), Some("Q30"));
    assert_eq!(
        g.summary[0].label, Loc,
        "alias label overrides the NER label"
    );
    assert_eq!(g.summary[0].mentions, 4);
    assert_eq!(g.summary[1].id.as_deref(), Some("Q458"));
    assert_eq!(g.summary[2].id.as_deref(), Some("Q159"));
    assert_eq!(
        a.lookup("de VN").map(|e| e.name.as_str()),
        Some("Verenigde Naties")
    );
    assert_eq!(a.lookup("Tweede Kamer").and_then(|e| e.id.clone()), None);
}

#[test]
fn summary_is_ordered_by_first_offset_and_serializes() {
    let mut m = ms(&[("Zhengfei", Per), ("Huawei", Org), ("Ren Zhengfei", Per)]);
    m.reverse();
    let g = group(&m, &Aliases::builtin());
    let offsets: Vec<usize> = g.summary.iter().map(|s| s.first_offset).collect();
    assert_eq!(offsets, [0, 100]);
    for (r, mention) in g.mentions.iter().zip(&m) {
        assert_eq!(g.summary[r.entity].canonical, r.canonical, "{mention:?}");
    }
    let json = serde_json::to_string(&g.summary[0]).unwrap();
    assert_eq!(
        json,
        r#"{"canonical":"Ren Zhengfei","label":"PER","mentions":2,"first_offset":0}"#
    );
    let mut m = ms(&[("VS", Loc)]);
    m[0].start = 7;
    let json = serde_json::to_string(&group(&m, &Aliases::builtin()).summary[0]).unwrap();
    assert_eq!(
        json,
        r#"{"canonical":"Verenigde Staten","label":"LOC","mentions":1,"first_offset":7,"id":"Q30"}"#
    );
}

#[test]
fn odd_input_does_not_panic() {
    let m = ms(&[
        ("", Per),
        ("'", Org),
        ("'s", Loc),
        ("  ", Misc),
        ("s", Per),
        ("a b", Per),
        ("b", Org),
    ]);
    let g = group(&m, &Aliases::builtin());
    assert_eq!(g.mentions.len(), m.len());
    assert!(group(&[], &Aliases::empty()).summary.is_empty());
}

#[test]
fn alias_files() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("a.toml");
    std::fs::write(
        &toml,
        "[[entity]]\nid = \"Q1\"\nname = \"Vincent Pang\"\nlabel = \"PER\"\naliases = [\"VP\"]\n",
    )
    .unwrap();
    let a = Aliases::from_file(&toml).unwrap();
    assert_eq!(a.lookup("vp").and_then(|e| e.id.as_deref()), Some("Q1"));
    let g = group(&ms(&[("Vincent Pang", Per), ("Pang", Per)]), &a);
    assert_eq!(canon(&g), ["Vincent Pang"; 2]);
    assert!(g.summary.iter().all(|s| s.id.as_deref() == Some("Q1")));

    let csv = dir.path().join("a.csv");
    std::fs::write(&csv, "id,name,label,alias\nQ30,Verenigde Staten,LOC,VS\nQ30,Verenigde Staten,LOC,Amerika\n,Kamer,ORG,\n").unwrap();
    let a = Aliases::from_file(&csv).unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(
        a.lookup("amerika").map(|e| e.name.as_str()),
        Some("Verenigde Staten")
    );

    std::fs::write(
        &csv,
        "id,name,label,alias\nQ30,Verenigde Staten,LOC,VS\nQ31,België,PLACE,BE\n",
    )
    .unwrap();
    let e = format!("{:#}", Aliases::from_file(&csv).unwrap_err());
    assert!(e.contains("line 3") && e.contains("PLACE"), "{e}");

    std::fs::write(&csv, "id,name,label,alias\nQ30,VS,LOC,\nQ31,Other,LOC,vs\n").unwrap();
    let e = format!("{:#}", Aliases::from_file(&csv).unwrap_err());
    assert!(e.contains("line 3") && e.contains("already names"), "{e}");

    std::fs::write(&toml, "[[entity]]\nname = \"X\"\nalias = [\"Y\"]\n").unwrap();
    let e = format!("{:#}", Aliases::from_file(&toml).unwrap_err());
    assert!(e.contains("alias") && e.contains("line"), "{e}");

    std::fs::write(
        &toml,
        "[[entity]]\nname = \"X\"\n\n[[entity]]\nname = \"Y\"\nlabel = \"PERSON\"\n",
    )
    .unwrap();
    let e = format!("{:#}", Aliases::from_file(&toml).unwrap_err());
    assert!(e.contains("#2") && e.contains("PERSON"), "{e}");

    let e = format!(
        "{:#}",
        Aliases::from_file(&dir.path().join("a.txt")).unwrap_err()
    );
    assert!(e.contains(".toml or .csv"), "{e}");

    let user = Aliases::from_toml_str("[[entity]]\nname = \"Amerika\"\nid = \"Q99\"\n").unwrap();
    let layered = user.with_fallback(Aliases::builtin());
    assert_eq!(
        layered.lookup("Amerika").and_then(|e| e.id.as_deref()),
        Some("Q99")
    );
    assert_eq!(
        layered.lookup("EU").and_then(|e| e.id.as_deref()),
        Some("Q458")
    );
}

#[test]
fn alias_table_label_replaces_the_recognizers() {
    let m = ms(&[("Huawei", Per), ("Huawei", Per), ("Pang", Per)]);
    let g = group(&m, &Aliases::builtin());
    let labels: Vec<Option<Label>> = g.mentions.iter().map(|m| m.alias_label).collect();
    assert_eq!(labels, [Some(Org), Some(Org), None]);
    assert_eq!(g.summary[0].label, Org);
    assert_eq!(g.summary[0].id.as_deref(), Some("Q160120"));
}

#[test]
fn genitives_become_the_person() {
    let m = ms(&[
        ("Donald Trump", Per),
        ("Trumps", Misc),
        ("Trump's", Misc),
        ("Trump", Per),
        ("Nederlands", Misc),
        ("Baudets", Misc),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        [
            "Donald Trump",
            "Donald Trump",
            "Donald Trump",
            "Donald Trump",
            "Nederlands",
            "Baudets"
        ]
    );
    let labels: Vec<Option<Label>> = g.mentions.iter().map(|m| m.alias_label).collect();
    assert_eq!(labels, [None, Some(Per), Some(Per), None, None, None]);
    assert_eq!(g.summary[0].label, Per);
    assert_eq!(g.summary[0].mentions, 4);
    // Without the plain name in the article a possessive still follows the majority of the
    // plain forms.
    let m = ms(&[("Baudet", Per), ("Baudet's", Misc), ("Baudet's", Misc)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(g.summary.len(), 1);
    assert_eq!(g.summary[0].label, Per);
}

#[test]
fn initials_and_first_names_join_the_full_name() {
    let m = ms(&[
        ("T. Baudet", Per),
        ("Thierry Baudet", Per),
        ("Baudet", Per),
        ("Thierry", Per),
        ("J. Baudet", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        [
            "Thierry Baudet",
            "Thierry Baudet",
            "Thierry Baudet",
            "Thierry Baudet",
            "J. Baudet"
        ]
    );
    // Two people with the first name: the first name alone stays apart.
    let m = ms(&[("Mark Rutte", Per), ("Mark Harbers", Per), ("Mark", Per)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Mark Rutte", "Mark Harbers", "Mark"]);
    // A first name that is some person's surname is a surname.
    let m = ms(&[
        ("Donald Trump", Per),
        ("Ivanka Trump", Per),
        ("Donald", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["Donald Trump", "Ivanka Trump", "Donald Trump"]);
}

#[test]
fn acronyms_join_their_definition() {
    // "Forum voor Democratie (FvD)": the acronym right after its expansion.
    let mut m = ms(&[
        ("Forum voor Democratie", Org),
        ("FvD", Org),
        ("FvD", Misc),
        ("Rijksinstituut voor Volksgezondheid en Milieu", Org),
        ("RIVM", Org),
        ("RIVM", Org),
    ]);
    m[1].start = m[0].end + 2;
    m[1].end = m[1].start + 3;
    m[4].start = m[3].end + 2;
    m[4].end = m[4].start + 4;
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        [
            "Forum voor Democratie",
            "Forum voor Democratie",
            "Forum voor Democratie",
            "Rijksinstituut voor Volksgezondheid en Milieu",
            "Rijksinstituut voor Volksgezondheid en Milieu",
            "Rijksinstituut voor Volksgezondheid en Milieu"
        ]
    );
    // Not defined, but the initials of exactly one name of the article.
    let m = ms(&[("Openbaar Ministerie", Org), ("OM", Org), ("PVV", Org)]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(
        canon(&g),
        ["Openbaar Ministerie", "Openbaar Ministerie", "PVV"]
    );
    // Loose abbreviations need the definition: "RIVM" far from its expansion stays apart.
    let m = ms(&[
        ("Rijksinstituut voor Volksgezondheid en Milieu", Org),
        ("RIVM", Org),
    ]);
    assert_eq!(group(&m, &Aliases::empty()).summary.len(), 2);
}

#[test]
fn member_words_link_to_their_party() {
    let m = ms(&[
        ("VVD", Org),
        ("VVD'er", Per),
        ("PVV’ers", Misc),
        ("Wopke'er", Per),
    ]);
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g), ["VVD", "VVD", "PVV", "Wopke'er"]);
    let kinds: Vec<Option<Kind>> = g.summary.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [None, Some(Kind::Member), Some(Kind::Member), None]);
    assert_eq!(g.summary[1].label, Org);
    assert_eq!(
        g.mentions[1].alias_label, None,
        "a member keeps its own label"
    );
    assert_eq!(g.mentions[1].kind, Some(Kind::Member));
    let json = serde_json::to_string(&g.summary[1]).unwrap();
    assert_eq!(
        json,
        r#"{"canonical":"VVD","label":"ORG","mentions":1,"first_offset":100,"kind":"member"}"#
    );
    // The member entry takes the party's canonical name when the article spells it out.
    let mut m = ms(&[
        ("Forum voor Democratie", Org),
        ("FvD", Org),
        ("FvD'ers", Misc),
    ]);
    m[1].start = m[0].end + 2;
    let g = group(&m, &Aliases::empty());
    assert_eq!(canon(&g)[2], "Forum voor Democratie");
    assert_eq!(g.summary[1].kind, Some(Kind::Member));
}

#[test]
fn demonyms_link_to_their_place() {
    let a = Aliases::from_toml_str(
        "[[entity]]\nid = \"Q30\"\nname = \"Verenigde Staten\"\nlabel = \"LOC\"\naliases = [\"VS\"]\ndemonyms = [\"Amerikaanse\"]\n",
    )
    .unwrap();
    let m = ms(&[("VS", Loc), ("Amerikaanse", Misc)]);
    let g = group(&m, &a);
    assert_eq!(canon(&g), ["Verenigde Staten"; 2]);
    assert_eq!(g.summary[1].kind, Some(Kind::Demonym));
    assert_eq!(g.summary[1].id.as_deref(), Some("Q30"));
    assert_eq!(g.summary[1].label, Loc);
    assert_eq!(g.mentions[1].alias_label, None);
    let e = Aliases::from_toml_str(
        "[[entity]]\nname = \"A\"\ndemonyms = [\"B\"]\n[[entity]]\nname = \"B\"\n",
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("already names"), "{e:#}");
}

#[test]
fn builtin_table_knows_dutch_news() {
    let a = Aliases::builtin();
    assert!(a.len() >= 150, "builtin table loads: {}", a.len());
    for (form, name) in [
        ("OM", "Openbaar Ministerie"),
        ("RIVM", "Rijksinstituut voor Volksgezondheid en Milieu"),
        ("Financiën", "Ministerie van Financiën"),
        ("Justitie", "Ministerie van Justitie en Veiligheid"),
        ("Buitenlandse Zaken", "Ministerie van Buitenlandse Zaken"),
        ("FvD", "Forum voor Democratie"),
        ("Partij van de Arbeid", "PvdA"),
        ("Brabant", "Noord-Brabant"),
    ] {
        assert_eq!(
            a.lookup(form).map(|e| e.name.as_str()),
            Some(name),
            "{form}"
        );
    }
    let m = ms(&[
        ("Amerikaanse", Misc),
        ("VVD'ers", Misc),
        ("GroenLinksers", Misc),
    ]);
    let g = group(&m, &a);
    assert_eq!(canon(&g), ["Verenigde Staten", "VVD", "GroenLinks"]);
    assert_eq!(g.summary[0].id.as_deref(), Some("Q30"));
    let kinds: Vec<Option<Kind>> = g.summary.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [Some(Kind::Demonym), Some(Kind::Member), Some(Kind::Member)]
    );
}
