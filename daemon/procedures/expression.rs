//! The condition language's environment, shared by the pack check (every
//! expression must compile) and the engine (which evaluates them).

use jiff::Span;
use jiff::civil::Date;

/// The expression environment: `plus(date, "3 months")` adds a calendar
/// duration to a `YYYY-MM-DD` date; dates compare as strings.
pub fn env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_filter("plus", |date: String, span: String| -> Result<String, minijinja::Error> {
        let bad = |m: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, m);
        let d: Date = date.parse().map_err(|e| bad(format!("{date:?} is not a date YYYY-MM-DD: {e}")))?;
        let s: Span = span.parse().map_err(|e| bad(format!("{span:?} is not a duration: {e}")))?;
        d.checked_add(s).map(|d| d.to_string()).map_err(|e| bad(e.to_string()))
    });
    env
}

/// Whether `expr` reads the variable `name` as a number: through the
/// `int` filter (`(assurances | int) != 0`, the shipped packs' way, also
/// after other filters) or compared with a number (`assurances >
/// 0`, in parentheses or not). Read from the source text, string literals
/// left out; a pack that reads a fact some other way (`| float`,
/// arithmetic) is not seen.
pub fn reads_as_number(expr: &str, name: &str) -> bool {
    let code = without_strings(expr);
    let name = regex::escape(name);
    // The name alone, not an attribute (`x.name`) nor part of a longer name.
    let var = format!(r"(?:^|[^\w.]){name}\b");
    // Through other filters first: `assurances | default(0) | int`.
    let int_filter = format!(r"{var}\s*(?:\|\s*\w+\s*(?:\([^()]*\))?\s*)*\|\s*int\b");
    let op = r"(?:[<>]=?|[!=]=)";
    let number = r"-?\d[\d.]*";
    // In parentheses or not: `(assurances) > 0`, `0 < (assurances)`.
    let compared = format!(r"{var}\s*\)?\s*{op}\s*{number}|(?:^|[^\w.]){number}\s*{op}\s*\(?\s*{name}\b");
    [int_filter, compared].iter().any(|p| regex::Regex::new(p).expect("a fixed pattern").is_match(&code))
}

/// `expr` with the inside of every string literal blanked.
fn without_strings(expr: &str) -> String {
    let mut quote = None;
    let mut escaped = false;
    expr.chars()
        .map(|c| match quote {
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                c
            }
            Some(_) if escaped => {
                escaped = false;
                ' '
            }
            Some(_) if c == '\\' => {
                escaped = true;
                ' '
            }
            Some(q) if c == q => {
                quote = None;
                c
            }
            Some(_) => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fact_read_through_int_or_compared_with_a_number_reads_as_a_number() {
        let cacert = "(assurances | int) != 0 or (active_certificates | int) != 0";
        assert!(reads_as_number(cacert, "assurances"));
        assert!(reads_as_number(cacert, "active_certificates"));
        assert!(reads_as_number("assurances|int > 0", "assurances"));
        assert!(reads_as_number("assurances >= 2", "assurances"));
        assert!(reads_as_number("0 == assurances", "assurances"));
        assert!(reads_as_number("assurances>=2 or 1<assurances", "assurances"));
        assert!(!reads_as_number("assurances is not defined", "assurances"));
        assert!(!reads_as_number("(payment_date | plus('3 months')) >= today", "payment_date"));
        assert!(!reads_as_number("x.assurances | int", "assurances"));
        assert!(!reads_as_number("old_assurances | int", "assurances"));
        assert!(!reads_as_number("assurances_left > 0", "assurances"));
        assert!(!reads_as_number("limit2 == assurances", "assurances"));
        assert!(!reads_as_number("note == 'assurances | int'", "assurances"));
        // Through other filters, in parentheses.
        assert!(reads_as_number("(assurances | default(0) | int) != 0", "assurances"));
        assert!(reads_as_number("(assurances) > 0", "assurances"));
        assert!(reads_as_number("0 < (assurances)", "assurances"));
        assert!(!reads_as_number("(payment_date | default('x') | plus('3 months')) >= today", "payment_date"));
    }

    #[test]
    fn plus_adds_calendar_months() {
        let env = env();
        let e = env.compile_expression("d | plus('3 months')").unwrap();
        let v = e.eval(minijinja::context! { d => "2024-11-30" }).unwrap();
        assert_eq!(v.as_str(), Some("2025-02-28"));
    }
}
