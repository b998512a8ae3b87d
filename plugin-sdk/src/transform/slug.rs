//! URL slugs in the manner of Laravel's `Str::slug`.

use crate::row::Row;
use crate::transform::Transform;
use crate::value::Value;

/// Turns text into a lower-case URL slug with `-` between words: "Hello, Wörld & Co!"
/// becomes "hello-world-co". See [`slug_with`].
pub fn slug() -> impl Transform {
    Slug { separator: '-' }
}

/// Turns text into a lower-case URL slug with `separator` between words, as Laravel's
/// `Str::slug` does for English:
/// - accented Latin letters lose their accents (`é` to `e`, `ß` to `ss`, `æ` to `ae`);
/// - `@` becomes the word `at`;
/// - whitespace, `-` and `_` separate words, and other punctuation is dropped, so
///   "it's" becomes "its";
/// - letters and digits of other scripts are kept, in lower case.
///
/// Text with no letters or digits becomes null, so that a later
/// [`default_value`](crate::transform::default_value) can fill it. Other values are
/// slugged as they are written in a text column.
pub fn slug_with(separator: char) -> impl Transform {
    Slug { separator }
}

struct Slug {
    separator: char,
}

impl Transform for Slug {
    fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
        let Some(text) = value.to_text() else {
            return Ok(Value::Null);
        };
        let slug = make_slug(&text, self.separator);
        Ok(if slug.is_empty() { Value::Null } else { Value::text(slug) })
    }

    fn check_config(&self) -> Result<(), String> {
        if self.separator.is_alphanumeric() {
            return Err(format!("The slug separator {:?} must not be a letter or digit.", self.separator));
        }
        Ok(())
    }
}

fn make_slug(text: &str, separator: char) -> String {
    let mut slug = String::with_capacity(text.len());
    // A word boundary seen since the last letter or digit, written only before the next
    // one, so the slug never starts or ends with a separator or repeats one.
    let mut pending_separator = false;
    let push_word_part = |slug: &mut String, part: &str, pending: &mut bool| {
        if *pending && !slug.is_empty() {
            slug.push(separator);
        }
        *pending = false;
        slug.push_str(part);
    };

    for character in text.chars().flat_map(char::to_lowercase) {
        if character.is_ascii_alphanumeric() {
            let mut buffer = [0; 4];
            push_word_part(&mut slug, character.encode_utf8(&mut buffer), &mut pending_separator);
        } else if character == '@' {
            pending_separator = true;
            push_word_part(&mut slug, "at", &mut pending_separator);
            pending_separator = true;
        } else if character.is_whitespace() || character == '-' || character == '_' || character == separator {
            pending_separator = true;
        } else if let Some(ascii) = transliterate(character) {
            push_word_part(&mut slug, ascii, &mut pending_separator);
        } else if character.is_alphanumeric() {
            let mut buffer = [0; 4];
            push_word_part(&mut slug, character.encode_utf8(&mut buffer), &mut pending_separator);
        }
        // Other punctuation and symbols are dropped without separating words.
    }
    slug
}

/// Returns the ASCII spelling of a lower-case Latin letter with a diacritic or a
/// ligature, for the letters of the Latin-1 Supplement and Latin Extended-A blocks that
/// European languages use.
fn transliterate(character: char) -> Option<&'static str> {
    let ascii = match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    };
    Some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::HeaderRow;

    fn apply<'a>(transform: &impl Transform, value: Value<'a>) -> Value<'a> {
        let headers: &'static [String] = &[];
        let row = Row::new(1, &[], HeaderRow::new(headers));
        transform.apply(value, &row).unwrap()
    }

    #[test]
    fn slug_separates_words_with_dashes() {
        let cases = [
            ("Hello World", "hello-world"),
            ("  Hello,   World!  ", "hello-world"),
            ("Hello, Wörld & Co!", "hello-world-co"),
            ("it's_a--test", "its-a-test"),
            ("Crème brûlée", "creme-brulee"),
            ("Straße", "strasse"),
            ("ada@example.org", "ada-at-exampleorg"),
            ("Привет мир", "привет-мир"),
            ("Æsir Œuvre", "aesir-oeuvre"),
        ];
        for (text, expected) in cases {
            assert_eq!(apply(&slug(), Value::text(text)), Value::text(expected), "{text}");
        }
    }

    #[test]
    fn slug_with_another_separator() {
        assert_eq!(apply(&slug_with('_'), Value::text("Hello-big World")), Value::text("hello_big_world"));
        assert!(slug_with('x').check_config().is_err());
        assert_eq!(slug_with('.').check_config(), Ok(()));
    }

    #[test]
    fn slug_of_nothing_is_null() {
        assert_eq!(apply(&slug(), Value::text("!!!")), Value::Null);
        assert_eq!(apply(&slug(), Value::Null), Value::Null);
        assert_eq!(apply(&slug(), Value::Integer(42)), Value::text("42"));
    }
}
