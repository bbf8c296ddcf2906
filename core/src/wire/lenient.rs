//! JSON read leniently: a field of an unexpected type loses that field, never the message around it.
//!
//! A derived `Deserialize` fails the whole message on one odd field (a tool call's `arguments` sent as an object,
//! a count sent as `28.0`, an enum sent as a number), and serde_json cannot resume after an error. So every field a
//! decoder reads goes through one of the `deserialize_with` functions here, which accept any JSON value: the
//! expected shape is read, an equivalent spelling is converted (an integral float or a decimal string for a count,
//! a number for an enum name), and anything else is skipped and tallied. A nested struct read with [`object`] must
//! itself be lenient in every field, so it cannot fail either.
//!
//! The tally of what was skipped is kept per thread while [`parse`] runs (serde gives a `deserialize_with`
//! function no context to write to) and handed back with the value.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

/// A message that is not JSON, or JSON the decoder cannot take apart (a repeated key): the message is lost.
pub(crate) const INVALID_JSON: &str = "invalid_json";
/// A field of a type the decoder does not read (an object where a string was expected, ...): the field is lost.
pub(crate) const UNEXPECTED_TYPE: &str = "unexpected_type";
/// A count that is negative, fractional or too large: the count is lost.
pub(crate) const INVALID_NUMBER: &str = "invalid_number";

/// What could not be read: how many fields or messages, and the kind of the first.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) count: u32,
    pub(crate) first: Option<&'static str>,
}

impl Tally {
    pub(crate) fn note(&mut self, kind: &'static str) {
        self.count = self.count.saturating_add(1);
        self.first = self.first.or(Some(kind));
    }
}

thread_local! {
    static SKIPPED: Cell<Tally> = const { Cell::new(Tally { count: 0, first: None }) };
}

fn skipped(kind: &'static str) {
    SKIPPED.with(|t| {
        let mut tally = t.get();
        tally.note(kind);
        t.set(tally);
    });
}

/// Parses one message leniently: the value (an error when the bytes are not JSON of the expected kind), and what
/// could not be read handed to `tally`.
///
/// Inlined, and the value returned as serde_json gives it, so the parsed struct (often hundreds of bytes) is built
/// in the caller's frame: each conversion or move of it costs the Wasm build a copy per message (measured with
/// `wasm-cost`).
#[inline(always)]
pub(crate) fn parse<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    tally: &mut dyn FnMut(Tally),
) -> Result<T, serde_json::Error> {
    let outer = SKIPPED.with(|t| t.replace(Tally::default()));
    let value = serde_json::from_slice::<T>(bytes);
    let mut skipped = SKIPPED.with(|t| t.replace(outer));
    if value.is_err() {
        skipped.note(INVALID_JSON);
    }
    if skipped.count > 0 {
        tally(skipped);
    }
    value
}

/// Skips a value of an unexpected type, whole (an object or array is read through to its end).
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// What a lenient reader made of one JSON value.
enum Read<T> {
    Value(T),
    /// A type this reader does not take: skipped, tallied as [`UNEXPECTED_TYPE`].
    WrongType,
    /// A number this reader cannot use: skipped, tallied as [`INVALID_NUMBER`].
    BadNumber,
}

/// A lenient reader: what it takes from each JSON type. Every type it does not take is skipped whole, so reading
/// never fails on a well-formed message.
trait Lenient<'de>: Sized {
    fn from_bool(_: bool) -> Read<Self> {
        Read::WrongType
    }
    fn from_u64(_: u64) -> Read<Self> {
        Read::WrongType
    }
    fn from_i64(_: i64) -> Read<Self> {
        Read::WrongType
    }
    fn from_f64(_: f64) -> Read<Self> {
        Read::WrongType
    }
    fn from_str(_: Cow<'de, str>) -> Read<Self> {
        Read::WrongType
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Read<Self>, A::Error> {
        skip_map(map)?;
        Ok(Read::WrongType)
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        skip_seq(seq)?;
        Ok(Read::WrongType)
    }
}

/// The one visitor of every lenient reader: `null` is absent, anything else goes to the reader.
struct LenientVisitor<T>(PhantomData<T>);

fn kept<T>(read: Read<T>) -> Option<T> {
    match read {
        Read::Value(v) => Some(v),
        Read::WrongType => {
            skipped(UNEXPECTED_TYPE);
            None
        }
        Read::BadNumber => {
            skipped(INVALID_NUMBER);
            None
        }
    }
}

impl<'de, T: Lenient<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(kept(T::from_bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(kept(T::from_u64(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(kept(T::from_i64(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(kept(T::from_f64(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(kept(T::from_str(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(kept(T::from_str(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(kept(T::from_str(Cow::Owned(v))))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(kept(T::from_map(map)?))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(kept(T::from_seq(seq)?))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn read<'de, D: Deserializer<'de>, T: Lenient<'de>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(LenientVisitor::<T>(PhantomData))
}

/// Below 2^53 every integer is exact as a double.
const EXACT_IN_F64: f64 = 9_007_199_254_740_992.0;

struct Count(u64);

impl<'de> Lenient<'de> for Count {
    fn from_u64(v: u64) -> Read<Self> {
        Read::Value(Count(v))
    }
    fn from_i64(v: i64) -> Read<Self> {
        u64::try_from(v).map_or(Read::BadNumber, |v| Read::Value(Count(v)))
    }
    fn from_f64(v: f64) -> Read<Self> {
        if v.fract() == 0.0 && (0.0..EXACT_IN_F64).contains(&v) {
            Read::Value(Count(v as u64))
        } else {
            Read::BadNumber
        }
    }
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        match v.parse::<u64>() {
            Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => Read::Value(Count(n)),
            _ => Read::BadNumber,
        }
    }
}

/// A token count: a non-negative integer, also spelled as an integral float (`28.0`) or a decimal string (proto3
/// JSON writes 64-bit integers as strings). `null` reads as absent.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(read::<D, Count>(d)?.map(|c| c.0))
}

struct Int(i64);

impl<'de> Lenient<'de> for Int {
    fn from_u64(v: u64) -> Read<Self> {
        i64::try_from(v).map_or(Read::BadNumber, |v| Read::Value(Int(v)))
    }
    fn from_i64(v: i64) -> Read<Self> {
        Read::Value(Int(v))
    }
    fn from_f64(v: f64) -> Read<Self> {
        if v.fract() == 0.0 && v.abs() < EXACT_IN_F64 {
            Read::Value(Int(v as i64))
        } else {
            Read::BadNumber
        }
    }
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        v.parse().map_or(Read::BadNumber, |n| Read::Value(Int(n)))
    }
}

/// A signed integer (`max_tokens`, `seed`, an index); also an integral float or a decimal string.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(read::<D, Int>(d)?.map(|i| i.0))
}

/// An index into a list (`index`, `contentBlockIndex`).
pub(crate) fn index<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Ok(count(d)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
}

struct Float(f64);

impl<'de> Lenient<'de> for Float {
    fn from_u64(v: u64) -> Read<Self> {
        Read::Value(Float(v as f64))
    }
    fn from_i64(v: i64) -> Read<Self> {
        Read::Value(Float(v as f64))
    }
    fn from_f64(v: f64) -> Read<Self> {
        Read::Value(Float(v))
    }
}

/// A number (`temperature`, `top_p`).
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(read::<D, Float>(d)?.map(|f| f.0))
}

struct Flag(bool);

impl<'de> Lenient<'de> for Flag {
    fn from_bool(v: bool) -> Read<Self> {
        Read::Value(Flag(v))
    }
}

/// A boolean (`stream`, `done`, `thought`).
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(read::<D, Flag>(d)?.map(|f| f.0))
}

struct Text<'a>(Cow<'a, str>);

impl<'de> Lenient<'de> for Text<'de> {
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        Read::Value(Text(v))
    }
}

/// A string, borrowed from the message when it has no escapes.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(read::<D, Text<'de>>(d)?.map(|t| t.0))
}

/// An owned string.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text(d)?.map(Cow::into_owned))
}

/// An enum value as the provider spelled it: its name, or its number (Google's APIs with
/// `$alt=json;enum-encoding=int`, and any provider that sends a number where a name was expected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnumValue<'a> {
    Name(Cow<'a, str>),
    Number(i64),
}

impl EnumValue<'_> {
    /// The name: as sent, or the number looked up in `names` (indexed by number), or the number in decimal when
    /// the table does not have it (kept rather than lost).
    pub(crate) fn name(&self, names: &[&str]) -> String {
        match self {
            EnumValue::Name(n) => n.to_string(),
            EnumValue::Number(n) => usize::try_from(*n)
                .ok()
                .and_then(|i| names.get(i))
                .map_or_else(|| n.to_string(), |s| (*s).to_string()),
        }
    }
}

impl<'de> Lenient<'de> for EnumValue<'de> {
    fn from_u64(v: u64) -> Read<Self> {
        i64::try_from(v).map_or(Read::BadNumber, |v| Read::Value(EnumValue::Number(v)))
    }
    fn from_i64(v: i64) -> Read<Self> {
        Read::Value(EnumValue::Number(v))
    }
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        Read::Value(EnumValue::Name(v))
    }
}

/// A string enum, also accepted as a number (see [`EnumValue`]).
pub(crate) fn enum_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EnumValue<'de>>, D::Error> {
    read::<D, EnumValue<'de>>(d)
}

/// A string enum read as its name; a number is kept in decimal (for providers without a number table).
pub(crate) fn name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(enum_value(d)?.map(|v| match v {
        EnumValue::Name(n) => n,
        EnumValue::Number(n) => Cow::Owned(n.to_string()),
    }))
}

/// A string, or an array (of content parts) counted by its elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextOrList<'a> {
    Text(Cow<'a, str>),
    List(usize),
}

impl<'de> Lenient<'de> for TextOrList<'de> {
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        Read::Value(TextOrList::Text(v))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        Ok(match Length::from_seq(seq)? {
            Read::Value(Length(n)) => Read::Value(TextOrList::List(n)),
            _ => Read::WrongType,
        })
    }
}

/// Content that is a string or a list of parts (see [`TextOrList`]).
pub(crate) fn text_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TextOrList<'de>>, D::Error> {
    read::<D, TextOrList<'de>>(d)
}

/// [`name`], owned.
pub(crate) fn name_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(name(d)?.map(Cow::into_owned))
}

struct JsonText<'a>(Cow<'a, str>);

impl<'de> Lenient<'de> for JsonText<'de> {
    fn from_bool(v: bool) -> Read<Self> {
        Read::Value(JsonText(Cow::Owned(v.to_string())))
    }
    fn from_u64(v: u64) -> Read<Self> {
        Read::Value(JsonText(Cow::Owned(v.to_string())))
    }
    fn from_i64(v: i64) -> Read<Self> {
        Read::Value(JsonText(Cow::Owned(v.to_string())))
    }
    fn from_f64(v: f64) -> Read<Self> {
        Read::Value(JsonText(Cow::Owned(v.to_string())))
    }
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        Read::Value(JsonText(v))
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Read<Self>, A::Error> {
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Read::Value(JsonText(Cow::Owned(v.to_string()))))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Read::Value(JsonText(Cow::Owned(v.to_string()))))
    }
}

/// Text that may arrive as a string or as JSON (a tool call's `arguments`: a string in OpenAI's API, an object
/// from Ollama and servers copying it): a string as is, anything else as its JSON text.
pub(crate) fn json_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(read::<D, JsonText<'de>>(d)?.map(|t| t.0))
}

/// Any JSON value, kept whole (tool inputs, function calls): it cannot have the wrong type.
pub(crate) fn any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok((!v.is_null()).then_some(v))
}

struct Present;

impl<'de> Lenient<'de> for Present {
    fn from_bool(_: bool) -> Read<Self> {
        Read::Value(Present)
    }
    fn from_u64(_: u64) -> Read<Self> {
        Read::Value(Present)
    }
    fn from_i64(_: i64) -> Read<Self> {
        Read::Value(Present)
    }
    fn from_f64(_: f64) -> Read<Self> {
        Read::Value(Present)
    }
    fn from_str(_: Cow<'de, str>) -> Read<Self> {
        Read::Value(Present)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Read<Self>, A::Error> {
        skip_map(map)?;
        Ok(Read::Value(Present))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        skip_seq(seq)?;
        Ok(Read::Value(Present))
    }
}

/// Whether a field is present and not `null`, whatever its value (`prompt`, `input`).
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<()>, D::Error> {
    Ok(read::<D, Present>(d)?.map(|_| ()))
}

struct Length(usize);

impl<'de> Lenient<'de> for Length {
    fn from_str(_: Cow<'de, str>) -> Read<Self> {
        Read::Value(Length(1))
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Read<Self>, A::Error> {
        let mut n = 0usize;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Read::Value(Length(n)))
    }
}

/// The number of elements of an array (`messages`, `contents`), without reading them; a string counts as one.
pub(crate) fn length<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Ok(read::<D, Length>(d)?.map(|l| l.0))
}

/// A nested struct, which must be lenient in every field so that reading it cannot fail.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Lenient<'de> for Object<T> {
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Read<Self>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Read::Value(Object(t)))
    }
}

/// A nested object; a value that is not an object is skipped and tallied.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(read::<D, Object<T>>(d)?.map(|o| o.0))
}

/// One element of a lenient array: read with `read`, skipped (and tallied) when of another type.
struct Element<T>(Option<T>);

impl<'de, T: Lenient<'de>> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read::<D, T>(d).map(Element)
    }
}

struct List<T>(Vec<T>);

impl<'de, T: Lenient<'de>> Lenient<'de> for List<T> {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Read<Self>, A::Error> {
        let mut out = Vec::new();
        while let Some(Element(item)) = seq.next_element::<Element<T>>()? {
            out.extend(item);
        }
        Ok(Read::Value(List(out)))
    }
}

/// An array of objects; elements that are not objects are skipped and tallied, and a value that is not an array
/// reads as absent.
pub(crate) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Ok(read::<D, List<Object<T>>>(d)?.map(|l| l.0.into_iter().map(|o| o.0).collect()))
}

struct OneOrMany<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Lenient<'de> for OneOrMany<T> {
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Read<Self>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Read::Value(OneOrMany(vec![t])))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        Ok(match List::<Object<T>>::from_seq(seq)? {
            Read::Value(List(items)) => Read::Value(OneOrMany(items.into_iter().map(|o| o.0).collect())),
            _ => Read::WrongType,
        })
    }
}

/// One object or an array of them (Cohere's `delta.message.content` is an array in `message-start` and one
/// object in `content-delta`).
pub(crate) fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Ok(read::<D, OneOrMany<T>>(d)?.map(|o| o.0))
}

struct Texts(Vec<String>);

impl<'de> Lenient<'de> for Texts {
    fn from_str(v: Cow<'de, str>) -> Read<Self> {
        Read::Value(Texts(vec![v.into_owned()]))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Read<Self>, A::Error> {
        Ok(match List::<Text<'de>>::from_seq(seq)? {
            Read::Value(List(items)) => Read::Value(Texts(items.into_iter().map(|t| t.0.into_owned()).collect())),
            _ => Read::WrongType,
        })
    }
}

/// A string or a list of strings (`stop`), as a list; elements that are not strings are skipped and tallied.
pub(crate) fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(read::<D, Texts>(d)?.map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> (Option<T>, Tally) {
        let mut all = Tally::default();
        let value = super::parse(bytes, &mut |t| all = t).ok();
        (value, all)
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Usage {
        #[serde(deserialize_with = "count")]
        prompt_tokens: Option<u64>,
        #[serde(deserialize_with = "count")]
        completion_tokens: Option<u64>,
    }

    #[derive(Deserialize, Debug, Default)]
    #[serde(default)]
    struct Message<'a> {
        #[serde(borrow, deserialize_with = "text")]
        model: Option<Cow<'a, str>>,
        #[serde(deserialize_with = "object")]
        usage: Option<Usage>,
        #[serde(deserialize_with = "objects")]
        choices: Option<Vec<Choice<'a>>>,
        #[serde(borrow, deserialize_with = "enum_value")]
        finish: Option<EnumValue<'a>>,
        #[serde(deserialize_with = "texts")]
        stop: Option<Vec<String>>,
        #[serde(borrow, deserialize_with = "json_text")]
        arguments: Option<Cow<'a, str>>,
    }

    #[derive(Deserialize, Debug, Default)]
    #[serde(default)]
    struct Choice<'a> {
        #[serde(borrow, deserialize_with = "text")]
        finish_reason: Option<Cow<'a, str>>,
    }

    #[test]
    fn an_odd_field_loses_only_itself() {
        let (m, tally) = parse::<Message<'_>>(
            br#"{"model":{"name":"x"},"usage":{"prompt_tokens":28.0,"completion_tokens":"7"},
                "choices":[5,{"finish_reason":"stop"},"x",{"finish_reason":3}],"finish":2,"stop":"END",
                "arguments":{"city":"Paris"}}"#,
        );
        let m = m.unwrap();
        assert_eq!(m.model, None);
        assert_eq!(
            m.usage,
            Some(Usage {
                prompt_tokens: Some(28),
                completion_tokens: Some(7)
            })
        );
        let reasons: Vec<_> = m.choices.unwrap().into_iter().map(|c| c.finish_reason).collect();
        assert_eq!(reasons, vec![Some(Cow::Borrowed("stop")), None]);
        assert_eq!(
            m.finish.unwrap().name(&["UNSPECIFIED", "STOP", "MAX_TOKENS"]),
            "MAX_TOKENS"
        );
        assert_eq!(m.stop, Some(vec!["END".to_string()]));
        assert_eq!(m.arguments.as_deref(), Some(r#"{"city":"Paris"}"#));
        // model (an object), two choices that are not objects, one finish_reason that is a number.
        assert_eq!(
            tally,
            Tally {
                count: 4,
                first: Some(UNEXPECTED_TYPE)
            }
        );
    }

    #[test]
    fn bad_numbers_and_bad_json_are_tallied() {
        let (u, tally) = parse::<Usage>(br#"{"prompt_tokens":-3,"completion_tokens":1.5}"#);
        assert_eq!(u, Some(Usage::default()));
        assert_eq!(
            tally,
            Tally {
                count: 2,
                first: Some(INVALID_NUMBER)
            }
        );
        let (u, tally) = parse::<Usage>(br#"{"prompt_tokens":"#);
        assert!(u.is_none());
        assert_eq!(tally.first, Some(INVALID_JSON));
        let (u, tally) = parse::<Usage>(br#"{"prompt_tokens":null,"completion_tokens":4}"#);
        assert_eq!(u.unwrap().completion_tokens, Some(4));
        assert_eq!(tally, Tally::default());
    }

    #[test]
    fn nested_parses_keep_their_own_tally() {
        let (_, outer) = parse::<Usage>(br#"{"prompt_tokens":"x"}"#);
        let (_, inner) = parse::<Usage>(br#"{"prompt_tokens":1}"#);
        assert_eq!((outer.count, inner.count), (1, 0));
    }
}
