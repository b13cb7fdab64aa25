//! Tests of the taxonomy, the matcher and the scoring rule, and of the sample articles.

use super::matcher::word_hits;
use super::taxonomy::Tier;
use super::*;
use crate::text::{Document, is_boilerplate};
use std::io::Write;

fn builtin() -> Taxonomy {
    Taxonomy::from_toml(include_str!("../../../../data/topics.toml"))
        .expect("builtin taxonomy parses")
}

/// Topic ids the word triggers on its own (before the evidence rule).
fn topics_of(taxonomy: &Taxonomy, word: &str) -> Vec<String> {
    word_hits(taxonomy, word)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn tag_all(text: &str) -> Vec<TopicMatch> {
    let doc = Document::new(text);
    let all = vec![true; doc.paragraphs.len()];
    TopicTagger::new(Taxonomy::builtin()).tag(&doc, &all)
}

fn ids(matches: &[TopicMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn builtin_taxonomy_is_valid() {
    let t = builtin();
    assert_eq!(t.name(), "ontleed-news 1.0");
    assert_eq!(Taxonomy::builtin().name(), "ontleed-news 1.0");
    assert!(t.len() >= 25, "only {} topics", t.len());
    let ids: Vec<&str> = t.topic_ids().collect();
    for id in [
        "technology",
        "telecom",
        "5g",
        "sanctions",
        "espionage",
        "cybersecurity",
        "trade",
        "diplomacy",
        "elections",
        "politics",
        "economy",
        "finance",
        "labour",
        "energy",
        "climate",
        "health",
        "migration",
        "war-defence",
        "terrorism",
        "justice",
        "education",
        "science",
        "sport",
        "culture",
        "media",
        "transport",
        "agriculture",
        "housing",
        "disasters",
        "religion",
    ] {
        assert!(ids.contains(&id), "missing topic {id}");
    }
}

#[test]
fn compounds_match() {
    let t = builtin();
    for (word, topic) in [
        ("5G-netwerken", "5g"),
        ("5G-infrastructuur", "5g"),
        ("5G", "5g"),
        ("handelssancties", "sanctions"),
        ("sanctiepakket", "sanctions"),
        ("EU-sancties", "sanctions"),
        ("sancties", "sanctions"),
        ("spionagepraktijken", "espionage"),
        ("cyberspionage", "espionage"),
        ("cyberspionage", "cybersecurity"),
        ("importheffingen", "trade"),
        ("energieprijzen", "energy"),
        ("windenergie", "energy"),
        ("wereldoorlog", "war-defence"),
        ("oorlogsmisdaden", "war-defence"),
        ("Tweedekamerverkiezingen", "elections"),
        ("voetbalwedstrijd", "sport"),
        ("asielzoekers", "migration"),
        ("klimaatverandering", "climate"),
        ("ransomware-aanval", "cybersecurity"),
    ] {
        assert!(
            topics_of(&t, word).iter().any(|id| id == topic),
            "{word} should trigger {topic}, got {:?}",
            topics_of(&t, word)
        );
    }
}

#[test]
fn possessives_and_strong_tier() {
    let t = builtin();
    let hits = word_hits(&t, "Huawei's");
    assert!(hits.iter().any(|(id, _)| id == "telecom"), "{hits:?}");
    let hits = word_hits(&t, "5G-netwerken");
    assert!(hits.contains(&("5g".to_string(), Tier::Strong)), "{hits:?}");
}

#[test]
fn false_friends_do_not_match() {
    let t = builtin();
    for (word, topic) in [
        ("transport", "sport"),
        ("transportsector", "sport"),
        ("Transport-", "sport"),
        ("voorlopig", "war-defence"),
        ("handelsoorlog", "war-defence"),
        ("prijzenoorlog", "war-defence"),
        ("navolging", "war-defence"),
        ("verpleger", "war-defence"),
        ("politiek", "justice"),
        ("geopolitieke", "justice"),
        ("discriminatie", "justice"),
        ("verkeerd", "transport"),
        ("verkeerde", "transport"),
        ("energieke", "energy"),
        ("informatie", "politics"),
        ("motief", "politics"),
        ("hypothese", "housing"),
        ("kramp", "disasters"),
        ("ziekenhuis", "housing"),
        ("cacao", "labour"),
        ("natuurlijk", "climate"),
        ("denk", "politics"),
        ("staakt-het-vuren", "labour"),
        ("kunstmatige", "culture"),
        ("bedrijfscultuur", "culture"),
        ("stembus", "transport"),
        ("belastingaanslag", "terrorism"),
        ("nieuwsportaal", "sport"),
        ("Vergleichsportals", "sport"),
        ("beleggingsportefeuille", "sport"),
        ("hoofdredacteur", "culture"),
        ("onweerlegbaar", "weather"),
        ("dierenasiel", "migration"),
        ("ondernemersklimaat", "climate"),
        ("kinderopvang", "migration"),
        ("charmeoffensief", "war-defence"),
        ("advocaat-generaal", "war-defence"),
    ] {
        assert!(
            !topics_of(&t, word).iter().any(|id| id == topic),
            "{word} must not trigger {topic}"
        );
    }
    // The same stems do fire on the real thing.
    assert!(topics_of(&t, "sportwereld").contains(&"sport".to_string()));
    assert!(topics_of(&t, "oorlog").contains(&"war-defence".to_string()));
    assert!(topics_of(&t, "handelsoorlog").contains(&"trade".to_string()));
    assert!(topics_of(&t, "DENK").contains(&"politics".to_string()));
    assert!(topics_of(&t, "politieagent").contains(&"justice".to_string()));
}

#[test]
fn phrases_match_consecutive_tokens() {
    let t = builtin();
    let hits = word_hits(&t, "Tweede Kamer");
    assert!(
        hits.contains(&("politics".to_string(), Tier::Strong)),
        "{hits:?}"
    );
    assert!(!topics_of(&t, "Tweede ronde").contains(&"politics".to_string()));
    let tagged =
        tag_all("De Tweede Kamer debatteert.\n\nHet kabinet en de Tweede Kamer zijn het eens.");
    let politics = tagged
        .iter()
        .find(|m| m.id == "politics")
        .expect("politics");
    assert!(
        politics.evidence.contains(&"Tweede Kamer".to_string()),
        "{:?}",
        politics.evidence
    );
}

#[test]
fn a_single_incidental_word_does_not_tag() {
    let text = "Ajax wint van PSV na spectaculaire wedstrijd\n\n\
        Ajax heeft zondag in de Johan Cruijff ArenA met 3-1 gewonnen van PSV. De thuisploeg \
        speelde met veel energie en de supporters zagen drie doelpunten.\n\n\
        Trainer Schouten was tevreden over zijn spelers. De scheidsrechter deelde twee gele kaarten uit.";
    let tagged = tag_all(text);
    assert_eq!(
        tagged.first().map(|m| m.id.as_str()),
        Some("sport"),
        "{tagged:?}"
    );
    assert!(!ids(&tagged).contains(&"energy"), "{tagged:?}");
    // One term in the body alone, repeated twice, is not evidence either.
    let tagged = tag_all(
        "Nieuws uit de stad\n\nIn de stad was het druk.\n\nEr ging gas naar de ketel. Het gas was op.",
    );
    assert!(!ids(&tagged).contains(&"energy"), "{tagged:?}");
}

#[test]
fn strong_trigger_in_headline_tags_but_not_in_body() {
    let head = tag_all("Kabinet kondigt nieuw sanctiepakket aan\n\nDe ministers spraken urenlang.");
    assert!(ids(&head).contains(&"sanctions"), "{head:?}");
    let body = tag_all(
        "Een rustige dag\n\nDe ministers spraken urenlang over van alles.\n\n\
         Het weer was goed.\n\nOok het sanctiepakket kwam even ter sprake.",
    );
    assert!(!ids(&body).contains(&"sanctions"), "{body:?}");
}

#[test]
fn ignored_paragraphs_do_not_count() {
    let text = "Energieprijzen stijgen\n\nDe gasprijs en de stroomprijs stijgen fors.";
    let doc = Document::new(text);
    let tagger = TopicTagger::new(Taxonomy::builtin());
    assert!(ids(&tagger.tag(&doc, &[true, true])).contains(&"energy"));
    assert!(tagger.tag(&doc, &[false, false]).is_empty());
    assert!(tagger.tag(&doc, &[]).is_empty());
    assert!(
        tagger
            .tag(&doc, &[true, true, true, true])
            .iter()
            .any(|m| m.id == "energy")
    );
}

#[test]
fn scores_sorted_in_range_and_evidence_distinct() {
    let text = "Huawei's 5G-netwerken onder vuur door nieuwe sancties\n\n\
        De Verenigde Staten leggen Huawei nieuwe handelssancties op. Het sanctiepakket raakt de \
        levering van 5G-apparatuur. Huawei noemt de sancties onterecht.\n\n\
        Sancties, sancties, sancties: Washington blijft de 5G-infrastructuur van bondgenoten wantrouwen.";
    let tagged = tag_all(text);
    assert!(
        ids(&tagged).contains(&"5g") && ids(&tagged).contains(&"sanctions"),
        "{tagged:?}"
    );
    for w in tagged.windows(2) {
        assert!(w[0].score >= w[1].score);
    }
    for m in &tagged {
        assert!(m.score > 0.0 && m.score <= 1.0, "{m:?}");
        assert!(m.evidence.len() <= 10);
        let mut lower: Vec<String> = m.evidence.iter().map(|e| e.to_lowercase()).collect();
        lower.sort();
        lower.dedup();
        assert_eq!(lower.len(), m.evidence.len(), "{m:?}");
    }
    let sanctions = tagged
        .iter()
        .find(|m| m.id == "sanctions")
        .expect("sanctions");
    assert_eq!(sanctions.label, "Sancties");
    assert_eq!(sanctions.evidence[0], "sancties");
    assert!(sanctions.evidence.contains(&"handelssancties".to_string()));
    let fiveg = tagged.iter().find(|m| m.id == "5g").expect("5g");
    assert!(
        fiveg.evidence.contains(&"5G-netwerken".to_string()),
        "{fiveg:?}"
    );
}

#[test]
fn longer_articles_need_more_evidence() {
    let short = "Stakingen\n\nDe vakbond kondigt een staking aan.";
    let filler =
        " Het was een gewone dag in de stad en er gebeurde verder niet veel bijzonders.".repeat(60);
    let long = format!(
        "Nieuws\n\nVandaag geen bijzonderheden.{filler}\n\nDe vakbond kondigt een staking aan."
    );
    let s = tag_all(short)
        .into_iter()
        .find(|m| m.id == "labour")
        .map(|m| m.score);
    let l = tag_all(&long)
        .into_iter()
        .find(|m| m.id == "labour")
        .map_or(0.0, |m| m.score);
    assert!(s.is_some_and(|s| s > l), "{s:?} vs {l}");
}

#[test]
fn odd_input_does_not_panic() {
    let tagger = TopicTagger::new(Taxonomy::builtin());
    for text in [
        "",
        " \n\n ",
        "İSTANBUL'S ENERGİEPRİJZEN",
        "ẞ ß ǅ Σ ς 𝔘 ''s ’s ' - -- 5G- -5G /",
        "Tweede",
        "\u{200b}\u{feff}",
    ] {
        let doc = Document::new(text);
        let n = doc.paragraphs.len();
        let _ = tagger.tag(&doc, &vec![true; n]);
        let _ = tagger.tag(&doc, &vec![true; n + 3]);
    }
    // An empty taxonomy tags nothing.
    let doc = Document::new("Sancties tegen Huawei");
    assert!(
        TopicTagger::new(Taxonomy::default())
            .tag(&doc, &[true])
            .is_empty()
    );
}

proptest::proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,200}", marks in proptest::collection::vec(proptest::bool::ANY, 0..8)) {
        let doc = Document::new(&text);
        let tagged = TopicTagger::new(Taxonomy::builtin()).tag(&doc, &marks);
        for m in tagged {
            proptest::prop_assert!(m.score >= 0.0 && m.score <= 1.0);
        }
    }
}

fn write_taxonomy(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(contents.as_bytes()).expect("write");
    file
}

const GOOD_TOPIC: &str =
    "[[topic]]\nid = \"a\"\nlabel_nl = \"A\"\nlabel_en = \"A\"\nstrong = [\"aaa*\"]\n";

#[test]
fn user_taxonomy_loads() {
    let file = write_taxonomy(&format!(
        "name = \"mijn\"\nversion = \"2\"\n{GOOD_TOPIC}\n[[topic]]\nid = \"b\"\nlabel_nl = \"B\"\nlabel_en = \"B\"\niptc = \"medtop:15000000\"\nterms = [\"=Bee\", \"bee bop\"]\ncontext = [\"*xyz\"]\nexclude = [\"beet*\"]\n"
    ));
    let t = Taxonomy::from_file(file.path()).expect("valid");
    assert_eq!(t.name(), "mijn 2");
    assert_eq!(t.len(), 2);
    let tagged = TopicTagger::new(t).tag(&Document::new("Aaahaa en aaaboe"), &[true]);
    assert_eq!(ids(&tagged), ["a"]);
}

#[test]
fn malformed_user_taxonomy_is_an_error_not_a_panic() {
    let cases: &[(&str, &[&str])] = &[
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]\n",
            &["invalid TOML"],
        ),
        ("version = \"1\"\n", &["name"]),
        ("name = \"x\"\nversion = \"1\"\n", &["no topics"]),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"Sport\"\nstrong = [\"sport*\"]\n",
            &["topic #1", "sport", "label_en"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\ntrigers = [\"sport*\"]\n",
            &["topic #1", "sport", "trigers"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = [\"**\"]\n",
            &["topic #1", "\"sport\"", "`strong`", "\"**\""],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nterms = [\"sp*rt\"]\n",
            &["`terms`", "sp*rt"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nterms = [\"*ab\"]\n",
            &["`terms`", "at least 3"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"sport\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = [\"sport\"]\niptc = \"15000000\"\n",
            &["`iptc`", "15000000"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"Sport!\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = [\"sport\"]\n",
            &["`id`", "Sport!"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"s\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\ncontext = [\"sport\"]\n",
            &["topic #1", "`strong` or `terms`"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"s\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = [\"sport\"]\nexclude = [\"twee woorden\"]\n",
            &["`exclude`", "single words"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"s\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = [\"sport\"]\n[[topic]]\nid = \"s\"\nlabel_nl = \"T\"\nlabel_en = \"T\"\nstrong = [\"tt\"]\n",
            &["topic #2", "already the id of topic #1"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"s\"\nlabel_nl = \"S\"\nlabel_en = \"S\"\nstrong = \"sport\"\n",
            &["topic #1", "strong"],
        ),
        (
            "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"s\"\nlabel_nl = \"\"\nlabel_en = \"S\"\nstrong = [\"sport\"]\n",
            &["`label_nl` is empty"],
        ),
    ];
    for (contents, needles) in cases {
        let file = write_taxonomy(contents);
        let err = match Taxonomy::from_file(file.path()) {
            Ok(_) => panic!("accepted a bad taxonomy:\n{contents}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("taxonomy file"), "{err}");
        for needle in *needles {
            assert!(
                err.contains(needle),
                "error for\n{contents}\nlacks {needle:?}: {err}"
            );
        }
    }
    let missing = Taxonomy::from_file(std::path::Path::new("/nonexistent/topics.toml"));
    let err = format!("{:#}", missing.expect_err("missing file is an error"));
    assert!(
        err.contains("cannot read taxonomy file /nonexistent/topics.toml"),
        "{err}"
    );
}

// --- sample articles ---------------------------------------------------------------------------

/// Expected topics of each sample article: (id, topics that must be found, topics that must not).
const SAMPLE_EXPECTATIONS: &[(&str, &[&str], &[&str])] = &[
    (
        "nl-huawei-5g-sancties",
        &["5g", "sanctions", "telecom", "technology"],
        &["sport", "war-defence", "energy"],
    ),
    (
        "nl-eu-importheffingen",
        &["trade", "economy"],
        &["war-defence", "sport"],
    ),
    (
        "nl-gemeenteraadsverkiezingen",
        &["elections", "politics"],
        &["sport", "housing"],
    ),
    (
        "nl-spionage-chipbedrijf",
        &["espionage", "cybersecurity", "justice"],
        &["transport", "sport"],
    ),
    (
        "nl-energieprijzen",
        &["energy"],
        &["weather", "sport", "climate"],
    ),
    (
        "nl-voetbal-ajax-psv",
        &["sport"],
        &["energy", "justice", "transport", "finance", "culture"],
    ),
    (
        "nl-rechtszaak-zorgfraude",
        &["justice", "health"],
        &["sport", "transport"],
    ),
    (
        "nl-migratie-ter-apel",
        &["migration"],
        &["transport", "sport", "war-defence"],
    ),
    (
        "nl-klimaat-zeespiegel",
        &["climate", "science"],
        &["weather", "sport"],
    ),
    (
        "nl-huurprijzen-utrecht",
        &["housing"],
        &["climate", "agriculture", "politics"],
    ),
    (
        "txt/lerarentekort-amsterdam",
        &["education"],
        &["sport", "transport"],
    ),
    (
        "txt/ns-staking-randstad",
        &["transport", "labour"],
        &["energy", "sport"],
    ),
];

/// Ids of samples in other languages: the pipeline marks their paragraphs as not article text.
const OTHER_LANGUAGE_SAMPLES: &[&str] = &["en-asml-export", "de-energiepreise"];

#[derive(serde::Deserialize)]
struct Sample {
    id: String,
    title: String,
    text: String,
}

/// The `.txt` samples: a title line, a blank line, the text.
const TXT_SAMPLES: &[(&str, &str)] = &[
    (
        "txt/lerarentekort-amsterdam",
        include_str!("../../../../data/samples/txt/lerarentekort-amsterdam.txt"),
    ),
    (
        "txt/ns-staking-randstad",
        include_str!("../../../../data/samples/txt/ns-staking-randstad.txt"),
    ),
];

fn samples() -> Vec<Sample> {
    let mut all: Vec<Sample> = include_str!("../../../../data/samples/articles.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("sample line is JSON"))
        .collect();
    for (id, text) in TXT_SAMPLES {
        let (title, body) = text.split_once("\n\n").unwrap_or(("", text));
        all.push(Sample {
            id: (*id).to_string(),
            title: title.trim().to_string(),
            text: body.to_string(),
        });
    }
    all
}

/// Tags a sample the way the pipeline does: title and text as one document, page furniture and
/// other-language articles left out.
fn tag_sample(tagger: &TopicTagger, sample: &Sample) -> Vec<TopicMatch> {
    let full = format!("{}\n\n{}", sample.title, sample.text);
    let doc = Document::new(&full);
    let paragraphs: Vec<&str> = doc
        .paragraphs
        .iter()
        .map(|p| doc.paragraph_text(p))
        .collect();
    let furniture = is_boilerplate(&paragraphs);
    let other = OTHER_LANGUAGE_SAMPLES.contains(&sample.id.as_str());
    let article: Vec<bool> = furniture.iter().map(|&f| !f && !other).collect();
    tagger.tag(&doc, &article)
}

#[test]
fn sample_articles_get_expected_topics() {
    let tagger = TopicTagger::new(Taxonomy::builtin());
    let samples = samples();
    let mut failures = Vec::new();
    for (id, must, must_not) in SAMPLE_EXPECTATIONS {
        let Some(sample) = samples.iter().find(|s| s.id == *id) else {
            failures.push(format!("{id}: no such sample"));
            continue;
        };
        let tagged = tag_sample(&tagger, sample);
        let found = ids(&tagged);
        for m in *must {
            if !found.contains(m) {
                failures.push(format!("{id}: expected {m}, got {found:?}"));
            }
        }
        for m in *must_not {
            if found.contains(m) {
                failures.push(format!("{id}: unexpected {m}, got {found:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sample_furniture_and_other_languages_are_left_out() {
    let tagger = TopicTagger::new(Taxonomy::builtin());
    let samples = samples();
    assert!(samples.len() >= 12, "{} samples", samples.len());
    for id in OTHER_LANGUAGE_SAMPLES {
        let sample = samples.iter().find(|s| s.id == *id).expect("sample exists");
        assert!(tag_sample(&tagger, sample).is_empty());
    }
    // The scraped "Lees meer: Boeren protesteren ... stikstofregels" would tag agriculture if the
    // furniture counted as article text.
    let sample = samples
        .iter()
        .find(|s| s.id == "nl-huurprijzen-utrecht")
        .expect("sample exists");
    let full = format!("{}\n\n{}", sample.title, sample.text);
    let doc = Document::new(&full);
    let everything = tagger.tag(&doc, &vec![true; doc.paragraphs.len()]);
    assert!(ids(&everything).contains(&"agriculture"), "{everything:?}");
    let article = tag_sample(&tagger, sample);
    assert!(!ids(&article).contains(&"agriculture"), "{article:?}");
    assert!(
        article
            .iter()
            .all(|m| m.evidence.iter().all(|e| !e.contains("stikstof")))
    );
}

/// Prints every sample's topics (`cargo test print_sample_topics -- --nocapture`).
#[test]
fn print_sample_topics() {
    let tagger = TopicTagger::new(Taxonomy::builtin());
    for sample in samples() {
        let tagged = tag_sample(&tagger, &sample);
        let summary: Vec<String> = tagged
            .iter()
            .map(|m| format!("{} {:.2} {:?}", m.id, m.score, m.evidence))
            .collect();
        println!("{}:\n  {}", sample.id, summary.join("\n  "));
    }
}

/// Throughput of the tagger alone on the samples
/// (`cargo test --release --lib topics::tests::throughput -- --ignored --nocapture`).
#[test]
#[ignore = "timing, run by hand"]
fn throughput() {
    let tagger = TopicTagger::new(Taxonomy::builtin());
    let texts: Vec<String> = samples()
        .iter()
        .map(|s| format!("{}\n\n{}", s.title, s.text))
        .collect();
    let docs: Vec<Document> = texts.iter().map(|t| Document::new(t)).collect();
    let marks: Vec<Vec<bool>> = docs
        .iter()
        .map(|d| vec![true; d.paragraphs.len()])
        .collect();
    let rounds = 500;
    let start = std::time::Instant::now();
    let mut found = 0;
    for _ in 0..rounds {
        for (doc, marks) in docs.iter().zip(&marks) {
            found += tagger.tag(doc, marks).len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = rounds * docs.len();
    println!(
        "{n} articles in {secs:.2}s: {:.0} articles/s ({found} topics)",
        n as f64 / secs
    );
}

mod categories {
    use crate::topics::categories::{Category, CategoryModel, Header};

    fn tiny(thresholds: Vec<f32>, best_floor: f32) -> CategoryModel {
        let header = Header {
            name: "test 1".into(),
            dim: 4,
            categories: Category::ALL.iter().map(|c| c.id.to_string()).collect(),
            topics: vec![],
            calibration: vec![],
            thresholds,
            best_floor,
            training: serde_json::Value::Null,
        };
        let width = 4 + 3 + 1;
        CategoryModel::new(header, vec![0.0; 15 * width]).expect("valid")
    }

    #[test]
    fn the_builtin_model_loads_with_the_15_categories() {
        let m = CategoryModel::builtin().expect("built-in model");
        assert_eq!(m.header().categories.len(), 15);
        assert_eq!(m.header().calibration.len(), 15);
        assert!(m.header().thresholds.iter().all(|t| (0.0..1.0).contains(t)));
    }

    #[test]
    fn decide_keeps_categories_over_their_threshold_best_first_at_most_three() {
        let m = tiny(vec![0.5; 15], 1.0);
        let mut p = vec![0.1f32; 15];
        p[3] = 0.6;
        p[0] = 0.9;
        p[7] = 0.55;
        p[9] = 0.7;
        let ids: Vec<&str> = m.decide(&p).iter().map(|c| c.id).collect();
        assert_eq!(ids, ["sport", "labour", "justice"]);
        assert!(m.decide(&[0.1; 15]).is_empty());
        // With a floor, the most probable category is kept below its threshold.
        let m = tiny(vec![0.5; 15], 0.5);
        let mut p = vec![0.1f32; 15];
        p[2] = 0.3;
        let ids: Vec<&str> = m.decide(&p).iter().map(|c| c.id).collect();
        assert_eq!(ids, ["politics"]);
    }

    #[test]
    fn a_model_survives_its_file_format_and_damage_is_an_error() {
        let m = tiny(vec![0.4; 15], 1.0);
        let bytes = m.to_bytes().expect("bytes");
        let back = CategoryModel::from_bytes(&bytes).expect("reads back");
        assert_eq!(back.header(), m.header());
        assert!(CategoryModel::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(CategoryModel::from_bytes(b"nonsense").is_err());
        let mut header = m.header().clone();
        header.thresholds.pop();
        assert!(CategoryModel::new(header, vec![0.0; 15 * 8]).is_err());
    }

    #[test]
    fn taxonomy_topics_name_known_categories() {
        let t = crate::topics::Taxonomy::builtin();
        assert!(t.topics.iter().all(|t| t.category.is_some()));
        let bad = "name = \"x\"\nversion = \"1\"\n[[topic]]\nid = \"a\"\nlabel_nl = \"A\"\nlabel_en = \"A\"\ncategory = \"weather\"\nterms = [\"a\"]\n";
        let e = crate::topics::Taxonomy::from_toml(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("category"), "{e}");
    }
}
