//! Rule-based tokenizer and sentence splitter for Dutch news text, in the style of CoNLL-2002:
//! punctuation split off, abbreviations, numbers, hyphenated compounds (`5G-netwerken`) and
//! possessives (`Huawei's`) kept whole.

use super::{Document, Paragraph, Span};

/// Abbreviations that keep their final full stop (lower-cased, without the final dot).
const ABBREVIATIONS: &[&str] = &[
    "dr", "drs", "mr", "mevr", "dhr", "ir", "ing", "prof", "st", "sint", "mgr", "jhr", "ds", "bv",
    "nv", "vs", "nr", "blz", "pag", "art", "ca", "cf", "etc", "enz", "evt", "jl", "resp", "aug",
    "sept", "okt", "nov", "dec", "jan", "feb", "febr", "apr", "jr", "sr", "min", "max", "mln",
    "mld", "mrd", "tel", "zgn", "vgl", "ibid", "fa", "vz", "gem", "co", "inc", "ltd", "corp",
    "mrs", "ms", "gen", "kol", "lt", "sgt", "kapt", "adm", "gov", "sen", "rep", "pres",
];

/// Characters split off the front of a word.
fn is_leading_punct(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '"' | '“' | '„' | '‘' | '«' | '‹' | '¡' | '¿' | '*' | '•' | '·'
    )
}

/// Characters split off the end of a word.
fn is_trailing_punct(c: char) -> bool {
    matches!(
        c,
        ')' | ']'
            | '}'
            | '"'
            | '”'
            | '’'
            | '»'
            | '›'
            | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '.'
            | '…'
            | '\''
            | '*'
    )
}

/// Characters that are always a token of their own, wherever they stand.
fn is_standalone(c: char) -> bool {
    matches!(c, '–' | '—' | '|' | '•' | '·' | '…' | '″' | '„' | '“' | '”')
}

/// Splits `text` into tokens with byte and code-point offsets.
pub fn tokenize(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cursor = Cursor::default();
    tokenize_into(text, 0, text.len(), &mut cursor, &mut out);
    out
}

/// Tracks the code-point offset of a byte position, moving forward only.
#[derive(Default)]
struct Cursor {
    byte: usize,
    chars: usize,
}

impl Cursor {
    fn char_at(&mut self, text: &str, byte: usize) -> usize {
        debug_assert!(byte >= self.byte);
        self.chars += text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }

    fn span(&mut self, text: &str, start: usize, end: usize) -> Span {
        let char_start = self.char_at(text, start);
        let char_end = self.char_at(text, end);
        Span {
            start,
            end,
            char_start,
            char_end,
        }
    }
}

fn tokenize_into(text: &str, from: usize, to: usize, cursor: &mut Cursor, out: &mut Vec<Span>) {
    let slice = &text[from..to];
    let mut chunk_start: Option<usize> = None;
    for (i, c) in slice.char_indices() {
        if c.is_whitespace() || c.is_control() || c == '\u{200b}' || c == '\u{feff}' {
            if let Some(s) = chunk_start.take() {
                split_chunk(text, from + s, from + i, cursor, out);
            }
        } else if chunk_start.is_none() {
            chunk_start = Some(i);
        }
    }
    if let Some(s) = chunk_start {
        split_chunk(text, from + s, to, cursor, out);
    }
}

/// Splits one whitespace-free chunk into tokens.
fn split_chunk(text: &str, mut start: usize, end: usize, cursor: &mut Cursor, out: &mut Vec<Span>) {
    // Standalone characters inside the chunk split it.
    if let Some((i, c)) = text[start..end]
        .char_indices()
        .find(|&(_, c)| is_standalone(c))
    {
        let at = start + i;
        if at > start {
            split_chunk(text, start, at, cursor, out);
        }
        let after = at + c.len_utf8();
        // Runs of dots written as "…" or repeated dashes stay one token.
        let mut run_end = after;
        for d in text[after..end].chars() {
            if d == c {
                run_end += d.len_utf8();
            } else {
                break;
            }
        }
        out.push(cursor.span(text, at, run_end));
        if run_end < end {
            split_chunk(text, run_end, end, cursor, out);
        }
        return;
    }
    // Two words glued by a missing space after a sentence end ("Scherz.De") or a slash between
    // names ("Burenpolderweg/Groeninx") are split, so that no entity spans both.
    if let Some((first_end, second_start)) = glue_point(&text[start..end]) {
        split_chunk(text, start, start + first_end, cursor, out);
        if second_start > first_end {
            out.push(cursor.span(text, start + first_end, start + second_start));
        }
        split_chunk(text, start + second_start, end, cursor, out);
        return;
    }
    // Leading punctuation.
    while start < end {
        let c = text[start..end].chars().next().unwrap_or(' ');
        let keeps_apostrophe =
            (c == '\'' || c == '‘' || c == '’') && keeps_leading_apostrophe(&text[start..end]);
        if (is_leading_punct(c) || c == '\'' || c == '’')
            && !keeps_apostrophe
            && start + c.len_utf8() < end
        {
            out.push(cursor.span(text, start, start + c.len_utf8()));
            start += c.len_utf8();
        } else {
            break;
        }
    }
    // Trailing punctuation, collected from the end then emitted in order.
    let mut tail: Vec<(usize, usize)> = Vec::new();
    let mut stop = end;
    while stop > start {
        let word = &text[start..stop];
        let c = word.chars().next_back().unwrap_or(' ');
        if !is_trailing_punct(c) || word.chars().count() == 1 {
            break;
        }
        if c == '.' {
            if word.ends_with("...") {
                let dots = word.len() - word.trim_end_matches('.').len();
                if dots == word.len() {
                    break;
                }
                tail.push((stop - dots, stop));
                stop -= dots;
                continue;
            }
            if keeps_final_dot(&word[..word.len() - 1]) {
                break;
            }
        }
        if c == '\'' && word.ends_with("s'") && word.len() > 2 {
            // Dutch possessive on a name ending in s: "Mathias'" is kept whole.
            break;
        }
        tail.push((stop - c.len_utf8(), stop));
        stop -= c.len_utf8();
    }
    if stop > start {
        out.push(cursor.span(text, start, stop));
    }
    for &(s, e) in tail.iter().rev() {
        out.push(cursor.span(text, s, e));
    }
}

/// Where a chunk holds two words without a space between them: after the `.`, `!` or `?` of
/// `word.Word` (at least two lower-case letters before it, an upper-case then a lower-case letter
/// after it: not `nu.nl`, `ASP.NET` or `J.Jansen`), and around the `/` of `Word/Word` (a
/// lower-case letter before it, an upper-case one after it: not `AC/DC`). Returns the byte
/// offsets where the first part ends and the second starts (a slash between them is a token).
fn glue_point(chunk: &str) -> Option<(usize, usize)> {
    let chars: Vec<(usize, char)> = chunk.char_indices().collect();
    for k in 2..chars.len().saturating_sub(2) {
        let (at, c) = chars[k];
        let (before, before2) = (chars[k - 1].1, chars[k - 2].1);
        let (after, after2) = (chars[k + 1].1, chars[k + 2].1);
        if matches!(c, '.' | '!' | '?')
            && before.is_lowercase()
            && before2.is_lowercase()
            && after.is_uppercase()
            && after2.is_lowercase()
        {
            return Some((at + c.len_utf8(), at + c.len_utf8()));
        }
        if c == '/'
            && before.is_lowercase()
            && after.is_uppercase()
            && chars[..k].iter().any(|(_, c)| c.is_uppercase())
        {
            return Some((at, at + c.len_utf8()));
        }
    }
    None
}

/// `'s`, `'t`, `'n` (Dutch clitics), `'81` (years) and `'s-Hertogenbosch` keep their apostrophe.
fn keeps_leading_apostrophe(word: &str) -> bool {
    let rest: String = word.chars().skip(1).take(3).collect();
    let lower = rest.to_lowercase();
    let first = rest.chars().next();
    matches!(first, Some(d) if d.is_ascii_digit())
        || lower == "s"
        || lower == "t"
        || lower == "n"
        || lower.starts_with("s-")
        || lower.starts_with("t ")
        || (lower.starts_with('s') && lower.chars().nth(1).is_none_or(|c| !c.is_alphabetic()))
}

/// Whether `word` (without its final dot) is an abbreviation or initial that keeps the dot.
fn keeps_final_dot(word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let count = word.chars().count();
    // Initials: "J." and "A.B."
    if count == 1 && word.chars().all(char::is_alphabetic) {
        return word.chars().all(char::is_uppercase);
    }
    // Dotted abbreviations: "o.a", "d.w.z", "U.S"
    if word.contains('.')
        && word
            .split('.')
            .all(|p| p.chars().count() <= 3 && !p.is_empty())
    {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

fn ends_sentence(token: &str) -> bool {
    matches!(token, "." | "!" | "?" | "..." | "…" | "?!" | "!?")
        || (token.len() > 1 && token.chars().all(|c| matches!(c, '.' | '!' | '?')))
}

fn closes_quote(token: &str) -> bool {
    matches!(token, "\"" | "”" | "’" | "'" | "»" | ")")
}

/// Whether a token may start a new sentence (capital letter, digit, opening quote or dash).
fn may_start_sentence(token: &str) -> bool {
    token.chars().next().is_some_and(|c| {
        c.is_uppercase()
            || c.is_ascii_digit()
            || is_leading_punct(c)
            || matches!(c, '\'' | '–' | '—' | '-')
    })
}

/// Splits a text into paragraphs, sentences and tokens.
pub(super) fn split_document(text: &str) -> Document<'_> {
    let mut tokens = Vec::new();
    let mut sentences = Vec::new();
    let mut paragraphs = Vec::new();
    let mut cursor = Cursor::default();
    for (pstart, pend) in paragraph_ranges(text) {
        let first_token = tokens.len();
        tokenize_into(text, pstart, pend, &mut cursor, &mut tokens);
        if tokens.len() == first_token {
            continue;
        }
        let first_sentence = sentences.len();
        let mut sentence_start = first_token;
        let mut i = first_token;
        while i < tokens.len() {
            let tok = &text[tokens[i].bytes()];
            if ends_sentence(tok) {
                let mut end = i + 1;
                while end < tokens.len() && closes_quote(&text[tokens[end].bytes()]) {
                    end += 1;
                }
                if end < tokens.len() && may_start_sentence(&text[tokens[end].bytes()]) {
                    sentences.push(sentence_start..end);
                    sentence_start = end;
                }
                i = end;
            } else {
                i += 1;
            }
        }
        if sentence_start < tokens.len() {
            sentences.push(sentence_start..tokens.len());
        }
        let span = Span {
            start: tokens[first_token].start,
            end: tokens[tokens.len() - 1].end,
            char_start: tokens[first_token].char_start,
            char_end: tokens[tokens.len() - 1].char_end,
        };
        paragraphs.push(Paragraph {
            span,
            sentences: first_sentence..sentences.len(),
        });
    }
    Document {
        text,
        tokens,
        sentences,
        paragraphs,
    }
}

/// Byte ranges of paragraphs: separated by blank lines, or by single newlines when the text has
/// no blank line at all.
fn paragraph_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let has_blank_line = blank_line_positions(text).next().is_some();
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            // Look ahead over spaces for another newline.
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\r') {
                j += 1;
            }
            let blank = j < bytes.len() && bytes[j] == b'\n';
            if blank || !has_blank_line {
                ranges.push((start, i));
                start = if blank { j } else { i + 1 };
                i = start;
                continue;
            }
        }
        i += 1;
    }
    ranges.push((start, bytes.len()));
    ranges.retain(|&(s, e)| !text[s..e].trim().is_empty());
    ranges
}

fn blank_line_positions(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.match_indices('\n').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\r']);
        trimmed.starts_with('\n').then_some(i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text).iter().map(|t| &text[t.bytes()]).collect()
    }

    #[test]
    fn splits_punctuation_and_keeps_compounds() {
        assert_eq!(
            words("Huawei's 5G-netwerken (in Amerika), zei dr. Pang."),
            [
                "Huawei's",
                "5G-netwerken",
                "(",
                "in",
                "Amerika",
                ")",
                ",",
                "zei",
                "dr.",
                "Pang",
                "."
            ]
        );
    }

    #[test]
    fn keeps_numbers_clitics_and_initials() {
        assert_eq!(
            words("In '81 kostte het 3,5 miljoen, o.a. voor J. Smit 's avonds."),
            [
                "In", "'81", "kostte", "het", "3,5", "miljoen", ",", "o.a.", "voor", "J.", "Smit",
                "'s", "avonds", "."
            ]
        );
    }

    #[test]
    fn quotes_and_dashes() {
        assert_eq!(
            words("\"Nee\", zei hij – niet nu…"),
            ["\"", "Nee", "\"", ",", "zei", "hij", "–", "niet", "nu", "…"]
        );
    }

    #[test]
    fn char_offsets_follow_multibyte_text() {
        let text = "één Café – Zürich";
        let toks = tokenize(text);
        let chars: Vec<char> = text.chars().collect();
        for t in toks {
            let s: String = chars[t.char_start..t.char_end].iter().collect();
            assert_eq!(s, &text[t.bytes()]);
        }
    }

    #[test]
    fn sentences_and_paragraphs() {
        let doc = Document::new("Titel\n\nDit is zin één. Dit is zin twee!\nNog één.\n\n\nSlot");
        assert_eq!(doc.paragraphs.len(), 3);
        let s = doc.sentence_words();
        assert_eq!(s[0], ["Titel"]);
        assert_eq!(s[1], ["Dit", "is", "zin", "één", "."]);
        assert_eq!(s[2], ["Dit", "is", "zin", "twee", "!"]);
        assert_eq!(s[3], ["Nog", "één", "."]);
        assert_eq!(s[4], ["Slot"]);
        assert_eq!(
            doc.paragraph_text(&doc.paragraphs[1]),
            "Dit is zin één. Dit is zin twee!\nNog één."
        );
    }

    #[test]
    fn single_newlines_split_when_no_blank_lines() {
        let doc = Document::new("Een.\nTwee.");
        assert_eq!(doc.paragraphs.len(), 2);
    }

    #[test]
    fn glued_sentence_ends_and_slashed_names_split() {
        assert_eq!(
            words("een Duitse onderzoeker, Mark Scherz.De drie soorten"),
            [
                "een",
                "Duitse",
                "onderzoeker",
                ",",
                "Mark",
                "Scherz",
                ".",
                "De",
                "drie",
                "soorten"
            ]
        );
        assert_eq!(
            words("de Burenpolderweg/Groeninx van Zoelenstraat"),
            [
                "de",
                "Burenpolderweg",
                "/",
                "Groeninx",
                "van",
                "Zoelenstraat"
            ]
        );
        // Domains, dotted abbreviations, initials and band names stay whole.
        assert_eq!(words("nu.nl en ASP.NET"), ["nu.nl", "en", "ASP.NET"]);
        assert_eq!(words("AC/DC speelt"), ["AC/DC", "speelt"]);
        assert_eq!(words("en/of"), ["en/of"]);
        assert_eq!(words("J.Jansen"), ["J.Jansen"]);
    }

    #[test]
    fn abbreviation_does_not_end_sentence() {
        let doc = Document::new("Hij sprak met dr. Jansen over o.a. Nokia.");
        assert_eq!(doc.sentences.len(), 1);
    }
}
