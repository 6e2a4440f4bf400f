//! Text normalisation: the same call typed on a phone keyboard, a PC with a Chinese
//! IME in full-width mode, or pasted from a WeChat message must produce the same
//! features, and every feature must still point back at the words the agent typed.

use std::ops::Range;

/// Normalised text plus a map from each normalised character back to the original.
///
/// Segments (runs between punctuation or spaces) are separated by a single `' '` in
/// [`Normalized::text`]; n-grams never cross a segment boundary, because "离婚，孩子"
/// says nothing about a word "婚孩".
#[derive(Debug, Clone, Default)]
pub(crate) struct Normalized {
    /// The normalised text.
    pub text: String,
    /// For each character of `text`: its byte offset in `text` and the byte range of
    /// the original text it came from.
    chars: Vec<CharPos>,
    /// Character-index ranges of the segments.
    pub segments: Vec<Range<usize>>,
}

#[derive(Debug, Clone)]
struct CharPos {
    at: usize,
    origin: Range<usize>,
}

impl Normalized {
    /// Byte range in [`Normalized::text`] of the characters `span` (character indices).
    pub fn byte_range(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.chars.get(span.start).map_or(self.text.len(), |c| c.at);
        let end = self.chars.get(span.end).map_or(self.text.len(), |c| c.at);
        start..end
    }

    /// The normalised characters `span` as a slice of [`Normalized::text`].
    pub fn slice(&self, span: &Range<usize>) -> &str {
        &self.text[self.byte_range(span)]
    }

    /// The part of the original text that produced the characters `span`.
    pub fn original<'t>(&self, original: &'t str, span: &Range<usize>) -> &'t str {
        match (self.chars.get(span.start), span.end.checked_sub(1).and_then(|e| self.chars.get(e))) {
            (Some(first), Some(last)) if span.start < span.end => {
                original.get(first.origin.start..last.origin.end).unwrap_or("")
            }
            _ => "",
        }
    }
}

/// Normalises `original`:
/// - full-width ASCII (ＡＢＣ１２３) becomes half-width and the ideographic space a space;
/// - letters are lowercased;
/// - a run of digits becomes one `0`, so "欠了3万" and "欠了30000" share features;
/// - anything that is neither a letter nor a number (punctuation, spaces, emoji) ends
///   a segment.
pub(crate) fn normalize(original: &str) -> Normalized {
    let mut out = Normalized::default();
    let mut segment_start = 0usize;
    let mut in_digits = false;
    for (at, raw) in original.char_indices() {
        let origin = at..at + raw.len_utf8();
        let c = fold_width(raw);
        if c.is_ascii_digit() {
            if in_digits {
                // Extend the previous `0` to cover this digit too.
                if let Some(last) = out.chars.last_mut() {
                    last.origin.end = origin.end;
                }
                continue;
            }
            in_digits = true;
            push(&mut out, '0', origin);
        } else if c.is_alphanumeric() {
            in_digits = false;
            let lower = c.to_lowercase().next().unwrap_or(c);
            push(&mut out, lower, origin);
        } else {
            in_digits = false;
            close_segment(&mut out, &mut segment_start);
        }
    }
    close_segment(&mut out, &mut segment_start);
    // Drop the trailing separator so `text` never ends in a space.
    if out.text.ends_with(' ') {
        out.text.pop();
        out.chars.pop();
    }
    out
}

fn push(out: &mut Normalized, c: char, origin: Range<usize>) {
    out.chars.push(CharPos { at: out.text.len(), origin });
    out.text.push(c);
}

/// Ends the current segment (if it has any characters) and writes the separator.
fn close_segment(out: &mut Normalized, segment_start: &mut usize) {
    let end = out.chars.len();
    if end > *segment_start {
        out.segments.push(*segment_start..end);
        let at = out.text.len();
        out.chars.push(CharPos { at, origin: 0..0 });
        out.text.push(' ');
        *segment_start = end + 1;
    }
}

/// Maps full-width forms (U+FF01..U+FF5E) to ASCII and U+3000 to a space.
fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_digits_and_punctuation() {
        let n = normalize("来电人称：ＡＰＰ被骗３０００元！！ 咋办");
        assert_eq!(n.text, "来电人称 app被骗0元 咋办");
        let segs: Vec<&str> = n.segments.iter().map(|s| n.slice(s)).collect();
        assert_eq!(segs, ["来电人称", "app被骗0元", "咋办"]);
    }

    #[test]
    fn maps_back_to_the_original_words() {
        let original = "欠了３０００元工资";
        let n = normalize(original);
        assert_eq!(n.text, "欠了0元工资");
        assert_eq!(n.original(original, &(2..4)), "３０００元");
        assert_eq!(n.original(original, &(4..6)), "工资");
    }

    #[test]
    fn empty_and_punctuation_only_text_have_no_segments() {
        for s in ["", "   ", "，。！？……", "\u{3000}"] {
            let n = normalize(s);
            assert!(n.text.is_empty(), "{s:?} -> {:?}", n.text);
            assert!(n.segments.is_empty());
        }
    }
}
