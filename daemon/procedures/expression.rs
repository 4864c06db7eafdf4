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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_adds_calendar_months() {
        let env = env();
        let e = env.compile_expression("d | plus('3 months')").unwrap();
        let v = e.eval(minijinja::context! { d => "2024-11-30" }).unwrap();
        assert_eq!(v.as_str(), Some("2025-02-28"));
    }
}
