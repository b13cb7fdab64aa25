//! A lenient, allocation-light reader for the annotated records: only the fields the report needs
//! are kept (everything else, such as a passed-through article text, is skipped without being
//! copied), and a field of an unexpected type is treated as absent instead of failing the record.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A JSON value reduced to the scalar it carries; objects, arrays, booleans and null are
/// [`Scalar::Absent`].
#[derive(Debug, Default, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// Any other value, or no value.
    #[default]
    Absent,
    /// A string (borrowed from the line when it has no escapes).
    Str(Cow<'a, str>),
    /// A non-negative integer.
    Int(u64),
    /// Any other number.
    Float(f64),
}

impl Scalar<'_> {
    /// The value as trimmed, non-empty text (numbers are written out).
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Str(s) => Some(Cow::Borrowed(s.trim())).filter(|s| !s.is_empty()),
            Scalar::Int(n) => Some(Cow::Owned(n.to_string())),
            Scalar::Float(f) if f.is_finite() => Some(Cow::Owned(f.to_string())),
            _ => None,
        }
    }

    /// The value as a count (integers, and strings holding one).
    pub fn count(&self) -> Option<u64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Absent)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Absent)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Absent)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Whether a field holds anything but null or `false`.
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Present;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Present, E> {
                Ok(Present(false))
            }
            fn visit_none<E: de::Error>(self) -> Result<Present, E> {
                Ok(Present(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Present, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Present, E> {
                Ok(Present(v))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Present, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Present(true))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Present, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Present(true))
            }
        }
        d.deserialize_any(V)
    }
}

/// An array of objects of type `T`; array items that are not objects are dropped, and a value
/// that is not an array is `None`.
struct Items<T>(Option<Vec<T>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Item<T>(Option<T>);
        impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<T>(std::marker::PhantomData<T>);
                impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                    type Value = Item<T>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
                        T::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map(|t| Item(Some(t)))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item<T>, A::Error> {
                        ScalarVisitor.visit_seq(seq).map(|_| Item(None))
                    }
                    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Item<T>, D::Error> {
                        d.deserialize_any(self)
                    }
                    fn visit_none<E: de::Error>(self) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                    fn visit_str<E: de::Error>(self, _: &str) -> Result<Item<T>, E> {
                        Ok(Item(None))
                    }
                }
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Items<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(Item(item)) = seq.next_element::<Item<T>>()? {
                    out.extend(item);
                }
                Ok(Items(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items<T>, A::Error> {
                ScalarVisitor.visit_map(map).map(|_| Items(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Items<T>, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_none<E: de::Error>(self) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An entity of a record, from `entity_summary` or `entities`.
#[derive(Debug, Default, Deserialize)]
pub struct EntityIn<'a> {
    /// Canonical name.
    #[serde(borrow, default)]
    pub canonical: Scalar<'a>,
    /// Surface text (mention lists only; the fallback name).
    #[serde(borrow, default)]
    pub text: Scalar<'a>,
    /// Label.
    #[serde(borrow, default)]
    pub label: Scalar<'a>,
    /// Stable id.
    #[serde(borrow, default)]
    pub id: Scalar<'a>,
    /// Mention count (summaries only).
    #[serde(borrow, default)]
    pub mentions: Scalar<'a>,
}

/// A topic of a record.
#[derive(Debug, Default, Deserialize)]
pub struct TopicIn<'a> {
    /// Topic id.
    #[serde(borrow, default)]
    pub id: Scalar<'a>,
    /// Display label.
    #[serde(borrow, default)]
    pub label: Scalar<'a>,
}

/// The fields of a record that the report uses.
#[derive(Debug, Default)]
pub struct RecordIn<'a> {
    /// An error record: an `error` field with a value and no `ontleed` field (every annotated
    /// record has `ontleed`, and an input field named `error` passes through into it).
    pub error: bool,
    /// A `skipped` field with a value: a skipped article.
    pub skipped: bool,
    /// The mention list, when it is an array.
    pub entities: Option<Vec<EntityIn<'a>>>,
    /// The entity summary, when it is an array.
    pub summary: Option<Vec<EntityIn<'a>>>,
    /// The topics, when they are an array.
    pub topics: Option<Vec<TopicIn<'a>>>,
    /// The value of the date field.
    pub date: Scalar<'a>,
}

/// Reads a [`RecordIn`], taking the date from the field named `date_field`.
pub struct RecordSeed<'f> {
    /// Name of the date field.
    pub date_field: &'f str,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = RecordIn<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = RecordIn<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = RecordIn::default();
        let mut annotated = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                k if k == self.date_field => r.date = map.next_value()?,
                "error" => r.error = map.next_value::<Present>()?.0,
                "ontleed" => annotated = map.next_value::<Present>()?.0,
                "skipped" => r.skipped = map.next_value::<Present>()?.0,
                "entities" => r.entities = map.next_value::<Items<EntityIn>>()?.0,
                "entity_summary" => r.summary = map.next_value::<Items<EntityIn>>()?.0,
                "topics" => r.topics = map.next_value::<Items<TopicIn>>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        r.error &= !annotated;
        Ok(r)
    }
}

/// Parses one line; `None` when it is not a JSON object.
pub fn parse<'a>(line: &'a [u8], date_field: &str) -> Option<RecordIn<'a>> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let r = RecordSeed { date_field }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_fields() {
        let line = br#"{"text":"long \"article\"","date":"2026-01-02","error":null,"skipped":false,
            "entity_summary":[{"canonical":"A\u00e9","label":"PER","mentions":"3","id":7},5,null,[1],
                              {"canonical":{"x":1},"text":"B","mentions":-1}],
            "topics":{"not":"an array"},"entities":null}"#;
        let r = parse(line, "date").unwrap();
        assert!(!r.error);
        assert!(!r.skipped, "false is no value");
        assert_eq!(r.date.text().as_deref(), Some("2026-01-02"));
        let s = r.summary.unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].canonical.text().as_deref(), Some("Aé"));
        assert_eq!(s[0].mentions.count(), Some(3));
        assert_eq!(s[0].id.text().as_deref(), Some("7"));
        assert_eq!(s[1].canonical, Scalar::Absent);
        assert_eq!(s[1].mentions.count(), None);
        assert!(r.topics.is_none() && r.entities.is_none());
    }

    /// An input field named `error` (or `line`) passes through into an annotated record, which
    /// has `ontleed`: it is no error record.
    #[test]
    fn error_records_lack_ontleed() {
        let good = br#"{"id":1,"line":3,"error":{"kind":"x","message":"y"},"entity_summary":[],"ontleed":{"version":"0.1.0"}}"#;
        assert!(!parse(good, "date").unwrap().error);
        let bad = br#"{"line":3,"source":"a.jsonl","error":{"kind":"x","message":"y"}}"#;
        assert!(parse(bad, "date").unwrap().error);
    }

    #[test]
    fn not_objects() {
        for line in [
            &b"[1,2]"[..],
            b"\"x\"",
            b"{\"a\":1} trailing",
            b"{\"a\":",
            b"\xff\xfe",
            b"null",
        ] {
            assert!(
                parse(line, "date").is_none(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        assert!(parse(b"{}", "date").is_some());
        let r = parse(br#"{"published":"2026-02-03","date":"x"}"#, "published").unwrap();
        assert_eq!(r.date.text().as_deref(), Some("2026-02-03"));
    }
}
