//! Which lines of an HTML body quote another message. Plain-text mail
//! marks a quote on each line ("> "), and [`strip_quoted`] cuts those
//! lines from what the writer wrote. HTML mail marks a quote with an
//! element instead: a `<blockquote>` a client marks as a quote (Gmail's
//! `gmail_quote`, Apple Mail's and Thunderbird's `type="cite"`, a left
//! border) or Yahoo's `yahoo_quoted` block.
//! Turned into text as it is, the element is gone and the quote reads as
//! the writer's own words: an HTML-only "Yes, I confirm" above a quote of
//! our mail ("If this was sent by accident...") read as a decline, and a
//! reply above a quoted spam read as spam.
//!
//! So the HTML is read as a plain-text client shows it: each block on a
//! line of its own, and each line inside a quote beginning with "> ".
//! Outlook's unquoted original ("From: ... Sent: ...") then stands on
//! lines of its own too, where [`strip_quoted`] recognises it.
//!
//! A sender can mark any of their own words as a quote, in HTML as in
//! plain text; that only takes words away from what is read.
//!
//! [`strip_quoted`]: super::strip_quoted

use super::visible::Tag;

/// Elements a mail client shows as a block of their own: the text before
/// and after them is on other lines.
const BLOCKS: &[&str] = &[
    "address", "article", "blockquote", "center", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
];

/// Where a quote begins and ends in the marked HTML, until the lines are
/// prefixed. Private-use code points, which the sender's own are removed
/// from before marking.
const QUOTE_BEGINS: char = '\u{e000}';
const QUOTE_ENDS: char = '\u{e001}';

/// The text of `html` (already without what it hides) with each block on
/// its own line and quoted lines prefixed with "> ", one ">" a level.
pub fn text(html: &str) -> String {
    prefixed(&mail_parser::decoders::html::html_to_text(&marked(html)))
}

/// Whether the element that `tag` opens is a quote of another message: a
/// `blockquote` that a mail client marked as one (`type="cite"`: Apple
/// Mail, Thunderbird, Roundcube; a class that names a quote: Gmail's
/// `gmail_quote`, Proton's `protonmail_quote`; or the left border clients
/// draw along a quote), or Yahoo's `yahoo_quoted` block. A bare or
/// borderless `blockquote` is shown as an indent, and Gmail's "indent
/// more" makes one: the writer's own text set in.
fn quotes(tag: &Tag) -> bool {
    let attribute = |name: &str| tag.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let class_says_quote = attribute("class").is_some_and(|c| c.split_whitespace().any(|c| c.contains("quote")));
    match tag.name.as_str() {
        "blockquote" => {
            let style: String = attribute("style").unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
            let left_border = style.contains("border-left:") && !style.contains("border-left:0") && !style.contains("border-left:none");
            attribute("type") == Some("cite") || class_says_quote || left_border
        }
        "div" => attribute("class").is_some_and(|c| c.split_whitespace().any(|c| c.contains("yahoo_quoted"))),
        _ => false,
    }
}

/// `html` with a line break around every block and a mark where each quote
/// begins and ends.
fn marked(html: &str) -> String {
    let html = html.replace([QUOTE_BEGINS, QUOTE_ENDS], "");
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    // Open elements: the name, and whether it began a quote.
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut rest = html.as_str();
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let Some(tag) = Tag::read(rest) else {
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        let whole = &rest[..tag.len];
        rest = &rest[tag.len..];
        let block = BLOCKS.contains(&tag.name.as_str());
        if tag.closing {
            out.push_str(whole);
            if let Some(at) = open.iter().rposition(|(name, _)| *name == tag.name) {
                for (_, quote) in open.drain(at..) {
                    if quote {
                        out.push(QUOTE_ENDS);
                    }
                }
            }
            if block {
                out.push_str("<br>");
            }
            continue;
        }
        if block {
            out.push_str("<br>");
        }
        out.push_str(whole);
        if !tag.self_closing && !super::visible::VOID.contains(&tag.name.as_str()) {
            let quote = quotes(&tag);
            if quote {
                out.push(QUOTE_BEGINS);
            }
            open.push((tag.name, quote));
        }
    }
    out.push_str(rest);
    out
}

/// The text with its quote marks turned into "> " at the start of each
/// line inside a quote, blank lines left out of quotes' edges.
fn prefixed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for line in text.lines() {
        // The depth at the line's first character that is not a mark or
        // white space: a quote that begins on a line quotes all of it.
        let mut at_text = None;
        let mut own = String::with_capacity(line.len());
        for c in line.chars() {
            match c {
                QUOTE_BEGINS => depth += 1,
                QUOTE_ENDS => depth = depth.saturating_sub(1),
                c => {
                    if at_text.is_none() && !c.is_whitespace() {
                        at_text = Some(depth);
                    }
                    own.push(c);
                }
            }
        }
        match at_text {
            Some(0) => out.push_str(own.trim_end()),
            Some(level) => {
                out.push_str(&">".repeat(level));
                out.push(' ');
                out.push_str(own.trim());
            }
            None if depth > 0 => out.push_str(&">".repeat(depth)),
            None => {}
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::strip_quoted;

    /// Gmail's reply: the writer's blocks, the attribution in its own
    /// block, the original in a `blockquote`.
    const GMAIL: &str = r#"<div dir="ltr"><div>Yes, I confirm and accept the arbitration.</div><div><br></div><div>Ann</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Dec 1, 2026 at 9:00 AM CAcert support &lt;support@cacert.org&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">If this was sent by accident, please respond to this notification within 14 days<br>or confirm your deletion request.<br></blockquote></div>"#;

    #[test]
    fn a_blockquote_is_quoted_text_and_the_writers_words_are_kept() {
        let t = text(GMAIL);
        assert!(t.contains("> If this was sent by accident"), "{t}");
        assert!(t.contains("> or confirm your deletion request."), "{t}");
        let own = strip_quoted(&t);
        assert_eq!(own.split_whitespace().collect::<Vec<_>>().join(" "), "Yes, I confirm and accept the arbitration. Ann", "{t}");
    }

    #[test]
    fn nested_quotes_get_one_mark_a_level() {
        let t = text("<p>Fine.</p><blockquote type=\"cite\"><p>Really?</p><blockquote type=\"cite\">delete my account</blockquote>Sure?</blockquote>After");
        let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty() && l.trim() != ">" && l.trim() != ">>").collect();
        assert_eq!(lines, ["Fine.", "> Really?", ">> delete my account", "> Sure?", "After"], "{t}");
    }

    /// Gmail's "indent more" is a borderless `blockquote`, and a bare one
    /// is an indent too: the writer's.
    #[test]
    fn an_indent_is_no_quote() {
        for html in [
            "<div>Yes, I confirm.</div><blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">But please wait until May.</blockquote>",
            "<div>Yes, I confirm.</div><blockquote>But please wait until May.</blockquote>",
            "<div>Yes, I confirm.</div><blockquote style=\"margin:0;padding:0;border-left:0\">But please wait until May.</blockquote>",
        ] {
            let t = text(html);
            assert!(strip_quoted(&t).contains("But please wait until May."), "{t}");
        }
        // Zimbra's quote is marked by its left border only.
        let t = text("<div>Yes.</div><blockquote style=\"border-left:2px solid #1010FF;margin-left:5px\">Please confirm.</blockquote>");
        assert_eq!(strip_quoted(&t).trim(), "Yes.", "{t}");
    }

    #[test]
    fn yahoos_quoted_block_is_a_quote() {
        let t = text("<div>Thanks, solved.</div><div id=\"yahoo_quoted_123\" class=\"yahoo_quoted\"><div>On Monday, Bob wrote:</div><div>please delete my account</div></div>");
        assert_eq!(strip_quoted(&t).trim(), "Thanks, solved.", "{t}");
    }

    /// Outlook's original is not quoted but begins with "From:" and
    /// "Sent:" lines, which need the blocks on lines of their own.
    #[test]
    fn outlooks_original_stands_on_lines_of_its_own() {
        let t = text("<div><p>Fine, go ahead.</p></div><div id=\"divRplyFwdMsg\"><b>From:</b> CAcert support &lt;support@cacert.org&gt;<br><b>Sent:</b> Tuesday, 1 December 2026 09:00<br><b>Subject:</b> delete</div><div>If this was sent by accident</div>");
        assert_eq!(strip_quoted(&t).trim(), "Fine, go ahead.", "{t}");
    }

    #[test]
    fn a_quote_never_closed_quotes_the_rest_and_a_stray_end_tag_is_harmless() {
        let t = text("Yes<blockquote type=\"cite\">by accident<p>do not");
        assert_eq!(strip_quoted(&t).trim(), "Yes", "{t}");
        let t = text("Yes</blockquote> I confirm");
        assert_eq!(strip_quoted(&t).split_whitespace().collect::<Vec<_>>().join(" "), "Yes I confirm", "{t}");
    }

    #[test]
    fn the_senders_own_private_use_marks_are_text_of_no_meaning() {
        let t = text("Yes \u{e001}\u{e001} I confirm<blockquote type=\"cite\">quoted</blockquote>");
        assert!(t.contains("Yes  I confirm") || t.contains("Yes I confirm"), "{t}");
        assert!(t.contains("> quoted"), "{t}");
    }
}
