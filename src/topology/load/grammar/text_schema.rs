//! What JSON Schema can say of a text value: a pattern (ECMA-262, as editors and validators read
//! it), lengths, and names it must not be. A `TextSchema` never refuses a value its grammar
//! accepts; it may accept some the grammar refuses (a length it cannot count, a rule no pattern
//! says), which `validate` then reports.

use serde_json::{Value, json};

/// A text value as JSON Schema sees it.
#[derive(Clone, Copy, Debug)]
pub struct TextSchema {
    /// The whole value matches it (anchored with `^...$`).
    pub pattern: Option<&'static str>,
    /// The value does not match it (reserved names).
    pub not_pattern: Option<&'static str>,
    /// At least this many characters: 1 where the loader refuses an empty value.
    pub min_length: u32,
    pub max_length: Option<u32>,
    /// A plain YAML number or boolean (`8.2`, `true`) can spell a fitting value: the loader reads
    /// such a scalar as the text it is written as, so the schema takes numbers and booleans too.
    pub scalars: bool,
}

impl TextSchema {
    /// Any text that is not empty.
    pub const TEXT: TextSchema = TextSchema {
        pattern: None,
        not_pattern: None,
        min_length: 1,
        max_length: None,
        scalars: true,
    };

    /// The JSON Schema of the value.
    pub fn json(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert(
            "type".into(),
            match self.scalars {
                true => json!(["string", "number", "boolean"]),
                false => json!("string"),
            },
        );
        if self.min_length > 0 {
            out.insert("minLength".into(), json!(self.min_length));
        }
        if let Some(max) = self.max_length {
            out.insert("maxLength".into(), json!(max));
        }
        if let Some(p) = self.pattern {
            out.insert("pattern".into(), json!(p));
        }
        if let Some(p) = self.not_pattern {
            // `pattern` alone holds for a number, so `not` names the type as well.
            out.insert("not".into(), json!({ "type": "string", "pattern": p }));
        }
        Value::Object(out)
    }
}

/// Test helpers: a text schema applied by a real JSON Schema validator.
#[cfg(test)]
pub(crate) mod testing {
    use super::TextSchema;

    /// The validator of one text schema.
    pub fn validator(schema: &TextSchema) -> jsonschema::Validator {
        jsonschema::draft202012::new(&schema.json()).expect("a valid schema")
    }

    /// Whether the schema takes `value`.
    pub fn takes(schema: &TextSchema, value: &str) -> bool {
        validator(schema).is_valid(&serde_json::json!(value))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::takes;
    use super::*;

    #[test]
    fn the_json_says_type_lengths_pattern_and_reserved_names() {
        let t = TextSchema {
            pattern: Some("^[a-z]+$"),
            not_pattern: Some("^root$"),
            min_length: 1,
            max_length: Some(4),
            scalars: false,
        };
        assert_eq!(
            t.json(),
            json!({
                "type": "string", "minLength": 1, "maxLength": 4, "pattern": "^[a-z]+$",
                "not": { "type": "string", "pattern": "^root$" }
            })
        );
        assert!(takes(&t, "abcd"));
        for refused in ["", "abcde", "ab1", "root"] {
            assert!(!takes(&t, refused), "{refused:?}");
        }
    }

    #[test]
    fn scalars_are_taken_when_they_can_spell_a_value() {
        let t = TextSchema {
            not_pattern: Some("^true$"),
            ..TextSchema::TEXT
        };
        let v = jsonschema::draft202012::new(&t.json()).unwrap();
        assert!(v.is_valid(&json!(8.2)) && v.is_valid(&json!(true)));
        assert!(!v.is_valid(&json!("true")), "the reserved name as text");
        assert!(!v.is_valid(&json!(["a"])) && !v.is_valid(&json!(null)));
        let strict = TextSchema {
            scalars: false,
            ..TextSchema::TEXT
        };
        assert!(!takes(&strict, "") && takes(&strict, "x"));
        let v = jsonschema::draft202012::new(&strict.json()).unwrap();
        assert!(!v.is_valid(&json!(8.2)));
    }
}
