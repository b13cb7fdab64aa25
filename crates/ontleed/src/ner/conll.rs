//! Reading CoNLL-style NER files: `TOKEN ... TAG` (CoNLL-2002: `WORD POS TAG`) or tab-separated
//! `INDEX TOKEN TAG` (WikiANN, WikiNEuRal); blank lines end sentences, `-DOCSTART-` lines start
//! documents. Tags may be IOB1 or IOB2 and are normalised to IOB2.

use super::tags::{Tag, to_iob2};
use anyhow::{Context, Result, bail};
use std::io::BufRead;
use std::path::Path;

/// One line of a CoNLL file, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// A `-DOCSTART-` line.
    DocStart,
    /// A blank line (end of sentence).
    Blank,
    /// A token line: the token and the raw tag column (absent in unlabeled input).
    Token {
        /// The word.
        word: &'a str,
        /// The last column, when the line has more than the word.
        tag: Option<&'a str>,
    },
}

/// Classifies one line.
pub fn classify(line: &str) -> Line<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Line::Blank;
    }
    if line.starts_with("-DOCSTART-") {
        return Line::DocStart;
    }
    let fields: Vec<&str> = if line.contains('\t') {
        line.split('\t').collect()
    } else {
        line.split_whitespace().collect()
    };
    let indexed = line.contains('\t') && fields.len() >= 3 && fields[0].parse::<u64>().is_ok();
    let word = if indexed { fields[1] } else { fields[0] };
    let min_fields = if indexed { 3 } else { 2 };
    let tag = (fields.len() >= min_fields).then(|| fields[fields.len() - 1]);
    Line::Token { word, tag }
}

/// A labelled sentence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sentence {
    /// The words.
    pub words: Vec<String>,
    /// One IOB2 tag per word.
    pub tags: Vec<Tag>,
}

/// A document: the sentences between two `-DOCSTART-` lines (or one sentence, in files that
/// have no `-DOCSTART-` lines, whose sentences are unrelated).
pub type Doc = Vec<Sentence>;

/// The words of each sentence of a document, in the shape [`Recognizer`](super::Recognizer)s take.
pub fn words(doc: &Doc) -> Vec<Vec<&str>> {
    doc.iter()
        .map(|s| s.words.iter().map(String::as_str).collect())
        .collect()
}

/// Reads a labelled CoNLL file into documents.
pub fn read_file(path: &Path) -> Result<Vec<Doc>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read(std::io::BufReader::new(file)).with_context(|| format!("in {}", path.display()))
}

/// Reads labelled CoNLL data into documents.
pub fn read(reader: impl BufRead) -> Result<Vec<Doc>> {
    let mut docs: Vec<Doc> = Vec::new();
    let mut doc: Doc = Vec::new();
    let mut sentence = Sentence::default();
    let mut saw_docstart = false;
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("line {}", n + 1))?;
        match classify(&line) {
            Line::DocStart => {
                saw_docstart = true;
                finish_sentence(&mut sentence, &mut doc);
                if !doc.is_empty() {
                    docs.push(std::mem::take(&mut doc));
                }
            }
            Line::Blank => {
                finish_sentence(&mut sentence, &mut doc);
                if !saw_docstart && !doc.is_empty() {
                    docs.push(std::mem::take(&mut doc));
                }
            }
            Line::Token { word, tag } => {
                let Some(tag) = tag else {
                    bail!("line {}: no tag column in {line:?}", n + 1);
                };
                let tag: Tag = tag
                    .parse()
                    .map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
                sentence.words.push(word.to_string());
                sentence.tags.push(tag);
            }
        }
    }
    finish_sentence(&mut sentence, &mut doc);
    if !doc.is_empty() {
        docs.push(doc);
    }
    Ok(docs)
}

fn finish_sentence(sentence: &mut Sentence, doc: &mut Doc) {
    if !sentence.words.is_empty() {
        to_iob2(&mut sentence.tags);
        doc.push(std::mem::take(sentence));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conll2002_and_indexed_formats() {
        let conll = "-DOCSTART- -DOCSTART- O\nDe Art O\nFloralux N B-ORG\n. Punc O\n\nIn Prep O\n'81 Num O\n\n-DOCSTART- -DOCSTART- O\nPang N I-PER\n";
        let docs = read(conll.as_bytes()).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].len(), 2);
        assert_eq!(docs[0][0].words, ["De", "Floralux", "."]);
        assert_eq!(docs[1][0].tags, [Tag::B(crate::ner::Label::Per)]);

        let wiki = "0\tHet\tO\n1\tFC\tB-ORG\n2\tTwente\tI-ORG\n\n0\t1993\tO\n";
        let docs = read(wiki.as_bytes()).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0][0].words, ["Het", "FC", "Twente"]);
        assert_eq!(docs[1][0].words, ["1993"]);
    }

    #[test]
    fn bad_tag_is_an_error() {
        assert!(read("Jan X B-PERSON\n".as_bytes()).is_err());
    }
}
