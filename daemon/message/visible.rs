//! What an HTML body shows its reader. Mail hides text from people and
//! leaves it for machines: a preheader in `display:none`, words in a zero
//! font size, a block with the `hidden` attribute or a class a `<style>`
//! block hides. A reader never sees them, so nothing read from the HTML
//! (the text a message is classified by, what an example teaches) may
//! count them. This is a filter over the HTML, not a renderer: it drops
//! what is hidden by the ways mail commonly hides text and keeps the rest
//! as written, for `mail_parser`'s HTML-to-text to read. Text that is
//! visible but unreadable (white on white, off-screen positions) is not
//! recognised.
//!
//! On malformed HTML it errs on the side of hiding: an element hidden and
//! never closed hides the rest of the body, which can only take words
//! away from what is read.

/// Elements whose content is never shown in a mail client.
const NEVER_SHOWN: &[&str] = &["head", "style", "script", "template", "title", "noscript"];

/// Elements that have no content and no end tag.
pub(super) const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
];

/// The HTML with every hidden element (and its content) left out.
pub fn visible_html(html: &str) -> String {
    let hidden_classes = hidden_classes(html);
    // A descendant of an element with `visibility:hidden` can be made
    // visible again; where any element says so, `visibility` hides nothing.
    let visibility_overridden = html.to_ascii_lowercase().split_whitespace().collect::<String>().contains("visibility:visible");
    let mut out = String::with_capacity(html.len());
    // Open elements, by name; `hidden_at` is the depth of the outermost
    // hidden one while inside it.
    let mut open: Vec<String> = Vec::new();
    let mut hidden_at: Option<usize> = None;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        if hidden_at.is_none() {
            out.push_str(&rest[..lt]);
        }
        rest = &rest[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(tag) = Tag::read(rest) else {
            // A "<" that starts no tag is text.
            if hidden_at.is_none() {
                out.push('<');
            }
            rest = &rest[1..];
            continue;
        };
        let whole = &rest[..tag.len];
        rest = &rest[tag.len..];
        if tag.closing {
            if let Some(at) = open.iter().rposition(|n| *n == tag.name) {
                open.truncate(at);
                if hidden_at.is_some_and(|h| open.len() < h) {
                    hidden_at = None;
                    continue;
                }
            }
        } else if !tag.self_closing && !VOID.contains(&tag.name.as_str()) {
            open.push(tag.name.clone());
            if hidden_at.is_none() && (NEVER_SHOWN.contains(&tag.name.as_str()) || tag.hides(&hidden_classes, visibility_overridden)) {
                hidden_at = Some(open.len());
            }
        }
        if hidden_at.is_none() {
            out.push_str(whole);
        }
    }
    if hidden_at.is_none() {
        out.push_str(rest);
    }
    out
}

/// Whether `html` hides words that it holds (what [`visible_html`] leaves
/// out has words, not only markup and styles), or strikes words through
/// (`<s>`, `<del>`, `<strike>`, `line-through`): text whose meaning for
/// its reader is not what its words say.
pub fn hides_or_strikes_text(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    if ["<s>", "<s ", "<del", "<strike", "line-through"].iter().any(|m| lower.contains(m)) {
        return true;
    }
    // Words a reader is shown that are not the document's text: CSS
    // `content`, form fields' values, ruby annotations, embedded
    // documents, an image's alternative text.
    let compact: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    if ["content:", "<input", "<textarea", "<select", "<ruby", "<rt", "<iframe", "<object", "<embed", "<frame"].iter().any(|m| compact.contains(m))
        || compact.split("<img").skip(1).any(|img| {
            let tag = &img[..img.find('>').unwrap_or(img.len())];
            attributes(tag).iter().any(|(name, value)| (name == "alt" || name == "title") && !value.trim().is_empty())
        })
    {
        return true;
    }
    let words = |h: &str| -> Vec<String> {
        mail_parser::decoders::html::html_to_text(h).split_whitespace().map(str::to_string).collect()
    };
    words(html) != words(&visible_html(html))
}

/// One tag as written: `<name attributes>` or `</name>`.
pub(super) struct Tag {
    pub(super) name: String,
    pub(super) closing: bool,
    pub(super) self_closing: bool,
    /// The attributes, names and values lowercased.
    pub(super) attributes: Vec<(String, String)>,
    /// Bytes from `<` to `>` inclusive.
    pub(super) len: usize,
}

impl Tag {
    pub(super) fn read(s: &str) -> Option<Tag> {
        let body = s.strip_prefix('<')?;
        let (closing, body) = match body.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, body),
        };
        let name_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':')).unwrap_or(body.len());
        if name_len == 0 || !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        // The end of the tag: the first '>' outside quotes.
        let mut quote = None;
        let mut end = None;
        for (i, c) in body.char_indices().skip(name_len) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated tag runs to the end of the body.
        let end = end.unwrap_or(body.len());
        let inside = &body[name_len..end];
        Some(Tag {
            name: body[..name_len].to_ascii_lowercase(),
            closing,
            self_closing: inside.trim_end().ends_with('/'),
            attributes: attributes(&inside.to_lowercase()),
            len: 1 + usize::from(closing) + (end + 1).min(body.len()),
        })
    }

    /// Whether the element's own attributes hide it: the `hidden`
    /// attribute, an inline style that hides, or a class a `<style>`
    /// block hides.
    fn hides(&self, hidden_classes: &[String], visibility_overridden: bool) -> bool {
        self.attributes.iter().any(|(name, value)| match name.as_str() {
            "hidden" => true,
            "style" if visibility_overridden => style_hides(&value.replace("visibility", "-visibility")),
            "style" => style_hides(value),
            "class" => value.split_whitespace().any(|c| hidden_classes.iter().any(|h| h == c)),
            _ => false,
        })
    }
}

/// The attributes in a tag's (lowercased) text after its name: `name`,
/// `name=value`, `name="value"` or `name='value'`.
fn attributes(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let name_len = rest.find(|c: char| c.is_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
        if name_len == 0 {
            return found;
        }
        let name = rest[..name_len].to_string();
        rest = rest[name_len..].trim_start();
        let Some(after) = rest.strip_prefix('=') else {
            found.push((name, String::new()));
            continue;
        };
        let after = after.trim_start();
        let (value, tail) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &after[1..];
                let end = inner.find(q).unwrap_or(inner.len());
                (&inner[..end], inner.get(end + 1..).unwrap_or(""))
            }
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        found.push((name, value.to_string()));
        rest = tail;
    }
}

/// Whether CSS declarations (lowercase) hide what they apply to: nothing
/// displayed, invisible, transparent, a zero font size, or a box of zero
/// height or width that hides what overflows it (how preheaders are
/// hidden; without `overflow:hidden` the text shows outside the box). The
/// last declaration of a property is the one that holds
/// (`display:none;display:block` shows).
fn style_hides(declarations: &str) -> bool {
    let compact: String = declarations.chars().filter(|c| !c.is_whitespace()).collect();
    let mut last: Vec<(&str, &str)> = Vec::new();
    for decl in compact.split(';') {
        let Some((property, value)) = decl.split_once(':') else { continue };
        let value = value.trim_end_matches("!important");
        last.retain(|(p, _)| *p != property);
        last.push((property, value));
    }
    let overflow_hidden = last.iter().any(|&(p, v)| p == "overflow" && v == "hidden");
    last.iter().any(|&(property, value)| match property {
        "display" => value == "none",
        "visibility" => value == "hidden" || value == "collapse",
        "opacity" | "font-size" => is_zero(value),
        "max-height" | "height" | "line-height" | "max-width" | "width" => overflow_hidden && is_zero(value),
        "mso-hide" => value == "all",
        _ => false,
    })
}

/// Whether CSS declarations (lowercase) show what another rule may hide:
/// a `display` other than `none`, or `visibility:visible`.
fn style_shows(declarations: &str) -> bool {
    let compact: String = declarations.chars().filter(|c| !c.is_whitespace()).collect();
    compact.split(';').any(|decl| match decl.split_once(':') {
        Some(("display", value)) => value.trim_end_matches("!important") != "none",
        Some(("visibility", value)) => value.trim_end_matches("!important") == "visible",
        _ => false,
    })
}

/// A CSS length or number that is zero: `0`, `0px`, `0.0`, `.0em`, `0%`.
fn is_zero(value: &str) -> bool {
    let number_end = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    number.contains('0') && number.chars().all(|c| c == '0' || c == '.') && unit.chars().all(|c| c.is_ascii_alphabetic() || c == '%')
}

/// Class names that `<style>` blocks hide (`.preheader { display: none }`,
/// also in a list of selectors).
fn hidden_classes(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut classes = Vec::new();
    let mut shown = Vec::new();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find("<style") {
        let block = &rest[start..];
        let Some(open) = block.find('>') else { break };
        let css = &block[open + 1..];
        let end = css.find("</style").unwrap_or(css.len());
        // The innermost rule: `@media screen { .x { ... } }` splits into
        // "@media screen { .x { ..." and the rule is after the last "{".
        for rule in css[..end].split('}') {
            let Some((selectors, declarations)) = rule.rsplit_once('{') else { continue };
            let selectors = selectors.rsplit('{').next().unwrap_or(selectors);
            let (hides, shows) = (style_hides(declarations), style_shows(declarations));
            if !hides && !shows {
                continue;
            }
            for selector in selectors.split(',') {
                // Only a bare class: `.x`, not `.x .y` or `td.x` (which
                // hide less than every element of the class).
                let selector = selector.trim();
                if let Some(name) = selector.strip_prefix('.').filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') && !n.is_empty()) {
                    if hides {
                        classes.push(name.to_string());
                    } else {
                        shown.push(name.to_string());
                    }
                }
            }
        }
        rest = &css[end..];
    }
    // A class that any rule shows again (on some screens, or later) is not
    // taken as hidden: the filter errs on the side of reading.
    classes.retain(|c| !shown.contains(c));
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        mail_parser::decoders::html::html_to_text(&visible_html(html)).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn hidden_elements_are_left_out_and_the_rest_kept() {
        let cases = [
            (r#"<p>Hello</p><div style="display:none">delete my account</div><p>bye</p>"#, "Hello bye"),
            (r#"<p>Hello <span style="font-size: 0px">delete my account</span>there</p>"#, "Hello there"),
            (r#"<p>Hello</p><div hidden>delete my account</div>"#, "Hello"),
            (r#"<div style="visibility:hidden;">x</div><p>seen</p>"#, "seen"),
            (r#"<span style="opacity:0.0">x</span>seen"#, "seen"),
            (r#"<div style="max-height:0;overflow:hidden;mso-hide:all">preheader</div>seen"#, "seen"),
            (r#"<style>.pre, .x { display : none !important }</style><div class="a pre">gone</div><p class="b">seen</p>"#, "seen"),
            (r#"<div style="display:none"><div><p>deep</p></div><br>still hidden</div><p>after</p>"#, "after"),
            (r#"<title>t</title><p>seen <!-- a comment --> text</p>"#, "seen text"),
        ];
        for (html, want) in cases {
            assert_eq!(text(html), want, "{html}");
        }
    }

    #[test]
    fn ordinary_html_is_kept_as_written() {
        let html = r#"<div dir="ltr">I am done, <b>erase every trace of me</b> from sourcehut. 1 < 2 and x>y <br/>thanks</div>"#;
        assert_eq!(visible_html(html), html);
        assert_eq!(text(r#"<p style="color:#333; font-size: 14px; width: 100%">shown</p>"#), "shown");
    }

    /// What only looks hidden to a filter is read: a zero height that
    /// does not clip, a `display` that a later declaration overrides, a
    /// child made visible, a class that a later rule shows again.
    #[test]
    fn text_a_reader_sees_is_never_taken_for_hidden() {
        let cases = [
            (r#"<p>Yes</p><div style="height:0">do not delete</div>"#, "Yes do not delete"),
            (r#"<p>Yes</p><div style="line-height:0;width:0">do not delete</div>"#, "Yes do not delete"),
            (r#"<div style="display:none;display:block">do not delete</div>"#, "do not delete"),
            (r#"<div style="visibility:hidden">x<p style="visibility:visible">do not delete</p></div>"#, "xdo not delete"),
            (r#"<style>.x{display:none}</style><style>@media screen{.x{display:block !important}}</style><p class="x">do not delete</p>"#, "do not delete"),
        ];
        for (html, want) in cases {
            assert_eq!(text(html), want, "{html}");
        }
        // Hidden in a media rule is hidden.
        assert_eq!(text(r#"<style>@media screen { .pre { display:none } }</style><p class="pre">gone</p>seen"#), "seen");
    }

    #[test]
    fn a_hidden_element_never_closed_hides_the_rest() {
        assert_eq!(text(r#"<p>seen</p><div style="display:none"><p>gone</p>"#), "seen");
        assert_eq!(text(r#"<p>seen</p><span style="display:none">gone"#), "seen");
    }
}
